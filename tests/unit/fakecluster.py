"""The recording cluster double for unit tests of pure logic (no cluster
runs in the unit tier; the real one is in tests/cluster)."""
from __future__ import annotations

from mirantis_ocf.cluster import Cluster, Membership, check_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, List, Optional, Set, Tuple


class FakeCluster(Cluster):
    """An in-memory cluster that records every call it receives."""

    def __init__(self, node: str = "node1", nodes: Tuple[str, ...] = ("node1",),
                 online: Optional[Tuple[str, ...]] = None, quorate: bool = True) -> None:
        self.node = node
        self.members = Membership(nodes, online if online is not None else nodes, quorate)
        self.attrs: Dict[Tuple[str, str, str], str] = {}
        self.claims: Dict[str, str] = {}
        self.properties: Dict[str, str] = {}
        self.acted: Set[str] = set()       # nodes where the resource has a recorded operation
        self.calls: List[Tuple[str, ...]] = []

    def node_name(self) -> str:
        self.calls.append(("node_name",))
        return self.node

    def membership(self) -> Membership:
        self.calls.append(("membership",))
        return self.members

    def attr_of_all(self, name: str) -> Dict[str, str]:
        self.calls.append(("attr_of_all", name))
        return {n: v for (a, n, life), v in self.attrs.items() if a == name and life == "reboot"}

    def get_attr(self, name: str, node: Optional[str] = None,
                 lifetime: str = "reboot") -> Optional[str]:
        self.calls.append(("get_attr", name, node or self.node, lifetime))
        return self.attrs.get((name, node or self.node, lifetime))

    def set_attr(self, name: str, value: str, node: Optional[str] = None,
                 lifetime: str = "reboot") -> None:
        self.calls.append(("set_attr", name, value, node or self.node, lifetime))
        self.attrs[(name, node or self.node, lifetime)] = value

    def delete_attr(self, name: str, node: Optional[str] = None,
                    lifetime: str = "reboot") -> None:
        self.calls.append(("delete_attr", name, node or self.node, lifetime))
        self.attrs.pop((name, node or self.node, lifetime), None)

    def set_promotion_score(self, score: int) -> None:
        self.calls.append(("set_promotion_score", str(score)))
        self.attrs[("master-score", self.node, "reboot")] = str(score)

    def delete_promotion_score(self) -> None:
        self.calls.append(("delete_promotion_score",))
        self.attrs.pop(("master-score", self.node, "reboot"), None)

    def claim(self, key: str, owner: str) -> bool:
        self.calls.append(("claim", key, owner))
        holder = self.claims.setdefault(check_key(key), owner)
        return holder == owner

    def claim_owner(self, key: str) -> Optional[str]:
        self.calls.append(("claim_owner", key))
        return self.claims.get(key)

    def acted_on(self, resource: str) -> FrozenSet[str]:
        return frozenset(self.acted)

    def release(self, key: str, holder: Optional[str] = None) -> bool:
        self.calls.append(("release", key))
        if holder is None or self.claims.get(key) == holder:
            self.claims.pop(key, None)
        return True

    def get_property(self, name: str) -> Optional[str]:
        self.calls.append(("get_property", name))
        return self.properties.get(name)

    def set_property(self, name: str, value: str) -> None:
        self.calls.append(("set_property", name, value))
        self.properties[name] = value
