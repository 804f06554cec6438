"""The Galera epoch election (mirantis_ocf.election), property-based.

A small discrete-time simulation plays a power-loss recovery: nodes come
back at arbitrary times (or never), in one or two partitions, possibly with
a stale claim left in the CIB, and each one calls decide() on what it sees
and acts on the answer, as the agent does.  Hypothesis explores arrival
orders, missing nodes, partitions, equal epochs and stale claims.
"""
from typing import Dict, List, Optional, Set, Tuple  # noqa: F401

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirantis_ocf.election import (BOOTSTRAP, CLAIM, JOIN, REFUSE, RELEASE, WAIT, ZERO_UUID, Claim,
                                   Epoch, View, decide, parse_grastate, parse_recovered,
                                   shared_history, winner)
from fakecluster import FakeCluster

UUID = "09b366f4-e8f9-11f1-b5f3-e39cf41434e0"
KEY = "galera-p_mysql"
TIMEOUT = 10


class World:
    """Nodes, their partitions, and one CIB (with its atomic claim) per partition."""

    def __init__(self, epochs: List[Epoch], arrivals: List[Optional[int]], minority: Set[int],
                 stale: Optional[Tuple[int, Epoch]], order: List[int],
                 allow_no_quorum: bool = False, silent: Set[int] = frozenset(),
                 allow_silent: bool = False, history: Optional[str] = None) -> None:
        self.names = [f"node{i + 1}" for i in range(len(epochs))]
        self.epochs = dict(zip(self.names, epochs))
        self.arrivals = dict(zip(self.names, arrivals))
        self.part = {n: (1 if i in minority else 0) for i, n in enumerate(self.names)}
        self.cibs = {0: FakeCluster(), 1: FakeCluster()}
        self.published: Dict[int, Dict[str, Epoch]] = {0: {}, 1: {}}
        self.primary: Dict[int, Set[str]] = {0: set(), 1: set()}
        if stale is not None:   # a claim already in the CIB (replicated to every partition)
            owner_index, behind = stale
            # an owner still at its claimed epoch claimed as the newest it saw
            owner = self.names[owner_index % len(self.names)] if behind else winner(self.epochs)
            current = self.epochs[owner]
            # behind > 0: left by an older election, whose owner has moved on since;
            # behind == 0: the owner claimed in this election, then crashed
            epoch = Epoch(current.uuid, current.seqno - behind, current.safe) if behind else current
            for cib in self.cibs.values():
                cib.claims[KEY] = Claim(owner, epoch.encode()).encode()
        self.starting: Dict[str, int] = {}   # claimed at tick t, Primary from t + 1
        self.joined: Dict[int, Set[str]] = {0: set(), 1: set()}
        self.order = [self.names[i % len(self.names)] for i in order] or list(self.names)
        self.allow = allow_no_quorum
        # online from tick 0 but never publishing (a start that fails, a node
        # where the clone cannot run): never take part, never report
        self.silent = {self.names[i % len(self.names)] for i in silent}
        for n in self.silent:
            self.arrivals[n] = 0
        self.allow_silent = allow_silent
        self.history = history              # the state UUID recorded in the CIB
        self.refused: Set[str] = set()
        self.bootstraps: List[Tuple[str, int, int]] = []   # (node, partition, tick)
        self.done: Set[str] = set()

    def __repr__(self) -> str:
        return (f"World(epochs={self.epochs}, arrivals={self.arrivals}, partition={self.part}, "
                f"claims={[c.claims for c in self.cibs.values()]}, order={self.order})")

    def online(self, p: int, t: int) -> List[str]:
        return [n for n in self.names if self.part[n] == p and self.arrivals[n] is not None
                and self.arrivals[n] <= t]

    def quorate(self, p: int, t: int) -> bool:
        return 2 * len(self.online(p, t)) > len(self.names)

    def step(self, t: int) -> None:
        for n, since in list(self.starting.items()):
            if since < t:
                self.primary[self.part[n]].add(n)
                del self.starting[n]
        for p in (0, 1):
            if self.primary[p]:
                self.primary[p] |= self.joined[p]
        for n in self.names:
            if self.arrivals[n] == t and n not in self.silent:
                self.published[self.part[n]][n] = self.epochs[n]
        for n in self.order + self.names:
            arrival = self.arrivals[n]
            if n in self.done or n in self.silent or arrival is None or arrival > t:
                continue
            p = self.part[n]
            cib = self.cibs[p]
            holder = cib.claims.get(KEY)
            view = View(n, self.names, self.online(p, t), self.quorate(p, t), self.published[p],
                        sorted(self.primary[p]), Claim.decode(holder) if holder else None,
                        elapsed=t - arrival, timeout=TIMEOUT, allow_no_quorum=self.allow,
                        allow_silent=self.allow_silent, history=self.history)
            d = decide(view)
            if d.action == JOIN:
                # a joiner waits inside Galera; it is Primary once a bootstrapper is
                self.done.add(n)
                self.joined[p].add(n)
            elif d.action == RELEASE:
                assert holder is not None
                cib.release(KEY, holder)
            elif d.action == REFUSE:
                self.done.add(n)
                self.refused.add(n)
            elif d.action in (CLAIM, BOOTSTRAP):
                value = Claim(n, self.epochs[n].encode()).encode()
                if d.action == BOOTSTRAP or cib.claim(KEY, value):
                    # bootstrapping takes a while: others see it Primary a tick later
                    self.bootstraps.append((n, p, t))
                    self.done.add(n)
                    self.starting[n] = t
            else:
                assert d.action == WAIT

    def run(self, ticks: int = 40) -> None:
        for t in range(ticks):
            self.step(t)


epochs = st.builds(Epoch, st.just(UUID), st.integers(-1, 4), st.booleans())
# a new datadir: the zero UUID at -1, never safe_to_bootstrap
new_or_old = st.one_of(epochs, st.just(Epoch(ZERO_UUID, -1, False)))


@st.composite
def worlds(draw, partitions: bool = True, missing: bool = True, stale_claims: bool = True):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 5))
    eps = draw(st.lists(epochs, min_size=n, max_size=n))
    arrival = st.integers(0, 15)
    arrivals = draw(st.lists(st.one_of(arrival, st.none()) if missing else arrival,
                             min_size=n, max_size=n))
    minority = set(draw(st.sets(st.integers(0, n - 1), max_size=(n - 1) // 2))) if partitions else set()
    stale = draw(st.one_of(st.none(), st.tuples(st.integers(0, 4), st.integers(0, 3)))) \
        if stale_claims else None
    order = draw(st.permutations(list(range(n))))
    return World(eps, arrivals, minority, stale, order)


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_at_most_one_bootstrap_per_election(world: World) -> None:
    world.run()
    assert len(world.bootstraps) <= 1, world.bootstraps


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_no_bootstrap_without_quorum(world: World) -> None:
    world.run()
    for node, p, t in world.bootstraps:
        assert world.quorate(p, t), (node, p, t)


@settings(max_examples=400, deadline=None)
@given(worlds(partitions=False, missing=False))
def test_winner_holds_the_maximum_epoch_when_everyone_reported(world: World) -> None:
    world.run()
    assert len(world.bootstraps) == 1
    node, _, t = world.bootstraps[0]
    arrivals = [a for a in world.arrivals.values() if a is not None]
    if max(arrivals) - min(arrivals) < TIMEOUT:   # everyone reported inside the window
        best = max(e.rank() for e in world.epochs.values())
        assert world.epochs[node].rank() == best


@settings(max_examples=400, deadline=None)
@given(worlds(partitions=False, missing=False))
def test_election_ends_as_soon_as_the_last_member_reports(world: World) -> None:
    world.run()
    last = max(a for a in world.arrivals.values() if a is not None)
    first = min(a for a in world.arrivals.values() if a is not None)
    _, _, t = world.bootstraps[0]
    if last - first < TIMEOUT:
        assert t == last        # not a tick later, and never the whole window
    assert world.done == set(world.names)   # and everyone is in the Primary Component


@settings(max_examples=300, deadline=None)
@given(worlds(partitions=False))
def test_survivors_elect_after_the_window(world: World) -> None:
    world.run()
    arrived = [n for n, a in world.arrivals.items() if a is not None]
    if 2 * len(arrived) > len(world.names):
        assert len(world.bootstraps) == 1 and world.done == set(arrived)
    else:
        assert world.bootstraps == []


def test_a_lone_node_elects_itself_at_once() -> None:
    d = decide(View("node1", ["node1"], ["node1"], True, {"node1": Epoch(UUID, 5)}))
    assert d.action == CLAIM and d.winner == "node1"


def test_an_existing_primary_is_joined_never_replaced() -> None:
    view = View("node1", ["node1", "node2"], ["node1", "node2"], True,
                {"node1": Epoch(UUID, 99, True)}, primary=["node2"])
    assert decide(view).action == JOIN


def test_waiting_says_who_is_missing_and_how_long_is_left() -> None:
    view = View("node1", ["node1", "node2", "node3"], ["node1", "node2"], True,
                {"node1": Epoch(UUID, 3), "node2": Epoch(UUID, 4)}, elapsed=120, timeout=300)
    d = decide(view)
    assert d.action == WAIT and d.reason == "waiting for node3 (2 of 3 reported, 180s left)"


def test_ties_go_to_safe_to_bootstrap_then_the_smallest_name() -> None:
    assert winner({"b": Epoch(UUID, 5), "a": Epoch(UUID, 5), "c": Epoch(UUID, 4, True)}) == "a"
    assert winner({"b": Epoch(UUID, 5, True), "a": Epoch(UUID, 5)}) == "b"


def test_a_stale_claim_is_released_by_the_new_winner_only() -> None:
    old = Claim("node3", Epoch(UUID, 1).encode())     # node3 has moved on since
    reports = {"node1": Epoch(UUID, 7), "node2": Epoch(UUID, 5), "node3": Epoch(UUID, 2)}
    nodes = ["node1", "node2", "node3"]
    assert decide(View("node1", nodes, nodes, True, reports, claim=old)).action == RELEASE
    assert decide(View("node2", nodes, nodes, True, reports, claim=old)).action == WAIT


@pytest.mark.parametrize("text,epoch", [
    ("uuid: " + UUID + "\nseqno: 12\nsafe_to_bootstrap: 1\n", Epoch(UUID, 12, True)),
    ("# GALERA saved state\nversion: 2.1\nuuid:    " + UUID + "\nseqno:   -1\nsafe_to_bootstrap: 0\n",
     Epoch(UUID, -1, False)),
])
def test_grastate(text: str, epoch: Epoch) -> None:
    assert parse_grastate(text) == epoch


def test_recovered_position() -> None:
    log = ("2026-11-25 [Note] InnoDB: ...\n"
           f"2026-11-25 0 [Note] WSREP: Recovered position: {UUID}:22\n")
    assert parse_recovered(log) == (UUID, 22)
    assert parse_recovered("nothing here") is None


def test_epoch_encoding_round_trips() -> None:
    e = Epoch(UUID, 42, True)
    assert Epoch.decode(e.encode()) == e
    assert Epoch.decode("garbage") is None and Epoch.decode(f"{UUID}:x:1") is None


def test_a_joiner_starts_as_soon_as_the_winner_holds_the_claim() -> None:
    nodes = ["node1", "node2", "node3"]
    reports = {"node1": Epoch(UUID, 7), "node2": Epoch(UUID, 9), "node3": Epoch(UUID, 7)}
    claim = Claim("node2", Epoch(UUID, 9).encode())
    d = decide(View("node1", nodes, nodes, True, reports, claim=claim))
    assert d.action == JOIN and d.winner == "node2"
    assert decide(View("node2", nodes, nodes, True, reports, claim=claim)).action == BOOTSTRAP


def test_everyone_ends_in_the_primary_component() -> None:
    world = World([Epoch(UUID, 3), Epoch(UUID, 5), Epoch(UUID, 4)], [0, 2, 1], set(), None, [0, 1, 2])
    world.run()
    assert world.bootstraps == [("node2", 0, 2)]
    assert world.primary[0] == {"node1", "node2", "node3"}


@st.composite
def worlds_with_silent_nodes(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(2, 5))
    eps = draw(st.lists(epochs, min_size=n, max_size=n))
    arrivals = draw(st.lists(st.one_of(st.integers(0, 15), st.none()), min_size=n, max_size=n))
    silent = draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n - 1))
    order = draw(st.permutations(list(range(n))))
    return World(eps, arrivals, set(), None, order, silent=silent,
                 allow_silent=draw(st.booleans()))


@settings(max_examples=300, deadline=None)
@given(worlds_with_silent_nodes())
def test_an_online_node_that_never_reports_blocks_the_election_unless_allowed(world: World) -> None:
    """Its position may be the newest: the window's end is no permission
    to elect without it, unless the operator says so."""
    world.run()
    if not world.allow_silent:
        assert world.bootstraps == []
    else:
        for node, _, _ in world.bootstraps:
            assert node not in world.silent


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: st.tuples(
    st.lists(new_or_old, min_size=n, max_size=n),
    st.lists(st.one_of(st.integers(0, 15), st.none()), min_size=n, max_size=n))))
def test_a_new_datadir_never_wins_while_a_node_is_missing(case) -> None:  # type: ignore[no-untyped-def]
    eps, arrivals = case
    world = World(eps, arrivals, set(), None, list(range(len(eps))))
    world.run()
    for node, _, t in world.bootstraps:
        if world.epochs[node].uuid == ZERO_UUID:
            assert all(a is not None and a <= t for a in world.arrivals.values()), world



# --- a datadir from another history (issue 15) ----------------------------------------

FOREIGN = "7c1e2f90-0000-4000-8000-00000000f00d"


@st.composite
def worlds_with_a_foreign_history(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 5))
    uuid = st.sampled_from([UUID, FOREIGN, ZERO_UUID])
    eps = [Epoch(u, -1 if u == ZERO_UUID else draw(st.integers(0, 9)), False)
           for u in draw(st.lists(uuid, min_size=n, max_size=n))]
    arrivals = draw(st.lists(st.one_of(st.integers(0, 15), st.none()), min_size=n, max_size=n))
    minority = set(draw(st.sets(st.integers(0, n - 1), max_size=(n - 1) // 2)))
    order = draw(st.permutations(list(range(n))))
    history = draw(st.sampled_from([UUID, None]))
    return World(eps, arrivals, minority, None, order, history=history)


@settings(max_examples=600, deadline=None)
@given(worlds_with_a_foreign_history())
def test_a_foreign_history_never_wins_and_never_joins(world: World) -> None:
    world.run()
    booted = {n for n, _, _ in world.bootstraps}
    joined = set().union(*world.joined.values())
    if world.history is not None:
        strangers = {n for n, e in world.epochs.items() if e.uuid == FOREIGN}
        assert not (booted | joined) & strangers, world
        # a bootstrap is from the recorded history, or from new datadirs when no
        # node that reported held another
        for n in booted:
            assert world.epochs[n].uuid in (UUID, ZERO_UUID), world
            if world.epochs[n].uuid == ZERO_UUID:
                assert not any(e.uuid == UUID for m, e in world.epochs.items()
                               if world.arrivals[m] is not None
                               and world.part[m] == world.part[n]), world
    # whatever the history: one bootstrap per partition at most, and every
    # bootstrapper's history is the one the nodes that reported mostly hold
    for p in (0, 1):
        assert len([b for b in world.bootstraps if b[1] == p]) <= 1, world
    for n, _, _ in world.bootstraps:
        seen = {m: world.epochs[m] for m in world.published[world.part[n]]}
        history = world.history or shared_history(seen)[0]
        assert history is None or world.epochs[n].uuid in (history, ZERO_UUID), world
    assert world.refused.isdisjoint(booted | joined)


def test_a_higher_seqno_from_another_cluster_is_refused_with_the_reason() -> None:
    nodes = ("node1", "node2", "node3")
    reports = {"node1": Epoch(FOREIGN, 900), "node2": Epoch(UUID, 7), "node3": Epoch(UUID, 5)}
    for history in (UUID, None):        # recorded, or the majority's
        d = decide(View("node1", nodes, nodes, True, reports, history=history))
        assert d.action == REFUSE and FOREIGN in d.reason and UUID in d.reason
        d = decide(View("node2", nodes, nodes, True, reports, history=history))
        assert (d.action, d.winner) == (CLAIM, "node2")
    # two histories as often, none recorded: nobody bootstraps, the reason says why
    two = {"node1": Epoch(FOREIGN, 9), "node2": Epoch(UUID, 7)}
    d = decide(View("node2", nodes[:2], nodes[:2], True, two))
    assert d.action == WAIT and "the operator chooses" in d.reason
    # the recorded history is nowhere, a foreign one is: wait, never an empty bootstrap
    lost = {"node1": Epoch(FOREIGN, 9), "node2": Epoch(ZERO_UUID, -1),
            "node3": Epoch(ZERO_UUID, -1)}
    d = decide(View("node2", nodes, nodes, True, lost, history=UUID))
    assert d.action == WAIT and "no reporting node holds the cluster's history" in d.reason
    # a Primary Component of the cluster is not joined by a foreign node either
    d = decide(View("node1", nodes, nodes, True, reports, primary=["node2"], history=UUID))
    assert d.action == REFUSE
