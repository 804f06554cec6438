#!/usr/bin/python3
"""The pure election (mirantis_ocf.election.decide), simulated at 3 to 33 nodes.

No cluster: a discrete-time play of a power-loss recovery, as the agent
runs it.  One tick is one poll of the agent (POLL, 0.3 s).  Every node
comes back at a random tick within ARRIVAL_SPREAD ticks (its corosync, its
Pacemaker, its --wsrep-recover), publishes its epoch, and then calls
decide() on what it sees once per tick until it is told to join or to
bootstrap.  The winner claims (one atomic CIB object) and bootstraps; the
others see the claim and join.

For each size: the cost of one decide() call on the decisive tick's view
(every node reported; timeit, the best of 5 repeats), the ticks from the
last node's arrival to the last decision, the decide() calls the whole
cluster made, and the calls per node.  Prints one table and writes
bench/election-results.json.  It never fails on a time.
"""
import json
import os
import random
import statistics
import sys
import timeit
from typing import Dict, List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "lib"))

from mirantis_ocf.election import BOOTSTRAP, CLAIM, JOIN, WAIT, Claim, Epoch, View, decide  # noqa: E402

SIZES = (3, 5, 9, 17, 33)
UUID = "09b366f4-e8f9-11f1-b5f3-e39cf41434e0"
ARRIVAL_SPREAD = 20        # ticks: the nodes come back within 6 s of each other
TIMEOUT_TICKS = 1000       # the window (300 s) is never what ends these elections
TRIALS = 200


def play(n: int, rng: random.Random) -> Tuple[int, int, int]:
    """One recovery of n nodes: (ticks from the last arrival to the last
    decision, decide() calls in all, bootstraps)."""
    names = [f"node{i + 1}" for i in range(n)]
    epochs = {name: Epoch(UUID, rng.randint(100, 110), False) for name in names}
    arrivals = {name: rng.randint(0, ARRIVAL_SPREAD) for name in names}
    published: Dict[str, Epoch] = {}
    claim: Optional[str] = None
    done: Dict[str, int] = {}
    calls = bootstraps = 0
    t = 0
    while len(done) < n:
        for name in names:
            if arrivals[name] == t:
                published[name] = epochs[name]
        online = [m for m in names if arrivals[m] <= t]
        for name in online:
            if name in done:
                continue
            view = View(name, names, online, 2 * len(online) > n, published,
                        claim=Claim.decode(claim) if claim else None,
                        elapsed=float(t - arrivals[name]), timeout=float(TIMEOUT_TICKS))
            calls += 1
            d = decide(view)
            if d.action == JOIN:
                done[name] = t
            elif d.action in (CLAIM, BOOTSTRAP):
                if claim is None:
                    claim = Claim(name, epochs[name].encode()).encode()
                    bootstraps += 1
                    done[name] = t
            else:
                assert d.action == WAIT, d
        t += 1
    return max(done.values()) - max(arrivals.values()), calls, bootstraps


def decisive_view(n: int) -> View:
    """A node's view once every node has reported: the heaviest call."""
    names = [f"node{i + 1}" for i in range(n)]
    reports = {name: Epoch(UUID, 100 + i % 7, i % 2 == 0) for i, name in enumerate(names)}
    return View(names[-1], names, names, True, reports, elapsed=5.0, timeout=300.0)


def main() -> int:
    rng = random.Random(20261204)
    rows = []
    for n in SIZES:
        view = decisive_view(n)
        number = 2000
        best = min(timeit.repeat(lambda: decide(view), number=number, repeat=5)) / number
        plays = [play(n, rng) for _ in range(TRIALS)]
        after = [p[0] for p in plays]
        calls = [p[1] for p in plays]
        assert all(p[2] == 1 for p in plays), "a recovery bootstrapped twice, or never"
        rows.append({"nodes": n, "decide_us": best * 1e6,
                     "ticks_after_last_arrival": {"median": statistics.median(after),
                                                  "max": max(after)},
                     "calls": statistics.median(calls),
                     "calls_per_node": statistics.median(calls) / n})
    print(f"\nThe pure election, simulated ({TRIALS} recoveries per size; "
          f"arrivals spread over {ARRIVAL_SPREAD} ticks of 0.3 s)")
    print(f"{'nodes':>5s}{'decide() µs':>13s}{'/ 3 nodes':>10s}"
          f"{'ticks after last arrival':>26s}{'calls':>8s}{'per node':>10s}")
    base = rows[0]["decide_us"]
    for r in rows:
        ticks = r["ticks_after_last_arrival"]
        print(f"{r['nodes']:5d}{r['decide_us']:13.1f}{r['decide_us'] / base:9.2f}x"
              f"{ticks['median']:>18.0f} (max {ticks['max']})"
              f"{r['calls']:8.0f}{r['calls_per_node']:10.1f}")
    path = os.path.join(REPO, "bench", "election-results.json")
    with open(path, "w") as f:
        json.dump({"trials": TRIALS, "arrival_spread_ticks": ARRIVAL_SPREAD, "rows": rows}, f,
                  indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
