"""A recording fake of the host, for in-process tests of agents.

Real daemons cannot run in the unit tier (no root, seconds), so this fake
plays the part of the few programs an agent drives: a process table, a
file system, a clock and the commands.  It records every command's argv,
so tests can assert that secrets never reach one.
"""
import os
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from mirantis_ocf.system import CommandResult, ProcInfo, System

Program = Callable[["FakeHost", Tuple[str, ...]], CommandResult]


class FakeHost(System):
    def __init__(self) -> None:
        super().__init__()
        self.files: Dict[str, str] = {}
        self.executables = {"/usr/sbin/haproxy"}
        self.procs: Dict[int, ProcInfo] = {}
        self.programs: Dict[str, Program] = {}
        self.commands: List[Tuple[str, ...]] = []
        self.signals: List[Tuple[int, int]] = []
        self.sockets: Dict[str, Callable[[bytes], bytes]] = {}
        self.now = 1000.0
        self.next_pid = 4000
        self.ignore_term: set = set()
        self.pending: set = set()       # stopped (SIGSTOP) processes with a TERM waiting

    # processes
    def add_process(self, exe: str, argv: Sequence[str]) -> int:
        self.next_pid += 1
        self.procs[self.next_pid] = ProcInfo(self.next_pid, 1, "S", int(self.now * 100), exe,
                                             tuple(argv))
        return self.next_pid

    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            input_text: Optional[str] = None, detach: bool = False) -> CommandResult:
        self.commands.append(tuple(argv))
        program = self.programs.get(argv[0])
        if program is None:
            return CommandResult(tuple(argv), 127, "", f"{argv[0]}: not found")
        return program(self, tuple(argv))

    def process(self, pid: int) -> Optional[ProcInfo]:
        return self.procs.get(pid)

    def pids(self) -> List[int]:
        return sorted(self.procs)

    def own_mntns(self) -> Optional[str]:
        return None

    def kill(self, pid: int, sig: int) -> bool:
        self.signals.append((pid, sig))
        if sig == 9:
            getattr(self, "kill_times", {})[pid] = self.now
        if pid not in self.procs:
            return False
        if sig in (18, 19):         # CONT, STOP
            self.procs[pid].state = "T" if sig == 19 else "S"
            if sig == 18 and pid in self.pending:
                self.pending.discard(pid)
                del self.procs[pid]
            return True
        if self.procs[pid].state == "T" and sig not in (0, 9):
            if pid not in self.ignore_term:
                self.pending.add(pid)       # acted on once it runs again
            return True
        if sig == 9 or (sig != 0 and pid not in self.ignore_term):
            del self.procs[pid]
        return True

    def signal_process(self, info: ProcInfo, sig: int) -> bool:
        now = self.procs.get(info.pid)
        if now is None or now.start_time != info.start_time:
            return False
        return self.kill(info.pid, sig)

    # files
    def read_text(self, path: str, follow: bool = True) -> Optional[str]:
        return self.files.get(path)

    def write_text(self, path: str, text: str, mode: int = 0o644,
                   owner: Optional[Tuple[int, int]] = None) -> None:
        self.files[path] = text

    def size(self, path: str) -> int:
        return len(self.files.get(path, ""))

    def read_from(self, path: str, offset: int, limit: int = 65536) -> Optional[str]:
        text = self.files.get(path)
        return None if text is None else text[offset:][-limit:]

    def remove(self, path: str) -> None:
        self.files.pop(path, None)

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.executables

    def is_executable(self, path: str) -> bool:
        return path in self.executables

    def realpath(self, path: str) -> str:
        return os.path.normpath(path)

    def unix_request(self, path: str, request: bytes, timeout: float) -> bytes:
        handler = self.sockets.get(path)
        if handler is None:
            raise ConnectionRefusedError(111, "Connection refused")
        return handler(request)

    # clock
    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


def fake_haproxy(host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
    """Enough of haproxy: -c checks the config, -D daemonizes, -sf retires old pids."""
    conf = argv[argv.index("-f") + 1]
    text = host.files.get(conf)
    if text is None:
        return CommandResult(argv, 1, "", f"[ALERT]    (1) : Cannot open configuration file {conf}")
    if "bogus" in text:
        return CommandResult(argv, 1, "", "[NOTICE]   (1) : haproxy version is 2.6\n"
                             f"[ALERT]    (1) : config : parsing [{conf}:2] : unknown keyword "
                             "'bogus' in 'global' section\n[ALERT]    (1) : config : Fatal errors")
    if "-c" in argv:
        return CommandResult(argv, 0, "Configuration file is valid\n", "")
    if "-D" in argv:
        if "-sf" in argv:
            for old in argv[argv.index("-sf") + 1:]:
                host.procs.pop(int(old), None)
        pid = host.add_process(argv[0], argv)
        host.files[argv[argv.index("-p") + 1]] = f"{pid}\n"
        host.sockets["/run/haproxy/admin.sock"] = lambda req: b"Name: HAProxy\nPid: %d\n" % pid
        return CommandResult(argv, 0, "", "")
    return CommandResult(argv, 1, "", "unexpected invocation")


HAPROXY_CFG = """global
    stats socket /run/haproxy/admin.sock mode 600 level admin
frontend fe
    bind 127.0.0.1:8080
"""


def haproxy_host() -> FakeHost:
    host = FakeHost()
    host.programs["/usr/sbin/haproxy"] = fake_haproxy
    host.files["/etc/haproxy/haproxy.cfg"] = HAPROXY_CFG
    return host


# --- MariaDB with Galera, and Pacemaker's command-line tools ----------------

class MySQLHost(FakeHost):
    """A node with a MariaDB datadir, and a one-node Pacemaker's CLI."""

    DATADIR = "/var/lib/mysql"

    def __init__(self, node: str = "node1") -> None:
        super().__init__()
        self.node = node
        self.members = [node]
        self.executables |= {"/usr/bin/mysqld_safe", "/usr/sbin/mariadbd"}
        self.dirs = {self.DATADIR, "/var/lib/mysql/mysql"}
        self.files["/etc/my.cnf"] = "[mysqld]\n"
        self.files[f"{self.DATADIR}/grastate.dat"] = (
            "# GALERA saved state\nversion: 2.1\nuuid: 75cb2ab6-e902-11f1-8af7-22729e8710d2\n"
            "seqno: -1\nsafe_to_bootstrap: 0\n")
        self.recovered: Optional[str] = "75cb2ab6-e902-11f1-8af7-22729e8710d2:7"
        self.attrs: Dict[Tuple[str, str], str] = {}
        self.claims: Dict[str, str] = {}      # CIB claim id -> holder
        self.sql_calls: List[Tuple[str, str, str]] = []
        self.cluster_status = "Primary"
        self.joining_polls = 0                # queries answered "Joined" before "Synced"
        self.writes_view = False              # the server writes gvwstate.dat when it joins
        self.turn_held: List[bool] = []       # at each "Joined" answer: was a join turn claimed?
        self.sql_error: Optional[Exception] = None   # what every query raises, if set
        self.quorate_from = 0.0                      # the clock from which crm_node -q says 1
        self.quorate_until = float("inf")            # ... and until which
        self.stamps: List[float] = []                # the clock at each command
        self.kill_times: Dict[int, float] = {}       # pid -> the clock when it got SIGKILL
        self.programs.update({"crm_node": self._crm_node, "crm_attribute": self._crm_attribute,
                              "cibadmin": self._cibadmin, "/usr/sbin/mariadbd": self._recover,
                              "attrd_updater": self._attrd_updater,
                              "my_print_defaults": self._my_print_defaults,
                              "crm_simulate": self._crm_simulate})
        self.config_options: List[str] = []      # what my_print_defaults prints
        self.offline: set = set()                # nodes of the list that crm_node -l says are lost
        self.online_at: Dict[str, float] = {}     # ... and nodes lost until then
        self.acted_at: Dict[str, float] = {}      # the clock from which a node's status holds
                                                  # an operation of p_mysql (its probe)
        self.stopped_at: Dict[str, float] = {}    # ... its stop, done (nothing in flight)
        self.plan: Optional[List[str]] = None     # where crm_simulate -LR would start p_mysql
                                                  # (None: it fails)
        self.statements: List[str] = []          # every SQL statement sent
        self.ghost_join = False                  # a joiner finds no Primary Component
        self.leave_after: Optional[int] = None   # a joiner's answers before it leaves the group
        self.leaving_launches: Optional[int] = None   # ... in this many launches (None: all)
        self.mute_when_left = False              # a server that left answers no query
        self.left_in: Dict[int, Optional[int]] = {}   # a joiner's pid -> its answers before
                                                      # it leaves (None: it stays)
        self.has_left: set = set()               # the pids that said they left
        self.logs_connecting = True              # the server gets as far as the group

    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            input_text: Optional[str] = None, detach: bool = False) -> CommandResult:
        self.stamps.append(self.now)             # when each of self.commands ran
        # Pacemaker's tools answer in tens of milliseconds, not in the 0.1 s
        # left to a start whose budget is spent: those calls time out
        if timeout <= 0.1 and argv[0] in ("cibadmin", "crm_attribute", "attrd_updater"):
            self.commands.append(tuple(argv))
            return CommandResult(tuple(argv), -9, "", "", True)
        return super().run(argv, timeout, env, input_text, detach)

    # host facade
    def isdir(self, path: str) -> bool:
        return path in self.dirs

    def ensure_dir(self, path: str, uid: int, gid: int, mode: int = 0o755) -> None:
        self.dirs.add(path)

    def ensure_file(self, path: str, uid: int, gid: int, mode: int = 0o640) -> None:
        self.files.setdefault(path, "")

    def owner(self, path: str) -> Tuple[int, int]:
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory", path)
        return (999, 999)

    def chown(self, path: str, uid: int, gid: int) -> None:
        pass

    def ids(self, user: str, group: str) -> Tuple[Optional[int], Optional[int]]:
        return (999 if user == "mysql" else None, 999 if group == "mysql" else None)

    def spawn(self, argv: Sequence[str], log_path: Optional[str] = None,
              user: Optional[str] = None, group: Optional[str] = None,
              env: Optional[Mapping[str, str]] = None) -> int:
        self.commands.append(tuple(argv))
        if self.writes_view:
            self.files[f"{self.DATADIR}/gvwstate.dat"] = f"my_uuid: {self.next_pid}\n"
        if log_path and self.logs_connecting:        # InnoDB is up; Galera reaches for its peers
            self.files[log_path] = (self.files.get(log_path, "")
                                    + "[Note] WSREP: gcomm: connecting to group 'mocf'\n")
        server = [a for a in argv[1:] if a != "--skip-kill-mysqld"]
        # the server writes its --pid-file, as a real one does once it runs
        pidfile = next((a.split("=", 1)[1] for a in server if a.startswith("--pid-file=")), None)
        if argv[0].endswith("mysqld_safe"):
            wrapper = self.add_process("/usr/bin/dash", ["/bin/sh", *argv])
            self.ignore_term.add(wrapper)          # mysqld_safe traps TERM
            pid = self.add_process("/usr/sbin/mariadbd", ["/usr/sbin/mariadbd", *server])
            if pidfile:
                self.files[pidfile] = f"{pid}\n"
            return wrapper
        pid = self.add_process(argv[0], list(argv))
        if pidfile and "--wsrep-recover" not in argv:
            self.files[pidfile] = f"{pid}\n"
        return pid

    def server_running(self) -> bool:
        return any(p.exe == "/usr/sbin/mariadbd" for p in self.procs.values())

    def sql(self, socket: str, user: str, password: str, timeout: float,
            statements: Sequence[str]) -> List[List[Tuple[str, ...]]]:
        self.sql_calls.append((socket, user, password))
        self.statements.extend(statements)
        if self.sql_error is not None:
            raise self.sql_error
        if not self.server_running():
            raise ConnectionRefusedError(2002, f"Can't connect to local server through socket '{socket}'")
        server = next(p for p in self.procs.values() if p.exe == "/usr/sbin/mariadbd")
        if self.ghost_join and "--wsrep-new-cluster" not in server.argv:
            # it reached only servers outside any Primary Component
            return [[("wsrep_cluster_status", "non-Primary"), ("wsrep_ready", "OFF"),
                     ("wsrep_local_state_comment", "Initialized")]]
        pid = server.pid
        if self.leave_after is not None and "--wsrep-new-cluster" not in server.argv \
                and pid not in self.left_in:
            leaves = self.leaving_launches is None or self.leaving_launches > 0
            if self.leaving_launches:
                self.leaving_launches -= 1
            self.left_in[pid] = self.leave_after if leaves else None
        if self.left_in.get(pid) == 0:
            # an IST that fell short: the server says so once, and stays up, in no group
            log = next(a.split("=", 1)[1] for a in server.argv if a.startswith("--log-error="))
            if pid not in self.has_left:
                self.has_left.add(pid)
                self.files[log] = self.files.get(log, "") + (
                    "[ERROR] WSREP: Receiving IST failed, node restart required: IST receiver "
                    "reported failure: 'IST didn't contain all write sets' (71)\n")
            if self.mute_when_left:
                raise TimeoutError("timed out")
            return [[("wsrep_cluster_status", "Disconnected"), ("wsrep_ready", "OFF"),
                     ("wsrep_local_state_comment", "Initialized")]]
        if self.left_in.get(pid):
            self.left_in[pid] = (self.left_in[pid] or 0) - 1
            return [[("wsrep_cluster_status", "Primary"), ("wsrep_ready", "OFF"),
                     ("wsrep_local_state_comment", "Joiner")]]
        state = "Synced"
        if self.joining_polls > 0:
            self.joining_polls -= 1
            self.turn_held.append(any("join" in k for k in self.claims))
            state = "Joined"
        status = [("wsrep_cluster_status", self.cluster_status), ("wsrep_ready", "ON"),
                  ("wsrep_local_state_comment", state),
                  ("wsrep_local_state_uuid", "75cb2ab6-e902-11f1-8af7-22729e8710d2")]
        return [status] + [[("1",)] for _ in statements[1:]]

    # programs
    def _recover(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        log = [a.split("=", 1)[1] for a in argv if a.startswith("--log-error=")][0]
        if self.recovered is None:           # InnoDB could not recover: no position logged
            self.files[log] = "[ERROR] InnoDB: Plugin initialization aborted\n"
            return CommandResult(argv, 1, "", "")
        self.files[log] = f"[Note] WSREP: Recovered position: {self.recovered}\n"
        return CommandResult(argv, 0, "", "")

    def call(self, argv: Sequence[str], timeout: float, wait: bool = True) -> Optional[int]:
        result = self.run(argv, timeout)
        return None if result.timed_out or result.rc == 127 else result.rc

    def _attrd_updater(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        name = argv[argv.index("-n") + 1]
        if "-U" in argv:
            self.attrs[(name, self.node)] = argv[argv.index("-U") + 1]
        elif "-D" in argv:
            self.attrs.pop((name, self.node), None)
        return CommandResult(argv, 0, "", "")

    def _my_print_defaults(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        return CommandResult(argv, 0, "".join(o + "\n" for o in self.config_options), "")

    def _crm_node(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        lost = self.offline | {n for n, t in self.online_at.items() if self.now < t}
        members = "".join(f"{i} {n} {'lost' if n in lost else 'member'}\n"
                          for i, n in enumerate(self.members, 1))
        quorate = "1\n" if self.quorate_from <= self.now < self.quorate_until else "0\n"
        out = {"-n": f"{self.node}\n", "-l": members, "-q": quorate}[argv[1]]
        return CommandResult(argv, 0, out, "")

    def _crm_attribute(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        args = dict(zip(argv[1::2], argv[2::2]))
        if argv[1].startswith("--promotion"):
            return CommandResult(argv, 0, "", "")
        key = (args["--name"], args.get("--node", self.node))
        if args.get("--type") == "crm_config":             # cluster properties
            key = (args["--name"], "crm_config")
        if "--update" in args:
            self.attrs[key] = args["--update"]
        elif "--delete" in argv:
            self.attrs.pop(key, None)
        elif key in self.attrs:
            return CommandResult(argv, 0, self.attrs[key] + "\n", "")
        else:
            return CommandResult(argv, 105, "", "Error performing operation: No such device or address")
        return CommandResult(argv, 0, "", "")

    def _status_xml(self) -> str:
        states = ""
        acted = {n for n, t in self.acted_at.items() if t <= self.now}
        stopped = {n for n, t in self.stopped_at.items() if t <= self.now}   # done
        for node in sorted({n for _, n in self.attrs if n != "crm_config"} | acted
                           | set(self.stopped_at)):
            nvs = "".join(f'<nvpair id="{n}-{a}" name="{a}" value="{v}"/>'
                          for (a, n), v in self.attrs.items() if n == node)
            # before a stop is done, its node has one in flight (pending)
            op = ('operation="stop" rc-code="0" op-status="0"' if node in stopped else
                  'operation="stop" rc-code="193" op-status="-1"' if node in self.stopped_at else
                  'operation="monitor" rc-code="7" op-status="0"')
            lrm = ('<lrm id="1"><lrm_resources><lrm_resource id="p_mysql"><lrm_rsc_op '
                   f'id="p_mysql_last_0" {op}/></lrm_resource>'
                   '</lrm_resources></lrm>') if node in acted | set(self.stopped_at) else ""
            states += (f'<node_state uname="{node}"><transient_attributes><instance_attributes>'
                       f'{nvs}</instance_attributes></transient_attributes>{lrm}</node_state>')
        return f"<status>{states}</status>"

    def _crm_simulate(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        if self.plan is None:
            return CommandResult(argv, 1, "", "crm_simulate: Could not connect to the CIB")
        actions = "".join(f'<rsc_action action="start" resource="p_mysql:{i}" node="{n}"/>'
                          for i, n in enumerate(self.plan))
        return CommandResult(argv, 0, f'<pacemaker-result><actions>{actions}</actions>'
                                      '<status code="0" message="OK"/></pacemaker-result>', "")

    def _cibadmin(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        if argv[1:4] == ("--query", "--scope", "status"):
            return CommandResult(argv, 0, self._status_xml(), "")
        if argv[1:] == ("--query",):            # the whole CIB: the claims and the status
            sets = "".join(f'<cluster_property_set id="{cid}"><nvpair id="{cid}-owner" '
                           f'name="owner" value="{owner}"/></cluster_property_set>'
                           for cid, owner in self.claims.items())
            return CommandResult(argv, 0, f'<cib epoch="1" num_updates="0"><configuration>'
                                          f'<crm_config>{sets}</crm_config></configuration>'
                                          f'{self._status_xml()}</cib>', "")
        import re
        if argv[1] == "--create":
            cid = re.search(r'id="(mirantis-claim-[^"]*)"', argv[-1]).group(1)  # type: ignore[union-attr]
            if cid in self.claims:
                return CommandResult(argv, 108, "", "Call cib_create failed: File exists")
            self.claims[cid] = re.search(r'value="([^"]*)"', argv[-1]).group(1)  # type: ignore[union-attr]
            return CommandResult(argv, 0, "", "")
        cid = re.search(r"@id='([^']*)'", argv[-1]).group(1)  # type: ignore[union-attr]
        if argv[1] == "--query":
            if cid not in self.claims:
                return CommandResult(argv, 105, "", "")
            return CommandResult(argv, 0, f'<nvpair name="owner" value="{self.claims[cid]}"/>', "")
        if argv[1] == "--delete":
            if cid in self.claims and ("@value" not in argv[-1] or self.claims[cid] in argv[-1]):
                del self.claims[cid]
            return CommandResult(argv, 0, "", "")
        return CommandResult(argv, 1, "", "unexpected cibadmin call")


def mysql_host() -> MySQLHost:
    return MySQLHost()


# --- the OpenStack network agents -------------------------------------------

class NetworkHost(FakeHost):
    """A neutron agent host: the agents are Python scripts that
    /usr/bin/python3 runs; named network namespaces (/run/netns) with
    processes inside; the TCP peers of each process."""

    def __init__(self, program: str, configs: Sequence[str]) -> None:
        super().__init__()
        self.executables = {program, "/usr/bin/python3"}
        for path in configs:
            self.files[path] = "[DEFAULT]\n"
        self.netns: Dict[str, int] = {}          # name -> inode
        self.proc_netns: Dict[int, int] = {}     # pid -> inode (default: the host's, 1)
        self.tcp: Dict[int, List[int]] = {}      # pid -> remote ports, ESTABLISHED
        self.broker_up = True
        self.dies_at_start = ""                  # a last log line: the daemon exits at once
        self.modes: Dict[str, int] = {}
        self.background: List[Tuple[Tuple[str, ...], Optional[str], Dict[str, str]]] = []
        self.dirs: set = set()
        self.programs["ip"] = self._ip
        self.programs["ovs-vsctl"] = lambda host, argv: CommandResult(argv, 0, "", "")

    def spawn(self, argv: Sequence[str], log_path: Optional[str] = None,
              user: Optional[str] = None, group: Optional[str] = None,
              env: Optional[Mapping[str, str]] = None) -> int:
        self.commands.append(tuple(argv))
        if "mirantis_ocf.reschedule" in argv:      # the background rescheduling
            self.background.append((tuple(argv), log_path, dict(env or {})))
            return self.add_process("/usr/bin/python3.11", list(argv))
        self.spawned_as = (user, group)
        if self.dies_at_start:
            if log_path:
                self.files[log_path] = self.files.get(log_path, "") + self.dies_at_start + "\n"
            self.next_pid += 1
            return self.next_pid                 # gone already: no such process
        pid = self.add_process("/usr/bin/python3.11", ["/usr/bin/python3", *argv])
        if self.broker_up:
            self.tcp[pid] = [5672]
        return pid

    def add_in_namespace(self, name: str, exe: str, argv: Sequence[str]) -> int:
        inode = self.netns.setdefault(name, 5000 + len(self.netns))
        pid = self.add_process(exe, argv)
        self.proc_netns[pid] = inode
        return pid

    def named_namespaces(self) -> Dict[str, int]:
        return dict(self.netns)

    def net_namespace(self, pid: int) -> Optional[int]:
        return self.proc_netns.get(pid, 1) if pid in self.procs else None

    def tcp_peer_ports(self, pid: int) -> List[int]:
        return list(self.tcp.get(pid, [])) if pid in self.procs else []

    def ids(self, user: str, group: str) -> Tuple[Optional[int], Optional[int]]:
        known = user in ("quantum", "neutron")
        return (998 if known else None, 998 if group in ("quantum", "neutron") else None)

    def primary_group(self, user: str) -> Optional[str]:
        return user if user in ("quantum", "neutron") else None

    def ensure_dir(self, path: str, uid: int, gid: int, mode: int = 0o755) -> None:
        self.dirs.add(path)

    def ensure_file(self, path: str, uid: int, gid: int, mode: int = 0o640) -> None:
        self.files.setdefault(path, "")

    def write_text(self, path: str, text: str, mode: int = 0o644,
                   owner: Optional[Tuple[int, int]] = None) -> None:
        self.files[path] = text
        self.modes[path] = mode

    def hostname(self) -> str:
        return "node-1"

    def _ip(self, host: FakeHost, argv: Tuple[str, ...]) -> CommandResult:
        if argv[1:3] == ("netns", "delete") and argv[3] in self.netns:
            inode = self.netns.pop(argv[3])
            if any(ns == inode and pid in self.procs for pid, ns in self.proc_netns.items()):
                return CommandResult(argv, 1, "", "busy")
            return CommandResult(argv, 0, "", "")
        return CommandResult(argv, 1, "", f"Cannot remove namespace file: {argv[-1]}")


NETWORK_FLAVOURS = {
    # kind: (program, configs) for quantum, then for neutron
    "ovs": (("/usr/bin/quantum-openvswitch-agent",
             ["/etc/quantum/quantum.conf", "/etc/quantum/plugins/openvswitch/ovs_quantum_plugin.ini"]),
            ("/usr/bin/neutron-openvswitch-agent",
             ["/etc/neutron/neutron.conf", "/etc/neutron/plugins/ml2/openvswitch_agent.ini"])),
    "dhcp": (("/usr/bin/quantum-dhcp-agent",
              ["/etc/quantum/quantum.conf", "/etc/quantum/dhcp_agent.ini"]),
             ("/usr/bin/neutron-dhcp-agent",
              ["/etc/neutron/neutron.conf", "/etc/neutron/dhcp_agent.ini"])),
    "l3": (("/usr/bin/quantum-l3-agent", ["/etc/quantum/quantum.conf", "/etc/quantum/l3_agent.ini"]),
           ("/usr/bin/neutron-l3-agent", ["/etc/neutron/neutron.conf", "/etc/neutron/l3_agent.ini"])),
    "metadata": (("/usr/bin/quantum-metadata-agent",
                  ["/etc/quantum/quantum.conf", "/etc/quantum/metadata_agent.ini"]),
                 ("/usr/bin/neutron-metadata-agent",
                  ["/etc/neutron/neutron.conf", "/etc/neutron/metadata_agent.ini"])),
}


def network_host(agent: str) -> NetworkHost:
    """The host for quantum-agent-<kind> or neutron-agent-<kind>, with its defaults."""
    kind = agent.rsplit("-", 1)[1]
    program, configs = NETWORK_FLAVOURS[kind][agent.startswith("neutron-")]
    return NetworkHost(program, configs)
