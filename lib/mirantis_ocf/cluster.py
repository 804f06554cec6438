"""What an agent may ask of, or tell, the cluster.

Thin wrappers over ``crm_node``, ``crm_attribute`` and ``cibadmin``, each
bounded by the action's budget.  Pure logic above them (the Galera
election) talks to the :class:`Cluster` interface, so that unit tests can
give it a recording double instead (tests/unit/fakecluster.py).
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from xml.sax.saxutils import quoteattr

from .agent import Context
from .errors import GenericError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

    import xml.etree.ElementTree as ET

    from .system import CommandResult

CLAIM_PREFIX = "mirantis-claim-"
CRM_EX_EXISTS = 108     # what cibadmin --create returns for an id already there
CRM_EX_NOSUCH = 105     # what cibadmin --delete returns when the xpath matches nothing
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Membership:
    """The cluster's node list, who is online, and whether we have quorum."""

    __slots__ = ("nodes", "online", "quorate")

    def __init__(self, nodes: Tuple[str, ...], online: Tuple[str, ...], quorate: bool) -> None:
        self.nodes = nodes
        self.online = online
        self.quorate = quorate

    def __repr__(self) -> str:
        return f"Membership(nodes={self.nodes}, online={self.online}, quorate={self.quorate})"


class Snapshot:
    """Transient node attributes, claims, and the nodes where a resource has
    a recorded operation, as one read of the CIB saw them."""

    __slots__ = ("attrs", "claims", "acted", "pending")

    def __init__(self, attrs: Dict[str, Dict[str, str]], claims: Dict[str, Optional[str]],
                 acted: FrozenSet[str] = frozenset(),
                 pending: FrozenSet[str] = frozenset()) -> None:
        self.attrs = attrs          # name -> node -> value
        self.claims = claims        # key -> owner (None: not held)
        # nodes whose status holds an operation of the resource asked about
        # (a probe or a start, pending or done): Pacemaker has scheduled it there
        self.acted = acted
        # ... and those where one is in flight now (recorded pending, as
        # Pacemaker >= 2.1 does by default: record-pending=true)
        self.pending = pending

    def __repr__(self) -> str:
        return (f"Snapshot(attrs={self.attrs}, claims={self.claims}, acted={sorted(self.acted)}, "
                f"pending={sorted(self.pending)})")


class Cluster(ABC):
    """The cluster as an agent sees it."""

    @abstractmethod
    def node_name(self) -> str: ...

    @abstractmethod
    def membership(self) -> Membership: ...

    @abstractmethod
    def attr_of_all(self, name: str) -> Dict[str, str]:
        """A transient node attribute on every node that has it, in one read."""

    @abstractmethod
    def get_attr(self, name: str, node: Optional[str] = None,
                 lifetime: str = "reboot") -> Optional[str]: ...

    @abstractmethod
    def set_attr(self, name: str, value: str, node: Optional[str] = None,
                 lifetime: str = "reboot") -> None: ...

    @abstractmethod
    def delete_attr(self, name: str, node: Optional[str] = None,
                    lifetime: str = "reboot") -> None: ...

    @abstractmethod
    def set_promotion_score(self, score: int) -> None: ...

    @abstractmethod
    def delete_promotion_score(self) -> None: ...

    @abstractmethod
    def claim(self, key: str, owner: str) -> bool:
        """Atomically take ``key`` for ``owner``; True if we hold it now."""

    @abstractmethod
    def claim_owner(self, key: str) -> Optional[str]: ...

    @abstractmethod
    def release(self, key: str, holder: Optional[str] = None) -> bool:
        """Remove the claim; with ``holder``, only if it is still held by
        ``holder``.  False if the CIB could not be asked to (a claim that is
        not there, or no longer ``holder``'s, is no failure)."""

    def attrs_of_all(self, names: Sequence[str]) -> Dict[str, Dict[str, str]]:
        """Several transient node attributes on every node: name -> node -> value."""
        return {name: self.attr_of_all(name) for name in names}

    def snapshot(self, names: Sequence[str], keys: Sequence[str],
                 resource: Optional[str] = None) -> Snapshot:
        """Several transient attributes on every node and several claims'
        owners, together, and with ``resource`` the nodes where it has a
        recorded operation (the real cluster: in one read of the CIB)."""
        return Snapshot(self.attrs_of_all(names), {key: self.claim_owner(key) for key in keys},
                        self.acted_on(resource) if resource else frozenset())

    def acted_on(self, resource: str) -> FrozenSet[str]:
        """The nodes whose status records an operation of ``resource``."""
        return frozenset()

    def planned_starts(self, resource: str) -> Optional[FrozenSet[str]]:
        """The nodes where Pacemaker's scheduler, run now on the CIB as it
        is, would start ``resource``; None when that cannot be known."""
        return None

    def get_property(self, name: str) -> Optional[str]:
        """A cluster-wide value kept in the CIB (crm_config), None if unset."""
        return None

    def set_property(self, name: str, value: str) -> None:
        """Set a cluster-wide value (crm_config)."""


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"invalid claim key {key!r}")
    return key


class CrmCluster(Cluster):
    """The real cluster, through Pacemaker's command-line tools."""

    # corosync.conf's node list is read again after this many seconds (an
    # election asks for the membership every poll; the list hardly changes)
    NODELIST_TTL = 10.0

    def __init__(self, ctx: Context, timeout: float = 10.0) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self._nodelist: Optional[Tuple[float, List[str], Dict[str, str]]] = None

    def _run(self, *argv: str) -> CommandResult:
        return self.ctx.run(list(argv), timeout=self.timeout)

    def _ok(self, *argv: str) -> str:
        result = self._run(*argv)
        if not result.ok:
            raise GenericError(f"{argv[0]} failed: {result.first_line() or result.rc}")
        return result.stdout

    def node_name(self) -> str:
        return self._ok("crm_node", "-n").strip()

    def membership(self) -> Membership:
        known: Dict[str, str] = {}       # node id -> name ("" for a node known by id only)
        online: List[str] = []
        # "<id> <name> <member|lost>" for every node Pacemaker knows; a node
        # it has never seen may come without a name ("3 lost", "3 (null) lost")
        for line in self._ok("crm_node", "-l").splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            name = parts[1] if len(parts) >= 3 and parts[1] != "(null)" else ""
            known[parts[0]] = name
            if name and parts[-1] == "member":
                online.append(name)
        quorate = self._run("crm_node", "-q").stdout.strip() == "1"
        nodes = self._configured_nodes(known) or \
            [name or f"nodeid-{nid}" for nid, name in known.items()]
        return Membership(tuple(nodes), tuple(online), quorate)

    def _configured_nodes(self, known: Dict[str, str]) -> List[str]:
        """corosync.conf's node list, read at most every NODELIST_TTL
        seconds, and again whenever Pacemaker knows a node by another name."""
        now = self.ctx.system.monotonic()
        cached = self._nodelist
        if cached is not None and now - cached[0] < self.NODELIST_TTL and cached[2] == known:
            return cached[1]
        nodes = self._corosync_nodelist(known)
        self._nodelist = (now, nodes, dict(known))
        return nodes

    def _corosync_nodelist(self, known: Dict[str, str]) -> List[str]:
        """The configured node list (corosync.conf), which includes nodes
        never seen.  A node configured without ``name:`` (only ``ring0_addr``)
        is named as Pacemaker knows it by its id, or else ``nodeid-N`` /
        ``addr-A``: it still counts, so that the election waits for it."""
        result = self._run("corosync-cmapctl", "-b", "nodelist.node")
        if not result.ok:
            return []
        entries: Dict[str, Dict[str, str]] = {}
        # nodelist.node.0.name (str) = node1
        for line in result.stdout.splitlines():
            key, sep, value = line.partition(" = ")
            parts = key.split(" ")[0].split(".")
            if sep and len(parts) == 4 and parts[:2] == ["nodelist", "node"]:
                entries.setdefault(parts[2], {})[parts[3]] = value.strip()
        names = []
        for index in sorted(entries, key=lambda i: int(i) if i.isdigit() else 0):
            entry = entries[index]
            nid = entry.get("nodeid", "")
            name = entry.get("name") or known.get(nid, "")
            if not name:
                name = f"nodeid-{nid}" if nid else f"addr-{entry.get('ring0_addr', index)}"
            names.append(name)
        return names

    def attr_of_all(self, name: str) -> Dict[str, str]:
        return self.attrs_of_all((name,))[name]

    def attrs_of_all(self, names: Sequence[str]) -> Dict[str, Dict[str, str]]:
        import xml.etree.ElementTree as ET
        out = self._ok("cibadmin", "--query", "--scope", "status")     # one read for all
        return _transient_attrs(ET.fromstring(out), names)

    def snapshot(self, names: Sequence[str], keys: Sequence[str],
                 resource: Optional[str] = None) -> Snapshot:
        import xml.etree.ElementTree as ET
        root = ET.fromstring(self._ok("cibadmin", "--query"))     # the whole CIB, once
        status = root.find("status")
        attrs = _transient_attrs(status, names) if status is not None else \
            {name: {} for name in names}
        acted, pending = _ops_on(status, resource) if status is not None and resource else \
            (frozenset(), frozenset())
        claims: Dict[str, Optional[str]] = {}
        config = root.find("configuration/crm_config")
        for key in keys:
            cid = CLAIM_PREFIX + check_key(key)
            owner = None
            for props in (config.iter("cluster_property_set") if config is not None else ()):
                if props.get("id") == cid:
                    for nv in props.iter("nvpair"):
                        if nv.get("name") == "owner":
                            owner = nv.get("value", "")
            claims[key] = owner
        return Snapshot(attrs, claims, acted, pending)

    def planned_starts(self, resource: str) -> Optional[FrozenSet[str]]:
        import xml.etree.ElementTree as ET
        result = self._run("crm_simulate", "--live-check", "--run", "--quiet", "--output-as=xml")
        if not result.ok:
            self.ctx.log.warning(f"crm_simulate failed: {result.first_line() or result.rc}")
            return None
        try:
            root = ET.fromstring(result.stdout)
        except ET.ParseError:
            self.ctx.log.warning("crm_simulate printed no XML")
            return None
        return frozenset(a.get("node", "") for a in root.iter("rsc_action")
                         if a.get("action") == "start" and a.get("node")
                         and _instance_of(a.get("resource", ""), resource))

    def _attr_args(self, name: str, node: Optional[str], lifetime: str) -> Tuple[str, ...]:
        args: Tuple[str, ...] = ("crm_attribute", "--name", name, "--lifetime", lifetime)
        return args + (("--node", node) if node else ())

    def get_attr(self, name: str, node: Optional[str] = None,
                 lifetime: str = "reboot") -> Optional[str]:
        result = self._run(*self._attr_args(name, node, lifetime), "--query", "--quiet")
        if result.ok:
            return result.stdout.strip()
        if "No such device" in result.stderr or "not found" in result.stderr.lower():
            return None
        raise GenericError(f"crm_attribute --query {name} failed: {result.first_line() or result.rc}")

    def set_attr(self, name: str, value: str, node: Optional[str] = None,
                 lifetime: str = "reboot") -> None:
        self._ok(*self._attr_args(name, node, lifetime), "--update", value)

    def delete_attr(self, name: str, node: Optional[str] = None,
                    lifetime: str = "reboot") -> None:
        self._ok(*self._attr_args(name, node, lifetime), "--delete")

    def get_property(self, name: str) -> Optional[str]:
        result = self._run("crm_attribute", "--type", "crm_config", "--name", name,
                           "--query", "--quiet")
        if result.ok:
            return result.stdout.strip() or None
        if "No such device" in result.stderr or "not found" in result.stderr.lower():
            return None
        raise GenericError(f"crm_attribute --query {name} failed: {result.first_line() or result.rc}")

    def set_property(self, name: str, value: str) -> None:
        self._ok("crm_attribute", "--type", "crm_config", "--name", name, "--update", value)

    def set_promotion_score(self, score: int) -> None:
        self._ok("crm_attribute", f"--promotion={self.ctx.instance}", "--update", str(score))

    def delete_promotion_score(self) -> None:
        self._ok("crm_attribute", f"--promotion={self.ctx.instance}", "--delete")

    def claim(self, key: str, owner: str) -> bool:
        # `cibadmin --create` of an object with a fixed id fails if the id
        # exists: the CIB serialises it, so only one node can win.
        cid = CLAIM_PREFIX + check_key(key)
        xml = (f"<cluster_property_set id={quoteattr(cid)}><nvpair id={quoteattr(cid + '-owner')} "
               f"name=\"owner\" value={quoteattr(owner)}/></cluster_property_set>")
        result = self._run("cibadmin", "--create", "--scope", "crm_config", "--xml-text", xml)
        if result.ok:
            return True
        holder = self.claim_owner(key)
        if holder is None and result.rc != CRM_EX_EXISTS:
            raise GenericError(f"cibadmin --create {cid} failed: {result.first_line() or result.rc}")
        # taken: by us already, by someone else, or by someone who gave it
        # back between our create and our look (None): not ours this time
        return holder == owner

    def claim_owner(self, key: str) -> Optional[str]:
        cid = CLAIM_PREFIX + check_key(key)
        result = self._run("cibadmin", "--query", "--xpath",
                           f"//cluster_property_set[@id='{cid}']/nvpair[@name='owner']")
        if not result.ok:
            return None
        match = re.search(r'value="([^"]*)"', result.stdout)
        return match.group(1) if match else None

    def release(self, key: str, holder: Optional[str] = None) -> bool:
        cid = CLAIM_PREFIX + check_key(key)
        xpath = f"//cluster_property_set[@id='{cid}']"
        if holder is not None:
            # compare-and-delete: the CIB applies it atomically, so a claim
            # someone took meanwhile is never removed by mistake
            xpath += f"[nvpair[@name='owner'][@value={_xpath_literal(holder)}]]"
        result = self._run("cibadmin", "--delete", "--xpath", xpath)
        # nothing matched (gone already, or someone else's now): CRM_EX_NOSUCH
        return result.ok or (result.rc == CRM_EX_NOSUCH and not result.timed_out)


def _transient_attrs(status: "ET.Element", names: Sequence[str]) -> Dict[str, Dict[str, str]]:
    """Transient node attributes of a CIB status section: name -> node -> value."""
    found: Dict[str, Dict[str, str]] = {name: {} for name in names}
    for state in status.iter("node_state"):
        uname = state.get("uname")
        for attrs in state.iter("transient_attributes"):
            for nv in attrs.iter("nvpair"):
                name = nv.get("name", "")
                if name in found and uname:
                    found[name][uname] = nv.get("value", "")
    return found


def _instance_of(rid: str, resource: str) -> bool:
    """An anonymous clone's instances are ``resource`` or ``resource:N``."""
    return rid == resource or rid.startswith(resource + ":")


# op-status of an operation that Pacemaker records as begun and not ended
_PENDING = "-1"


def _ops_on(status: "ET.Element", resource: str) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """The nodes of a CIB status section with an operation of ``resource``,
    and those of them where one is in flight."""
    acted, pending = set(), set()
    for state in status.iter("node_state"):
        uname = state.get("uname")
        for lrm in state.iter("lrm_resource"):
            if not uname or not _instance_of(lrm.get("id", ""), resource):
                continue
            for op in lrm.iter("lrm_rsc_op"):
                acted.add(uname)
                if op.get("op-status") == _PENDING:
                    pending.add(uname)
    return frozenset(acted), frozenset(pending)


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise ValueError("a claim holder cannot hold both quote characters")



