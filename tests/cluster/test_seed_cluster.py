"""The seed's whole configuration (seed_full.py) on the 3-node namespace
cluster: the mysql clone (Galera) behind the haproxy clone and the
management VIP, the public VIP, the ovs and metadata clones, dhcp and l3 with
every colocation and order.  Everything reaches Started; a MySQL client in
the switch namespace, outside the nodes, gets answers through the VIP and
haproxy; the node holding the management VIP is killed (every process at
once, its cable unplugged), and the VIPs, haproxy's answer on the VIP, dhcp
and l3 (all gathered on that node first, as `crm resource move` would) come
back on the two survivors, dhcp and l3 still apart, and the same client object
reconnects (pymysql's ping(reconnect=True)) and sees the rows it wrote.

Node N's files live under /var/tmp/mirantis-ocf/seed/nN, bound on
/srv/mocf-seed inside node N.  The killed node is not restarted.  The last
test stops everything and checks that nothing is left.  Measured times are
printed (pytest -s) and recorded as user properties (--junitxml); no test
asserts on them.
"""
import os
import subprocess
import sys
import time
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import neutron_env as ne  # noqa: E402
import seed_full as sf  # noqa: E402
from netns import NetnsCluster  # noqa: E402

pytestmark = pytest.mark.cluster

REPO = sf.REPO
HOST_ROOT = "/var/tmp/mirantis-ocf/seed"
USER, PASSWORD, DATABASE = "seed_client", "seed-client-pw", "seed"
ROWS = 5
DEADLINE = 300      # generous bounds for a slow machine; never a measured target

Record = Callable[[str, object], None]     # pytest's record_property


def timing(record: Record, what: str, seconds: float) -> None:
    print(f"\nTIMING {what}: {seconds:.2f}s")
    record(what, round(seconds, 2))


class Run:
    """The cluster and what the tests pass on to each other."""

    def __init__(self, seed: sf.Seed) -> None:
        self.seed = seed
        self.c = seed.c
        self.thread: Optional[sf.NetnsThread] = None          # probes
        self.client_thread: Optional[sf.NetnsThread] = None   # the client's own
        self.client: Optional[sf.VipClient] = None

    def names(self) -> List[str]:
        return [NetnsCluster.name(n) for n in self.seed.live()]

    def stats(self) -> Dict[str, str]:
        """haproxy's view of the MariaDB servers (svname -> status), from its
        stats page on the public VIP, read from the switch namespace."""
        assert self.thread is not None
        csv = self.thread.call(sf.http_get, f"http://{sf.PUBLIC_VIP}:{sf.STATS_PORT}/;csv",
                               timeout=30)
        if not csv:
            return {}
        rows = [line.split(",") for line in csv.splitlines() if line.startswith("mysqld,")]
        return {r[1]: r[17] for r in rows if len(r) > 17 and r[1].startswith("node")}

    def greeting(self) -> Optional[str]:
        assert self.thread is not None
        return self.thread.call(sf.mysql_greeting, sf.MGMT_VIP, sf.VIP_PORT, timeout=30)

    def vip_nodes(self, ip: str) -> List[int]:
        """The nodes whose eth0 carries ip (read in the namespaces, not from Pacemaker)."""
        return [n for n in sf.NODES if self.seed.vip_on(n, ip)]

    def rows_on(self, n: int) -> int:
        return int(self.seed.sql(n, f"SELECT COUNT(*) FROM {DATABASE}.t")[0][0])


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    cluster = NetnsCluster()
    reason = sf.missing_prerequisite(cluster)
    if reason:
        pytest.fail(reason)
    if cluster.is_running():
        pytest.fail("a namespace cluster is already running (make demo?): "
                    "make demo-stop, or tools/pcmk-netns.sh stop")
    install = subprocess.run(["make", "-s", "-C", REPO, "install"], capture_output=True,
                             text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    missing = sf.missing_agents()
    assert not missing, f"not installed: {missing}"
    seed = sf.Seed(cluster, HOST_ROOT, users_sql=sf.user_sql(USER, PASSWORD, DATABASE))
    r = Run(seed)
    try:
        t0 = time.monotonic()
        seed.start()
        r.thread = sf.NetnsThread()
        r.client_thread = sf.NetnsThread()
        print(f"\ncluster up and 3 nodes prepared in {time.monotonic() - t0:.1f}s")
        yield r
    finally:
        if r.client is not None:
            r.client.close()
        for thread in (r.thread, r.client_thread):
            if thread is not None:
                thread.close()
        seed.teardown()


def test_a_the_seed_configuration_starts_everything(run: Run,
                                                    record_property: Record) -> None:
    t0 = time.monotonic()
    run.seed.load()
    run.c.wait_for(run.seed.settled, DEADLINE,
                   "every resource of the seed Started (clones on 3 nodes, the VIPs, dhcp "
                   "and l3 once each, dhcp and l3 apart)")
    timing(record_property, "load -> all Started", time.monotonic() - t0)
    run.c.wait_for(run.seed.synced, DEADLINE, "3 Synced members of one Primary Component")
    timing(record_property, "load -> all Started and 3 Synced", time.monotonic() - t0)
    mon = run.seed.mon()
    where = run.seed.placement(mon)
    assert NetnsCluster.failures(mon) == []
    for rsc in sf.CLONES:
        assert where[rsc] == ["node1", "node2", "node3"], (rsc, where)
    for rsc in sf.SINGLES:
        assert len(where[rsc]) == 1, (rsc, where)
    assert where[sf.DHCP] != where[sf.L3]                  # dhcp-without-l3 -100
    # each VIP is on the eth0 of the node Pacemaker says, and on no other
    for rsc, ip in ((sf.VIP_MGMT, sf.MGMT_VIP), (sf.VIP_PUBLIC, sf.PUBLIC_VIP)):
        assert [NetnsCluster.name(n) for n in run.vip_nodes(ip)] == where[rsc], (rsc, where)
    # the haproxy that holds the public VIP sees the three MariaDB servers UP
    run.c.wait_for(lambda: (set(run.stats().values()) == {"UP"} and len(run.stats()) == 3,
                            run.stats()), 60, "haproxy's checks: 3 servers UP")
    print(f"\nPLACEMENT {run.seed.brief(where)}")
    record_property("placement", run.seed.brief(where))


def test_b_a_client_through_the_vip_gets_answers(run: Run, record_property: Record) -> None:
    assert run.client_thread is not None
    client = sf.VipClient(run.client_thread, USER, PASSWORD, DATABASE)

    def connects() -> Tuple[bool, str]:
        try:
            client.connect()
            return True, ""
        except Exception as e:
            return False, f"{type(e).__name__}: {e}"
    run.c.wait_for(connects, 60, f"a MySQL connection through {sf.MGMT_VIP}:{sf.VIP_PORT}")
    run.client = client
    backend = client.backend()
    assert backend in run.names()
    version = client.query("SELECT VERSION()")[0][0]
    client.query("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40)) "
                 "ENGINE=InnoDB")
    for i in range(ROWS):
        client.query("INSERT INTO t (v) VALUES (%s)", (f"before the failover {i}",))
    assert client.query("SELECT COUNT(*) FROM t") == [(ROWS,)]
    # Galera: every node has them (over each node's socket, not through haproxy)
    run.c.wait_for(lambda: all(run.rows_on(n) == ROWS for n in sf.NODES), 30,
                   "the rows on every node")
    print(f"\nCLIENT {sf.MGMT_VIP}:{sf.VIP_PORT} served by {backend} ({version})")
    record_property("client served by", backend)


def test_c_the_vips_haproxy_dhcp_and_l3_survive_the_death_of_their_node(
        run: Run, record_property: Record) -> None:
    client = run.client
    assert client is not None, "test_b did not connect"
    run.c.wait_for(run.seed.settled, DEADLINE, "a settled cluster to begin with")
    victim = NetnsCluster.number(run.seed.placement()[sf.VIP_MGMT][0])
    # the public VIP, dhcp and l3 join the management VIP on the victim, as
    # `crm resource move` does: the seed ties none of them to it, and keeps
    # dhcp apart from l3, so a plain kill would move only some of them
    run.seed.gather(victim)
    run.c.wait_for(lambda: run.seed.gathered(victim), DEADLINE,
                   f"the VIPs, dhcp and l3 all on node{victim}")
    where = run.seed.placement()
    before = {rsc: where[rsc][0] for rsc in sf.SINGLES}
    assert set(before.values()) == {f"node{victim}"}
    served_by = client.backend()
    print(f"\nBEFORE {run.seed.brief(where)}; the client is served by {served_by}; "
          f"killing node{victim}")
    record_property("killed", f"node{victim}: " + ", ".join(
        sf.SHORT[r] for r in sf.SINGLES if before[r] == f"node{victim}"))

    t0 = time.monotonic()
    run.seed.kill(victim)
    killed = time.monotonic()
    # the same client object starts reconnecting at once, in its own thread
    reconnected = client.reconnect_in_background(DEADLINE)
    survivors = set(run.names())
    seen: Dict[str, float] = {}

    # each event is timed when the check that saw it returns (a bound from above)
    def back() -> Tuple[bool, object]:
        where = run.seed.placement()
        now = time.monotonic() - t0
        for rsc in sf.SINGLES:
            if rsc not in seen and len(where[rsc]) == 1 and where[rsc][0] in survivors:
                seen[rsc] = now
        if "haproxy" not in seen and run.greeting():
            seen["haproxy"] = time.monotonic() - t0
        return len(seen) == len(sf.SINGLES) + 1, f"{where} seen={seen}"
    run.c.wait_for(back, DEADLINE, "the VIPs, dhcp and l3 Started on survivors, and a MySQL "
                   "greeting through the VIP", interval=0.2)
    run.seed.release()
    at, attempts, last_error = reconnected.result(DEADLINE)
    reconnect = at - t0
    # the rows written before the failover, through the same object
    assert client.query("SELECT COUNT(*) FROM t") == [(ROWS,)]
    new_backend = client.backend()
    client.query("INSERT INTO t (v) VALUES ('after the failover')")
    assert new_backend in survivors

    for rsc in sf.SINGLES:
        timing(record_property, f"kill -> {sf.SHORT[rsc]} Started on a survivor", seen[rsc])
    timing(record_property, "kill -> MySQL greeting through the VIP", seen["haproxy"])
    timing(record_property, "kill -> the same client reconnected", reconnect)
    failover = max(max(seen.values()), reconnect)
    timing(record_property, "failover: kill -> VIPs, haproxy, dhcp, l3 and the client back",
           failover)
    print(f"(node_kill took {killed - t0:.2f}s; {attempts} reconnection attempts; "
          f"before the last: {last_error or '-'}; now served by {new_backend})")
    record_property("reconnection attempts", attempts)

    run.c.wait_for(run.seed.settled, DEADLINE, "the survivors settled")
    mon = run.seed.mon()
    where = run.seed.placement(mon)
    assert NetnsCluster.failures(mon) == []
    assert where[sf.DHCP] != where[sf.L3]
    for rsc, ip in ((sf.VIP_MGMT, sf.MGMT_VIP), (sf.VIP_PUBLIC, sf.PUBLIC_VIP)):
        assert [NetnsCluster.name(n) for n in run.vip_nodes(ip) if n != victim] == where[rsc]
    ok, brief = run.seed.synced()
    assert ok, brief
    for n in run.seed.live():
        assert run.rows_on(n) == ROWS + 1
    # haproxy marked the dead node's server DOWN, the others are UP
    run.c.wait_for(lambda: (run.stats().get(f"node{victim}") == "DOWN"
                            and sorted(v for k, v in run.stats().items()
                                       if k != f"node{victim}") == ["UP", "UP"],
                            run.stats()), 60, "haproxy: the dead server DOWN, 2 UP")
    print(f"\nAFTER {run.seed.brief(where)}")
    record_property("after", run.seed.brief(where))


def test_d_stop_leaves_nothing_behind(run: Run) -> None:
    """Last: stop the resources, each OVS and the cluster; nothing may be left."""
    t0 = time.monotonic()
    run.seed.stop_resources()
    print(f"\nTIMING stop-all-resources -> all stopped: {time.monotonic() - t0:.2f}s")
    for n in run.seed.live():
        assert run.c.pgrep(n, "mariadbd") == [], f"mariadbd still runs on node{n}"
        assert run.c.pgrep(n, "haproxy") == [], f"haproxy still runs on node{n}"
    if run.client is not None:
        run.client.close()
        run.client = None
    errors = run.seed.teardown()
    assert errors == []
    assert run.c.leftovers() == []
    assert ne.pids_mentioning(HOST_ROOT) == [] and ne.pids_mentioning(sf.INSIDE) == []
    assert not os.path.exists(HOST_ROOT)
