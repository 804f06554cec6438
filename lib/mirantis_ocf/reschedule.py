"""Rescheduling networks and routers away from dead agents; stale OVS ports.

When Pacemaker moves the single dhcp or l3 agent to another controller, a
new agent registers with neutron-server, while the networks (dhcp) and
routers (l3) stay bound to the old agent, now dead.  This module moves them
to the live agent, through the Neutron API (:mod:`mirantis_ocf.neutron`),
as Fuel's q-agent-cleanup.py did, without its bugs: the declared
credentials are used, retries and time are bounded, and every failure is
reported with an exit code.

- :func:`plan` is the decision, a pure function over plain data.
- :func:`run` polls the API until the local agent is alive and the other
  agents of its type are dead (or the time is up), and moves what they hosted.
- :func:`stale_ports` / :func:`clean_ports` find and remove this node's OVS
  ports of an agent type whose device is gone (its namespace was deleted),
  and only when every namespace could be read.
- :func:`main` is the command-line tool, ``q-agent-cleanup``.

Exit codes: 0 done (or nothing to do), 1 an API error, 2 usage, 3 Keystone
refused the credentials, 4 the API was unreachable within the time (or the
local agent never came alive), 5 some moves failed, 6 an old agent was
still alive when the wait ended (nothing moved from it).
"""
from __future__ import annotations

import os
import sys

from .neutron import (EXIT_ALIVE, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE,
                      EXIT_USAGE, APIError, Session)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

AGENT_TYPES = {"dhcp": "DHCP agent", "l3": "L3 agent"}
RESOURCE = {"dhcp": "network", "l3": "router"}
# the OVS port names each agent type plugs (neutron's interface driver prefixes)
PORT_PREFIXES = {"dhcp": ("tap",), "l3": ("qr-", "qg-", "ha-", "sg-", "fg-")}
# the device_owner of each agent type's ports in Neutron
PORT_OWNERS = {"dhcp": ("network:dhcp",),
               "l3": ("network:router", "network:ha_router", "network:floatingip_agent_gateway")}
# the L3 agents that host routers as a controller's does (not DVR compute nodes')
L3_HOSTING_MODES = ("legacy", "dvr_snat")


def hosting(kind: str, agent: Mapping[str, Any]) -> bool:
    """Whether this agent is one that the resources of ``kind`` move between."""
    if kind != "l3":
        return True
    config = agent.get("configurations")
    mode = config.get("agent_mode", "legacy") if isinstance(config, dict) else "legacy"
    return mode in L3_HOSTING_MODES


class Plan:
    """What one pass would do."""

    __slots__ = ("target", "moves", "delete", "note")

    def __init__(self, target: Optional[Dict[str, Any]], moves: List[Tuple[str, str]],
                 delete: List[Dict[str, Any]], note: str) -> None:
        self.target = target        # the live agent that receives everything
        self.moves = moves          # (resource id, id of the dead agent it leaves)
        self.delete = delete        # dead agents to delete
        self.note = note            # why, in one line

    def __repr__(self) -> str:
        return f"Plan(target={self.target and self.target['id']}, moves={self.moves}, " \
               f"delete={[a['id'] for a in self.delete]})"


def short(host: object) -> str:
    """A host name without its domain: Corosync's node names and the agents'
    hosts may be written one with it, the other without."""
    return str(host).split(".", 1)[0]


def plan(kind: str, agents: Sequence[Mapping[str, Any]], hosted: Mapping[str, Sequence[str]],
         local_host: str, remove_dead: bool, unbound: Sequence[str] = (),
         hosts: Optional[Set[str]] = None) -> Plan:
    """Decide one pass.

    ``agents``: this type's agents (id, host, alive); ``hosted``: agent id ->
    the ids of the networks (dhcp) or routers (l3) bound to it; ``unbound``:
    the routers bound to no agent (an earlier move that removed one and
    could not add it), which move too.  Only an agent that Neutron says is
    dead (``alive`` false; a record without it is neither) is drained, and,
    when ``hosts`` is given, only one on those hosts (this cluster's nodes,
    compared without their domains).  The target is the live agent on
    ``local_host`` (the one Pacemaker just started), else the first live one
    by host name.  Everything bound to a drained agent and to no live agent
    moves to the target.  Drained agents are deleted when ``remove_dead``;
    for dhcp only if something moved, as Fuel did.
    """
    # an agent disabled by the operator (admin_state_up false) neither serves nor receives
    alive = sorted((dict(a) for a in agents if a.get("alive") is True
                    and a.get("admin_state_up", True)), key=lambda a: str(a.get("host")))
    dead = sorted((dict(a) for a in agents if a.get("alive") is False),
                  key=lambda a: str(a.get("host")))
    elsewhere = [a for a in dead if hosts is not None and short(a.get("host")) not in hosts]
    dead = [a for a in dead if a not in elsewhere]
    outside = (f"; {len(elsewhere)} dead agent(s) on hosts outside this cluster left alone "
               f"({', '.join(sorted({str(a.get('host')) for a in elsewhere}))})"
               if elsewhere else "")
    served = {r for a in alive for r in hosted.get(a["id"], ())}
    orphans = [r for r in unbound if r not in served] if kind == "l3" else []
    if not dead and not orphans:
        return Plan(None, [], [], f"no dead {AGENT_TYPES[kind]}" + outside)
    local = [a for a in alive if a.get("host") == local_host]
    target = local[0] if local else (alive[0] if alive else None)
    if target is None:
        return Plan(None, [], [], f"no live {AGENT_TYPES[kind]} to move to" + outside)
    moves: List[Tuple[str, str]] = []
    for agent in dead:
        for resource in hosted.get(agent["id"], ()):
            if resource not in served and all(resource != m[0] for m in moves):
                moves.append((resource, agent["id"]))
    for resource in orphans:                # "": bound to no agent, nothing to remove
        if all(resource != m[0] for m in moves):
            moves.append((resource, ""))
    delete = list(dead) if remove_dead and (kind == "l3" or moves) else []
    note = (f"{len(moves)} {RESOURCE[kind]}(s) of {len(dead)} dead agent(s)"
            + (f" ({len(orphans)} bound to no agent)" if orphans else "")
            + f" to {target.get('host')}" if moves
            else f"nothing bound to the {len(dead)} dead agent(s)") + outside
    return Plan(target, moves, delete, note)


# a router removed from its dead agent is added again this many times
# (session.pause apart) before the move counts as failed
ADD_ATTEMPTS = 3


def execute(kind: str, session: Session, p: Plan, dry_run: bool,
            say: Callable[[str], None], stopping: Callable[[], bool] = lambda: False,
            done: Optional[List[str]] = None) -> int:
    """Carry a plan out (or, dry, only say it); the number of steps that failed.

    A 409 on an add counts as done only if the API then lists the target
    among the resource's agents.  A legacy router has one agent, so Neutron
    refuses to add it before it is removed from the dead one: an add that
    fails then is tried again, and a router left bound to no agent is work
    for the next pass (:func:`plan`'s ``unbound``), never forgotten.  The
    dead agents are kept when a move failed (what they still hold says what
    is left to do), and each is read again just before its deletion: one
    that came back meanwhile is kept.  ``stopping`` (SIGTERM) is checked
    between two moves, never inside one.  ``done`` receives what moved."""
    failed = 0
    target: Dict[str, Any] = p.target or {}

    def hosted_by_target(resource: str) -> bool:
        agents = session.dhcp_agents_of(resource) if kind == "dhcp" else \
            session.l3_agents_of(resource)
        return any(a["id"] == target["id"] for a in agents)

    for number, (resource, dead_id) in enumerate(p.moves):
        if stopping():
            say(f"stopping (SIGTERM): {len(p.moves) - number} {RESOURCE[kind]}(s) left "
                "where they are, for the next run")
            return failed + len(p.moves) - number
        steps: List[Tuple[str, str, Callable[[], None]]]
        add = ("add", f"add {RESOURCE[kind]} {resource} to the {AGENT_TYPES[kind]} on "
                      f"{target.get('host')}",
               (lambda: session.add_dhcp_network(target["id"], resource)) if kind == "dhcp"
               else (lambda: session.add_l3_router(target["id"], resource)))
        remove = ("remove", f"remove {RESOURCE[kind]} {resource} from dead agent {dead_id}",
                  (lambda: session.remove_dhcp_network(dead_id, resource)) if kind == "dhcp"
                  else (lambda: session.remove_l3_router(dead_id, resource)))
        # dhcp: a network may have several agents, add first; a legacy router
        # has one: unbind it first, then add it, again if need be
        if not dead_id:
            steps = [add]
        else:
            steps = [add, remove] if kind == "dhcp" else [remove, add]
        removed = False
        for step, what, call in steps:
            if dry_run:
                say(f"would {what}")
                continue
            attempts = ADD_ATTEMPTS if step == "add" and (removed or not dead_id) else 1
            ok, error = _step(session, step, what, call, attempts, resource, hosted_by_target,
                              say)
            if ok:
                removed = removed or step == "remove"
                continue
            say(f"FAILED to {what}: {error}" + (
                f" ({RESOURCE[kind]} {resource} is bound to no agent: the next pass adds it)"
                if step == "add" and (removed or not dead_id) else ""))
            failed += 1
            break
        else:
            if done is not None and not dry_run:
                done.append(resource)
    if failed and p.delete:
        say(f"keeping the {len(p.delete)} dead agent(s): {failed} move(s) failed")
        return failed
    for agent in p.delete:
        what = f"delete dead {AGENT_TYPES[kind]} {agent['id']} (host {agent.get('host')})"
        if dry_run:
            say(f"would {what}")
            continue
        try:
            now = session.agent(agent["id"])
            if now.get("alive") is not False:
                say(f"keeping {AGENT_TYPES[kind]} {agent['id']} (host {agent.get('host')}): "
                    "it is alive again")
                continue
            session.delete_agent(agent["id"])
            say(what)
        except APIError as exc:
            if exc.status == 404:
                continue
            say(f"FAILED to {what}: {exc}")
            failed += 1
    return failed


def _step(session: Session, step: str, what: str, call: Callable[[], None], attempts: int,
          resource: str, hosted_by_target: Callable[[str], bool],
          say: Callable[[str], None]) -> Tuple[bool, Optional[APIError]]:
    """One add or remove, ``attempts`` times at most: (done, the last error)."""
    error: Optional[APIError] = None
    for attempt in range(1, attempts + 1):
        try:
            call()
            say(what)
            return True, None
        except APIError as exc:
            error = exc
        try:
            if (step == "remove" and error.status == 404) or \
                    (step == "add" and error.status == 409 and hosted_by_target(resource)):
                say(f"{what}: already done ({error})")
                return True, None
        except APIError as exc:
            error = exc
        if attempt < attempts and session.deadline - session.clock() > session.pause:
            say(f"{what}: {error}; trying again ({attempt}/{attempts})")
            session.sleep(session.pause)
        else:
            break
    return False, error


def hosted_by(kind: str, session: Session, agents: Sequence[Mapping[str, Any]]) -> Dict[str, List[str]]:
    found = {}
    for agent in agents:
        items = session.dhcp_networks(agent["id"]) if kind == "dhcp" else session.l3_routers(agent["id"])
        found[agent["id"]] = [str(i["id"]) for i in items]
    return found


def unbound_routers(session: Session, hosted: Mapping[str, Sequence[str]]) -> List[str]:
    """The centralised routers that no L3 agent hosts.  A distributed
    router without a gateway has no SNAT agent, rightly, and an HA router
    is Neutron's own to schedule: neither is counted."""
    bound = {r for rs_ in hosted.values() for r in rs_}
    found = []
    try:
        routers = session.routers()
    except APIError as exc:
        if exc.kind != "http":          # unreachable, refused: the pass fails as others do
            raise
        session.log(f"cannot list the routers ({exc}): those bound to no agent are not seen")
        return []
    for router in routers:
        if router.get("distributed") is True or router.get("ha") is True:
            continue
        if str(router["id"]) not in bound:
            found.append(str(router["id"]))
    return sorted(found)


def run(kind: str, session: Session, local_host: str, remove_dead: bool, dry_run: bool,
        interval: float, say: Callable[[str], None], move_time: float = 300.0,
        hosts: Optional[Set[str]] = None, stopping: Callable[[], bool] = lambda: False,
        done: Optional[List[str]] = None) -> int:
    """Pass after pass until the local agent is alive and every other agent
    of its type is dead and handled, or the session's deadline.

    The deadline bounds the waiting (for the server to declare the old agent
    dead, 75 s by default in Neutron).  Carrying plans out has its own
    bound, ``move_time`` from the start of the first moves: hundreds of
    routers must not be cut short because the wait used most of the
    deadline, and a move that failed is planned again, pass after pass,
    within it.  An old agent still alive when the wait ends is an error
    (EXIT_ALIVE): nothing moved from it."""
    polling_until = session.deadline
    moving_until: Optional[float] = None
    passes = 0
    while True:
        passes += 1
        if stopping():
            say(f"stopping (SIGTERM) after {passes - 1} pass(es)")
            return EXIT_OK
        agents = [a for a in session.agents(agent_type=AGENT_TYPES[kind]) if hosting(kind, a)]
        mine = [a for a in agents if a.get("host") == local_host and a.get("alive") is True]
        others = [a for a in agents if a.get("host") != local_host and a.get("alive") is True
                  and (hosts is None or short(a.get("host")) in hosts)]
        if mine or dry_run:
            hosted = hosted_by(kind, session, agents)
            unbound = unbound_routers(session, hosted) if kind == "l3" else []
            p = plan(kind, agents, hosted, local_host, remove_dead, unbound, hosts)
            say(("dry run: " if dry_run else "") + p.note)
            if moving_until is None and p.moves:
                moving_until = session.clock() + move_time
            session.deadline = max(polling_until, moving_until or 0.0)
            try:
                failed = execute(kind, session, p, dry_run, say, stopping, done)
            finally:
                session.deadline = polling_until
            if failed:
                if stopping() or moving_until is None \
                        or moving_until - session.clock() < interval:
                    return EXIT_PARTIAL
                say(f"{failed} step(s) failed: planning again in {interval:g}s")
                session.sleep(interval)
                continue
            if dry_run or not others:
                return EXIT_OK
            reason = f"live {AGENT_TYPES[kind]}(s) on {', '.join(str(a.get('host')) for a in others)}"
        else:
            reason = f"no live {AGENT_TYPES[kind]} on {local_host} yet"
        if polling_until - session.clock() < interval:
            say(f"stopping after {passes} pass(es): {reason}")
            return EXIT_ALIVE if mine else EXIT_UNREACHABLE
        if passes == 1:
            say(f"waiting: {reason}")
        session.sleep(interval)


# --- OVS ports -------------------------------------------------------------------

def stale_ports(interfaces: Sequence[Mapping[str, Any]], kind: str,
                present: Optional[Set[str]]) -> List[str]:
    """Of ``ovs-vsctl list Interface`` rows, the ports of this agent type
    whose device is gone: internal ports that neutron plugged (an iface-id),
    named with the agent's prefix, whose device exists nowhere: not in
    ``present``, the device names of the root namespace and of every named
    network namespace, each read on its own.  OVS's own view decides
    nothing: after an ovs-vsctl restart a working port may show an error or
    ofport -1, and OVS's userspace datapath keeps ofport and error as they
    were when a namespace takes the device away and dies.  ``present`` None
    (a namespace could not be read): nothing is stale, every port is kept.
    A VM's tap (not internal) is never one."""
    if present is None:
        return []
    found = []
    for row in interfaces:
        name = str(row.get("name", ""))
        if not name.startswith(PORT_PREFIXES[kind]) or row.get("type") != "internal":
            continue
        if "iface-id" not in (row.get("external_ids") or {}):
            continue
        if name not in present:
            found.append(name)
    return found


def devices_everywhere(runner: Callable[[List[str]], Tuple[int, str, str]],
                       say: Callable[[str], None]) -> Optional[Set[str]]:
    """The device names of the root namespace and of every named network
    namespace, each namespace read on its own (``ip -all netns exec`` exits
    0 even when it could not enter one); None when any read failed."""
    rc, out, err = runner(["ip", "-o", "link", "show"])
    if rc != 0:
        say(f"port clean-up: ip link failed ({(err or out).strip()[:120]}): keeping every port")
        return None
    names = link_names(out)
    rc, out, err = runner(["ip", "netns", "list"])
    if rc != 0:
        say(f"port clean-up: ip netns list failed ({(err or out).strip()[:120]}): "
            "keeping every port")
        return None
    for space in sorted({line.split()[0] for line in out.splitlines() if line.strip()}):
        rc, text, err = runner(["ip", "-n", space, "-o", "link", "show"])
        if rc != 0:
            say(f"port clean-up: cannot read namespace {space} ({(err or text).strip()[:120]}): "
                "keeping every port")
            return None
        names |= link_names(text)
    return names


def link_names(text: str) -> Set[str]:
    """Device names in ``ip -o link show`` output (``ip -all netns exec`` too)."""
    names = set()
    for line in text.splitlines():
        parts = line.split(": ", 2)
        if len(parts) == 3 and parts[0].strip().isdigit():
            names.add(parts[1].split("@")[0])
    return names


def ovs_interfaces(text: str) -> List[Dict[str, Any]]:
    """Parse ``ovs-vsctl --format=json list Interface`` (OVSDB's JSON cells)."""
    import json
    data = json.loads(text)
    rows = []
    for values in data.get("data", []):
        row = {}
        for heading, cell in zip(data.get("headings", []), values):
            row[heading] = _cell(cell)
        rows.append(row)
    return rows


def _cell(cell: Any) -> Any:
    if isinstance(cell, list) and len(cell) == 2 and cell[0] == "map":
        return {k: _cell(v) for k, v in cell[1]}
    if isinstance(cell, list) and len(cell) == 2 and cell[0] == "set":
        items = [_cell(v) for v in cell[1]]
        return items[0] if len(items) == 1 else (None if not items else items)
    if isinstance(cell, list) and len(cell) == 2 and cell[0] == "uuid":
        return cell[1]
    return cell


def clean_ports(kind: str, db: str, runner: Callable[[List[str]], Tuple[int, str, str]],
                say: Callable[[str], None], dry_run: bool = False,
                owners_of: Optional[Callable[[List[str]], Dict[str, str]]] = None) -> int:
    """Delete this node's stale ports of this agent type; the number that failed.

    ``owners_of`` (the Neutron API's ports, when the tool has credentials)
    maps iface-ids to their device_owner: a stale port that Neutron knows as
    another kind's (a VM's, another agent type's) is then kept.  A port
    Neutron no longer knows is the leftover of a deleted one, and goes.
    Without the API the local evidence (the device is gone) decides alone."""
    vsctl = ["ovs-vsctl", "--timeout=10"] + ([f"--db={db}"] if db else [])
    rc, out, err = runner(vsctl + ["--format=json", "--columns=name,type,ofport,error,external_ids",
                                   "list", "Interface"])
    if rc != 0:
        say(f"port clean-up: ovs-vsctl failed: {(err or out).strip()[:200]}")
        return 1
    present = devices_everywhere(runner, say)
    try:
        rows = ovs_interfaces(out)
        stale = stale_ports(rows, kind, present)
    except (ValueError, TypeError, AttributeError):
        say("port clean-up: ovs-vsctl's answer is not the expected JSON")
        return 1
    if stale and owners_of is not None:
        iface = {str(r.get("name")): str((r.get("external_ids") or {}).get("iface-id", ""))
                 for r in rows}
        try:
            owners = owners_of([iface[n] for n in stale])
        except APIError as exc:
            say(f"port clean-up: the ports API did not answer ({exc}): "
                "deciding on the local evidence only")
            owners = {}
        for name in list(stale):
            owner = owners.get(iface[name])
            if owner is not None and not owner.startswith(PORT_OWNERS[kind]):
                say(f"keeping OVS port {name}: Neutron's port {iface[name]} is "
                    f"{owner or 'unowned'}'s, not the {AGENT_TYPES[kind]}'s")
                stale.remove(name)
    if dry_run or not stale:
        for name in stale:
            say(f"would delete stale OVS port {name}")
        return 0
    # one transaction for all: hundreds of routers' ports must not cost a call each
    cmd = list(vsctl)
    for name in stale:
        cmd += ["--", "--if-exists", "del-port", name]
    rc, out, err = runner(cmd)
    if rc != 0:
        say(f"FAILED to delete the stale OVS ports {' '.join(stale)}: {(err or out).strip()[:200]}")
        return len(stale)
    say(f"deleted stale OVS port(s) {' '.join(stale)}")
    return 0


# --- the command-line tool --------------------------------------------------------------

def read_openrc(text: str) -> Dict[str, str]:
    """``export OS_X=value`` lines (quotes stripped), as Fuel's -c/--auth-config read."""
    import shlex
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" not in line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        found[name.strip()] = words[0] if words else ""
    return found


def domain(creds: Mapping[str, str], whose: str) -> Optional[Dict[str, str]]:
    """OS_<whose>_DOMAIN_ID or _NAME, as Keystone v3 wants it (None: unsaid)."""
    if creds.get(f"OS_{whose}_DOMAIN_ID"):
        return {"id": creds[f"OS_{whose}_DOMAIN_ID"]}
    if creds.get(f"OS_{whose}_DOMAIN_NAME"):
        return {"name": creds[f"OS_{whose}_DOMAIN_NAME"]}
    return None


def _bounded(convert: Callable[[str], Any], low: float, high: float, what: str) -> Callable[[str], Any]:
    """An argparse type: ``convert``, then finite and within [low, high]."""
    def check(text: str) -> Any:
        import argparse
        import math
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}: {text!r}")
        return value
    return check


seconds = _bounded(float, 0.01, 86400, "a number of seconds")     # up to a day
count = _bounded(int, 0, 100, "a whole number")


def parser() -> Any:
    import argparse
    ap = argparse.ArgumentParser(
        prog="q-agent-cleanup",
        description="Move the networks (dhcp) or routers (l3) of dead Neutron agents to the "
                    "live agent on this host, delete the dead agents, and remove this host's "
                    "stale OVS ports of the agent type.",
        epilog="Credentials come from --auth-config (export OS_USERNAME=... lines, as in an "
               "openrc file) or the OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (or "
               "OS_TENANT_NAME) and OS_AUTH_URL environment variables (Keystone v3 domains: "
               "OS_USER_DOMAIN_NAME or _ID, OS_PROJECT_DOMAIN_NAME or _ID; default: the "
               "default domain); never from the command line. Exit codes: 0 done or nothing to do, 1 API error, 2 usage, 3 credentials "
               "refused, 4 API unreachable or the local agent never came alive, 5 some moves "
               "failed, 6 an old agent was still alive when the wait ended.")
    ap.add_argument("-a", "--agent", required=True, choices=sorted(AGENT_TYPES),
                    help="the agent type")
    ap.add_argument("--reschedule", action="store_true",
                    help="move networks/routers from dead agents to the live one on this host")
    ap.add_argument("--remove-dead", action="store_true",
                    help="delete the dead agents (dhcp: only when something was moved)")
    ap.add_argument("--cleanup-ports", action="store_true",
                    help="delete this host's OVS ports of this agent type whose device is gone")
    ap.add_argument("--host", default="",
                    help="this host's name as the agents report it (default: the hostname)")
    ap.add_argument("-c", "--auth-config", default="", help="an openrc-style file")
    ap.add_argument("--wait", type=seconds, default=150.0,
                    help="seconds to keep polling for the old agent to be declared dead and "
                         "for the local one to be alive (default 150)")
    ap.add_argument("--move-time", type=seconds, default=300.0,
                    help="seconds for the moves and deletions, once the old agent is dead "
                         "(default 300; on top of --wait)")
    ap.add_argument("--interval", type=seconds, default=5.0, help="seconds between passes")
    ap.add_argument("--retries", type=count, default=5, help="retries of one API call")
    ap.add_argument("--sleep", type=seconds, default=2.0, help="seconds between two retries")
    ap.add_argument("--endpoint-type", default="public", choices=("public", "internal", "admin"))
    ap.add_argument("--region", default="",
                    help="the region of the network endpoint (default: OS_REGION_NAME, from "
                         "--auth-config or the environment; none: the first one)")
    ap.add_argument("--hosts", default="",
                    help="comma-separated: drain only the dead agents on these hosts "
                         "(compared without their domains; default: on any host)")
    ap.add_argument("--attribute", default="",
                    help="a transient node attribute (attrd_updater) that receives the outcome, "
                         "for crm_mon -A")
    ap.add_argument("--ovsdb", default="", help="ovs-vsctl --db (default: its own)")
    ap.add_argument("-n", "--dry-run", "--noop", action="store_true",
                    help="print what would be done, change nothing")
    ap.add_argument("-l", "--log", default="", help="also append the messages to this file")
    ap.add_argument("--instance", default="", help="tag of the log lines (the OCF resource)")
    return ap


def main(argv: Optional[Sequence[str]] = None, environ: Optional[Mapping[str, str]] = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    ap = parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    if not (args.reschedule or args.cleanup_ports):
        ap.print_usage(sys.stderr)
        print("q-agent-cleanup: nothing to do: give --reschedule and/or --cleanup-ports",
              file=sys.stderr)
        return EXIT_USAGE
    from .log import Log
    if args.log:
        environ["HA_LOGFILE"] = args.log
    log = Log("q-agent-cleanup", args.instance or args.agent, environ)
    # Pacemaker's stop sends TERM: the move in progress is finished, no
    # other begins (a router is never left between two agents)
    import signal
    terms: List[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: terms.append(signum))
    args.stopping = lambda: bool(terms)
    # under Pacemaker (its HA_logfacility or HA_LOGFILE) the messages go to its log
    interactive = not (log.facility or log.logfile)

    def say(msg: str) -> None:
        if interactive:
            print(log.redact(msg), flush=True)
        else:
            log.info(msg)
    args.done = []
    try:
        code = _main(args, environ, log, say)
    except Exception as exc:    # never a traceback: one line, and the exit code of an error
        say(f"error: unexpected {type(exc).__name__}: {exc}")
        code = EXIT_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.reschedule and not args.dry_run:
        outcome(args, code, log)
    return code


OUTCOMES = {EXIT_OK: "done", EXIT_ERROR: "failed: API error", EXIT_USAGE: "failed: usage",
            3: "failed: credentials refused", EXIT_UNREACHABLE: "failed: API unreachable or "
            "no live local agent", EXIT_PARTIAL: "failed: some moves failed",
            EXIT_ALIVE: "failed: the old agent is still alive"}


def outcome(args: Any, code: int, log: Any) -> None:
    """Say where an operator looks how it ended: a warning in the cluster's
    log when it failed, and the --attribute node attribute (crm_mon -A)."""
    moved = len(args.done)
    what = RESOURCE[args.agent] + ("s" if moved != 1 else "")
    text = f"moved {moved} {what}" if code == EXIT_OK else \
        f"{OUTCOMES.get(code, 'failed')} (exit {code}), moved {moved} {what}, see the log"
    if code != EXIT_OK:
        log.warning(f"rescheduling: {text}")
    else:
        log.info(f"rescheduling: {text}")
    if args.attribute:
        from .system import System
        if System().call(["attrd_updater", "-n", args.attribute, "-U", text], timeout=10) != 0:
            log.warning(f"rescheduling: cannot set the node attribute {args.attribute}")


def _main(args: Any, environ: Dict[str, str], log: Any, say: Callable[[str], None]) -> int:
    host = args.host or _hostname()
    code = EXIT_OK
    # the credentials: needed to reschedule; for the port clean-up, a cross-check if there
    creds = dict(environ)
    problem = ""
    if args.auth_config:
        try:
            with open(args.auth_config, encoding="utf-8") as f:
                creds.update(read_openrc(f.read()))
        except OSError as exc:
            problem = f"cannot read {args.auth_config}: {exc.strerror}"
        except UnicodeDecodeError:
            problem = f"cannot read {args.auth_config}: not UTF-8 text"
    missing = [n for n in ("OS_USERNAME", "OS_PASSWORD", "OS_AUTH_URL") if not creds.get(n)]
    project = creds.get("OS_PROJECT_NAME") or creds.get("OS_TENANT_NAME") or ""
    if not problem and (missing or not project):
        problem = "missing credentials: " + ", ".join(
            missing + ([] if project else ["OS_PROJECT_NAME"]))
    session = None
    if not problem:
        log.add_secrets([creds["OS_PASSWORD"]])
        import time
        session = Session(creds["OS_AUTH_URL"], creds["OS_USERNAME"], creds["OS_PASSWORD"],
                          project, deadline=time.monotonic() + max(args.wait, 1.0),
                          retries=args.retries, pause=args.sleep, interface=args.endpoint_type,
                          region=args.region or creds.get("OS_REGION_NAME", ""),
                          user_domain=domain(creds, "USER"),
                          project_domain=domain(creds, "PROJECT"), log=say)
    if args.cleanup_ports:
        from .system import System

        def runner(cmd: List[str]) -> Tuple[int, str, str]:
            result = System().run(cmd, timeout=15)
            return result.rc, result.stdout, result.stderr
        owners_of = session.port_owners if session is not None else None
        if clean_ports(args.agent, args.ovsdb, runner, say, args.dry_run, owners_of):
            code = EXIT_PARTIAL
    if not args.reschedule:
        return code
    if session is None:
        say(problem)
        return EXIT_USAGE
    try:
        hosts = {short(h) for h in args.hosts.split(",") if h.strip()} or None
        result = run(args.agent, session, host, args.remove_dead, args.dry_run,
                     args.interval, say, move_time=args.move_time, hosts=hosts,
                     stopping=args.stopping, done=args.done)
    except APIError as exc:
        say(f"error: {exc}")
        return exc.exit_code
    return result if result != EXIT_OK else code


def _hostname() -> str:
    import socket
    return socket.gethostname()


__all__ = ["Plan", "plan", "execute", "run", "stale_ports", "clean_ports", "main",
           "EXIT_ERROR"]

if __name__ == "__main__":
    sys.exit(main())
