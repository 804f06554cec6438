"""A watch on a server between two monitors: Pacemaker hears of its death at once.

A recurring monitor finds a dead server only at its next run, up to one
interval later, and that wait is most of a master's failover time.  After
a start, the ``mysql`` agent (mode=replication) leaves this small process
beside the server.  It holds a pidfd on the server and sleeps in poll(2),
so it costs nothing while the server runs.  When the server exits, it
tells Pacemaker with ``crm_resource --fail``.  That is an ``asyncmon``
failure, which Pacemaker recovers as it recovers a failed monitor.  It
reports nothing when the cluster, this node or the resource is in
maintenance or unmanaged, since no monitor would run then either.  The
agent's stop ends the sentinel before it stops the server.  The sentinel
never signals, starts or restarts anything, and it exits after one report.

    python3 -m mirantis_ocf.sentinel PID START_TIME RESOURCE NODE
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

    from .system import System

# how the agent recognises its sentinel among the processes (argv[2])
MODULE = "mirantis_ocf.sentinel"


def wait_for_exit(system: System, pid: int, start_time: int) -> bool:
    """Block until the process ``pid`` (started at ``start_time``) exits.
    False when it cannot be watched: gone already, or its pid reused."""
    import select
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        info = system.process(pid)
        if info is None or info.start_time != start_time:
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll():
            pass
        return True
    finally:
        os.close(fd)


def unmanaged(system: System, resource: str, node: str) -> Optional[str]:
    """Why Pacemaker would not act on a failure of ``resource`` on ``node``
    now (maintenance, unmanaged), or None.  None too when the cluster
    cannot be asked: a report then fails on its own, harmlessly."""
    import xml.etree.ElementTree as ET
    result = system.run(["crm_mon", "-1", "--output-as=xml"], timeout=20)
    if not result.ok:
        return None
    try:
        root = ET.fromstring(result.stdout)
    except ET.ParseError:
        return None
    options = root.find("./summary/cluster_options")
    if options is not None and options.get("maintenance-mode") == "true":
        return "the cluster is in maintenance mode"
    for element in root.iter("node"):
        if element.get("name") == node and element.get("maintenance") == "true":
            return f"node {node} is in maintenance"
    for element in root.iter("resource"):
        if element.get("id", "").split(":")[0] != resource:
            continue
        here = [n.get("name") for n in element.findall("node")]
        if node in here and element.get("managed") == "false":
            return f"{resource} is unmanaged on {node}"
    return None


def main(argv: Optional[List[str]] = None) -> int:
    from .log import Log
    from .system import System
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or not (args[0].isdigit() and args[1].isdigit()):
        print(f"usage: python3 -m {MODULE} PID START_TIME RESOURCE NODE", file=sys.stderr)
        return 2
    pid, start_time, resource, node = int(args[0]), int(args[1]), args[2], args[3]
    system = System()
    log = Log("mysql", resource, os.environ)
    if not wait_for_exit(system, pid, start_time):
        log.debug(f"sentinel: the server (pid {pid}) cannot be watched")
        return 0
    why = unmanaged(system, resource, node)
    if why is not None:
        log.warning(f"the server (pid {pid}) exited; not reported: {why}")
        return 0
    result = system.run(["crm_resource", "--fail", "--resource", resource, "--node", node],
                        timeout=30)
    if result.ok:
        log.warning(f"the server (pid {pid}) exited: reported to Pacemaker at once "
                    "(crm_resource --fail), without waiting for the next monitor")
    else:
        log.warning(f"the server (pid {pid}) exited; crm_resource --fail failed: "
                    f"{result.first_line()[:200]}: the next monitor finds it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
