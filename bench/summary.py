#!/usr/bin/python3
"""One table of every ratio that `make bench` measured, from the results
its benches wrote (bench/*-results.json), each against its reference of
the same run.  A bench whose results are missing is named, not guessed.

    python3 bench/summary.py [--markdown]
"""
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

BENCH = os.path.dirname(os.path.abspath(__file__))

Row = Tuple[str, str, Optional[float], Optional[float], str]   # what, reference, ours, ref, target


def load(name: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(BENCH, name)) as f:
            data: Dict[str, Any] = json.load(f)
            return data
    except (OSError, ValueError):
        return None


def wall(results: Dict[str, Any], key: str) -> Optional[float]:
    entry = results.get("results", {}).get(key) or {}
    value = (entry.get("wall_ms") or {}).get("median")
    return float(value) if value is not None else None


def rows() -> Tuple[List[Row], List[str]]:
    out: List[Row] = []
    missing: List[str] = []
    run = load("results.json")
    if run is None:
        missing.append("results.json (bench/run.py)")
    else:
        for action, target in (("meta-data", "<= 1.5x"), ("monitor", "<= 2.5x")):
            out.append((f"haproxy {action}", "python3 -c pass",
                        wall(run, f"agent {action}"), wall(run, "python"), target))
    net = load("network-results.json")
    if net is None:
        missing.append("network-results.json (bench/network.py)")
    else:
        for kind in ("ovs", "dhcp", "l3", "metadata"):
            out.append((f"quantum-agent-{kind} monitor", "python3 -c pass",
                        wall(net, f"{kind} ours"), wall(net, "python"), "<= 2x"))
            out.append((f"  the same with amqp_check", "python3 -c pass",
                        wall(net, f"{kind} amqp"), wall(net, "python"), "<= 2.5x"))
    for size in (3, 5):
        name = "galera-results.json" if size == 3 else f"galera-{size}-results.json"
        galera = load(name)
        if galera is None:
            missing.append(f"{name} (bench/galera.py{'' if size == 3 else ' --nodes 5'})")
            continue
        ours, stock = galera.get("ocf:mirantis:mysql", {}), galera.get("ocf:heartbeat:galera", {})
        ref = "heartbeat:galera"
        if size == 3:
            out.append(("mysql monitor (Galera, healthy)", ref, ours.get("monitor_ms"),
                        stock.get("monitor_ms"), "<= 0.5x"))
        out.append((f"power loss, {size} nodes: restart -> Synced", ref, ours.get("power_loss"),
                    stock.get("power_loss"), "<= 0.6x"))
        out.append((f"kill -9 of a server, {size} nodes: -> Synced", ref, ours.get("rejoin"),
                    stock.get("rejoin"), ""))
        out.append((f"minority after the window, {size} nodes: -> Synced", ref,
                    ours.get("minority_back"), stock.get("minority_back"), ""))
    load_ = load("election-load-results.json")
    if load_ is None or "before" not in load_ or "after" not in load_:
        missing.append("election-load-results.json (bench/election_load.py, before and after)")
    else:
        before, after = load_["before"], load_["after"]
        for key, label in (("processes_per_node_second", "election: CLI processes / node-s"),
                           ("agent_cpu_ms_per_node_second", "election: agent CPU ms / node-s"),
                           ("daemons_cpu_ms_per_node_second", "election: Pacemaker CPU ms / node-s")):
            out.append((label, "the election before issue 16", after.get(key), before.get(key),
                        "<= 0.5x"))
    repl = load("replication-results.json")
    if repl is None:
        missing.append("replication-results.json (bench/replication.py)")
    else:
        ours, stock = repl.get("ocf:mirantis:mysql", {}), repl.get("ocf:heartbeat:mysql", {})
        out.append(("replication: kill -9 of the master -> writes", "heartbeat:mysql",
                    ours.get("failover"), stock.get("failover"), "<= 0.5x"))
    return out, missing


def verdict(ratio: Optional[float], target: str) -> str:
    if ratio is None or not target.startswith("<= "):
        return ""
    return "met" if ratio <= float(target[3:-1]) else "OVER"


def main() -> int:
    markdown = "--markdown" in sys.argv
    table, missing = rows()
    if markdown:
        print("| measured | against | ours | reference | ratio | target |")
        print("|---|---|---|---|---|---|")
    else:
        print(f"\n{'measured':52s}{'against':32s}{'ours':>10s}{'ref':>10s}{'ratio':>8s}  target")
    for what, ref, ours, theirs, target in table:
        ratio = ours / theirs if isinstance(ours, (int, float)) and \
            isinstance(theirs, (int, float)) and theirs else None
        cells = [f"{ours:.2f}" if isinstance(ours, (int, float)) else "never",
                 f"{theirs:.2f}" if isinstance(theirs, (int, float)) else "never",
                 f"{ratio:.2f}x" if ratio is not None else "",
                 f"{target} {verdict(ratio, target)}".strip()]
        if markdown:
            print(f"| {what.strip()} | {ref} | " + " | ".join(cells) + " |")
        else:
            print(f"{what:52s}{ref:32s}{cells[0]:>10s}{cells[1]:>10s}{cells[2]:>8s}  {cells[3]}")
    if missing:
        print("\nnot measured (no results): " + "; ".join(missing))
    print("(ms for the agents' actions and CPU, seconds for the cluster scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
