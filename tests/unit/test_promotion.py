"""Which replica is promoted (mirantis_ocf.promotion), property-based.

Hypothesis builds one replication history (one or two GTID domains), gives
each node a prefix of it, or a prefix and then transactions of its own (a
diverged node), marks some replicas broken, some nodes offline or silent,
and at most one a master.  Whatever it builds, choose() never promotes a
node that lacks a transaction that another reporting node holds, never a
broken replica, and never a second master.
"""
import random
from typing import Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirantis_ocf.promotion import (CHOSEN_SCORE, MASTER, MASTER_SCORE, SLAVE, STANDBY_SCORE,
                                    Report, choose, errant, format_position, holds, may_promote,
                                    parse_position)

pytestmark = pytest.mark.unit

Position = Dict[int, Tuple[int, int]]


def prefix(history: List[Tuple[int, int, int]], n: int) -> Position:
    """The position after the first n transactions of a history of (domain, server, seqno)."""
    position: Position = {}
    for domain, server, seqno in history[:n]:
        position[domain] = (server, seqno)
    return position


@st.composite
def clusters(draw: st.DrawFn) -> Tuple[Dict[str, Report], List[str]]:
    domains = draw(st.sampled_from([[0], [0, 1]]))
    history: List[Tuple[int, int, int]] = []
    seqnos = {d: 0 for d in domains}
    for _ in range(draw(st.integers(0, 12))):
        domain = draw(st.sampled_from(domains))
        seqnos[domain] += 1
        history.append((domain, draw(st.integers(1, 3)), seqnos[domain]))
    nodes = [f"node{i + 1}" for i in range(draw(st.integers(1, 5)))]
    master = draw(st.sampled_from([None, *nodes]))
    reports: Dict[str, Report] = {}
    for i, node in enumerate(nodes):
        if draw(st.integers(0, 9)) == 0:
            continue                                    # silent: publishes nothing
        position = prefix(history, draw(st.integers(0, len(history))))
        if draw(st.integers(0, 5)) == 0:                # diverged: its own transactions after
            domain = draw(st.sampled_from(domains))
            server, seqno = position.get(domain, (0, 0))
            position[domain] = (10 + i, seqno + draw(st.integers(0, 2)))
        ok = draw(st.booleans()) if draw(st.booleans()) else True
        role = MASTER if node == master else SLAVE
        reports[node] = Report(role, ok, i + 1, position, "" if ok else "SQL thread stopped")
    online = [n for n in nodes if draw(st.integers(0, 4)) > 0]
    return reports, online


@settings(max_examples=600, deadline=None)
@given(clusters())
def test_never_two_masters_and_a_running_master_is_kept(world: Tuple[Dict[str, Report], List[str]]) -> None:
    reports, online = world
    d = choose(reports, online)
    high = [n for n, s in d.scores.items() if s is not None and s > STANDBY_SCORE]
    assert len(high) <= 1
    running = [n for n in online if n in reports and reports[n].role == MASTER and reports[n].ok]
    if running:
        assert d.master == running[0] and d.scores[running[0]] == MASTER_SCORE
    if d.master is not None:
        assert high == [d.master]


@settings(max_examples=600, deadline=None)
@given(clusters())
def test_never_a_stale_or_broken_node(world: Tuple[Dict[str, Report], List[str]]) -> None:
    reports, online = world
    d = choose(reports, online)
    chosen = [n for n, s in d.scores.items() if s == CHOSEN_SCORE]
    for node in chosen:
        r = reports[node]
        assert node in online and r.role == SLAVE and r.ok
        for other in online:
            if other in reports and other != node:
                assert holds(r.position, reports[other].position), (node, other)
    for node, score in d.scores.items():
        if score is not None:
            assert node in online and reports[node].ok


@settings(max_examples=600, deadline=None)
@given(clusters())
def test_a_replica_that_holds_everything_is_promoted_and_every_node_agrees(
        world: Tuple[Dict[str, Report], List[str]]) -> None:
    reports, online = world
    d = choose(reports, online)
    seen = {n: r for n, r in reports.items() if n in online}
    if not any(r.role == MASTER and r.ok for r in seen.values()):
        able = sorted(n for n, r in seen.items() if r.role == SLAVE and r.ok
                      and all(holds(r.position, o.position) for o in seen.values()))
        assert d.master == (able[0] if able else None), d
    shuffled = list(reports.items())
    random.Random(len(shuffled)).shuffle(shuffled)
    again = choose(dict(shuffled), list(reversed(online)))
    assert (again.master, again.scores) == (d.master, d.scores)


def test_the_examples_an_operator_would_check() -> None:
    pos = parse_position
    ok = lambda p: Report(SLAVE, True, 2, pos(p))          # noqa: E731
    # the most advanced replica; ties go to the smallest name
    assert choose({"a": ok("0-1-5"), "b": ok("0-1-7"), "c": ok("0-1-7")}, "abc").master == "b"
    # a stale replica (SQL thread stopped) is never promoted, even alone
    stale = Report(SLAVE, False, 3, pos("0-1-4"), "SQL thread stopped")
    assert choose({"c": stale}, "c").master is None
    assert choose({"b": ok("0-1-7"), "c": stale}, "bc").master == "b"
    # a broken replica that holds more blocks the promotion, and says who
    ahead = Report(SLAVE, False, 3, pos("0-1-9"), "SQL thread stopped")
    d = choose({"b": ok("0-1-7"), "c": ahead}, "bc")
    assert d.master is None and "c" in d.reason
    # an offline node's report does not count
    assert choose({"b": ok("0-1-7"), "c": ok("0-1-9")}, "b").master == "b"
    # diverged histories: neither holds the other, nobody is promoted
    assert choose({"b": ok("0-2-7"), "c": ok("0-3-7")}, "bc").master is None
    # a running master stays; replicas get the standby score only
    d = choose({"a": Report(MASTER, True, 1, pos("0-1-9")), "b": ok("0-1-7")}, "ab")
    assert d.master == "a" and d.scores == {"a": MASTER_SCORE, "b": STANDBY_SCORE}


def test_positions_and_reports_round_trip() -> None:
    assert parse_position("") == {}
    assert parse_position("0-1-100,1-2-7") == {0: (1, 100), 1: (2, 7)}
    assert format_position(parse_position("1-2-7,0-1-100")) == "0-1-100,1-2-7"
    for bad in ("0-1", "a-1-2", "0-1-2,0-1-3", "0-1-2;x", "-1-1-1"):
        assert parse_position(bad) is None, bad
    r = Report(SLAVE, False, 3, {0: (1, 5)}, "lag 4000 s; over 3600")
    back = Report.decode(r.encode())
    assert back is not None and (back.role, back.ok, back.server_id, back.position) == \
        (SLAVE, False, 3, {0: (1, 5)}) and "lag 4000 s" in back.why
    for bad in ("", "v2;slave;ok;1;;", "v1;boss;ok;1;;", "v1;slave;ok;x;;", "v1;slave;ok;1;zz;"):
        assert Report.decode(bad) is None, bad


def test_errant_transactions_of_a_returning_master() -> None:
    new_master = parse_position("0-2-110")
    assert errant(parse_position("0-1-100"), new_master) == ""        # behind: a slave again
    assert errant(parse_position("0-1-111"), new_master) == "0-1-111"  # beyond the new master
    assert errant(parse_position("0-1-110"), new_master) == "0-1-110"  # same seqno, other server
    assert errant(parse_position("0-1-5,1-1-3"), new_master) == "1-1-3"  # a domain it never had


@settings(max_examples=600, deadline=None)
@given(clusters())
def test_promote_itself_refuses_what_choose_would_never_choose(
        world: Tuple[Dict[str, Report], List[str]]) -> None:
    """may_promote() is choose() without its tie-break: a node it lets through
    holds everything, works, and no master runs; and choose()'s pick passes."""
    reports, online = world
    d = choose(reports, online)
    for me in online:
        if me not in reports:
            continue
        if may_promote(me, reports, online) == "":
            r = reports[me]
            assert r.ok and not any(o.role == MASTER and o.ok for n, o in reports.items()
                                    if n != me and n in online)
            assert all(holds(r.position, o.position) for n, o in reports.items()
                       if n in online and n != me)
    if d.scores and d.master is not None and reports[d.master].role == SLAVE:
        assert may_promote(d.master, reports, online) == ""
