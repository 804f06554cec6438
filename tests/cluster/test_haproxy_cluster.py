"""ocf:mirantis:haproxy as a clone on a real single-node Pacemaker cluster,
plus the CIB primitive the agents rely on for cluster-wide claims.

Everything is polled with bounded deadlines: the assertions are about what
the cluster ends up doing, never about how fast it does it.
"""

import os
import signal
import socket
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.cluster

HELLO = "hello from haproxy"
CLONE = "clone_p_haproxy"
PRIMITIVE = "p_haproxy"
# generous: covers a slow CI machine, never reached when things work
START_DEADLINE = 60
RECOVERY_DEADLINE = 90

# pacemaker's CRM_EX_EXISTS: what `cibadmin --create` returns when an element
# with that id is already in the CIB (verified on pacemaker 2.1.5, whose
# stderr says "Call cib_create failed: File exists").
CRM_EX_EXISTS = 108
# CRM_EX_NOSUCH: cibadmin -Q --xpath matched nothing
CRM_EX_NOSUCH = 105

HAPROXY_CFG = """\
# written by tests/cluster/test_haproxy_cluster.py
# no pidfile here: the agent passes -p from its pidfile parameter
global
    stats socket {dir}/haproxy.sock mode 600 level admin

defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe_test
    mode http
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "{hello}\\n"
"""

# The seed's resource definition, except monitor interval=3 (seed: 20) so a
# killed haproxy is noticed within seconds instead of up to 20s.
RESOURCE_CRM = """\
primitive {prim} ocf:mirantis:haproxy \\
    params conffile={cfg} pidfile={pidfile} \\
    op monitor interval=3 timeout=30 \\
    op start interval=0 timeout=30 \\
    op stop interval=0 timeout=30
clone {clone} {prim} \\
    meta interleave=true
"""


def free_port():
    # the kernel picks a free port; the tiny race until haproxy binds it is
    # acceptable on a test machine
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port):
    """Body of http://127.0.0.1:port/, or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError):
        return None


def read_pid(pidfile):
    try:
        return int(Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid):
    """True if pid runs and is not a zombie (a killed daemon stays a zombie
    until whoever adopted it reaps it, and kill -0 still succeeds on it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def haproxy_clone(pcmk_cluster, installed_agent, tmp_path_factory):
    """clone_p_haproxy loaded into the cluster and Started; removed after."""
    d = tmp_path_factory.mktemp("haproxy")
    port = free_port()
    cfg = d / "haproxy.cfg"
    pidfile = d / "haproxy.pid"
    cfg.write_text(HAPROXY_CFG.format(dir=d, port=port, hello=HELLO))
    # a broken config would only show up as a failed start: catch it here
    pcmk_cluster.run(["haproxy", "-c", "-f", cfg])

    try:
        pcmk_cluster.load_crm(
            RESOURCE_CRM.format(prim=PRIMITIVE, clone=CLONE, cfg=cfg,
                                pidfile=pidfile),
            d / "resource.crm")
        pcmk_cluster.wait_for(
            lambda: pcmk_cluster.started_on_node(CLONE, PRIMITIVE),
            START_DEADLINE, f"{CLONE} to be Started on {pcmk_cluster.node}")
        yield SimpleNamespace(port=port, pidfile=pidfile, cfg=cfg, dir=d)
    finally:
        last_pid = read_pid(pidfile)
        pcmk_cluster.delete_resource(CLONE, "clone")
        # the agent's stop must have ended haproxy; do not leave one behind
        if last_pid and pid_alive(last_pid):
            os.kill(last_pid, signal.SIGKILL)
            raise AssertionError(f"haproxy {last_pid} survived the resource stop")


def test_clone_started_and_serving(pcmk_cluster, haproxy_clone):
    ok, res = pcmk_cluster.started_on_node(CLONE, PRIMITIVE)
    assert ok, res
    assert res.get("resource_agent") == "ocf:mirantis:haproxy"

    pid = read_pid(haproxy_clone.pidfile)
    assert pid and pid_alive(pid), f"no live haproxy in {haproxy_clone.pidfile}"

    body = pcmk_cluster.wait_for(
        lambda: http_get(haproxy_clone.port), 10,
        f"127.0.0.1:{haproxy_clone.port} to answer")
    assert HELLO in body


def test_recovers_after_kill9(pcmk_cluster, haproxy_clone):
    old_pid = read_pid(haproxy_clone.pidfile)
    assert old_pid and pid_alive(old_pid), "haproxy not running before the kill"
    assert pcmk_cluster.failure_record(PRIMITIVE) is None, \
        "a failure was already recorded before the kill"

    os.kill(old_pid, signal.SIGKILL)

    def recovered():
        new_pid = read_pid(haproxy_clone.pidfile)
        body = http_get(haproxy_clone.port)
        mon = pcmk_cluster.mon()
        started, _ = pcmk_cluster.started_on_node(CLONE, PRIMITIVE, mon)
        failure = pcmk_cluster.failure_record(PRIMITIVE, mon)
        state = {"old_pid": old_pid, "new_pid": new_pid,
                 "new_pid_alive": bool(new_pid) and pid_alive(new_pid),
                 "answers": bool(body and HELLO in body),
                 "started": started, "failure": failure}
        ok = (new_pid not in (None, old_pid) and state["new_pid_alive"]
              and state["answers"] and started and failure is not None)
        return ok, state

    _, state = pcmk_cluster.wait_for(
        recovered, RECOVERY_DEADLINE,
        "pacemaker to notice the kill and restart haproxy")
    assert not pid_alive(old_pid)
    # the monitor (interval 3s) must be what noticed it: a failed op or a
    # fail-count of at least 1 for p_haproxy on this node
    assert state["failure"], state


def test_cib_create_is_an_atomic_claim(pcmk_cluster):
    """cibadmin --create fails if the id exists: the first claimer wins."""
    run = pcmk_cluster.run
    set_id = "mirantis-claim-test"

    def claim(owner):
        return run(["cibadmin", "--create", "-o", "crm_config", "--xml-text",
                    f"<cluster_property_set id='{set_id}'>"
                    f"<nvpair id='{set_id}-owner' name='owner' value='{owner}'/>"
                    f"</cluster_property_set>"], check=False)

    def owner():
        r = run(["cibadmin", "-Q", "--xpath",
                 f"//cluster_property_set[@id='{set_id}']/nvpair[@name='owner']"],
                check=False)
        if r.returncode == CRM_EX_NOSUCH:
            return None
        assert r.returncode == 0, r.stderr
        return ET.fromstring(r.stdout).get("value")

    assert owner() is None, f"stale {set_id} in the CIB"
    try:
        first = claim("n1")
        assert first.returncode == 0, first.stderr
        second = claim("n2")
        assert second.returncode == CRM_EX_EXISTS, \
            f"rc {second.returncode}: {second.stderr}"
        assert "File exists" in second.stderr
        assert owner() == "n1"
    finally:
        run(["cibadmin", "--delete", "-o", "crm_config", "--xml-text",
             f"<cluster_property_set id='{set_id}'/>"], check=False)
    assert owner() is None
