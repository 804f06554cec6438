"""Which replica is promoted: MariaDB GTID positions, as a pure function over plain data.

In the replication mode of the ``mysql`` agent (a promotable clone) each
node publishes a *report*: its role, whether its replication works, its
server id and its GTID position.  Every node runs :func:`choose` on the
reports it sees and sets its own promotion score from the answer; the node
Pacemaker picks checks the answer again, on fresh reports, in ``promote``.

A position is MariaDB's ``gtid_binlog_pos`` (the agent runs the servers with
log_slave_updates, so a replica's binlog holds every transaction it
applied): per replication domain, the last GTID ``domain-server-seqno``.
Within a domain seqnos only grow (gtid_strict_mode), so a position A holds
everything of B when, for every domain of B, A has a higher seqno, or the
same seqno from the same server.  The same seqno from two servers, or a
domain where each is ahead of the other, means the histories diverged.

The rules:

- only online nodes count, and only while they report;
- a master that runs and works is kept: never a second one, and no
  ranking of the replicas while it runs (their positions move with every
  commit; their scores must not);
- with no master, the candidates are the replicas whose replication works
  (SQL thread running; the IO thread may be reconnecting to a master that
  is gone) and whose lag is within bounds;
- a candidate is promoted only if no reporting node holds a transaction
  that it lacks, broken replicas included: a transaction that only a broken
  replica holds is not given up silently, the promotion waits and says why;
- among equal candidates, the smallest node name wins: every node agrees.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Sequence, Tuple

    Position = Dict[int, Tuple[int, int]]     # domain -> (server id, seqno)

MASTER = "master"
SLAVE = "slave"
# Promotion scores.  A running master's dominates, so that Pacemaker never
# moves it; a replica that works has a flat standby score while a master
# runs (no churn in the CIB), and the chosen one a high one when none runs.
MASTER_SCORE = 1000
CHOSEN_SCORE = 100
STANDBY_SCORE = 1


def parse_position(text: str) -> Optional[Position]:
    """``0-1-100,1-2-7`` (``gtid_binlog_pos``); ``""`` is the empty position.
    None for anything else, and for two GTIDs of one domain."""
    position: Position = {}
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        parts = item.split("-")
        if len(parts) != 3 or not all(p.isdigit() and len(p) <= 20 for p in parts):
            return None
        domain, server, seqno = (int(p) for p in parts)
        if domain in position:
            return None
        position[domain] = (server, seqno)
    return position


def format_position(position: Mapping[int, Tuple[int, int]]) -> str:
    return ",".join(f"{d}-{s}-{n}" for d, (s, n) in sorted(position.items()))


def holds(a: Mapping[int, Tuple[int, int]], b: Mapping[int, Tuple[int, int]]) -> bool:
    """True when position ``a`` holds every transaction of ``b``."""
    for domain, (server, seqno) in b.items():
        if domain not in a:
            return False
        mine_server, mine_seqno = a[domain]
        if mine_seqno < seqno or (mine_seqno == seqno and mine_server != server):
            return False
    return True


def errant(mine: Mapping[int, Tuple[int, int]], master: Mapping[int, Tuple[int, int]]) -> str:
    """What of ``mine`` the master provably never had ("" when nothing is
    provable from positions alone; the master's binlog is the final word,
    and MariaDB refuses such a replica with error 1236)."""
    found = []
    for domain, (server, seqno) in sorted(mine.items()):
        theirs = master.get(domain)
        if theirs is None or seqno > theirs[1] or (seqno == theirs[1] and server != theirs[0]):
            found.append(f"{domain}-{server}-{seqno}")
    return ",".join(found)


class Report:
    """What one node publishes: role, whether it works (and why not), server id, position."""

    __slots__ = ("role", "ok", "server_id", "position", "why")

    def __init__(self, role: str, ok: bool, server_id: int, position: Position,
                 why: str = "") -> None:
        self.role = role
        self.ok = ok
        self.server_id = server_id
        self.position = position
        self.why = why

    def encode(self) -> str:
        """``v1;slave;ok;2;0-1-100;`` (a node attribute's value)."""
        why = self.why.replace(";", ",")[:120]
        return ";".join(("v1", self.role, "ok" if self.ok else "broken", str(self.server_id),
                         format_position(self.position), why))

    @classmethod
    def decode(cls, text: str) -> Optional[Report]:
        parts = text.split(";", 5)
        if len(parts) != 6 or parts[0] != "v1" or parts[1] not in (MASTER, SLAVE) \
                or parts[2] not in ("ok", "broken") or not parts[3].isdigit():
            return None
        position = parse_position(parts[4])
        if position is None:
            return None
        return cls(parts[1], parts[2] == "ok", int(parts[3]), position, parts[5])

    def __repr__(self) -> str:
        return f"Report({self.encode()!r})"


class Decision:
    """The master (kept or chosen), every reporting node's score (None: no
    score, never promoted), and why."""

    __slots__ = ("master", "scores", "reason")

    def __init__(self, master: Optional[str], scores: Dict[str, Optional[int]],
                 reason: str) -> None:
        self.master = master
        self.scores = scores
        self.reason = reason

    def __repr__(self) -> str:
        return f"Decision({self.master!r}, {self.scores!r}, {self.reason!r})"


def choose(reports: Mapping[str, Report], online: Sequence[str]) -> Decision:
    """The promotion, from the reports of the online nodes."""
    seen = {n: r for n, r in reports.items() if n in online}
    scores: Dict[str, Optional[int]] = {n: None for n in seen}
    masters = sorted(n for n, r in seen.items() if r.role == MASTER and r.ok)
    if len(masters) > 1:
        # never happens through this agent; never pick one of two writers
        return Decision(None, scores, f"two masters report: {', '.join(masters)}")
    working = [n for n, r in seen.items() if r.role == SLAVE and r.ok]
    if masters:
        master = masters[0]
        scores[master] = MASTER_SCORE
        for n in working:
            scores[n] = STANDBY_SCORE
        return Decision(master, scores, f"{master} is the master")
    if not working:
        return Decision(None, scores, "no replica works" if seen else "no node reports")
    # a candidate must hold everything that any reporting node holds
    ahead = [n for n in working if all(holds(seen[n].position, r.position)
                                       for m, r in seen.items() if m != n)]
    if not ahead:
        best = sorted(working, key=lambda n: (-_total(seen[n].position), n))[0]
        missing = sorted(m for m, r in seen.items()
                         if m != best and not holds(seen[best].position, r.position))
        return Decision(None, scores, f"no working replica holds every transaction: "
                                      f"{', '.join(missing)} hold(s) some that {best} lacks")
    chosen = sorted(ahead)[0]
    scores[chosen] = CHOSEN_SCORE
    return Decision(chosen, scores, f"{chosen} is the most advanced working replica "
                                    f"({format_position(seen[chosen].position) or 'empty'})")


def may_promote(me: str, reports: Mapping[str, Report], online: Sequence[str]) -> str:
    """Why ``me`` must not be promoted now ("" when it may), on fresh reports.

    The check of ``promote`` itself: no master runs, ``me`` works, and no
    reporting node holds a transaction that ``me`` lacks.  Unlike
    :func:`choose`, a tie is no reason to refuse: Pacemaker may pick any of
    the equally advanced replicas."""
    seen = {n: r for n, r in reports.items() if n in online or n == me}
    mine = seen.get(me)
    if mine is None:
        return "we publish no report"
    others = [n for n, r in seen.items() if n != me and r.role == MASTER and r.ok]
    if others:
        return f"{others[0]} is the master"
    if not mine.ok:
        return mine.why or "our replication is broken"
    ahead = sorted(n for n, r in seen.items() if n != me and not holds(mine.position, r.position))
    if ahead:
        return f"{', '.join(ahead)} hold(s) transactions that we lack"
    return ""


def _total(position: Mapping[int, Tuple[int, int]]) -> int:
    return sum(seqno for _, seqno in position.values())
