#!/usr/bin/python3
"""What a waiting election costs a recovering cluster, per node and second.

On the 3-node namespace cluster with ocf:mirantis:mysql: three Synced
nodes, a power loss of all three, and only node1 and node2 come back, so
that both wait out the election window for node3 (WINDOW s).  While they
wait, for MEASURE seconds:

- the command-line processes that the agents' start actions spawned
  (crm_node, cibadmin, ...), counted from the kernel's process accounting
  (acct(2): one record per exited process, with its parent's pid);
- the CPU time of the agents' start actions and of their children (their
  own /proc/PID/stat, utime+stime and cutime+cstime), and of the
  Pacemaker daemons that served them (pacemaker-based, -controld, -attrd);
- the CIB's updates (its epoch and num_updates, before and after).

Each figure is divided by the nodes that elect (2) and the seconds measured.
Prints one table and writes bench/election-load-results.json (``--label``
names the run: "before" and "after" a change, measured with the agent that
is installed).  It never fails on a figure.
"""
import argparse
import ctypes
import json
import os
import struct
import subprocess
import sys
import time
from typing import Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO, "tests"))

import galera as gb  # noqa: E402  (bench/galera.py: the cluster's files and the agent's text)
from galera_env import MONITOR_PASSWORD, MONITOR_USER, GaleraNode  # noqa: E402
from netns import NetnsCluster  # noqa: E402
from netns_runs import run_setups  # noqa: E402

WINDOW = 60
MEASURE = 30.0
ELECTING = (1, 2)
PACCT = "/var/tmp/mirantis-ocf/election-load.pacct"
RESULTS = os.path.join(REPO, "bench", "election-load-results.json")
DAEMONS = ("pacemaker-based", "pacemaker-contro", "pacemaker-attrd")
# struct acct_v3 (linux/acct.h): flag, version, tty, exitcode, uid, gid, pid,
# ppid, btime, etime (float), then 8 comp_t and the command name
ACCT_V3 = struct.Struct("=BBHIIIIIIf8H16s")
TICK = os.sysconf("SC_CLK_TCK")


def acct(path: "str | None") -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.acct(path.encode() if path else None) != 0:
        raise OSError(ctypes.get_errno(), "acct(2)")


def exited(path: str) -> List[Tuple[int, int, str]]:
    """(pid, ppid, command name) of every process that exited while accounting ran."""
    with open(path, "rb") as f:
        data = f.read()
    records = []
    for off in range(0, len(data) - ACCT_V3.size + 1, ACCT_V3.size):
        fields = ACCT_V3.unpack_from(data, off)
        if fields[1] != 3:          # not a v3 record
            continue
        records.append((fields[6], fields[7], fields[-1].split(b"\0")[0].decode(errors="replace")))
    return records


def cpu(pid: int) -> Tuple[float, float]:
    """(own, waited-for children's) CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return ((int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK)


def agent_starts(c: NetnsCluster, n: int) -> List[int]:
    """Node n's running start actions of the mysql agent."""
    found = []
    for pid in c.pids(n):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"mirantis/mysql") for a in argv) and b"start" in argv:
            found.append(pid)
    return found


def cib_version(c: NetnsCluster, n: int) -> Tuple[int, int]:
    """The CIB's (epoch, num_updates), from its root element."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(c.exec(n, ["cibadmin", "--query"]).stdout)
    return int(root.get("epoch", "0")), int(root.get("num_updates", "0"))


def scenario(c: NetnsCluster, spec: Dict[str, object]) -> Dict[str, object]:
    c.start()
    for n in gb.NODES:
        node = GaleraNode(f"{gb.HOST_ROOT}/n{n}", name=f"node{n}", address=NetnsCluster.addr(n),
                          inside=gb.INSIDE)
        node.prepare()
        c.bind(n, node.root, gb.INSIDE)
    params = " ".join(f"{k}={v}" for k, v in gb.COMMON.items())
    text = str(spec["crm"]).format(params=params, window=WINDOW, user=MONITOR_USER,
                                   password=MONITOR_PASSWORD,
                                   addresses=" ".join(f"node{n}={NetnsCluster.addr(n)}" for n in gb.NODES))
    path = f"{gb.HOST_ROOT}/resource.crm"
    with open(path, "w") as f:
        f.write(text)
    c.exec(1, ["crm", "configure", "load", "update", path], timeout=60)
    gb.timed("3 Synced from empty datadirs", lambda: gb.synced(c), 300)
    c.powerloss(*gb.NODES)
    c.node_start(*ELECTING)
    # both start actions in the election (each has published its epoch)
    NetnsCluster.wait_for(lambda: all(agent_starts(c, n) for n in ELECTING), 120,
                          "the start actions running")
    NetnsCluster.wait_for(
        lambda: c.exec(1, ["cibadmin", "--query", "--scope", "status"]).stdout.count(
            "name=\"p_mysql-epoch\"") >= len(ELECTING) or None, 120, "both epochs published")
    time.sleep(2)
    starts = {n: agent_starts(c, n) for n in ELECTING}
    daemons = {n: [p for d in DAEMONS for p in c.pgrep(n, d)] for n in ELECTING}
    watched = [p for ps in list(starts.values()) + list(daemons.values()) for p in ps]
    open(PACCT, "w").close()
    version0 = cib_version(c, 1)
    before = {p: cpu(p) for p in watched}
    acct(PACCT)
    t0 = time.monotonic()
    time.sleep(MEASURE)
    after = {p: cpu(p) for p in watched}
    seconds = time.monotonic() - t0
    acct(None)
    version1 = cib_version(c, 1)
    still = all(agent_starts(c, n) == starts[n] for n in ELECTING)
    agent_pids = {p for ps in starts.values() for p in ps}
    spawned: Dict[str, int] = {}
    for pid, ppid, comm in exited(PACCT):
        if ppid in agent_pids:
            spawned[comm] = spawned.get(comm, 0) + 1
    os.unlink(PACCT)
    node_seconds = len(ELECTING) * seconds
    agents_cpu = sum(after[p][0] - before[p][0] + after[p][1] - before[p][1] for p in agent_pids)
    daemons_cpu = sum(after[p][0] - before[p][0] for ps in daemons.values() for p in ps)
    epochs, updates = version1[0] - version0[0], version1[1] - version0[1]
    result: Dict[str, object] = {
        "seconds": seconds, "still_electing": still,
        "processes_per_node_second": sum(spawned.values()) / node_seconds,
        "processes": spawned,
        "agent_cpu_ms_per_node_second": 1000 * agents_cpu / node_seconds,
        "daemons_cpu_ms_per_node_second": 1000 * daemons_cpu / node_seconds,
        "cib_updates_per_node_second": (updates if epochs == 0 else updates + epochs) / node_seconds,
        "cib_version": [version0, version1],
    }
    gb.timed("2 Synced after the window", lambda: gb.synced(c, ELECTING), WINDOW + 120)
    c.exec(1, ["crm", "configure", "property", "stop-all-resources=true"], timeout=60)
    NetnsCluster.wait_for(lambda: not NetnsCluster.running_on(c.crm_mon_xml(1), "p_mysql"), 300,
                          "resources to stop")
    c.stop()
    subprocess.run(["rm", "-rf", gb.HOST_ROOT], check=False)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", default="installed")
    args = ap.parse_args()
    results = run_setups(gb.INSIDE, (("ocf:mirantis:mysql", gb.OURS),), scenario)
    if results is None:
        return 1
    r = results["ocf:mirantis:mysql"]
    print(f"\nThe election's load ({args.label}): 2 nodes waiting for a third, "
          f"{r['seconds']:.0f} s measured, per node and second")
    print(f"  CLI processes            {r['processes_per_node_second']:8.2f}  {r['processes']}")
    print(f"  CPU, agent + children    {r['agent_cpu_ms_per_node_second']:8.1f} ms")
    print(f"  CPU, Pacemaker daemons   {r['daemons_cpu_ms_per_node_second']:8.1f} ms")
    print(f"  CIB updates              {r['cib_updates_per_node_second']:8.2f}")
    saved = {}
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            saved = json.load(f)
    saved[args.label] = r
    with open(RESULTS, "w") as f:
        json.dump(saved, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
