"""ocf:mirantis:mysql in mode=replication on three corosync/pacemaker nodes in
network namespaces: the seed's RHOS case, a promotable clone of MariaDB GTID
replication.

Each node's files live on the host under /var/tmp/mirantis-ocf/replication/nN
and are bind-mounted on /srv/mocf-repl inside node N.  A writer runs in
node3's namespace for the failover tests: it writes through whichever server
accepts writes, and records every id whose commit it saw acknowledged.
Measured times are printed (pytest -s); no test asserts on them.
"""
import os
import subprocess
import sys
import threading
import time
from typing import Iterator, List, Set, Tuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import secrets_sweep  # noqa: E402
from galera_env import MONITOR_PASSWORD  # noqa: E402
from netns import NetnsCluster  # noqa: E402
from replication_env import REPL_PASSWORD  # noqa: E402
from replication_lab import HOST_ROOT, INSIDE, NODES, WRITER_SQL, Replication, timing  # noqa: E402

pytestmark = pytest.mark.cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEADLINE = 180      # generous bounds for a slow machine; never a measured target
RESOURCE = """primitive p_mysql ocf:mirantis:mysql \\
    params mode=replication binary=/usr/bin/mysqld_safe config={inside}/my.cnf \\
        datadir={inside}/data socket={inside}/run/mysqld.sock pid={inside}/run/mysqld.pid \\
        log={inside}/mysqld.err test_user={user} test_passwd="{password}" \\
        replication_user={repl} replication_passwd="{repl_password}" semi_sync={semi} \\
        node_addresses="node1=10.211.0.11 node2=10.211.0.12 node3=10.211.0.13" \\
    op monitor interval=3 role=Promoted timeout=30 \\
    op monitor interval=5 role=Unpromoted timeout=30 \\
    op start interval=0 timeout=120 op stop interval=0 timeout=120 \\
    op promote interval=0 timeout=120 op demote interval=0 timeout=120 \\
    op notify interval=0 timeout=90
clone ms_mysql p_mysql meta promotable=true promoted-max=1 notify=true interleave=true \\
    migration-threshold=1
"""

@pytest.fixture(scope="module")
def repl() -> Iterator[Replication]:
    cluster = NetnsCluster()
    reason = cluster.missing_prerequisites()
    if reason:
        pytest.fail(reason)
    if cluster.is_running():
        pytest.fail("a namespace cluster is already running: tools/pcmk-netns.sh stop")
    subprocess.run(["make", "-s", "-C", REPO, "install"], check=True, capture_output=True)
    os.makedirs(INSIDE, exist_ok=True)
    r = Replication(cluster, RESOURCE)
    # every process's argv and environment, from the first start to the last stop
    r.sweep = secrets_sweep.SecretSweep((REPL_PASSWORD, MONITOR_PASSWORD))
    r.sweep.start()
    try:
        cluster.start()
        for n, node in r.nodes.items():
            node.prepare(extra_sql=WRITER_SQL)
            cluster.bind(n, node.root, INSIDE)
        yield r
    finally:
        r.stop_writer()
        r.sweep.stop()
        try:
            cluster.exec(1, ["crm", "configure", "property", "stop-all-resources=true"],
                         check=False, timeout=60)
            cluster.wait_for(lambda: not r.roles(), 120, "mysql to stop everywhere")
        except Exception:
            pass
        cluster.stop()
        subprocess.run(["rm", "-rf", HOST_ROOT], check=False)


def test_a_one_master_and_two_replicas(repl: Replication) -> None:
    r = repl
    t0 = time.monotonic()
    r.load(semi=False)
    r.c.wait_for(r.settled, DEADLINE, "one master, two replicas replicating from it")
    timing("a. load -> 1 master + 2 replicas", time.monotonic() - t0)
    m = r.master()
    assert r.sql(m, "SELECT @@read_only") == [["0"]]
    r.sql(m, "CREATE DATABASE IF NOT EXISTS t; CREATE TABLE IF NOT EXISTS t.w "
             "(id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO t.w VALUES (0)")
    for n in NODES:
        if n != m:
            assert r.sql(n, "SELECT @@read_only") == [["1"]]
            r.c.wait_for(lambda: r.sql(n, "SELECT COUNT(*) FROM t.w", check=False) == [["1"]],
                         30, f"the row on node{n}")


def kill_the_master_under_the_writer(r: Replication, what: str) -> List[int]:
    """kill -9 of the master's server while the writer writes: the most
    advanced replica is promoted, the other follows it, and the old master
    comes back as a replica with every row, or is refused, stopped, with the
    reason.  The acknowledged commits the new master lacks."""
    r.c.wait_for(r.settled, DEADLINE, "a settled cluster to begin with")
    old = r.master()
    r.start_writer()
    r.c.wait_for(lambda: len(r.acked()) > 50, 60, "the writer to write")
    pid = r.c.pgrep(old, "mariadbd")[0]
    killed = time.time()
    os.kill(pid, 9)

    def new_master_writes():  # type: ignore[no-untyped-def]
        after = [t for _, t in r.acked() if t > killed + 0.5]
        roles = r.roles().get("Promoted", [])
        return bool(after) and bool(roles) and roles[0] != f"node{old}", roles
    r.c.wait_for(new_master_writes, DEADLINE, "a new master that accepts writes")
    first = min(t for _, t in r.acked() if t > killed + 0.5)
    timing(f"{what}: kill -9 of the master -> a new master accepts writes", first - killed)
    new = r.master()
    other = [n for n in NODES if n not in (old, new)][0]
    r.c.wait_for(lambda: r.slave(other).get("Master_Host") == NetnsCluster.addr(new)
                 and r.slave(other).get("Slave_IO_Running") == "Yes", 60,
                 f"node{other} to follow node{new}")
    time.sleep(2)
    r.stop_writer()
    acked = {int(i) for i, _ in r.acked()}
    on_new = r.ids(new)
    lost = sorted(acked - on_new)
    print(f"\nCOUNT {what}: acknowledged commits {len(acked)}, lost {len(lost)}")
    # the new master lacks nothing that the other replica holds
    r.c.wait_for(lambda: r.ids(other) == r.ids(new), 60, "the other replica to catch up")
    assert r.ids(other) <= on_new
    # the old master comes back (its failure cleaned up): as a replica of the
    # new master with every row, or, if it holds commits that never left it,
    # refused with the reason and left stopped; never a silent divergence
    mark = len(r.pacemaker_log(old))
    r.c.exec(1, ["crm_resource", "--cleanup", "-r", "ms_mysql"], timeout=60)

    def back() -> bool:
        if f"node{old}" in r.roles().get("Unpromoted", []):
            s = r.slave(old)
            return s.get("Master_Host") == NetnsCluster.addr(new) \
                and s.get("Slave_SQL_Running") == "Yes" and r.ids(old) == r.ids(new)
        return "never received" in r.pacemaker_log(old)[mark:]
    r.c.wait_for(back, DEADLINE, f"node{old} back as a replica, or refused")
    if "never received" in r.pacemaker_log(old)[mark:]:
        print(f"\nCOUNT {what}: node{old} held commits that never left it: refused, stopped")
        assert r.c.pgrep(old, "mariadbd") == []
    else:
        print(f"\nCOUNT {what}: node{old} is back as a replica with every row")
    return lost


def one_master_two_replicas(r: Replication) -> Tuple[bool, str]:
    """(ok, what there is): a timeout then says which node is missing and
    why (the roles, each replica's thread states, Pacemaker's failures)."""
    ok, detail = r.settled()
    roles = r.roles()
    ok = bool(ok) and len(roles.get("Unpromoted", [])) == 2
    failures = NetnsCluster.failures(r.c.crm_mon_xml(1)) if not ok else []
    return ok, f"roles {roles}; replicas {detail}; failures {failures}"


def test_b_kill_9_of_the_master_promotes_the_most_advanced_replica(repl: Replication) -> None:
    kill_the_master_under_the_writer(repl, "b. semi_sync=false")   # losses counted, printed


def test_c_with_semi_sync_no_acknowledged_commit_is_lost(repl: Replication) -> None:
    r = repl
    r.c.exec(1, ["crm_resource", "--cleanup", "-r", "ms_mysql"], timeout=60)
    r.load(semi=True)
    r.c.exec(1, ["crm_resource", "--wait", "--timeout", f"{DEADLINE}s"], timeout=DEADLINE + 30)
    r.c.wait_for(lambda: one_master_two_replicas(r),
                 DEADLINE, "one semi-sync master and two replicas")
    m = r.master()
    assert r.sql(m, "SELECT @@rpl_semi_sync_master_enabled") == [["1"]]
    assert kill_the_master_under_the_writer(r, "c. semi_sync=true") == []


def test_d_a_power_loss_of_all_three_promotes_the_newest_and_loses_nothing(
        repl: Replication) -> None:
    r = repl
    r.c.exec(1, ["crm_resource", "--cleanup", "-r", "ms_mysql"], timeout=60)
    r.c.wait_for(lambda: one_master_two_replicas(r),
                 DEADLINE, "one master and two replicas")
    r.start_writer()                    # in node3: it dies with the power, its log stays
    r.c.wait_for(lambda: len(r.acked()) > 50, 60, "the writer to write")
    r.c.powerloss(*NODES)
    r.writer = None
    acked = {int(i) for i, _ in r.acked()}
    t0 = time.monotonic()
    r.c.node_start(*NODES)
    r.c.wait_for(lambda: one_master_two_replicas(r),
                 DEADLINE, "one master and two replicas after the power loss")
    timing("d. power-on -> 1 master + 2 replicas", time.monotonic() - t0)
    m = r.master()
    lost = sorted(acked - r.ids(m))
    print(f"\nCOUNT d. power loss: acknowledged commits {len(acked)}, lost {len(lost)}")
    assert lost == []
    for n in NODES:
        r.c.wait_for(lambda: r.ids(n) == r.ids(m), 60, f"node{n} to hold every row")


def test_e_a_stale_replica_is_never_promoted(repl: Replication) -> None:
    r = repl
    r.c.wait_for(r.settled, DEADLINE, "a settled cluster")
    m = r.master()
    replicas = [NetnsCluster.number(x) for x in r.roles().get("Unpromoted", [])]
    stale, others = replicas[0], replicas[1:]
    # a row only the stale replica has: its SQL thread stops on the master's
    # row with the same id, for good (a duplicate key)
    r.sql(stale, "SET SESSION sql_log_bin = 0; SET GLOBAL read_only = OFF; "
                 "INSERT INTO t.w VALUES (-1); SET GLOBAL read_only = ON")
    r.sql(m, "INSERT INTO t.w VALUES (-1)")
    r.c.wait_for(lambda: r.slave(stale).get("Slave_SQL_Running") == "No", 60,
                 f"node{stale}'s SQL thread to stop")
    # any healthy replica goes away: the stale one is the only other node left
    for n in others:
        r.c.exec(1, ["crm_attribute", "-N", f"node{n}", "-n", "standby", "-l", "reboot",
                     "-v", "on"])
    r.c.wait_for(lambda: not any(f"node{n}" in sum(r.roles().values(), []) for n in others),
                 DEADLINE, "the healthy replicas in standby")
    os.kill(r.c.pgrep(m, "mariadbd")[0], 9)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30:     # ample time for a wrong promotion
        roles = r.roles()
        assert f"node{stale}" not in roles.get("Promoted", []), roles
        time.sleep(1)
    if r.c.pgrep(stale, "mariadbd"):
        assert r.sql(stale, "SELECT @@read_only") == [["1"]]


def test_f_an_empty_replica_is_seeded_from_the_master_under_writes(repl: Replication) -> None:
    """A broken replica is rebuilt from nothing: its datadir wiped, the
    master's binlogs purged (replaying them from the start is impossible),
    and back it comes while the writer writes: copied from the master, then
    replicating, with every row and no password on any command line."""
    r = repl
    for n in NODES:
        r.c.exec(1, ["crm_attribute", "-N", f"node{n}", "-n", "standby", "-l", "reboot",
                     "-D"], check=False)
    r.c.exec(1, ["crm_resource", "--cleanup", "-r", "ms_mysql"], timeout=60)
    r.c.exec(1, ["crm_resource", "--wait", "--timeout", f"{DEADLINE}s"], check=False,
             timeout=DEADLINE + 30)
    r.c.wait_for(lambda: r.settled()[0] and r.roles().get("Unpromoted"), DEADLINE,
                 "a master and a replica")
    # the node that could not come back (test e's stale replica), else a replica
    running = sum(r.roles().values(), [])
    down = [n for n in NODES if f"node{n}" not in running]
    victim = down[0] if down else NetnsCluster.number(r.roles()["Unpromoted"][-1])
    r.c.exec(1, ["crm_attribute", "-N", f"node{victim}", "-n", "standby", "-l", "reboot",
                 "-v", "on"])
    r.c.wait_for(lambda: r.settled()[0] and f"node{victim}" not in sum(r.roles().values(), [])
                 and not r.c.pgrep(victim, "mariadbd"), DEADLINE, f"node{victim} in standby")
    r.c.exec(1, ["crm_resource", "--cleanup", "-r", "ms_mysql"], timeout=60)
    assert not r.c.pgrep(victim, "mariadbd")
    node = r.nodes[victim]
    node.prepare(extra_sql=WRITER_SQL)        # a new, empty datadir (still bind-mounted)
    m = r.master()
    r.sql(m, "FLUSH BINARY LOGS")

    def purged() -> bool:     # a replica may still read the old file for a moment
        r.sql(m, "PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 SECOND", check=False)
        return len(r.sql(m, "SHOW BINARY LOGS")) == 1
    r.c.wait_for(purged, 60, "the master's binlogs purged but the current one")
    r.start_writer(n=[n for n in NODES if n != victim][0])
    r.c.wait_for(lambda: len(r.acked()) > 30, 60, "the writer to write")
    mark = len(r.pacemaker_log(victim))
    from galera_env import MONITOR_PASSWORD
    from replication_env import REPL_PASSWORD
    secrets = (REPL_PASSWORD.encode(), MONITOR_PASSWORD.encode())
    seen: List[str] = []            # every command line on the host that held a password
    clients: Set[str] = set()       # the dump's and the load's command lines
    done = threading.Event()

    def watch_ps() -> None:
        while not done.is_set():
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        line = f.read()
                except OSError:
                    continue
                if any(s in line for s in secrets):
                    seen.append(line.decode(errors="replace"))
                if b"--defaults-extra-file" in line:
                    clients.add(line.split(b"\0")[0].decode(errors="replace"))
            time.sleep(0.005)
    watcher = threading.Thread(target=watch_ps, daemon=True)
    watcher.start()
    t0 = time.monotonic()
    r.c.exec(1, ["crm_attribute", "-N", f"node{victim}", "-n", "standby", "-l", "reboot", "-D"])
    try:
        r.c.wait_for(lambda: r.settled()[0] and f"node{victim}" in
                     r.roles().get("Unpromoted", []), DEADLINE,
                     f"node{victim} seeded, replicating")
    finally:
        done.set()
        watcher.join()
    timing("f. an empty replica: online -> seeded and replicating", time.monotonic() - t0)
    time.sleep(1)
    r.stop_writer()
    m = r.master()
    log = r.pacemaker_log(victim)[mark:]
    assert "seeding it from" in log and "seeded from" in log, log[-3000:]
    r.c.wait_for(lambda: r.ids(victim) == r.ids(m), 60, f"node{victim} to hold every row")
    acked = {int(i) for i, _ in r.acked()}
    assert acked <= r.ids(victim)
    print(f"\nCOUNT f. seeded under the writer: {len(acked)} acknowledged, all on node{victim}")
    print(f"COUNT f. the clients seen running: {sorted(clients)}; command lines "
          f"holding a password: {len(seen)}")
    assert seen == []
    for secret in (REPL_PASSWORD, MONITOR_PASSWORD):
        assert secret not in log


def sentinels(r: Replication, n: int) -> List[int]:
    """node n's sentinels (python3 -m mirantis_ocf.sentinel ...)."""
    found = []
    for pid in r.c.pids(n):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"mirantis_ocf.sentinel" in argv[1:3]:
            found.append(pid)
    return found


def test_g_the_sentinel_is_silent_in_maintenance_and_ends_with_the_resource(
        repl: Replication) -> None:
    """The sentinel reports a dead server at once (tests b and c), but
    never while Pacemaker would not act on a monitor, and no sentinel
    outlives the resource's stop."""
    r = repl
    r.c.wait_for(lambda: one_master_two_replicas(r),
                 DEADLINE, "one master and two replicas")
    for n in NODES:
        r.c.wait_for(lambda: len(sentinels(r, n)) == 1, 30, f"a sentinel on node{n}")
    m = r.master()
    watcher = sentinels(r, m)[0]
    mark = len(r.pacemaker_log(m))
    r.c.exec(1, ["crm", "configure", "property", "maintenance-mode=true"], timeout=60)
    r.c.wait_for(lambda: all(res.get("managed") == "false"
                             for res in r.c.crm_mon_xml(1).iter("resource")),
                 60, "every resource unmanaged")
    os.kill(r.c.pgrep(m, "mariadbd")[0], 9)
    r.c.wait_for(lambda: not os.path.exists(f"/proc/{watcher}"), 30, "the sentinel to exit")
    log = r.pacemaker_log(m)[mark:]
    assert "not reported: the cluster is in maintenance mode" in log, log[-2000:]
    failures = [f.get("op_key", "") for f in r.c.crm_mon_xml(1).iter("failure")]
    assert not [f for f in failures if "asyncmon" in f], failures
    r.c.exec(1, ["crm", "configure", "property", "maintenance-mode=false"], timeout=60)
    r.c.exec(1, ["crm_resource", "--cleanup", "-r", "ms_mysql"], timeout=60)
    r.c.wait_for(lambda: one_master_two_replicas(r),
                 DEADLINE, "one master and two replicas again")
    r.c.exec(1, ["crm", "configure", "property", "stop-all-resources=true"], timeout=60)
    r.c.wait_for(lambda: not r.roles(), DEADLINE, "mysql to stop everywhere")
    assert [sentinels(r, n) for n in NODES] == [[], [], []]
    assert not any(os.path.exists(f"{r.nodes[n].root}/run/mysqld.pid.sentinel") for n in NODES)


def test_h_no_password_in_any_process_or_log(repl: Replication) -> None:
    """Last (every start, promote, seed, demote and stop has run):
    replication_passwd and test_passwd were in no process's argv or
    environment (the agents' own aside: pacemaker-execd hands them their
    parameters there), nor in any log of the nodes or the servers."""
    r = repl
    r.sweep.stop()
    roots = [str(r.c.node_dir(n) / "log") for n in NODES] + [HOST_ROOT]
    secrets = (REPL_PASSWORD, MONITOR_PASSWORD)
    read, in_files = secrets_sweep.search_files(roots, secrets,
                                                skip=("/data/", "resource.crm", "pacemaker.log"))
    # Pacemaker's own log of the CIB's changes holds the configuration as
    # loaded (cibsecret's matter: tests/faults); every other line none
    cib = 0
    for n in NODES:
        lines, others = secrets_sweep.pacemaker_log_lines(r.pacemaker_log(n), secrets)
        cib += len(lines)
        in_files += [f"node{n} pacemaker.log: {line}" for line in others]
    print(f"\nCOUNT h. {r.sweep.scans} sweeps of {r.sweep.processes} process readings, "
          f"{read} files read: {len(r.sweep.found)} in processes, {len(in_files)} in files "
          f"(Pacemaker's CIB change log apart: {cib} lines)")
    assert r.sweep.scans > 10 and read > 0
    assert r.sweep.found == [] and in_files == [], (r.sweep.found[:5], in_files[:5])
