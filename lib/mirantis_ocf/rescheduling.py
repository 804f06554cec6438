"""The dhcp and l3 agents' rescheduling after a start: q-agent-cleanup run
detached, with the credentials in a 0600 file, to move the networks or
routers of dead agents to this one (the tool itself: reschedule.py).
"""
from __future__ import annotations

import os

from . import proc
from .agent import Context
from .errors import GenericError
from .params import Param, Type, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Tuple

    from .osagent import NetworkAgent
    from .system import ProcInfo

# where the rescheduling's credentials go (and the agents' pid files), as
# resource-agents' HA_RSCTMP
DEFAULT_RSCTMP = "/run/resource-agents"
# the longest reschedule_wait, as q-agent-cleanup --wait accepts it
MAX_WAIT = 86400

def rescheduler(instance: str) -> proc.Matcher:
    """The background rescheduling of this resource (see start_rescheduling)."""
    def match(info: ProcInfo) -> bool:
        argv = info.argv
        return (info.alive and "mirantis_ocf.reschedule" in argv[:4]
                and any(a == "--instance" and b == instance for a, b in zip(argv, argv[1:])))
    return match


def openrc_path(ctx: Context, agent: NetworkAgent) -> str:
    """Where start leaves the rescheduling's credentials (removed by stop)."""
    rsctmp = ctx.environ.get("HA_RSCTMP") or DEFAULT_RSCTMP
    return os.path.join(rsctmp, f"{ctx.instance or agent.name}.openrc")


def start_rescheduling(ctx: Context, agent: NetworkAgent, kind: str) -> None:
    """Run the rescheduling tool detached: start never waits on the API, and
    never fails because of it (a failure to launch it is logged).

    The credentials go in a 0600 file (an openrc), never on its command
    line; its messages go to the cluster's log (HA_LOGFILE or syslog) and
    its output beside log_file (rescheduling.log).
    """
    p = ctx.params
    if not p.reschedule:
        return
    try:
        _spawn_rescheduling(ctx, agent, kind)
    except Exception as exc:     # noqa: BLE001  the daemon runs: start has succeeded
        ctx.log.warning(f"the rescheduling of {RESOURCES[kind]} was not started: "
                        f"{type(exc).__name__}: {exc}")


def _spawn_rescheduling(ctx: Context, agent: NetworkAgent, kind: str) -> None:
    import sys
    p = ctx.params
    openrc = openrc_path(ctx, agent)
    ctx.system.ensure_dir(os.path.dirname(openrc), 0, 0)
    quoted = {k: "'" + str(v).replace("'", "'\\''") + "'" for k, v in (
        ("OS_USERNAME", p.username), ("OS_PASSWORD", p.password),
        ("OS_PROJECT_NAME", p.tenant), ("OS_TENANT_NAME", p.tenant), ("OS_AUTH_URL", p.os_auth_url),
        ("OS_REGION_NAME", p.region)) if v or k != "OS_REGION_NAME"}
    ctx.system.write_text(openrc, "".join(f"export {k}={v}\n" for k, v in quoted.items()), 0o600)
    host = agent.config_value(ctx, "DEFAULT", "host").get("host") or ctx.system.hostname()
    lib = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    instance = ctx.instance or agent.name
    argv = [sys.executable or "/usr/bin/python3", "-m", "mirantis_ocf.reschedule",
            "--agent", kind, "--reschedule", "--remove-dead", "--host", host,
            "--auth-config", openrc, "--wait", str(p.reschedule_wait),
            "--endpoint-type", str(p.endpoint_type), "--instance", instance,
            "--attribute", f"{instance.split(':', 1)[0]}-reschedule"]
    hosts = drained_hosts(ctx)
    if hosts:
        argv += ["--hosts", ",".join(hosts)]
    log = os.path.join(os.path.dirname(str(p.log_file)), "rescheduling.log")
    pid = ctx.system.spawn(argv, log_path=log, env={"PYTHONPATH": lib})
    ctx.log.info(f"rescheduling {RESOURCES[kind]} of dead agents in the background "
                 f"(pid {pid}, at most {p.reschedule_wait}s; output in {log})")


RESOURCES = {"dhcp": "the networks", "l3": "the routers"}
ANY_HOST = "*"


def drained_hosts(ctx: Context) -> List[str]:
    """The hosts whose dead agents the rescheduling drains: reschedule_hosts,
    else this cluster's Corosync node names; [] for any host (``*``, or no
    node list to be had, which the log says)."""
    text = str(ctx.params.reschedule_hosts).strip()
    if text == ANY_HOST:
        return []
    if text:
        return sorted({h for h in text.replace(",", " ").split() if h})
    from .cluster import CrmCluster
    try:
        nodes = CrmCluster(ctx).membership().nodes
    except GenericError as exc:
        nodes = ()
        ctx.log.warning(f"the cluster's node list: {exc.reason}")
    if not nodes:
        ctx.log.warning("no Corosync node list: the rescheduling drains dead agents on any "
                        "host (set reschedule_hosts)")
    return sorted(nodes)


def rescheduling_params(project: str) -> Tuple[Param, ...]:
    return (
        Param("reschedule", "Move the dead agents' load here after start", type=Type.BOOLEAN,
              default=True,
              longdesc="After a successful start, move the networks (dhcp) or routers (l3) of "
                       "dead agents of this type to this node's agent, through the Neutron API "
                       "with the credentials above, and delete the dead agents (dhcp: only when "
                       "something moved). It runs detached: start never waits for the API."),
        Param("reschedule_wait", "How long the rescheduling may poll", type=Type.INTEGER,
              default=150, checks=(lambda v: None if 1 <= int(v) <= MAX_WAIT
                                   else f"must be from 1 to {MAX_WAIT} (a day)",),
              longdesc="Seconds the background rescheduling keeps polling for neutron-server "
                       "to declare the old agent dead (its agent_down_time) and this one alive."),
        Param("endpoint_type", "Which network endpoint of the catalogue", default="public",
              checks=(lambda v: None if v in ("public", "internal", "admin")
                      else "must be public, internal or admin",),
              longdesc="The interface of the network endpoint in Keystone's catalogue."),
        Param("region", "Which region's network endpoint", default="", checks=(one_line,),
              longdesc="The region of the network endpoint in Keystone's catalogue (what "
                       "OS_REGION_NAME says in an openrc).  Empty: the first network "
                       "endpoint of endpoint_type, whatever its region."),
        Param("reschedule_hosts", "Whose dead agents are drained", default="",
              checks=(one_line,),
              longdesc="The hosts (as the agents report them, compared without their "
                       "domains) whose dead agents the rescheduling drains and deletes.  "
                       "Empty: this cluster's Corosync node names, so that network nodes "
                       "outside the cluster are left to their own.  \"*\": every dead "
                       "agent of the type in the cloud (Fuel's behaviour)."),
    )
