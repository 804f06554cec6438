"""Meta-data XML, generated from an agent's declarations with ElementTree.

The one profile that passes ocf-tester's ``ra-api-1.dtd``, the OCF 1.1
RelaxNG schema, resource-agents' ``metadata.rng`` and pcs: a DOCTYPE line,
``<version>1.1</version>``, longdesc before shortdesc, only the DTD's action
names (so no ``reload-agent``), and roles spelled ``Promoted``/``Unpromoted``.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

    from .params import Param

OCF_VERSION = "1.1"

# Action names ra-api-1.dtd accepts; anything else fails ocf-tester.
DTD_ACTIONS = frozenset({
    "start", "stop", "recover", "monitor", "restart", "migrate_to", "migrate_from", "promote",
    "demote", "notify", "status", "reload", "meta-data", "usage", "methods", "validate-all",
})
ROLES = frozenset({"Promoted", "Unpromoted"})


class ActionSpec:
    """One ``<action>`` line: the resource manager's hint for an operation."""

    __slots__ = ("name", "timeout", "interval", "depth", "role")

    def __init__(self, name: str, timeout: int, interval: Optional[int] = None,
                 depth: Optional[int] = None, role: Optional[str] = None) -> None:
        self.name = name
        self.timeout = timeout          # seconds
        self.interval = interval
        self.depth = depth
        self.role = role
        if self.name not in DTD_ACTIONS:
            raise ValueError(f"action {self.name!r} is not allowed by ra-api-1.dtd")
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"role {self.role!r} must be one of {sorted(ROLES)}")


def render(name: str, agent_version: str, shortdesc: str, longdesc: str,
           params: Sequence[Param], actions: Sequence[ActionSpec]) -> str:
    """Return the meta-data document as text, ending with a newline."""
    import xml.etree.ElementTree as ET

    root = ET.Element("resource-agent", {"name": name, "version": agent_version})
    ET.SubElement(root, "version").text = OCF_VERSION
    ET.SubElement(root, "longdesc", lang="en").text = longdesc.strip()
    ET.SubElement(root, "shortdesc", lang="en").text = shortdesc.strip()
    params_el = ET.SubElement(root, "parameters")
    for p in params:
        el = ET.SubElement(params_el, "parameter", {
            "name": p.name, "unique": "1" if p.unique else "0", "required": "1" if p.required else "0"})
        text = (p.longdesc or p.shortdesc).strip()
        if p.deprecated:
            text += "\n\nDeprecated: " + p.deprecated.strip()
        if p.secret:
            text += "\n\nThis value is secret: it never appears in logs, exit reasons or argv."
        ET.SubElement(el, "longdesc", lang="en").text = text
        ET.SubElement(el, "shortdesc", lang="en").text = p.shortdesc.strip()
        content = {"type": p.type.value}
        default = p.default_text()
        if default is not None:
            content["default"] = default
        ET.SubElement(el, "content", content)
    actions_el = ET.SubElement(root, "actions")
    for a in actions:
        attrs = {"name": a.name, "timeout": f"{a.timeout}s"}
        if a.interval is not None:
            attrs["interval"] = f"{a.interval}s"
        if a.depth is not None:
            attrs["depth"] = str(a.depth)
        if a.role is not None:
            attrs["role"] = a.role
        ET.SubElement(actions_el, "action", attrs)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0"?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">\n'
            + body + "\n")
