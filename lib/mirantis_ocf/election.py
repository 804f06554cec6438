"""The Galera epoch election, as a pure function over plain data.

After a power loss no Galera node is in a Primary Component, and someone
must bootstrap a new one from the newest history.  Each node publishes its
*epoch* (its replication position) as a node attribute, which Pacemaker
replicates over Corosync; every node then runs :func:`decide` on what it
sees, again and again, until it is told to join or to bootstrap.

The rules (see DESIGN.md §3):

- a Primary Component that exists is joined, never replaced;
- no election without quorum, unless the operator allows it;
- the election ends as soon as every node of the node list has reported,
  or when the window (``election_timeout``) has passed; the window's end
  excuses only the nodes that are *offline*: a node of our partition that
  has not reported (its start failed, its position is unknown, it cannot
  run the clone) may hold the newest commits, and keeps the election
  waiting, unless the operator allows it (``allow_silent``);
- a new datadir (the zero UUID: no history at all) never wins while a node
  of the list is missing: that node may hold data, which a state transfer
  from an empty winner would wipe;
- only one history takes part: the state UUID that the cluster last
  recorded (``history``, kept in the CIB) or, when none is recorded, the
  one most of the reporting nodes hold (a tie between two is no answer:
  the election waits for the operator).  A node whose datadir holds
  another history (another cluster's, restored by mistake) is refused,
  whatever its seqno: it never bootstraps, and never joins (the state
  transfer would wipe it).  A new datadir (the zero UUID) belongs to none
  and may join any;
- the newest epoch of that history wins: highest seqno, then
  ``safe_to_bootstrap``, then the smallest node name (a deterministic
  tie-break every node agrees on);
- the winner must hold the *claim* (a CIB object only one node can create)
  before it bootstraps, so at most one node bootstraps per election.  A
  claim belongs to the current election while its owner is a member and
  still reports the epoch it claimed with; otherwise it is a leftover, and
  the winner releases it (compare-and-delete) before claiming.  A claim
  whose owner is online but no longer reports (a start that failed without
  giving it back) is waited for at most ``CLAIM_EXPIRY`` seconds.

Nothing here touches the cluster: the agent observes, calls :func:`decide`,
and acts.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Sequence, Tuple

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_HEX = frozenset("0123456789abcdefABCDEF")


def is_uuid(text: str) -> bool:
    """``8-4-4-4-12`` hexadecimal digits (``re`` is not imported: it costs
    milliseconds on every monitor)."""
    parts = text.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in _HEX for p in parts for c in p)


def is_seqno(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return 0 < len(digits) <= 19 and all("0" <= c <= "9" for c in digits)

# What decide() tells the node to do.
JOIN = "join"            # a Primary Component exists, or the winner is making one: join it
WAIT = "wait"            # keep waiting: for reports, for quorum, or for the winner
CLAIM = "claim"          # we won: take the claim, then bootstrap
BOOTSTRAP = "bootstrap"  # we won and hold the claim: bootstrap now
RELEASE = "release"      # the claim in the CIB is stale: remove it, then decide again
REFUSE = "refuse"        # our datadir holds another history than the cluster's: give up

# How long a claim whose owner is online but publishes no epoch is honoured.
# Its owner reports its epoch before it claims and withdraws it only once
# Synced (a moment before it gives the claim back) or when its start fails:
# a claim seen that way for this long was leaked by a start that failed.
CLAIM_EXPIRY = 30.0


class Epoch:
    """A node's replication position: Galera state UUID, seqno, safe_to_bootstrap."""

    __slots__ = ("uuid", "seqno", "safe")

    def __init__(self, uuid: str, seqno: int, safe: bool = False) -> None:
        self.uuid = uuid
        self.seqno = seqno
        self.safe = safe

    def rank(self) -> Tuple[int, int]:
        return (self.seqno, 1 if self.safe else 0)

    def encode(self) -> str:
        """The attribute value: ``uuid:seqno:safe``."""
        return f"{self.uuid}:{self.seqno}:{1 if self.safe else 0}"

    @classmethod
    def decode(cls, text: str) -> Optional[Epoch]:
        """Parse :meth:`encode`'s output; None for anything else."""
        parts = text.strip().split(":")
        if len(parts) != 3 or parts[2] not in ("0", "1"):
            return None
        try:
            return cls(parts[0], int(parts[1]), parts[2] == "1")
        except ValueError:
            return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Epoch) and (self.uuid, self.seqno, self.safe) == \
            (other.uuid, other.seqno, other.safe)

    def __hash__(self) -> int:
        return hash((self.uuid, self.seqno, self.safe))

    def __repr__(self) -> str:
        return f"Epoch({self.encode()})"


class Claim:
    """The bootstrap claim as found in the CIB: who holds it, for which epoch."""

    __slots__ = ("owner", "epoch")

    def __init__(self, owner: str, epoch: str) -> None:
        self.owner = owner
        self.epoch = epoch      # the winner's encoded epoch when it claimed

    def encode(self) -> str:
        return f"{self.owner}@{self.epoch}"

    @classmethod
    def decode(cls, text: str) -> Claim:
        owner, _, epoch = text.partition("@")
        return cls(owner, epoch)

    def __repr__(self) -> str:
        return f"Claim({self.encode()})"


class View:
    """What one node sees of the election at one moment."""

    __slots__ = ("me", "nodes", "online", "quorate", "reports", "primary", "claim",
                 "elapsed", "timeout", "allow_no_quorum", "claim_silent_for", "allow_silent",
                 "history")

    def __init__(self, me: str, nodes: Sequence[str], online: Sequence[str], quorate: bool,
                 reports: Mapping[str, Epoch], primary: Sequence[str] = (),
                 claim: Optional[Claim] = None, elapsed: float = 0.0, timeout: float = 300.0,
                 allow_no_quorum: bool = False, claim_silent_for: float = 0.0,
                 allow_silent: bool = False, history: Optional[str] = None) -> None:
        self.me = me
        self.nodes = tuple(nodes)          # the cluster's node list
        self.online = tuple(online)        # members of our partition
        self.quorate = quorate
        self.reports = dict(reports)       # node -> published epoch
        self.primary = tuple(primary)      # nodes that say they are in a Primary Component
        self.claim = claim
        self.elapsed = elapsed             # seconds since this node entered the election
        self.timeout = timeout
        self.allow_no_quorum = allow_no_quorum
        # how long this node has seen ``claim`` held by an online owner
        # that publishes no epoch
        self.claim_silent_for = claim_silent_for
        # after the window, elect without online nodes that never reported
        self.allow_silent = allow_silent
        # the state UUID of the cluster's history, as last recorded in the CIB
        self.history = history if history and history != ZERO_UUID else None


class Decision:
    """What to do, and why (the why is logged while the node waits)."""

    __slots__ = ("action", "reason", "winner")

    def __init__(self, action: str, reason: str, winner: Optional[str] = None) -> None:
        self.action = action
        self.reason = reason
        self.winner = winner

    def __repr__(self) -> str:
        return f"Decision({self.action}, {self.reason!r}, winner={self.winner})"


def winner(reports: Mapping[str, Epoch]) -> Optional[str]:
    """The node with the newest epoch; ties go to the smallest node name."""
    if not reports:
        return None
    return min(reports, key=lambda n: (-reports[n].seqno, -int(reports[n].safe), n))


def shared_history(reports: Mapping[str, Epoch]) -> Tuple[Optional[str], List[str]]:
    """The history (state UUID) most reporting nodes hold, new datadirs
    aside; (None, the tied ones) when two or more hold as many."""
    counts: Dict[str, int] = {}
    for epoch in reports.values():
        if epoch.uuid != ZERO_UUID:
            counts[epoch.uuid] = counts.get(epoch.uuid, 0) + 1
    if not counts:
        return None, []
    top = max(counts.values())
    tied = sorted(u for u, c in counts.items() if c == top)
    return (tied[0], []) if len(tied) == 1 else (None, tied)


def foreign(epoch: Epoch, history: Optional[str]) -> bool:
    return history is not None and epoch.uuid not in (history, ZERO_UUID)


def decide(view: View) -> Decision:
    """The election's next step for ``view.me``."""
    online = set(view.online)
    mine = view.reports.get(view.me)
    if mine is not None and foreign(mine, view.history):
        return Decision(REFUSE, f"our datadir holds another Galera history ({mine.uuid}) than "
                                f"the cluster's ({view.history})")
    primary = [n for n in view.primary if n in online and n != view.me]
    if primary:                                   # non-Primary -> joining
        return Decision(JOIN, f"{', '.join(sorted(primary))} in a Primary Component")
    if not view.quorate and not view.allow_no_quorum:
        return Decision(WAIT, "no quorum: no election without quorum")

    # Only members of our partition count: a departed node's report is history.
    reports: Dict[str, Epoch] = {n: e for n, e in view.reports.items() if n in online}
    if view.me not in reports:
        return Decision(WAIT, "our own epoch is not published yet")
    missing = sorted(n for n in view.nodes if n not in reports)
    left = view.timeout - view.elapsed
    if missing and left > 0:
        return Decision(WAIT, f"waiting for {', '.join(missing)} ({len(reports)} of "
                              f"{len(view.nodes)} reported, {left:.0f}s left)")
    # The window is over.  Offline nodes are excused; a node that is with us
    # and has not reported is not (unless the operator allows it): it may
    # hold the newest commits and be unable to say so.
    silent = sorted(n for n in missing if n in online)
    if silent and not view.allow_silent:
        return Decision(WAIT, f"window over, but {', '.join(silent)} "
                              f"{'is' if len(silent) == 1 else 'are'} online and "
                              "not reporting (its position may be the newest)")

    history = view.history
    if history is None:
        history, tied = shared_history(reports)
        if tied:
            return Decision(WAIT, f"no history recorded, and the nodes hold {len(tied)} "
                                  f"different ones as often ({', '.join(tied)}): the operator "
                                  "chooses (remove the foreign datadirs)")
    assert mine is not None
    if foreign(mine, history):
        return Decision(REFUSE, f"our datadir holds another Galera history ({mine.uuid}) than "
                                f"most nodes ({history})")
    ours = {n: e for n, e in reports.items() if not foreign(e, history)}
    if view.history is not None and len(ours) < len(reports) \
            and not any(e.uuid == history for e in ours.values()):
        strangers = sorted(n for n in reports if n not in ours)
        return Decision(WAIT, f"no reporting node holds the cluster's history ({history}); "
                              f"{', '.join(strangers)} hold(s) another: the operator chooses")
    best = winner(ours)
    assert best is not None
    epoch = ours[best].encode()
    if missing and ours[best].uuid == ZERO_UUID:
        # the newest we have is an empty datadir; the absent may hold data
        return Decision(WAIT, f"only new datadirs reported; {', '.join(missing)} may hold "
                              "data: waiting for them")
    how = "every node reported" if not missing else f"window over without {', '.join(missing)}"
    claim = view.claim
    if claim is not None:
        # A claim belongs to this election while its owner is with us and
        # still reports the position it claimed with.  Its owner bootstraps,
        # even if our view differs (a node that came back after its window).
        owner_epoch = reports.get(claim.owner)
        if owner_epoch is not None and owner_epoch.encode() == claim.epoch:
            if claim.owner == view.me:
                return Decision(BOOTSTRAP, f"we hold the claim ({how})", view.me)
            # its Primary Component is being made: start now and let Galera
            # wait for it, rather than wait here for the owner to be Synced
            return Decision(JOIN, f"{claim.owner} holds the claim and bootstraps", claim.owner)
        if claim.owner in online and owner_epoch is None \
                and view.claim_silent_for < CLAIM_EXPIRY:
            return Decision(WAIT, f"{claim.owner} holds a claim but has not reported "
                                  f"({CLAIM_EXPIRY - view.claim_silent_for:.0f}s before it "
                                  "expires)", claim.owner)
        # Its owner is gone, has moved on since, or leaked it: a leftover.
        if best == view.me:
            return Decision(RELEASE, f"claim {claim.encode()} is stale", best)
        return Decision(WAIT, f"claim {claim.encode()} is stale; {best} releases it", best)
    if best == view.me:
        return Decision(CLAIM, f"our epoch {epoch} is the newest ({how})", best)
    return Decision(WAIT, f"{best} has the newest epoch {epoch} and bootstraps", best)


# --- reading the position from disk -----------------------------------------

def parse_grastate(text: str) -> Optional[Epoch]:
    """``grastate.dat``: ``uuid:``, ``seqno:``, ``safe_to_bootstrap:`` lines.

    None unless both a well-formed UUID and an integer seqno are there: an
    empty, truncated or corrupt file is an unknown position, never the
    oldest one.
    """
    fields: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            fields[key.strip()] = value.strip()
    uuid, seqno = fields.get("uuid", ""), fields.get("seqno", "")
    if not is_uuid(uuid) or not is_seqno(seqno):
        return None
    return Epoch(uuid.lower(), int(seqno), fields.get("safe_to_bootstrap", "0") == "1")


def parse_recovered(log: str) -> Optional[Tuple[str, int]]:
    """The position ``mariadbd --wsrep-recover`` logs: ``Recovered position: uuid:seqno``."""
    found = None
    for line in log.splitlines():
        _, sep, rest = line.partition("Recovered position:")
        if sep:
            uuid, _, seqno = rest.strip().rpartition(":")
            if is_uuid(uuid) and is_seqno(seqno):
                found = (uuid.lower(), int(seqno))
    return found
