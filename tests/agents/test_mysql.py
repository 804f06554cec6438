"""ocf:mirantis:mysql against a real MariaDB with Galera, one node on loopback.

The agent publishes its epoch and takes its claim in the CIB, so a real
single-node Pacemaker runs for this module (tools/pcmk-single.sh, a state
dir of its own); the node list then has one node, which bootstraps alone.
"""
import os
import signal
import subprocess
import time
from typing import Dict, Iterator, Tuple

import pytest

from galera_env import GaleraNode, sql, wsrep
from support import INSTALLED, GaleraGreeter, bare_env, call, reason_of

AGENT = os.path.join(INSTALLED, "mysql")


class Node:
    def __init__(self, galera: GaleraNode) -> None:
        self.galera = galera

    def env(self, **more: str) -> Dict[str, str]:
        params: Dict[str, str] = {"OCF_RESOURCE_INSTANCE": "p_mysql",
                                  "OCF_RESKEY_CRM_meta_interval": "20000",
                                  "OCF_RESKEY_CRM_meta_timeout": "120000"}
        params.update(self.galera.params())
        params.update(more)
        return bare_env(**params)

    def __call__(self, action: str, **more: str) -> Tuple[int, str]:
        rc, out, err = call(AGENT, action, self.env(**more), timeout=180)
        assert "Traceback" not in err
        return rc, reason_of(err)

    def servers(self) -> list:
        out = subprocess.run(["pgrep", "-f", "--", f"--datadir={self.galera.datadir}"],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


@pytest.fixture
def node(cluster: None, workdir: str) -> Iterator[Node]:
    galera = GaleraNode(os.path.join(workdir, "galera"))
    galera.prepare()
    n = Node(galera)
    yield n
    n("stop")
    for pid in n.servers():
        os.kill(pid, signal.SIGKILL)


def test_lifecycle_of_a_lone_node(node: Node) -> None:
    assert node("monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
    assert node("start") == (0, "")
    status = wsrep(node.galera.socket)
    assert status["wsrep_cluster_status"] == "Primary" and status["wsrep_cluster_size"] == "1"
    assert node("start") == (0, "")             # double start
    assert node("monitor") == (0, "")
    assert node("monitor", OCF_CHECK_LEVEL="10") == (0, "")
    assert node("stop") == (0, "")
    assert node.servers() == []
    assert node("stop") == (0, "")              # double stop
    assert node("monitor") == (7, "")


def test_kill_9_then_monitor_then_restart_at_the_recovered_position(node: Node) -> None:
    assert node("start")[0] == 0
    history = wsrep(node.galera.socket)["wsrep_local_state_uuid"]
    server = [p for p in node.servers()
              if os.path.basename(os.readlink(f"/proc/{p}/exe")) == "mariadbd"][0]
    os.kill(server, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while node("monitor")[0] != 7 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert node("monitor") == (7, "")
    assert node("stop") == (0, "")
    with open(os.path.join(node.galera.root, "data", "grastate.dat")) as f:
        assert "seqno:   -1" in f.read()          # a crash: the position must be recovered
    assert node("start") == (0, "")
    status = wsrep(node.galera.socket)
    assert status["wsrep_cluster_status"] == "Primary"
    # started at its recovered position: the same history, not a new cluster uuid
    assert status["wsrep_local_state_uuid"] == history


def test_wrong_password_is_a_clear_failure(node: Node) -> None:
    assert node("start")[0] == 0
    rc, reason = node("monitor", test_passwd="wrong-pass")
    assert rc == 1 and "Access denied" in reason and "wrong-pass" not in reason


def test_ocf_tester_passes(node: Node) -> None:
    args = []
    for key, value in node.galera.params().items():
        args += ["-o", f"{key}={value}"]
    proc = subprocess.run(["ocf-tester", "-n", "p_mysql", *args, AGENT], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout


def test_a_stuck_joiner_without_pid_file_is_stopped_within_the_budget(node: Node) -> None:
    """A joiner waiting for a Primary Component writes no pid file and opens no socket."""
    g = node.galera
    stuck = subprocess.Popen(
        ["/usr/sbin/mariadbd", f"--defaults-file={g.config}", f"--datadir={g.datadir}",
         "--user=mysql", f"--log-error={g.log}",
         "--wsrep-cluster-address=gcomm://127.0.0.1:4999?pc.wait_prim=no"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        time.sleep(2)
        assert stuck.poll() is None and not os.path.exists(g.pid)
        rc, reason = node("monitor")
        assert rc == 1 and "cannot query" in reason       # running, but not a healthy member
        # stop would fail (1) if the server outlived its budget
        assert node("stop", OCF_RESKEY_CRM_meta_timeout="20000") == (0, "")
        assert stuck.wait(5) is not None and node.servers() == []
    finally:
        if stuck.poll() is None:
            stuck.kill()


def test_a_join_that_finds_no_primary_component_goes_back_to_the_election(
        node: Node, workdir: str) -> None:
    """The peer answers on its Galera port, so the node joins; the real
    server reaches no primary view and gives up (pc.wait_prim_timeout).
    The start must not fail: back in the election, the lone node of the
    node list bootstraps."""
    # a peer in no Primary Component: its port greets, then hangs up
    ghost = GaleraGreeter()
    log = os.path.join(workdir, "agent.log")
    try:
        address = f"gcomm://127.0.0.1:4567,127.0.0.1:{ghost.port}"
        rc, _, err = call(AGENT, "start", node.env(wsrep_cluster_address=address,
                                                   OCF_RESKEY_CRM_meta_timeout="300000",
                                                   HA_LOGFILE=log), timeout=320)
    finally:
        ghost.close()
    assert rc == 0, reason_of(err)
    with open(log) as f:
        text = f.read()
    assert "a Galera server answers on 127.0.0.1:" in text
    assert "back to the election" in text and "bootstrapping a new Primary Component" in text
    status = wsrep(node.galera.socket)
    assert status["wsrep_cluster_status"] == "Primary" and status["wsrep_cluster_size"] == "1"
