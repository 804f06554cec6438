"""ocf:mirantis:mysql on three corosync/pacemaker nodes in network
namespaces, each with its own MariaDB and Galera: the seed's clone, and the
epoch election after a power loss.

Each node's files live on the host under /var/tmp/mirantis-ocf/galera/nN and
are bind-mounted on /srv/mocf-galera inside node N, so the resource's
parameters are the same on every node, as in a real cluster.  Measured times
are printed (pytest -s) for the record; no test asserts on them.
"""
import os
import re
import subprocess
import sys
import time
from typing import Dict, Iterator, List, Set

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from galera_env import MONITOR_PASSWORD, MONITOR_USER, GaleraNode  # noqa: E402
from netns import NetnsCluster  # noqa: E402

pytestmark = pytest.mark.cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST_ROOT = "/var/tmp/mirantis-ocf/galera"
INSIDE = "/srv/mocf-galera"
NODES = (1, 2, 3)
BOOTSTRAP_LINE = "bootstrapping a new Primary Component"
DEADLINE = 240      # generous bounds for a slow machine; never a measured target
# Galera on a port of its own (base_port and gmcast.listen_addr in my.cnf), as
# operators do: the agent must find running servers where they really listen
GALERA_PORT = 4570

RESOURCE = """primitive p_mysql ocf:mirantis:mysql \\
    params binary=/usr/bin/mysqld_safe config={inside}/my.cnf datadir={inside}/data \\
        socket={inside}/run/mysqld.sock pid={inside}/run/mysqld.pid log={inside}/mysqld.err \\
        test_user={user} test_passwd="{password}" election_timeout={window} \\
        node_addresses="node1=10.211.0.11 node2=10.211.0.12 node3=10.211.0.13" \\
    op monitor interval=5 timeout=30 \\
    op start interval=0 timeout=450 \\
    op stop interval=0 timeout=150
clone clone_p_mysql p_mysql meta interleave=true
"""


def timing(what: str, seconds: float) -> None:
    print(f"\nTIMING {what}: {seconds:.2f}s")


class Galera:
    def __init__(self, cluster: NetnsCluster) -> None:
        self.c = cluster
        self.nodes = {n: GaleraNode(f"{HOST_ROOT}/n{n}", name=f"node{n}",
                                    address=NetnsCluster.addr(n), gport=GALERA_PORT,
                                    inside=INSIDE)
                      for n in NODES}
        self.log_marks: Dict[int, int] = {}

    def sql(self, n: int, statement: str, check: bool = True) -> List[List[str]]:
        # root over the socket (unix_socket authentication): no password anywhere
        out = self.c.exec(n, ["mariadb", f"--socket={INSIDE}/run/mysqld.sock", "-N", "-B",
                              "-e", statement], check=check, timeout=30)
        return [line.split("\t") for line in out.stdout.splitlines()]

    def status(self, n: int) -> Dict[str, str]:
        try:
            rows = self.sql(n, "SHOW GLOBAL STATUS LIKE 'wsrep_%'", check=True)
        except AssertionError:
            return {}
        return {r[0].lower(): r[1] for r in rows if len(r) == 2}

    def synced(self, ns=NODES, size: int = 3):  # type: ignore[no-untyped-def]
        states = {n: self.status(n) for n in ns}
        ok = all(s.get("wsrep_cluster_status") == "Primary"
                 and s.get("wsrep_local_state_comment") == "Synced"
                 and s.get("wsrep_cluster_size") == str(size) for s in states.values())
        brief = {n: (s.get("wsrep_cluster_status"), s.get("wsrep_local_state_comment"),
                     s.get("wsrep_cluster_size")) for n, s in states.items()}
        return ok, brief

    def pacemaker_log(self, n: int) -> str:
        path = self.c.node_dir(n) / "log" / "pacemaker.log"
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def mark_logs(self) -> None:
        self.log_marks = {n: len(self.pacemaker_log(n)) for n in NODES}

    def bootstraps_since_mark(self) -> List[int]:
        found = []
        for n in NODES:
            text = self.pacemaker_log(n)[self.log_marks.get(n, 0):]
            found += [n] * len(set(re.findall(rf"\[(\d+)\].*{BOOTSTRAP_LINE}", text)))
        return found

    def load(self, window: int) -> None:
        path = f"{HOST_ROOT}/resource.crm"
        with open(path, "w") as f:
            f.write(RESOURCE.format(inside=INSIDE, user=MONITOR_USER, password=MONITOR_PASSWORD,
                                    window=window))
        self.c.exec(1, ["crm", "configure", "load", "update", path], timeout=60)

    def standby(self, n: int, on: bool) -> None:
        self.c.exec(1, ["crm_attribute", "-N", f"node{n}", "-n", "standby", "-l", "reboot",
                        "-v", "on" if on else "off"])

    def kill_server_until_back(self, n: int) -> float:
        """kill -9 of node n's server (its logs marked first); the seconds
        until it is back, another process, and all three Synced."""
        self.mark_logs()
        # host pids (no pid namespace): pgrep(n, ...) looks in node n's namespace only
        pid = self.c.pgrep(n, "mariadbd")[0]
        os.kill(pid, 9)
        t0 = time.monotonic()
        self.c.wait_for(lambda: self.synced()[0] and pid not in self.c.pgrep(n, "mariadbd"),
                        DEADLINE, f"node{n}'s server back in the cluster, Synced")
        return time.monotonic() - t0

    def forget_flags(self) -> None:
        """Delete every node's primary flag, as a restart of Pacemaker does,
        until they stay gone (a start finishing may set one again)."""
        def forgotten() -> bool:
            for n in NODES:
                self.c.exec(1, ["crm_attribute", "-N", f"node{n}", "-n", "p_mysql-primary",
                                "-l", "reboot", "-D"])
            time.sleep(1)
            return "p_mysql-primary" not in self.c.exec(1, ["cibadmin", "-Q", "--scope",
                                                            "status"]).stdout
        self.c.wait_for(forgotten, 60, "the primary flags gone from the CIB")

    def mysql_on(self) -> List[str]:
        return NetnsCluster.running_on(self.c.crm_mon_xml(1), "p_mysql")


@pytest.fixture(scope="module")
def galera() -> Iterator[Galera]:
    cluster = NetnsCluster()
    reason = cluster.missing_prerequisites()
    if reason:
        pytest.fail(reason)
    if cluster.is_running():
        pytest.fail("a namespace cluster is already running: tools/pcmk-netns.sh stop")
    subprocess.run(["make", "-s", "-C", REPO, "install"], check=True, capture_output=True)
    os.makedirs(INSIDE, exist_ok=True)
    g = Galera(cluster)
    try:
        cluster.start()
        for n, node in g.nodes.items():
            node.prepare()
            cluster.bind(n, node.root, INSIDE)
        yield g
    finally:
        try:
            cluster.exec(1, ["crm", "configure", "property", "stop-all-resources=true"],
                         check=False, timeout=60)
            cluster.wait_for(lambda: not g.mysql_on(), 120, "mysql to stop everywhere")
        except Exception:
            pass
        cluster.stop()
        subprocess.run(["rm", "-rf", HOST_ROOT], check=False)


def test_a_from_empty_datadirs_the_clone_forms_one_cluster(galera: Galera) -> None:
    galera.mark_logs()
    t0 = time.monotonic()
    galera.load(window=300)
    galera.c.wait_for(galera.synced, DEADLINE, "3 Synced members of one Primary Component")
    timing("a. empty datadirs -> 3 Synced", time.monotonic() - t0)
    assert sorted(galera.mysql_on()) == ["node1", "node2", "node3"]
    assert galera.bootstraps_since_mark() == [1]     # equal epochs: the smallest name


def test_b_power_loss_with_a_different_newest_node(galera: Galera) -> None:
    g = galera
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster to begin with")
    # 1. node2 alone takes the last rows: node1 and node3 leave cleanly first
    # one after the other: two members leaving at once may leave node2 non-Primary
    g.standby(1, True)
    g.c.wait_for(lambda: sorted(g.mysql_on()) == ["node2", "node3"], DEADLINE, "node1 gone")
    g.standby(3, True)
    g.c.wait_for(lambda: g.mysql_on() == ["node2"], DEADLINE, "mysql on node2 only")
    g.c.wait_for(lambda: g.status(2).get("wsrep_cluster_status") == "Primary", 60,
                 "node2 Primary on its own")
    g.sql(2, "CREATE DATABASE IF NOT EXISTS t; CREATE TABLE IF NOT EXISTS t.rows "
             "(id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20)) ENGINE=InnoDB; "
             "INSERT INTO t.rows (v) VALUES ('a'),('b'),('c'),('d'),('e')")
    expected = g.sql(2, "SELECT COUNT(*) FROM t.rows")[0][0]
    # 2. power loss of every node at once; 3. all three restart
    g.c.powerloss(*NODES)
    g.mark_logs()
    t0 = time.monotonic()
    g.c.node_start(*NODES)
    restarted = time.monotonic()
    g.c.wait_for(g.synced, DEADLINE, "3 Synced after the power loss")
    timing("b. last node restarted -> 3 Synced", time.monotonic() - restarted)
    timing("b. power-on -> 3 Synced", time.monotonic() - t0)
    # 4. node2 bootstrapped, once; every row everywhere
    assert g.bootstraps_since_mark() == [2]
    for n in NODES:
        assert g.sql(n, "SELECT COUNT(*) FROM t.rows")[0][0] == expected


def test_c_two_of_three_elect_after_the_window_and_the_third_rejoins(galera: Galera) -> None:
    g = galera
    window = 20     # lowered for the test (default 300)
    g.load(window=window)
    # the change restarts the clone: wait until that transition is over, or
    # "synced" may still see the servers about to stop
    g.c.exec(1, ["crm_resource", "--wait", "--timeout", f"{DEADLINE}s"], timeout=DEADLINE + 30)
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster after the parameter change")
    g.sql(1, "INSERT INTO t.rows (v) VALUES ('f')")
    expected = g.sql(1, "SELECT COUNT(*) FROM t.rows")[0][0]
    g.c.powerloss(*NODES)
    g.mark_logs()
    g.c.node_start(1, 2)
    restarted = time.monotonic()
    g.c.wait_for(lambda: g.synced((1, 2), size=2), DEADLINE + window,
                 "node1 and node2 to elect without node3")
    timing(f"c. 2 of 3 back -> 2 Synced (window {window}s)", time.monotonic() - restarted)
    assert len(g.bootstraps_since_mark()) == 1
    g.c.node_start(3)
    g.c.wait_for(g.synced, DEADLINE, "node3 to rejoin")
    assert len(g.bootstraps_since_mark()) == 1        # no second bootstrap
    for n in NODES:
        assert g.sql(n, "SELECT COUNT(*) FROM t.rows")[0][0] == expected


def test_d_a_killed_server_rejoins_without_an_election(galera: Galera) -> None:
    g = galera
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster")
    timing("d. kill -9 of one server -> Synced again", g.kill_server_until_back(2))
    assert g.bootstraps_since_mark() == []
    assert "joining" in g.pacemaker_log(2)[g.log_marks[2]:]


def test_e_a_restarted_server_joins_the_running_cluster_even_when_the_cib_forgot_it(
        galera: Galera) -> None:
    """The nodes' primary flags are transient attributes: a restart of
    Pacemaker while the servers run on (an upgrade in maintenance mode)
    loses them.  A server restarted after that sees no flag and no epoch in
    the CIB; it must still find the running cluster, on its peers' Galera
    port, and join it: never bootstrap a second one once the window ends."""
    g = galera
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster")
    # test d's start may still be finishing (it sets its flag once Synced)
    g.c.exec(1, ["crm_resource", "--wait", "--timeout", str(DEADLINE)], timeout=DEADLINE + 30)

    g.forget_flags()
    timing("e. kill -9 with the CIB's flags gone -> Synced again", g.kill_server_until_back(3))
    assert g.bootstraps_since_mark() == []
    # through the peers' Galera port (4570), or through the flags that the
    # peers' monitors have published again meanwhile
    assert "joining" in g.pacemaker_log(3)[g.log_marks[3]:]
    uuids = {g.status(n).get("wsrep_cluster_state_uuid") for n in NODES}
    assert len(uuids) == 1 and None not in uuids


def test_f_after_a_pacemaker_restart_in_maintenance_mode_no_second_primary_component(
        galera: Galera) -> None:
    """Upgrade-style maintenance: maintenance-mode on, Pacemaker restarted
    on every node while the servers run on, maintenance-mode off, then one
    instance restarts.  A Pacemaker restart erases the transient attributes
    (here: deleted on every node, then every resource re-probed, as the
    restarted Pacemakers do; the harness cannot restart Pacemaker alone
    without killing what it runs).  The monitors must publish the primary
    flags again, and the restarted instance must join the running cluster:
    one cluster UUID, no bootstrap."""
    g = galera
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster")
    g.c.exec(1, ["crm_resource", "--wait", "--timeout", str(DEADLINE)], timeout=DEADLINE + 30)
    before = {g.status(n).get("wsrep_cluster_state_uuid") for n in NODES}
    g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "maintenance-mode", "-v", "true"])
    try:
        g.forget_flags()
        g.c.exec(1, ["crm_resource", "--refresh"], timeout=60)     # the new Pacemakers' probes
        g.c.exec(1, ["crm_resource", "--wait", "--timeout", str(DEADLINE)], timeout=DEADLINE + 30)
    finally:
        g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "maintenance-mode", "-D"])

    def flags() -> bool:
        out = g.c.exec(1, ["cibadmin", "-Q", "--scope", "status"]).stdout
        return out.count('name="p_mysql-primary" value="1"') == 3
    t0 = time.monotonic()
    g.c.wait_for(flags, 60, "the monitors to publish the three primary flags again")
    timing("f. maintenance off -> 3 primary flags again", time.monotonic() - t0)
    timing("f. kill -9 after the restart -> Synced again", g.kill_server_until_back(1))
    assert g.bootstraps_since_mark() == []
    after = {g.status(n).get("wsrep_cluster_state_uuid") for n in NODES}
    assert after == before and len(after) == 1 and None not in after


def test_g_a_datadir_of_another_history_never_wins_the_election(galera: Galera) -> None:
    """After a power loss node3's datadir says it is another cluster's
    (grastate.dat with another state UUID and a far higher seqno: the
    election reads nothing else from a datadir it does not recover).  The
    cluster's history, recorded in the CIB when the members were Synced,
    decides: node1 and node2 elect between them, node3 is refused with the
    reason and never bootstraps, and no row is lost.  Once the operator has
    moved that state aside (here: deleted), node3 rejoins."""
    g = galera
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster")
    ours = g.status(1).get("wsrep_local_state_uuid")
    recorded = g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "p_mysql-galera-history",
                            "-G", "-q"]).stdout.strip()
    assert recorded == ours, (recorded, ours)
    g.sql(1, "INSERT INTO t.rows (v) VALUES ('g')")
    expected = g.sql(1, "SELECT COUNT(*) FROM t.rows")[0][0]
    g.c.powerloss(*NODES)
    foreign = "7c1e2f90-0000-4000-8000-00000000f00d"
    grastate = f"{g.nodes[3].root}/data/grastate.dat"
    with open(grastate, "w") as f:
        f.write(f"# GALERA saved state\nversion: 2.1\nuuid: {foreign}\nseqno: 100000\n"
                "safe_to_bootstrap: 1\n")
    g.mark_logs()
    g.c.node_start(*NODES)
    g.c.wait_for(lambda: g.synced((1, 2), size=2), DEADLINE, "node1 and node2 Synced")
    g.c.wait_for(lambda: "another Galera history" in g.pacemaker_log(3)[g.log_marks[3]:],
                 DEADLINE, "node3 refused")
    booted = g.bootstraps_since_mark()
    assert len(booted) == 1 and booted[0] in (1, 2), booted
    assert g.c.pgrep(3, "mariadbd") == []
    for n in (1, 2):
        assert g.sql(n, "SELECT COUNT(*) FROM t.rows")[0][0] == expected
    print(f"\nCOUNT g. foreign history: node3 refused, node{booted[0]} bootstrapped, "
          f"{expected} rows on node1 and node2")
    os.remove(grastate)                      # the operator moves the foreign state aside
    g.c.exec(1, ["crm_resource", "--cleanup", "-r", "clone_p_mysql"], timeout=60)
    g.c.wait_for(g.synced, DEADLINE, "node3 back in the cluster")
    assert g.sql(3, "SELECT COUNT(*) FROM t.rows")[0][0] == expected


def test_h_a_node_that_boots_late_during_the_election_is_waited_for(galera: Galera) -> None:
    """After a power loss node1 and node2 boot, publish their epochs and
    wait; node3, which holds the newest rows, boots 10 s later.  Pacemaker
    computes no new transition while node1's and node2's starts run, so
    node3 gets neither a probe nor a start: it can never report while they
    wait.  Their starts end once node3 has been online LATE_NODE_GRACE
    (20 s), the next transition starts all three together, and node3, the
    newest, bootstraps: no row lost.  Before, node1 and node2 waited out
    their 450 s start timeout (the window excuses no online node).
    Ending a start is a failed start: Pacemaker retries it on the same node
    only with start-failure-is-fatal=false, which Fuel's configuration sets
    (with Pacemaker's default the agent keeps waiting: the unit tier)."""
    g = galera
    g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "start-failure-is-fatal",
                 "-v", "false"])
    g.load(window=120)
    g.c.exec(1, ["crm_resource", "--wait", "--timeout", f"{DEADLINE}s"], timeout=DEADLINE + 30)
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster with a 120 s window")
    # node3 alone takes the last rows (node1, then node2, leave cleanly first)
    for n, left in ((1, ["node2", "node3"]), (2, ["node3"])):
        g.standby(n, True)
        g.c.wait_for(lambda: sorted(g.mysql_on()) == left, DEADLINE, f"node{n} gone")
    g.c.wait_for(lambda: g.status(3).get("wsrep_cluster_status") == "Primary", 60,
                 "node3 Primary on its own")
    g.sql(3, "INSERT INTO t.rows (v) VALUES ('h1'),('h2')")
    expected = g.sql(3, "SELECT COUNT(*) FROM t.rows")[0][0]
    g.c.powerloss(*NODES)
    g.mark_logs()
    t0 = time.monotonic()
    g.c.node_start(1, 2)

    def epochs() -> List[str]:
        out = g.c.exec(1, ["cibadmin", "-Q", "--scope", "status"], check=False).stdout
        return sorted(re.findall(r'node_state [^>]*uname="(node\d)"', out)) if \
            out.count('name="p_mysql-epoch"') >= 2 else []
    g.c.wait_for(epochs, DEADLINE, "node1 and node2 publishing their epochs")
    time.sleep(10)
    late = time.monotonic()
    g.c.node_start(3)
    g.c.wait_for(g.synced, DEADLINE, "all three Synced, node3 waited for")
    timing("h. late node booted -> 3 Synced", time.monotonic() - late)
    timing("h. power-on -> 3 Synced", time.monotonic() - t0)
    ended = [n for n in (1, 2) if "came online during the election" in
             g.pacemaker_log(n)[g.log_marks[n]:]]
    print(f"\nCOUNT h. starts ended for the late node on {ended}; bootstraps "
          f"{g.bootstraps_since_mark()}")
    assert ended, "node1's and node2's starts never gave way to node3"
    assert g.bootstraps_since_mark() == [3]          # the newest, waited for
    for n in NODES:
        assert g.sql(n, "SELECT COUNT(*) FROM t.rows")[0][0] == expected




def test_i_a_node_whose_start_pacemaker_holds_back_is_not_waited_out(galera: Galera) -> None:
    """The CI run of 2026-12-07: the clone restarted on all three nodes, and
    Pacemaker fired one start (the two other nodes were busy, throttled to
    one action under load); that start's epoch aborted the transition, so
    the two other starts were never fired while it ran, and it waited for
    their reports to its timeout.  Here batch-limit=2 holds the third start
    back the same way when the clone starts again: the two starts that run
    end LATE_NODE_GRACE (20 s) after that node had nothing in flight, since
    the scheduler (crm_simulate on the live CIB) would start the clone
    there.  Then the limit goes, as a load does, and all three start
    together: one bootstrap, no row lost.  Before, the two starts waited
    out their 450 s start timeout."""
    g = galera
    g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "start-failure-is-fatal",
                 "-v", "false"])
    g.c.wait_for(g.synced, DEADLINE, "a healthy cluster")
    g.sql(1, "CREATE DATABASE IF NOT EXISTS t; CREATE TABLE IF NOT EXISTS t.rows "
             "(id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20)) ENGINE=InnoDB; "
             "INSERT INTO t.rows (v) VALUES ('i1')")
    expected = g.sql(1, "SELECT COUNT(*) FROM t.rows")[0][0]
    g.c.exec(1, ["crm_resource", "-r", "clone_p_mysql", "--meta", "-p", "target-role",
                 "-v", "Stopped"])
    g.c.wait_for(lambda: not g.mysql_on() and not any(g.status(n) for n in NODES), DEADLINE,
                 "mysql stopped everywhere")
    g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "batch-limit", "-v", "2"])
    g.mark_logs()
    t0 = time.monotonic()
    try:
        g.c.exec(1, ["crm_resource", "-r", "clone_p_mysql", "--meta", "-p", "target-role",
                     "-v", "Started"])

        def running_starts() -> Set[str]:
            logs = "".join(g.pacemaker_log(n)[g.log_marks[n]:] for n in NODES)
            return set(re.findall(r"mysql\(p_mysql\)\[(\d+)\]: INFO: our epoch is", logs))
        g.c.wait_for(lambda: len(running_starts()) >= 2, DEADLINE, "two starts running")
    finally:
        # The limit goes while the two starts run, as a load does: the
        # transition they are in (aborted by their epochs) fires nothing
        # more until they end, so they must still give way, once.  Had the
        # limit gone after they ended, their retries could meet it again
        # and end a second time (the CI run of 2026-12-07 after 8b256ab).
        g.c.exec(1, ["crm_attribute", "-t", "crm_config", "-n", "batch-limit", "--delete"],
                 check=False)

    def ended() -> List[int]:
        return [n for n in NODES if "waits behind this one" in
                g.pacemaker_log(n)[g.log_marks[n]:]]
    gave_way = g.c.wait_for(ended, DEADLINE, "the running starts giving way to the third")
    timing("i. clone started, one start held back -> the others end", time.monotonic() - t0)
    g.c.wait_for(g.synced, DEADLINE, "all three Synced once the limit is gone")
    timing("i. clone started, one start held back -> 3 Synced", time.monotonic() - t0)
    logs = "".join(g.pacemaker_log(n)[g.log_marks[n]:] for n in NODES)
    held = set(re.findall(r"the start of (node\d) waits behind this one", logs))
    # the DC logs the others' output too: count the starts by their pids
    ended_starts = set(re.findall(r"mysql\(p_mysql\)\[(\d+)\]: ERROR: start failed: the start "
                                  r"of node\d waits behind this one", logs))
    print(f"\nCOUNT i. {held} held back, {len(ended_starts)} starts ended for it "
          f"(seen in the logs of {gave_way}); bootstraps {g.bootstraps_since_mark()}")
    assert len(held) == 1 and len(ended_starts) == 2
    assert len(g.bootstraps_since_mark()) == 1
    for n in NODES:
        assert g.sql(n, "SELECT COUNT(*) FROM t.rows")[0][0] == expected
