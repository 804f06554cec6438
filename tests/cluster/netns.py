"""Python driver for tools/pcmk-netns.sh: a 3-node corosync + pacemaker
cluster on this machine, each node in its own network, mount and UTS
namespace (node N = hostname nodeN, address 10.211.0.1N).

Everything goes through the script, so a shell session and a test see the
same cluster and the same rules.  In particular every pacemaker CLI call must
go through exec(): the cluster's IPC lives in the nodes' network namespaces,
and the host is not a member.

    from netns import NetnsCluster
    c = NetnsCluster()
    c.start()
    mon = c.crm_mon_xml(1)
    c.node_kill(2); c.node_start(2)
    c.stop()

All waits are bounded; commands are lists (no shell).  Needs root.
"""

import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "pcmk-netns.sh"
DEFAULT_STATE = Path("/var/tmp/mirantis-ocf/netns")
NODES = (1, 2, 3)
NETNS_PREFIX = "mocf-"
# what `pcmk-netns.sh exec N` returns when node N is down (it never falls
# back to the host's namespaces)
RC_NODE_DOWN = 125
REQUIRED_TOOLS = ("corosync", "corosync-cmapctl", "pacemakerd", "crm_mon",
                  "cibadmin", "crm_resource", "ip", "nsenter", "unshare",
                  "setsid", "flock", "timeout")

# The script's own waits are bounded by START_TIMEOUT (90s) and
# STOP_TIMEOUT (120s, pacemaker stopping resources) per phase; these are the
# outer guards in case the script itself hangs.
START_TIMEOUT = 200
STOP_TIMEOUT = 300


class NetnsCluster:
    """The namespace cluster of tools/pcmk-netns.sh."""

    nodes = NODES

    def __init__(self, state: Optional[os.PathLike] = None,
                 script: os.PathLike = SCRIPT, size: int = len(NODES)) -> None:
        self.script = Path(script)
        self.nodes = tuple(range(1, size + 1))     # PCMK_NETNS_NODES: the scale bench's 5
        self.state = Path(state) if state is not None else Path(
            os.environ.get("PCMK_NETNS_STATE", DEFAULT_STATE))
        # network namespace inodes and node PIDs seen while running (with
        # the earliest start, in seconds since the epoch, of a process seen
        # under that PID): leftovers() uses them to find what a stop left
        # behind, without blaming us for another cluster on the same host
        self._netns_inodes: Set[int] = set()
        self._seen_pids: Dict[int, float] = {}

    # --- naming ---------------------------------------------------------------

    @staticmethod
    def name(n: int) -> str:
        """Pacemaker/corosync node name (and hostname) of node n."""
        return f"node{n}"

    @staticmethod
    def number(name: str) -> int:
        """Inverse of name(): 'node2' -> 2."""
        if not name.startswith("node") or not name[4:].isdigit():
            raise ValueError(f"not a node name of this cluster: {name!r}")
        return int(name[4:])

    @staticmethod
    def addr(n: int) -> str:
        """Node n's IPv4 address (exists only inside the nodes' namespaces)."""
        return f"10.211.0.1{n}"

    @staticmethod
    def netns(n: int) -> str:
        """Node n's network namespace (for `ip -n`)."""
        return f"{NETNS_PREFIX}n{n}"

    def node_dir(self, n: int) -> Path:
        """Node n's state dir: log/ (corosync.log, pacemaker.log), run/ (its
        /run), var-lib-pacemaker/, extra-binds.  Test data kept here survives
        node restarts and start()."""
        return self.state / f"n{n}"

    # --- running the script ---------------------------------------------------

    def _env(self) -> Dict[str, str]:
        # CIB_file / CIB_user etc. would point pacemaker tools elsewhere (the
        # script's exec clears the environment anyway; this is for the script)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIB_")}
        env["LC_ALL"] = "C"
        env["PCMK_NETNS_STATE"] = str(self.state)
        env["PCMK_NETNS_NODES"] = str(len(self.nodes))
        return env

    def _script(self, args: Sequence[Any], check: bool = True, timeout: float = 60,
                input: Optional[str] = None,
                env: Optional[Dict[str, str]] = None) -> "subprocess.CompletedProcess[str]":
        cmd = [str(self.script)] + [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, text=True, input=input,
                              timeout=timeout, env={**self._env(), **(env or {})}, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{cmd!r} exited {proc.returncode}\n"
                f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}")
        return proc

    def missing_prerequisites(self) -> Optional[str]:
        """Why the cluster cannot run here, or None."""
        if os.geteuid() != 0:
            return "the namespace cluster needs root"
        missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
        if missing:
            return f"cluster tools not installed: {' '.join(missing)}"
        if not os.access(self.script, os.X_OK):
            return f"{self.script} is not executable"
        return None

    # --- lifecycle --------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> str:
        """Fresh 3-node cluster (clears earlier extra binds); returns once all
        3 are online with one DC.  If it is already running, completes it
        instead (starts the nodes that are down).  Returns the script's
        output."""
        out = self._script(["start"], timeout=timeout).stdout
        self._remember()
        return out

    def stop(self, timeout: float = STOP_TIMEOUT) -> str:
        """Clean stop of every node, namespaces deleted.  Idempotent."""
        self._remember()
        return self._script(["stop"], timeout=timeout).stdout

    def status(self) -> "subprocess.CompletedProcess[str]":
        """The script's status: rc 0 all nodes up, 1 some, 3 none."""
        return self._script(["status"], check=False, timeout=60)

    def is_running(self) -> bool:
        """True if any node of this state dir has processes."""
        return self.status().returncode != 3

    def is_up(self, n: int) -> bool:
        """True if node n has processes (so exec(n, ...) can run)."""
        return bool(self.pids(n))

    def node_stop(self, *ns: int, timeout: float = STOP_TIMEOUT) -> None:
        """Clean stop of these nodes (pacemaker stops their resources)."""
        self._remember()
        self._script(["node-stop", *ns], timeout=timeout)

    def node_kill(self, n: int) -> None:
        """kill -9 of every process of node n at once (corosync, pacemaker,
        agents, whatever they started): a node that dies."""
        self._remember()
        self._script(["node-kill", n], timeout=60)

    def powerloss(self, *ns: int) -> None:
        """These nodes all die at the same instant (SIGSTOP everything, then
        SIGKILL); their /dev/shm files and pid files are removed."""
        self._remember()
        self._script(["powerloss", *ns], timeout=60)

    def node_start(self, *ns: int, timeout: float = START_TIMEOUT, converge: bool = True) -> None:
        """(Re)start these nodes like after a reboot (empty /run; CIB, extra
        binds and data kept); returns once every running node sees them
        online and agrees on the DC (``converge=False``: once launched, for
        a network partition, where no common view comes)."""
        self._script(["node-start", *ns], timeout=timeout,
                     env={} if converge else {"PCMK_NETNS_NO_CONVERGE": "1"})
        self._remember()

    # --- the nodes' network (their namespaces outlive node_kill/powerloss) ---------

    SWITCH_NETNS = f"{NETNS_PREFIX}sw"
    BRIDGE = "mocfbr0"

    @staticmethod
    def _ip(*args: str, check: bool = True) -> "subprocess.CompletedProcess[str]":
        proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30,
                              check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"ip {' '.join(args)} exited {proc.returncode}: "
                                 f"{proc.stderr.strip()}")
        return proc

    def cable(self, n: int, plugged: bool) -> None:
        """Plug or unplug node n's cable: its port on the switch (the veth
        peer "nN" in the switch namespace) up or down.  node_kill() and
        powerloss() kill the processes only: the node's network namespace,
        with every address on eth0 (a virtual IP...), stays and keeps
        answering ARP and TCP.  Unplug a killed node to make it silent, as a
        machine without power is."""
        self._ip("-n", self.SWITCH_NETNS, "link", "set", f"n{n}", "up" if plugged else "down")

    def reset_network(self, n: int) -> None:
        """Node n's network as after a reboot: eth0 keeps only the node's own
        address, every other device (OVS taps, bridges...) is deleted.  For a
        node that is down (its namespace outlived it); plug it with cable()."""
        ns = self.netns(n)
        out = self._ip("-n", ns, "-o", "link", "show").stdout
        for line in out.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name not in ("lo", "eth0"):
                self._ip("-n", ns, "link", "del", name, check=False)
        out = self._ip("-n", ns, "-o", "-4", "addr", "show", "dev", "eth0").stdout
        for line in out.splitlines():
            cidr = line.split()[3]
            if cidr.split("/")[0] != self.addr(n):
                self._ip("-n", ns, "addr", "del", cidr, "dev", "eth0", check=False)
        self._ip("-n", ns, "link", "set", "eth0", "up")

    def switch_address(self, cidr: str) -> None:
        """Give the switch namespace's bridge an address (idempotent), so
        that a client in that namespace (ip netns exec mocf-sw ...) reaches
        the nodes from outside them.  Gone with the namespaces at stop()."""
        self._ip("-n", self.SWITCH_NETNS, "addr", "replace", cidr, "dev", self.BRIDGE)

    def stop_all_resources(self, nodes: Sequence[int], timeout: float, what: str = "resource",
                           only: Callable[[str], bool] = lambda rsc: True) -> None:
        """stop-all-resources=true, then wait until no resource (of those
        ``only`` keeps, by id without the clone suffix) is active anywhere, as
        the first of ``nodes`` that is up sees it."""
        live = [n for n in nodes if self.is_up(n)]
        if not live:
            return
        self.exec(live[0], ["crm", "configure", "property", "stop-all-resources=true"], timeout=60)

        def stopped() -> Tuple[bool, object]:
            mon = self.crm_mon_xml(live[0])
            active = [r.get("id") for r in mon.iterfind(".//resources//resource")
                      if only(r.get("id", "").split(":")[0]) and r.get("active") == "true"]
            return not active, active
        self.wait_for(stopped, timeout, f"every {what} to stop")

    def wait_online(self, timeout: int = 90) -> None:
        """Until every running node sees every running node online, one DC."""
        self._script(["wait-online", timeout], timeout=timeout + 30)

    def bind(self, n: int, src: os.PathLike, dst: os.PathLike) -> None:
        """Bind-mount src on dst in node n: now if it runs, and at each later
        node_start() (until the next start()).  dst must exist, except under
        /run (private per node); a file goes over a file."""
        self._script(["bind", n, src, dst], timeout=60)

    def pids(self, n: int) -> List[int]:
        """Every live PID of node n (its mount namespace), [] if down."""
        out = self._script(["pids", n], timeout=30).stdout
        return [int(p) for p in out.split()]

    def pgrep(self, n: int, comm: str) -> List[int]:
        """PIDs of node n's processes named comm (as in /proc/PID/comm, like
        `pgrep -x`).  Do not run pgrep/pkill/pidof through exec(): there is
        no PID namespace, so inside a node they see every node's processes
        (e.g. all three mariadbd).  The PIDs are host PIDs: os.kill() works."""
        found = []
        for pid in self.pids(n):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                    found.append(pid)
            except OSError:
                continue
        return found

    # --- inside a node ----------------------------------------------------------

    def exec(self, n: int, argv: Sequence[Any], check: bool = True,
             timeout: float = 60, input: Optional[str] = None
             ) -> "subprocess.CompletedProcess[str]":
        """Run argv inside node n (its network, mount and UTS namespaces, cwd
        /, the daemons' clean environment: prefix argv with
        ["env", "K=V", ...] to add variables).  Text output is captured.

        With check=True a non-zero exit raises AssertionError with the output.
        If node n is down the script refuses: returncode RC_NODE_DOWN (125)
        and "is down" on stderr (raises with check=True).  On timeout the
        command itself is killed and subprocess.TimeoutExpired raised.
        """
        return self._script(["exec", n, *argv], check=check, timeout=timeout,
                            input=input)

    def exec_argv(self, n: int, argv: Sequence[Any] = ()) -> List[str]:
        """The command line that runs argv inside node n, as exec() does, for
        a caller that needs the process itself (a daemon started with Popen
        that must live in the node): every step execs in place, so the
        Popen's pid is argv's own.  It dies with the node (node_kill,
        powerloss), like anything else of the node."""
        return ["env", f"PCMK_NETNS_STATE={self.state}", "LC_ALL=C", str(self.script),
                "exec", str(n)] + [str(a) for a in argv]

    def crm_mon_xml(self, n: int, timeout: float = 30) -> ET.Element:
        """crm_mon's XML status as seen from node n."""
        out = self.exec(n, ["crm_mon", "-1", "--output-as=xml"],
                        timeout=timeout).stdout
        return ET.fromstring(out)

    # --- reading crm_mon XML (pacemaker 2.1) ------------------------------------

    @staticmethod
    def online_nodes(mon: ET.Element) -> Set[str]:
        """Names of the nodes crm_mon shows online."""
        return {nd.get("name", "") for nd in mon.iter("node")
                if nd.get("online") == "true" and nd.get("type") == "member"}

    @staticmethod
    def dc(mon: ET.Element) -> Optional[str]:
        """Name of the DC, or None."""
        cur = mon.find("summary/current_dc")
        if cur is None or cur.get("present") != "true":
            return None
        return cur.get("name")

    @staticmethod
    def quorate(mon: ET.Element) -> bool:
        """True if the viewing node's partition has quorum."""
        cur = mon.find("summary/current_dc")
        return cur is not None and cur.get("with_quorum") == "true"

    @staticmethod
    def running_on(mon: ET.Element, rsc_id: str) -> List[str]:
        """Nodes where resource rsc_id (or its clone instances "rsc_id:N")
        is active, per crm_mon's <resources> section."""
        nodes: List[str] = []
        for res in mon.iterfind(".//resources//resource"):
            if res.get("id", "").split(":")[0] != rsc_id or res.get("active") != "true":
                continue
            nodes += [nd.get("name", "") for nd in res.findall("node")]
        return nodes

    @staticmethod
    def failures(mon: ET.Element) -> List[Dict[str, str]]:
        """Failed actions, for assertion messages."""
        return [dict(f.attrib) for f in mon.iter("failure")]

    # --- waiting ----------------------------------------------------------------

    @staticmethod
    def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
                 interval: float = 0.5) -> Any:
        """Poll predicate() until it returns something truthy, at most
        timeout seconds; returns that value.  A predicate may return
        (ok, details): details go into the timeout message."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = predicate()
            except (AssertionError, subprocess.TimeoutExpired, ET.ParseError) as e:
                # a node that is (re)joining may refuse or time out a query
                last = (False, f"{type(e).__name__}: {e}")
            ok = last[0] if isinstance(last, tuple) else last
            if ok:
                return last
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        detail = last[1] if isinstance(last, tuple) and len(last) > 1 else last
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n"
                             f"last state: {detail}")

    # --- leftovers --------------------------------------------------------------

    def _remember(self) -> None:
        for n in self.nodes:
            try:
                self._netns_inodes.add(os.stat(f"/run/netns/{self.netns(n)}").st_ino)
            except OSError:
                pass
            for pid in self.pids(n):
                started = _started_at(pid)
                if started is not None:
                    self._seen_pids[pid] = min(started, self._seen_pids.get(pid, started))

    def leftovers(self) -> List[str]:
        """What a stopped cluster left behind, as readable strings ([] when
        clean): our namespaces, live processes inside our network namespaces
        (corosync, pacemaker, agents' daemons), and libqb files in /dev/shm
        of node processes (seen by this object) that are dead.  Another
        cluster on the host (tools/pcmk-single.sh) is not counted, nor a
        file older than the process seen under its PID: PIDs wrap (32768
        here), and a cluster killed earlier on this host left files of its
        own (the CI run of 2026-12-07 blamed two of 17:31 on us)."""
        problems: List[str] = []
        out = subprocess.run(["ip", "netns", "list"], capture_output=True,
                             text=True, check=False, timeout=30).stdout
        ours = [line.split()[0] for line in out.splitlines()
                if line.startswith(NETNS_PREFIX)]
        if ours:
            problems.append(f"network namespaces left: {ours}")
        links = {f"net:[{i}]" for i in self._netns_inodes}
        for pid in _pids():
            try:
                if os.readlink(f"/proc/{pid}/ns/net") in links and _alive(pid):
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                    problems.append(f"process {pid} ({comm}) still in a node's network namespace")
            except OSError:
                continue
        for entry in sorted(os.listdir("/dev/shm")):
            owner = _shm_owner(entry)
            if owner is None or owner not in self._seen_pids or _alive(owner):
                continue
            try:
                made = os.stat(f"/dev/shm/{entry}").st_mtime
            except OSError:
                continue
            # (a second of slack: the start time is in clock ticks)
            if made >= self._seen_pids[owner] - 1:
                problems.append(f"/dev/shm/{entry} left by dead pid {owner}")
        return problems


def started_on(mon: ET.Element, rsc: str) -> List[str]:
    """Nodes where rsc (or an instance of its clone) is Started, active and not failed."""
    nodes: List[str] = []
    for res in mon.iterfind(".//resources//resource"):
        if (res.get("id", "").split(":")[0] == rsc and res.get("role") == "Started"
                and res.get("active") == "true" and res.get("failed") == "false"):
            nodes += [nd.get("name", "") for nd in res.findall("node")]
    return sorted(nodes)


def _pids() -> List[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _started_at(pid: int) -> Optional[float]:
    """When pid's process started, in seconds since the epoch; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    """True if pid exists and is not a zombie (zombies hold nothing and are
    reaped by PID 1 a little later)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _shm_owner(entry: str) -> Optional[int]:
    """PID that owns a libqb file: qb-<server pid>-<client pid>-..., or
    qb-<name>-<pid>-blackbox-...; None for anything else."""
    parts = entry.split("-")
    if parts[0] != "qb" or len(parts) < 3:
        return None
    if "blackbox" in parts:
        i = parts.index("blackbox")
        return int(parts[i - 1]) if i >= 2 and parts[i - 1].isdigit() else None
    return int(parts[1]) if parts[1].isdigit() else None
