"""The 3-node namespace cluster (tools/pcmk-netns.sh, tests/cluster/netns.py)
does what the Galera cluster tests will rely on: real membership, failover of
a resource when its node dies, quorum with 2 of 3, nodes that rejoin, and a
full power loss the cluster comes back from.

The resource is the stock ocf:heartbeat:Dummy, so these tests prove the
harness, not our agents.  Every wait is bounded; the deadlines are generous
and the measured times are printed (pytest -s) for the record.

Without root or the cluster packages these tests fail, never skip.
"""

import os
import subprocess
import sys
import time
from typing import Iterator, List, Tuple

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netns import RC_NODE_DOWN, NetnsCluster  # noqa: E402

pytestmark = pytest.mark.cluster

DUMMY = "netns_dummy"
DUMMY_XML = (f"<primitive id='{DUMMY}' class='ocf' provider='heartbeat' type='Dummy'>"
             f"<operations><op id='{DUMMY}-monitor-2s' name='monitor' interval='2s' "
             f"timeout='20s'/></operations></primitive>")
# pacemaker's CRM_EX_EXISTS (cibadmin --create of an id already there)
CRM_EX_EXISTS = 108
# generous: a slow CI machine must not fail on them; measured times are ~5s
DEADLINE = 90


def timing(what: str, t0: float) -> float:
    dt = time.monotonic() - t0
    print(f"\nTIMING {what}: {dt:.2f}s")
    return dt


@pytest.fixture(scope="module")
def cluster() -> Iterator[NetnsCluster]:
    c = NetnsCluster()
    reason = c.missing_prerequisites()
    if reason:
        pytest.fail(reason)
    if c.is_running():
        pytest.fail(f"a namespace cluster is already running (state {c.state}); "
                    "stop it first: tools/pcmk-netns.sh stop")
    try:
        t0 = time.monotonic()
        c.start()
        timing("start of 3 nodes (until 3 online + DC)", t0)
        yield c
    finally:
        t0 = time.monotonic()
        c.stop()
        timing("stop", t0)
        # killed processes are zombies until PID 1 reaps them; those do not
        # count, but give the reaping a moment before judging
        c.wait_for(lambda: (not c.leftovers(), c.leftovers()), 30,
                   "nothing left behind by the namespace cluster")


def converged(c: NetnsCluster, expected: List[int]) -> Tuple[bool, str]:
    """Every expected node sees exactly the expected nodes online, one DC
    for all of them, and quorum."""
    names = {c.name(n) for n in expected}
    views = []
    for n in expected:
        mon = c.crm_mon_xml(n)
        views.append((n, c.online_nodes(mon), c.dc(mon), c.quorate(mon)))
    ok = (all(online == names and quorate for _, online, _, quorate in views)
          and len({dc for _, _, dc, _ in views}) == 1 and views[0][2] is not None)
    return ok, f"views (node, online, dc, quorate): {views}"


def dummy_placement(c: NetnsCluster, view: int) -> Tuple[bool, object]:
    mon = c.crm_mon_xml(view)
    where = c.running_on(mon, DUMMY)
    return len(where) == 1, (where[0] if len(where) == 1 else
                             f"running on {where}, failures {c.failures(mon)}")


def ensure_dummy(c: NetnsCluster) -> str:
    """Create the Dummy primitive if needed; the node it runs on."""
    r = c.exec(1, ["cibadmin", "--create", "-o", "resources", "--xml-text", DUMMY_XML],
               check=False)
    assert r.returncode in (0, CRM_EX_EXISTS), r.stderr
    _, node = c.wait_for(lambda: dummy_placement(c, 1), DEADLINE,
                         f"{DUMMY} started on exactly one node")
    return str(node)


def test_nodes_are_separate_machines(cluster: NetnsCluster) -> None:
    c = cluster
    for n in c.nodes:
        assert c.exec(n, ["uname", "-n"]).stdout.strip() == c.name(n)
        addrs = c.exec(n, ["ip", "-o", "-4", "addr", "show"]).stdout
        assert f"{c.addr(n)}/24" in addrs
        # private /run: corosync's lock file is the node's own
        pid = c.exec(n, ["cat", "/run/corosync.pid"]).stdout.strip()
        assert c.pgrep(n, "corosync") == [int(pid)]
        # the daemons' clean environment, cwd /
        env = c.exec(n, ["env"]).stdout.split()
        assert sorted(env) == ["HOME=/root", "LANG=C.UTF-8",
                               "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        assert c.exec(n, ["readlink", "/proc/self/cwd"]).stdout.strip() == "/"
    # the cluster's addresses exist only inside the namespaces
    host = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True,
                          text=True, check=True, timeout=30).stdout
    assert "10.211.0." not in host
    assert os.uname().nodename not in {c.name(n) for n in c.nodes}
    assert c.exec(1, ["ping", "-c", "1", "-W", "2", c.addr(3)], check=False).returncode == 0


def test_failover_when_a_node_dies(cluster: NetnsCluster) -> None:
    c = cluster
    c.wait_for(lambda: converged(c, list(c.nodes)), DEADLINE, "3 nodes online")
    victim_name = ensure_dummy(c)
    victim = c.number(victim_name)
    survivors = [n for n in c.nodes if n != victim]

    t0 = time.monotonic()
    c.node_kill(victim)
    assert not c.is_up(victim)
    # the script refuses instead of running the command on the host
    r = c.exec(victim, ["true"], check=False)
    assert r.returncode == RC_NODE_DOWN and "is down" in r.stderr, r

    def moved() -> Tuple[bool, str]:
        states = []
        for n in survivors:
            mon = c.crm_mon_xml(n)
            states.append((n, sorted(c.online_nodes(mon)), c.quorate(mon),
                           c.running_on(mon, DUMMY)))
        ok = all(online == sorted(c.name(s) for s in survivors) and quorate
                 and len(where) == 1 and where[0] != victim_name
                 for _, online, quorate, where in states)
        return ok, f"(view, online, quorate, {DUMMY} on): {states}"

    c.wait_for(moved, DEADLINE, f"{DUMMY} to move off {victim_name}, "
               "2 nodes online with quorum", interval=0.25)
    timing(f"kill -9 of {victim_name} -> {DUMMY} running on a survivor", t0)
    _, new_home = dummy_placement(c, survivors[0])

    t0 = time.monotonic()
    c.node_start(victim)
    timing(f"node_start({victim}) -> 3 online", t0)
    c.wait_for(lambda: converged(c, list(c.nodes)), DEADLINE, "3 nodes online")
    # the restarted node's /run was emptied (a reboot): its probe finds no
    # Dummy, so the resource stays where it is (stickiness) and is not
    # "active on 2 nodes"
    time.sleep(3)  # let the probes of the rejoined node report
    ok, where = dummy_placement(c, victim)
    assert ok and where == new_home, where


def test_power_loss_of_all_nodes(cluster: NetnsCluster) -> None:
    c = cluster
    c.wait_for(lambda: converged(c, list(c.nodes)), DEADLINE, "3 nodes online")
    ensure_dummy(c)

    t0 = time.monotonic()
    c.powerloss(*c.nodes)
    timing("powerloss of 3 nodes", t0)
    for n in c.nodes:
        assert not c.is_up(n)
        assert c.exec(n, ["true"], check=False).returncode == RC_NODE_DOWN
    assert c.status().returncode == 3

    t0 = time.monotonic()
    c.node_start(*c.nodes)
    timing("node_start(1, 2, 3) after power loss -> 3 online", t0)
    c.wait_for(lambda: converged(c, list(c.nodes)), DEADLINE, "3 nodes online")
    c.wait_for(lambda: dummy_placement(c, 2), DEADLINE,
               f"{DUMMY} started again on exactly one node")
    timing(f"node_start(1, 2, 3) after power loss -> {DUMMY} started", t0)


def test_leftovers_blame_no_file_older_than_the_process_seen_under_its_pid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """PIDs wrap (pid_max 32768 here): a libqb file that a cluster killed
    hours earlier left under some PID is not ours when a node process of
    ours later ran under that PID and died.  The CI run of 2026-12-07 failed
    on two such files.  A file made after that process started is ours."""
    c = NetnsCluster(state=tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    now = time.time()
    c._seen_pids[gone.pid] = now
    old = f"/dev/shm/qb-{gone.pid}-1-6-leftoverOld"
    new = f"/dev/shm/qb-{gone.pid}-1-8-leftoverNew"
    try:
        os.mkdir(old)
        os.utime(old, (now - 3600, now - 3600))
        assert [p for p in c.leftovers() if str(gone.pid) in p] == []
        os.mkdir(new)
        assert [p for p in c.leftovers() if str(gone.pid) in p] == [
            f"{new} left by dead pid {gone.pid}"]
    finally:
        for d in (old, new):
            if os.path.isdir(d):
                os.rmdir(d)
