#!/usr/bin/python3
"""Galera reassembly after a power loss: ocf:mirantis:mysql against
resource-agents' ocf:heartbeat:galera, on the same namespace cluster, in the
same run: 3 nodes, or 5 with ``--nodes 5`` (each MariaDB has a 32 MB buffer
pool, so that five fit in memory).

For each agent: three empty datadirs, the agent's resource (our clone; the
stock agent's promotable clone), until 3 Synced ("initial"); node1 and node3
leave cleanly so that node2 alone holds the last rows; every node loses power
at once; all three restart; the time until 3 Synced is the figure ("power
loss": the median of TRIALS such power losses, $BENCH_TRIALS, default 3).  Then the cost of one monitor on a healthy node, each agent run
directly inside node1, 30 times.  Then the rejoin of the last node after a
kill -9 of its server (the monitors every 10 s, both agents); and after
another power loss, a majority restarted alone (it elects after our window;
the stock agent waits for every node), then the minority restarted after
the window: the time until all are Synced again.

Prints a table and writes bench/galera-results.json (galera-N-results.json
for N nodes).  It never fails on a
time; it fails only if a scenario could not complete.
"""
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests"))

from galera_env import MONITOR_PASSWORD, MONITOR_USER, GaleraNode  # noqa: E402
from netns import NetnsCluster  # noqa: E402
from netns_runs import run_setups  # noqa: E402

HOST_ROOT = "/var/tmp/mirantis-ocf/galera-bench"
# our election window in the bench (the default is 300 s), and how long the
# two-of-three scenario waits for 2 Synced before it says "never"
WINDOW = 20
TWO_OF_THREE_LIMIT = 90
TRIALS = max(1, int(os.environ.get("BENCH_TRIALS", "3")))
INSIDE = "/srv/mocf-galera"
NODES = (1, 2, 3)      # main() sets the size (--nodes)
# The socket at Debian's default place (each node has its own /run): the stock
# agent's status queries use the mysql client's default socket, not its parameter.
COMMON = {"config": f"{INSIDE}/my.cnf", "datadir": f"{INSIDE}/data",
          "socket": "/run/mysqld/mysqld.sock", "pid": "/run/mysqld/mysqld.pid",
          "log": f"{INSIDE}/mysqld.err"}

OURS = {
    "rsc": "p_mysql",
    # binary: the server itself, as the README advises (mysqld_safe, Fuel's
    # default, runs a second --wsrep-recover of its own at every start)
    "crm": """primitive p_mysql ocf:mirantis:mysql params {params} binary=/usr/sbin/mariadbd \\
    test_user={user} test_passwd="{password}" node_addresses="{addresses}" \\
    election_timeout={window} \\
    op monitor interval=10 timeout=30 op start interval=0 timeout=450 op stop interval=0 timeout=150
clone clone_p_mysql p_mysql meta interleave=true
""",
    "agent": "/usr/lib/ocf/resource.d/mirantis/mysql",
    "monitor_env": {"OCF_RESOURCE_INSTANCE": "p_mysql", "OCF_RESKEY_test_user": MONITOR_USER,
                    "OCF_RESKEY_test_passwd": MONITOR_PASSWORD},
}
STOCK = {
    "rsc": "p_galera",
    # as pcs creates it from the agent's meta-data (the lab's configuration)
    "crm": """primitive p_galera ocf:heartbeat:galera params {params} \\
    wsrep_cluster_address="gcomm://{gcomm}" cluster_host_map="{hostmap}" \\
    op monitor interval=20 timeout=30 op monitor interval=10 role=Promoted timeout=30 \\
    op monitor interval=30 role=Unpromoted timeout=30 op start interval=0 timeout=120 \\
    op stop interval=0 timeout=120 op promote interval=0 timeout=300 op demote interval=0 timeout=120
clone galera-clone p_galera meta promotable=true promoted-max={size} interleave=true
""",
    "agent": "/usr/lib/ocf/resource.d/heartbeat/galera",
    # + promoted_max, clone_max, the address and the host map: size_env()
    "monitor_env": {"OCF_RESOURCE_INSTANCE": "p_galera"},
}


def size_env(spec: Dict[str, object]) -> Dict[str, str]:
    """A monitor's environment for this size of cluster."""
    env = dict(spec["monitor_env"])  # type: ignore[call-overload]
    if spec is STOCK:
        size = str(len(NODES))
        env.update({"OCF_RESKEY_CRM_meta_promoted_max": size,
                    "OCF_RESKEY_CRM_meta_master_max": size, "OCF_RESKEY_CRM_meta_clone_max": size,
                    "OCF_RESKEY_wsrep_cluster_address":
                        "gcomm://" + ",".join(NetnsCluster.addr(n) for n in NODES),
                    "OCF_RESKEY_cluster_host_map":
                        ";".join(f"node{n}:{NetnsCluster.addr(n)}" for n in NODES)})
    return env

# Runs inside node1: N monitors, each timed; prints the median and p90 in ms.
TIMER = """
import os, subprocess, sys, time, statistics
agent, runs = sys.argv[1], int(sys.argv[2])
env = dict(a.split("=", 1) for a in sys.argv[3:])
times, rcs = [], set()
for i in range(runs + 3):
    t0 = time.perf_counter()
    rcs.add(subprocess.run([agent, "monitor"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL).returncode)
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(statistics.median(times), times[int(len(times) * 0.9) - 1], sorted(rcs))
"""


def status(c: NetnsCluster, n: int) -> Dict[str, str]:
    out = c.exec(n, ["mariadb", f"--socket={COMMON['socket']}", "-N", "-B", "-e",
                     "SHOW GLOBAL STATUS LIKE 'wsrep_%'"], check=False, timeout=30)
    return dict(line.split("\t", 1) for line in out.stdout.splitlines() if "\t" in line)


def synced(c: NetnsCluster, nodes: Tuple[int, ...] = ()
           ) -> Tuple[bool, Dict[int, Tuple[str, str, str]]]:
    nodes = nodes or NODES
    states = {n: status(c, n) for n in nodes}
    brief = {n: (s.get("wsrep_cluster_status", "-"), s.get("wsrep_local_state_comment", "-"),
                 s.get("wsrep_cluster_size", "-")) for n, s in states.items()}
    return all(b == ("Primary", "Synced", str(len(nodes))) for b in brief.values()), brief


def timed(what: str, predicate: Callable[[], object], timeout: float) -> float:
    t0 = time.monotonic()
    NetnsCluster.wait_for(predicate, timeout, what, interval=0.25)
    return time.monotonic() - t0


def scenario(c: NetnsCluster, spec: Dict[str, object]) -> Dict[str, float]:
    c.start()
    for n in NODES:
        node = GaleraNode(f"{HOST_ROOT}/n{n}", name=f"node{n}", address=NetnsCluster.addr(n),
                          inside=INSIDE)
        node.prepare()
        c.bind(n, node.root, INSIDE)
    params = " ".join(f"{k}={v}" for k, v in COMMON.items())
    addresses = " ".join(f"node{n}={NetnsCluster.addr(n)}" for n in NODES)
    text = str(spec["crm"]).format(
        size=len(NODES), params=params, window=WINDOW, user=MONITOR_USER,
        password=MONITOR_PASSWORD, addresses=addresses,
        gcomm=",".join(NetnsCluster.addr(n) for n in NODES),
        hostmap=";".join(f"node{n}:{NetnsCluster.addr(n)}" for n in NODES))
    path = f"{HOST_ROOT}/resource.crm"
    with open(path, "w") as f:
        f.write(text)
    result: Dict[str, float] = {}
    t0 = time.monotonic()
    c.exec(1, ["crm", "configure", "load", "update", path], timeout=60)
    timed("all Synced from empty datadirs", lambda: synced(c), 300)
    result["initial"] = time.monotonic() - t0
    # monitor cost on a healthy node
    env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESKEY_CRM_meta_interval": "20000",
           "OCF_RESKEY_CRM_meta_timeout": "30000", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    env.update({f"OCF_RESKEY_{k}": v for k, v in COMMON.items()})
    env.update(size_env(spec))
    out = c.exec(1, ["/usr/bin/python3", "-c", TIMER, str(spec["agent"]), "30",
                     *[f"{k}={v}" for k, v in env.items()]], timeout=300).stdout.split(None, 2)
    result["monitor_ms"], result["monitor_p90_ms"] = float(out[0]), float(out[1])
    result["monitor_rcs"] = out[2].strip()  # type: ignore[assignment]
    rsc = str(spec["rsc"])
    runs: List[float] = []
    memberships: List[float] = []
    for trial in range(TRIALS):
        # node2 alone takes the last rows; one after the other: two members
        # leaving at once can leave the last one outside any Primary Component
        leaving = [n for n in NODES if n != 2]
        for i, n in enumerate(leaving):
            left = sorted(f"node{m}" for m in [2, *leaving[i + 1:]])
            c.exec(1, ["crm_attribute", "-N", f"node{n}", "-n", "standby", "-l", "reboot",
                       "-v", "on"])
            NetnsCluster.wait_for(
                lambda: sorted(NetnsCluster.running_on(c.crm_mon_xml(1), rsc)) == left, 300,
                f"mysql on {left} only")
            # and Galera's own view shrunk to them: a leave that overlaps the
            # one before may split the rest into non-Primary parts (seen at 5)
            NetnsCluster.wait_for(
                lambda: (lambda s: s.get("wsrep_cluster_size") == str(len(left))
                         and s.get("wsrep_cluster_status") == "Primary")(status(c, 2)), 120,
                f"node2 Primary in a component of {len(left)}")
        NetnsCluster.wait_for(lambda: status(c, 2).get("wsrep_cluster_status") == "Primary", 60,
                              "node2 Primary on its own")
        values = ",".join(f"({trial * 10 + i})" for i in (1, 2, 3))
        c.exec(2, ["mariadb", f"--socket={COMMON['socket']}", "-e",
                   "CREATE DATABASE IF NOT EXISTS b; CREATE TABLE IF NOT EXISTS b.t "
                   f"(i INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO b.t VALUES {values}"])
        # every node loses power (the standby attributes, lifetime reboot, with it)
        c.powerloss(*NODES)
        t0 = time.monotonic()
        c.node_start(*NODES)
        memberships.append(time.monotonic() - t0)
        timed("all Synced after the power loss", lambda: synced(c), 300)
        runs.append(time.monotonic() - t0)
        rows = [c.exec(n, ["mariadb", f"--socket={COMMON['socket']}", "-N", "-e",
                           "SELECT COUNT(*) FROM b.t"]).stdout.strip() for n in NODES]
        if rows != [str(3 * (trial + 1))] * len(NODES):
            raise AssertionError(f"rows after power loss {trial + 1}: {rows}")
    result["power_loss"] = statistics.median(runs)
    result["power_loss_runs"] = runs            # type: ignore[assignment]
    result["membership"] = statistics.median(memberships)
    # the last node's server killed: found by the next monitor, started again
    last = NODES[-1]
    pid = c.pgrep(last, "mariadbd")[0]
    os.kill(pid, 9)
    result["rejoin"] = timed("the killed server back, all Synced",
                             lambda: synced(c)[0] and pid not in c.pgrep(last, "mariadbd"), 300)
    # a majority back alone ("two of three" at 3 nodes), the rest after the window
    majority = NODES[:len(NODES) // 2 + 1]
    c.powerloss(*NODES)
    t0 = time.monotonic()
    c.node_start(*majority)
    try:
        timed(f"{len(majority)} Synced with the others down", lambda: synced(c, majority),
              TWO_OF_THREE_LIMIT)
        result["two_of_three"] = time.monotonic() - t0
    except Exception as exc:   # the stock agent waits for every node for ever
        print(f"majority alone: {exc}", flush=True)
        result["two_of_three"] = None  # type: ignore[assignment]
    t0 = time.monotonic()
    c.node_start(*NODES[len(majority):])
    result["minority_back"] = timed("the minority back, all Synced", lambda: synced(c), 300)
    c.exec(1, ["crm", "configure", "property", "stop-all-resources=true"], timeout=60)
    NetnsCluster.wait_for(lambda: not NetnsCluster.running_on(c.crm_mon_xml(1), rsc), 300,
                          "resources to stop")
    c.stop()
    subprocess.run(["rm", "-rf", HOST_ROOT], check=False)
    return result


def main() -> int:
    global NODES
    size = int(sys.argv[sys.argv.index("--nodes") + 1]) if "--nodes" in sys.argv else 3
    NODES = tuple(range(1, size + 1))
    results = run_setups(INSIDE, (("ocf:heartbeat:galera", STOCK), ("ocf:mirantis:mysql", OURS)),
                         scenario, size=size)
    if results is None:
        return 1
    ours, stock = results["ocf:mirantis:mysql"], results["ocf:heartbeat:galera"]
    n = len(NODES)
    print(f"\n{n}-node Galera, same machine, same run (seconds; monitor in ms)")
    print(f"{'':44s}{'heartbeat:galera':>18s}{'mirantis:mysql':>16s}{'ratio':>8s}")

    def shown(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else f"never ({TWO_OF_THREE_LIMIT} s)"
    for key, label in (("initial", f"empty datadirs -> {n} Synced"),
                       ("power_loss", f"power loss: restart -> {n} Synced"),
                       ("rejoin", "kill -9 of a server -> Synced again"),
                       ("two_of_three", f"majority alone: restart -> {n // 2 + 1} Synced"),
                       ("minority_back", "the minority after the window -> all"),
                       ("monitor_ms", "monitor on a healthy node (median)")):
        a, b = stock.get(key), ours.get(key)
        ratio = f"{b / a:7.2f}x" if isinstance(a, float) and isinstance(b, float) else ""
        print(f"{label:44s}{shown(a):>18s}{shown(b):>16s}{ratio}")
    print(f"{'  (of which membership, both)':44s}{stock['membership']:18.2f}{ours['membership']:16.2f}")
    print(f"{f'  (our election window: {WINDOW} s)':44s}")
    for name, r in (("heartbeat:galera", stock), ("mirantis:mysql", ours)):
        print(f"power losses, {name}: " + ", ".join(f"{t:.2f}" for t in r["power_loss_runs"])
              + f" (median {r['power_loss']:.2f})")
    print("targets: power loss <= 0.6x the galera agent's time; a majority recovers by itself")
    name = "galera-results.json" if n == 3 else f"galera-{n}-results.json"
    with open(os.path.join(REPO, "bench", name), "w") as f:
        json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
