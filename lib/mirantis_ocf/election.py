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
  or when the window (``election_timeout``) has passed;
- the newest epoch wins: highest seqno, then ``safe_to_bootstrap``, then
  the smallest node name (a deterministic tie-break every node agrees on);
- the winner must hold the *claim* (a CIB object only one node can create)
  before it bootstraps, so at most one node bootstraps per election.  A
  claim belongs to the current election while its owner is a member and
  still reports the epoch it claimed with; otherwise it is a leftover, and
  the winner releases it (compare-and-delete) before claiming.

Nothing here touches the cluster: the agent observes, calls :func:`decide`,
and acts.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Sequence, Tuple

ZERO_UUID = "00000000-0000-0000-0000-000000000000"

# What decide() tells the node to do.
JOIN = "join"            # a Primary Component exists, or the winner is making one: join it
WAIT = "wait"            # keep waiting: for reports, for quorum, or for the winner
CLAIM = "claim"          # we won: take the claim, then bootstrap
BOOTSTRAP = "bootstrap"  # we won and hold the claim: bootstrap now
RELEASE = "release"      # the claim in the CIB is stale: remove it, then decide again


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
                 "elapsed", "timeout", "allow_no_quorum")

    def __init__(self, me: str, nodes: Sequence[str], online: Sequence[str], quorate: bool,
                 reports: Mapping[str, Epoch], primary: Sequence[str] = (),
                 claim: Optional[Claim] = None, elapsed: float = 0.0, timeout: float = 300.0,
                 allow_no_quorum: bool = False) -> None:
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


def decide(view: View) -> Decision:
    """The election's next step for ``view.me``."""
    online = set(view.online)
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

    best = winner(reports)
    assert best is not None
    epoch = reports[best].encode()
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
        if claim.owner in online and owner_epoch is None:
            return Decision(WAIT, f"{claim.owner} holds a claim but has not reported", claim.owner)
        # Its owner is gone, or has moved on since: a leftover of an older election.
        if best == view.me:
            return Decision(RELEASE, f"claim {claim.encode()} is stale", best)
        return Decision(WAIT, f"claim {claim.encode()} is stale; {best} releases it", best)
    if best == view.me:
        return Decision(CLAIM, f"our epoch {epoch} is the newest ({how})", best)
    return Decision(WAIT, f"{best} has the newest epoch {epoch} and bootstraps", best)


# --- reading the position from disk -----------------------------------------

def parse_grastate(text: str) -> Optional[Epoch]:
    """``grastate.dat``: ``uuid:``, ``seqno:``, ``safe_to_bootstrap:`` lines."""
    fields: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            fields[key.strip()] = value.strip()
    try:
        return Epoch(fields.get("uuid", ZERO_UUID), int(fields.get("seqno", "-1")),
                     fields.get("safe_to_bootstrap", "0") == "1")
    except ValueError:
        return None


def parse_recovered(log: str) -> Optional[Tuple[str, int]]:
    """The position ``mariadbd --wsrep-recover`` logs: ``Recovered position: uuid:seqno``."""
    found = None
    for line in log.splitlines():
        _, sep, rest = line.partition("Recovered position:")
        if sep:
            uuid, _, seqno = rest.strip().rpartition(":")
            try:
                found = (uuid, int(seqno))
            except ValueError:
                continue
    return found
