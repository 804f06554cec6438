"""What a dead network agent leaves behind, and its clean-up: the
namespaces of its kind (and what runs in them), and this node's stale OVS
ports of its kind.  Never another host's, never a VM's, never a namespace
that cannot be read.

Called by each agent's ``clean_up`` (before start, after stop);
:class:`mirantis_ocf.osagent.NetworkAgent` keeps ``CLEANUP_BASE`` of a
stop's budget for it.
"""
from __future__ import annotations

import os

from . import proc
from .agent import Context
from .errors import GenericError
from .params import Param, Type

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Tuple

    from .osagent import NetworkAgent

# TERM to KILL, for what runs inside a dead agent's namespaces (keepalived
# withdraws its addresses on TERM)
NAMESPACE_GRACE = 3.0
# What a stop keeps of its budget, past the daemon's TERM, for the clean-up:
# the namespaces' processes their whole grace, a second for KILL, one for the
# OVS ports, one to spare, and per namespace 50 ms.  Measured here: `ip netns
# delete` and `ip -n NS link show` take about 2 ms each, 10 ms through
# ctx.run; ovs-vsctl's list and del-port about 20 ms.
CLEANUP_BASE = NAMESPACE_GRACE + 3.0
CLEANUP_PER_NAMESPACE = 0.05


def artifact_params(*prefixes: str) -> Tuple[Param, ...]:
    """Whether start and stop delete this node's namespaces (Fuel 7.0's name)."""
    names = [f"{p}*" for p in prefixes]
    spaces = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        Param("remove_artifacts_on_stop_start", f"Delete the {spaces} namespaces on start "
              "and stop", type=Type.BOOLEAN, default=True,
              longdesc=f"Stop the processes in this node's {spaces} network namespaces and "
                       "delete them, and the agent type's OVS ports whose device is gone, "
                       "before start and after stop, so that a dead agent's "
                       "leftovers never serve beside the new agent's.  False keeps them "
                       "across a restart of the agent on the same node (no interruption of "
                       "their traffic, Fuel's LP#1464817); the daemon then adopts them."),
    )


def clean_stale_ports(ctx: Context, agent: NetworkAgent, kind: str) -> None:
    """Delete this node's OVS ports of this agent type whose device is gone
    (their namespace was deleted): internal ports with neutron's prefix and
    an iface-id whose device is in no namespace, never a VM's tap nor a
    working port; nothing when a namespace cannot be read, or with
    remove_artifacts_on_stop_start=false.  Failures are logged."""
    if "remove_artifacts_on_stop_start" in ctx.params and \
            not ctx.params.remove_artifacts_on_stop_start:
        ctx.log.info("clean-up: the OVS ports are kept (remove_artifacts_on_stop_start=false)")
        return
    if ctx.system.which("ovs-vsctl") is None:
        ctx.log.debug("port clean-up: no ovs-vsctl on this node")
        return
    from .reschedule import clean_ports
    db = agent.config_value(ctx, "ovs", "ovsdb_connection").get("ovsdb_connection", "")

    def runner(cmd: List[str]) -> Tuple[int, str, str]:
        result = ctx.run(cmd, timeout=ctx.budget.cap(15.0))
        return result.rc, result.stdout, result.stderr
    try:
        clean_ports(kind, db, runner, lambda msg: ctx.log.info("clean-up: " + msg))
    except Exception as exc:     # noqa: BLE001  a clean-up never fails start or stop
        ctx.log.warning(f"port clean-up: {type(exc).__name__}: {exc}")


def clean_namespaces(ctx: Context, *prefixes: str) -> None:
    """Stop every process inside this node's network namespaces named with
    one of ``prefixes`` (dnsmasq in qdhcp-*, keepalived or haproxy in
    qrouter-*), all together, then delete the namespaces.  Nothing outside them is touched.  Failures are logged:
    a clean-up never fails a stop.
    """
    shown = ", ".join(f"{p}*" for p in prefixes)
    if "remove_artifacts_on_stop_start" in ctx.params and \
            not ctx.params.remove_artifacts_on_stop_start:
        ctx.log.info(f"clean-up: the {shown} namespaces are kept "
                     "(remove_artifacts_on_stop_start=false)")
        return
    spaces = {n: ino for n, ino in ctx.system.named_namespaces().items()
              if n.startswith(prefixes)}
    if not spaces:
        return
    inodes = set(spaces.values())
    inside = []
    for pid in ctx.system.pids():
        if pid != os.getpid() and ctx.system.net_namespace(pid) in inodes:
            info = ctx.system.process(pid)
            if info is not None and info.alive:
                inside.append(info)
    # their grace, out of what is left past KILL and the deletions
    after = 1.0 + CLEANUP_PER_NAMESPACE * len(spaces)
    try:
        proc.stop_processes(ctx.system, inside, ctx.budget, ctx.log,
                            f"processes in the {shown} namespaces",
                            grace=max(min(NAMESPACE_GRACE, ctx.budget.remaining() - after), 0.2))
    except GenericError as exc:
        ctx.log.error(f"clean-up: {exc.reason}")
    for done, name in enumerate(sorted(spaces)):
        if ctx.budget.remaining() < 2.0:       # the action must still answer in time
            ctx.log.error(f"clean-up: out of time, {len(spaces) - done} {shown} namespace(s) "
                          "left for the next start or stop")
            break
        result = ctx.run(["ip", "netns", "delete", name], timeout=ctx.budget.cap(10.0))
        if result.ok:
            ctx.log.info(f"clean-up: deleted network namespace {name}")
        else:
            ctx.log.error(f"clean-up: cannot delete network namespace {name}: "
                          f"{result.first_line() or result.rc}")
    left = sorted(n for n in ctx.system.named_namespaces() if n.startswith(prefixes))
    if left:
        ctx.log.warning(f"clean-up: left on this node: {', '.join(left)} (their addresses "
                        "and NAT may still answer): the next start or stop deletes them")


__all__ = ["NetworkAgent", "daemon_params", "credential_params", "clean_namespaces",
           "artifact_params",
           "DAEMON_LONGDESC", "START_SETTLE"]
