"""ocf:mirantis:mysql in mode=replication against real MariaDB servers on loopback.

A real single-node Pacemaker runs for this module: the agent publishes its
report and its promotion score in the CIB.  Two servers listen on 127.0.0.2
and 127.0.0.3, one port; each is its own resource (p_ra, p_rb), so that
their attributes do not mix on the one node, and a notify names the peer as
Pacemaker would ("peer-a", mapped to its address by node_addresses).
"""
import os
import signal
import subprocess
import time
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from galera_env import sql
from replication_env import ReplicaNode
from support import INSTALLED, bare_env, call, free_port, reason_of

AGENT = os.path.join(INSTALLED, "mysql")
PEERS = "peer-a=127.0.0.2 peer-b=127.0.0.3"


class Server:
    def __init__(self, replica: ReplicaNode, instance: str) -> None:
        self.replica = replica
        self.instance = instance

    def env(self, **more: str) -> Dict[str, str]:
        params: Dict[str, str] = {"OCF_RESOURCE_INSTANCE": self.instance,
                                  "OCF_RESKEY_CRM_meta_interval": "20000",
                                  "OCF_RESKEY_CRM_meta_timeout": "120000"}
        params.update(self.replica.params(node_addresses=PEERS))
        params.update(more)
        return bare_env(**params)

    def __call__(self, action: str, **more: str) -> Tuple[int, str]:
        rc, out, err = call(AGENT, action, self.env(**more), timeout=180)
        assert "Traceback" not in err, err
        return rc, reason_of(err)

    def sql(self, statement: str) -> List[Any]:
        return sql(self.replica.socket, statement)

    def slave(self) -> Dict[str, str]:
        import pymysql
        from galera_env import MONITOR_PASSWORD, MONITOR_USER
        conn = pymysql.connect(unix_socket=self.replica.socket, user=MONITOR_USER,
                               password=MONITOR_PASSWORD, connect_timeout=5,
                               cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW SLAVE STATUS")
                row = cur.fetchone()
                return {k: str(v) for k, v in (row or {}).items()}
        finally:
            conn.close()

    def servers(self) -> List[int]:
        out = subprocess.run(["pgrep", "-f", "--", f"--datadir={self.replica.datadir}"],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def follow(self, master: str) -> Tuple[int, str]:
        return self("notify", OCF_RESKEY_CRM_meta_notify_type="post",
                    OCF_RESKEY_CRM_meta_notify_operation="promote",
                    OCF_RESKEY_CRM_meta_notify_promote_uname=master)


def until(what: str, cond: Callable[[], bool], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


@pytest.fixture
def pair(cluster: None, workdir: str) -> Iterator[Tuple[Server, Server]]:
    port = free_port()
    a = Server(ReplicaNode(os.path.join(workdir, "a"), 1, "127.0.0.2", port), "p_ra")
    b = Server(ReplicaNode(os.path.join(workdir, "b"), 2, "127.0.0.3", port), "p_rb")
    for s in (a, b):
        s.replica.prepare()
    yield a, b
    for s in (a, b):
        s("stop")
        for pid in s.servers():
            os.kill(pid, signal.SIGKILL)


PROMOTED = {"OCF_RESKEY_CRM_meta_role": "Promoted"}


def test_ocf_tester_passes_with_promote_and_demote(pair: Tuple[Server, Server]) -> None:
    a, _ = pair
    args = []
    for key, value in a.replica.params(node_addresses=PEERS).items():
        args += ["-o", f"{key}={value}"]
    proc = subprocess.run(["ocf-tester", "-n", "p_ra", *args, AGENT], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout
    for action in ("notify", "demote", "promote"):     # each one tested, none skipped
        assert f"does not support the {action} action" not in proc.stdout


def test_a_master_and_a_replica_then_a_switchover(pair: Tuple[Server, Server]) -> None:
    a, b = pair
    assert a("monitor", OCF_RESKEY_CRM_meta_interval="0") == (7, "")
    assert a("start") == (0, "") and b("start") == (0, "")
    assert a.sql("SELECT @@read_only") == [(1,)]            # every server starts read-only
    assert a("promote") == (0, "")
    assert a("monitor", **PROMOTED) == (8, "")
    assert a.sql("SELECT @@read_only") == [(0,)]
    assert b.follow("peer-a") == (0, "")
    status = b.slave()
    assert status["Master_Host"] == "127.0.0.2" and status["Using_Gtid"] == "Slave_Pos"
    assert status["Slave_IO_Running"] == "Yes" and status["Slave_SQL_Running"] == "Yes"
    a.sql("CREATE DATABASE t")
    a.sql("CREATE TABLE t.w (id INT PRIMARY KEY)")
    a.sql("INSERT INTO t.w VALUES (1), (2), (3)")
    until("the rows on the replica", lambda: b.sql("SELECT COUNT(*) FROM t.w") == [(3,)]
          if b.sql("SHOW DATABASES LIKE 't'") else False)
    assert b("monitor") == (0, "")
    assert b("monitor", **PROMOTED)[0] == 9                 # a replica is no master
    # the password went through pymysql: not in any process's argv
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    assert b"R3pl secret" not in f.read()
            except OSError:
                pass
    # switchover: a is demoted (read-only, its sessions ended), b promoted, a follows b
    assert a("demote") == (0, "")
    assert a.sql("SELECT @@read_only") == [(1,)]
    assert a("monitor") == (0, "")
    assert b("promote") == (0, "")
    assert b("monitor", **PROMOTED) == (8, "")
    b.sql("INSERT INTO t.w VALUES (4)")
    rc, reason = a.follow("peer-b")
    assert (rc, reason) == (0, ""), reason
    until("the new master's row on the old master", lambda: a.sql("SELECT COUNT(*) FROM t.w") == [(4,)])
    assert a("monitor") == (0, "")


def test_a_stale_replica_is_never_promoted(pair: Tuple[Server, Server]) -> None:
    a, b = pair
    assert a("start") == (0, "") and b("start") == (0, "")
    assert a("promote") == (0, "") and b.follow("peer-a") == (0, "")
    b.sql("STOP SLAVE SQL_THREAD")
    rc, reason = b("monitor")
    assert rc == 1 and "SQL thread is stopped" in reason
    a("demote")
    rc, reason = b("promote")
    assert rc == 1 and "not promoted" in reason and "SQL thread is stopped" in reason
    assert b.sql("SELECT @@read_only") == [(1,)]


def test_a_node_with_errant_transactions_is_refused_and_left_stopped(
        pair: Tuple[Server, Server]) -> None:
    a, b = pair
    assert a("start") == (0, "") and b("start") == (0, "")
    assert a("promote") == (0, "") and b.follow("peer-a") == (0, "")
    a.sql("CREATE DATABASE t")
    until("the database on b", lambda: bool(b.sql("SHOW DATABASES LIKE 't'")))
    # the master fails over to b, and writes there ...
    assert a("demote") == (0, "") and b("promote") == (0, "")
    b.sql("CREATE TABLE t.on_b (id INT)")
    # ... while a took writes that b never received (as a master cut off would)
    a.sql("SET GLOBAL read_only = OFF")
    a.sql("CREATE TABLE t.only_on_a (id INT)")
    a.sql("SET GLOBAL read_only = ON")
    rc, reason = a.follow("peer-b")
    assert rc == 1 and "never received" in reason, reason
    assert a.servers() == []                                # refused, and left stopped
    assert b("monitor", **PROMOTED) == (8, "")


def test_each_mode_in_its_own_kind_of_clone(pair: Tuple[Server, Server]) -> None:
    a, _ = pair
    rc, reason = a("start", OCF_RESKEY_CRM_meta_clone_max="3")
    assert rc == 6 and "promotable clone" in reason
    rc, reason = a("start", OCF_RESKEY_CRM_meta_clone_max="3", OCF_RESKEY_CRM_meta_promotable="true",
                   OCF_RESKEY_CRM_meta_promoted_max="2")
    assert rc == 6 and "promoted-max=1" in reason
    rc, reason = a("start", mode="galera", OCF_RESKEY_CRM_meta_clone_max="3",
                   OCF_RESKEY_CRM_meta_promotable="true")
    assert rc == 6 and "plain clone" in reason
    rc, reason = a("start", replication_user="")
    assert rc == 6 and "replication_user" in reason
    assert a.servers() == []


def report_of(instance: str) -> str:
    out = subprocess.run(["crm_attribute", "--name", f"{instance}-replication", "--lifetime",
                          "reboot", "--query", "--quiet"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def test_a_master_killed_dies_as_7_and_its_demote_withdraws_its_report(
        pair: Tuple[Server, Server]) -> None:
    a, _ = pair
    assert a("start") == (0, "") and a("promote") == (0, "")
    assert report_of("p_ra").startswith("v1;master;ok;1;")
    for pid in a.servers():
        os.kill(pid, signal.SIGKILL)
    until("the monitor to see it", lambda: a("monitor", **PROMOTED)[0] == 7)
    assert a("demote") == (0, "")
    assert report_of("p_ra") == ""       # no stale "master" left for the next promotion
    assert a("stop") == (0, "")
