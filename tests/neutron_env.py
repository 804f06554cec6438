"""RabbitMQ, Open vSwitch and neutron agent configurations for the neutron tests.

The real pieces that the quantum/neutron OCF agents manage, started on this
machine without systemd, all on loopback and all under a directory the test
owns:

- ``Rabbit``: its own epmd and rabbitmq-server on free 127.0.0.1 ports, with a
  private HOME (so a private ``.erlang.cookie``), mnesia and logs, and a user
  for the agents.  The server runs as ``rabbitmq``.
- ``OVS``: a private ovsdb-server (own conf.db and socket) and ovs-vswitchd.
  Only the userspace datapath (``netdev``) works here: the kernel has no
  openvswitch module.
- ``NeutronConf``: neutron.conf and the four agents' ini files, a good set or a
  deliberately broken one; ``spawn_agent``/``stop_agent`` run one agent as a
  daemon in its own session, as the OCF agents will.
- ``established``: the ESTABLISHED TCP connections a pid holds to a port, read
  from /proc (for the AMQP cross-check).

Gotchas handled here (see the lab report): ``/usr/sbin/rabbitmqctl`` is a
wrapper that forces ``HOME=/var/lib/rabbitmq`` (another cookie), so the real
CLI in /usr/lib/rabbitmq/bin is called with the server's HOME; erl would spawn
a daemonised epmd that outlives rabbit, so our own epmd runs first, on a
private port, and is stopped by pid; netdev bridges are tap devices that
outlive ovs-vswitchd, so every bridge is deleted while vswitchd still runs and
leftover taps are removed afterwards.  One ``OVS`` per network namespace: the
netdev datapath's ``ovs-netdev`` tap has a fixed name.

Every wait is bounded, every child is reaped, and ``stop()`` leaves no process
of the session it started.  Failures raise ``StartError`` with the last log
lines.
"""
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable, Dict, IO, Iterator, List, NamedTuple, Optional, Sequence, Tuple

PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
RABBIT_BIN = "/usr/lib/rabbitmq/bin"   # the real CLI, not /usr/sbin's HOME-forcing wrapper
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
ROOTWRAP = "neutron-rootwrap /etc/neutron/rootwrap.conf"

# agent -> (binary, ini file name)
AGENTS: Dict[str, Tuple[str, str]] = {
    "openvswitch": ("/usr/bin/neutron-openvswitch-agent", "openvswitch_agent.ini"),
    "dhcp": ("/usr/bin/neutron-dhcp-agent", "dhcp_agent.ini"),
    "l3": ("/usr/bin/neutron-l3-agent", "l3_agent.ini"),
    "metadata": ("/usr/bin/neutron-metadata-agent", "metadata_agent.ini"),
}


class StartError(RuntimeError):
    """A piece of the environment did not come up; the message has its last log lines."""


# --- small helpers -------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: str, lines: int = 15) -> str:
    """The last lines of a file, or a note that it is missing."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"({path}: {e.strerror})"
    return "\n".join(text.splitlines()[-lines:])


def grep(path: str, word: str, lines: int = 8, width: int = 300) -> str:
    """The first lines of a file that contain ``word`` (each cut to ``width``)."""
    found = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if word in line:
                    found.append(line.rstrip()[:width])
                    if len(found) == lines:
                        break
    except OSError as e:
        return f"({path}: {e.strerror})"
    return "\n".join(found)


def wait_for(cond: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``cond`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def alive(pid: Optional[int]) -> bool:
    """True if pid exists and is not a zombie."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def session_pids(sid: int) -> List[int]:
    """The live processes whose session id is ``sid`` (a daemon and everything it forked)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields: state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] not in "ZX":
            found.append(int(name))
    return sorted(found)


def pids_mentioning(text: str) -> List[int]:
    """Live processes whose command line contains ``text`` (a state dir, a port option...)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or not alive(int(name)):
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(name))
    return sorted(found)


def kill_session(proc: "subprocess.Popen[bytes]", timeout: float = 15.0) -> None:
    """TERM the session leader, wait, then TERM/KILL whatever is left of its session; reap."""
    sid = proc.pid
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        left = session_pids(sid)
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        wait_for(lambda: not session_pids(sid), wait)
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=5)
    left = session_pids(sid)
    if left:
        raise RuntimeError(f"processes of session {sid} survived SIGKILL: {left}")


def user_ids(user: str) -> Tuple[int, int, List[int]]:
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid, os.getgrouplist(user, pw.pw_gid)


def chown_tree(path: str, user: str) -> None:
    uid, gid, _ = user_ids(user)
    for top, dirs, files in os.walk(path):
        os.chown(top, uid, gid)
        for name in dirs + files:
            os.lchown(os.path.join(top, name), uid, gid)


def _log(path: str) -> IO[bytes]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return open(path, "ab")


def established(pid: int, port: int) -> List[Tuple[str, str]]:
    """The ESTABLISHED TCP connections that ``pid`` holds (in its fd table) to remote ``port``.

    Read from /proc/PID/net/tcp{,6} (the pid's own network namespace) and the
    socket inodes of /proc/PID/fd.  Returns (local, remote) as "addr:port" hex
    strings, one per connection; empty if the pid is gone.
    """
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return []
    found = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], cols[9]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port and inode in inodes:
                found.append((local, remote))
    return found


def amqp_hello(port: int, host: str = "127.0.0.1", timeout: float = 2.0) -> bool:
    """A real AMQP 0-9-1 greeting: the server must answer with Connection.Start."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            data = b""
            while len(data) < 11:
                chunk = s.recv(11 - len(data))
                if not chunk:
                    return False
                data += chunk
    except OSError:
        return False
    # frame type 1 (method), channel 0, then class 10 method 10 (connection.start)
    return data[0] == 1 and data[1:3] == b"\x00\x00" and data[7:11] == b"\x00\x0a\x00\x0a"


# --- RabbitMQ -------------------------------------------------------------------

class Rabbit:
    """A private RabbitMQ node on 127.0.0.1 with its own epmd, run as ``rabbitmq``."""

    def __init__(self, user: str = "neutron", password: str = "neutron-pw",
                 port: Optional[int] = None, os_user: str = "rabbitmq") -> None:
        self.user = user
        self.password = password
        self.port = port or free_port()
        self.os_user = os_user
        self.nodename = f"rabbit{self.port}@localhost"
        self.dir = ""
        self.server: Optional["subprocess.Popen[bytes]"] = None
        self.epmd: Optional["subprocess.Popen[bytes]"] = None
        self.epmd_port = 0
        self.dist_port = 0

    @property
    def url(self) -> str:
        """The oslo.messaging transport_url."""
        return f"rabbit://{self.user}:{self.password}@127.0.0.1:{self.port}/"

    @property
    def log(self) -> str:
        return os.path.join(self.dir, "log", "rabbit.log")

    def env(self) -> Dict[str, str]:
        d = self.dir
        loopback = "-kernel inet_dist_use_interface {127,0,0,1}"
        return {
            "PATH": PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": d,
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(d, "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": os.path.join(d, "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(d, "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(d, "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": os.path.join(d, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(d, "log"),
            "RABBITMQ_LOGS": self.log,
            "RABBITMQ_PID_FILE": os.path.join(d, "rabbit.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": loopback,
            "RABBITMQ_CTL_ERL_ARGS": loopback,
        }

    def _popen(self, argv: Sequence[str], out: IO[bytes]) -> "subprocess.Popen[bytes]":
        uid, gid, groups = user_ids(self.os_user)
        return subprocess.Popen(list(argv), env=self.env(), cwd=self.dir, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                user=uid, group=gid, extra_groups=groups)

    def start(self, state_dir: str, timeout: float = 90.0) -> "Rabbit":
        """A fresh node under state_dir/rabbitmq, ready for AMQP logins as ``user``."""
        if self.running():
            raise StartError("rabbitmq: already started")
        self.dir = os.path.join(state_dir, "rabbitmq")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "log"))
        self.epmd_port = free_port()
        self.dist_port = free_port()
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                    f"default_user = {self.user}\n"
                    f"default_pass = {self.password}\n"
                    "default_vhost = /\n"
                    "default_permissions.configure = .*\n"
                    "default_permissions.read = .*\n"
                    "default_permissions.write = .*\n"
                    "log.console = false\n")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        open(os.path.join(self.dir, "rabbitmq-env.conf"), "w").close()
        chown_tree(self.dir, self.os_user)
        os.chmod(self.dir, 0o750)
        deadline = time.monotonic() + timeout
        try:
            # our own epmd, in the foreground, so that we own its pid
            with _log(os.path.join(self.dir, "log", "epmd.out")) as out:
                epmd = self.epmd = self._popen(["epmd", "-address", "127.0.0.1",
                                                "-port", str(self.epmd_port)], out)
            if not wait_for(lambda: _connects(self.epmd_port) or epmd.poll() is not None, 10):
                raise StartError("epmd did not listen within 10 s")
            if epmd.poll() is not None:
                raise StartError(f"epmd exited with {epmd.returncode}:\n"
                                 + tail(os.path.join(self.dir, "log", "epmd.out")))
            with _log(os.path.join(self.dir, "log", "server.out")) as out:
                self.server = self._popen([os.path.join(RABBIT_BIN, "rabbitmq-server")], out)
            server = self.server

            def up() -> bool:
                return server.poll() is not None or amqp_hello(self.port)
            wait_for(up, deadline - time.monotonic(), 0.25)
            if server.poll() is not None:
                raise StartError(f"rabbitmq-server exited with {server.returncode}")
            if not amqp_hello(self.port):
                raise StartError(f"rabbitmq: no AMQP answer on port {self.port} within {timeout} s")
            # the CLI must reach the node too (same HOME, so the same cookie)
            perms = self.ctl("list_permissions", "-p", "/",
                             timeout=max(10.0, deadline - time.monotonic()))
            if not any(line.split()[:1] == [self.user] for line in perms.splitlines()):
                raise StartError(f"rabbitmq: user {self.user} has no permissions on /: {perms!r}")
        except BaseException as e:
            detail = (f"\n--- errors in {self.log}:\n{grep(self.log, '[error]')}\n"
                      f"--- server.out:\n" + tail(os.path.join(self.dir, "log", "server.out"), 4))
            self.stop()
            if isinstance(e, StartError):
                raise StartError(str(e) + detail) from None
            raise
        return self

    def ctl(self, *args: str, timeout: float = 60.0, tool: str = "rabbitmqctl") -> str:
        """Run the real rabbitmqctl (or rabbitmq-diagnostics...) against this node; stdout."""
        uid, gid, groups = user_ids(self.os_user)
        argv = [os.path.join(RABBIT_BIN, tool), "-q", "-n", self.nodename, *args]
        proc = subprocess.run(argv, env=self.env(), cwd=self.dir, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout,
                              user=uid, group=gid, extra_groups=groups)
        if proc.returncode != 0:
            raise StartError(f"{' '.join(argv[:1] + list(args))} exited {proc.returncode}: "
                             f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
        return proc.stdout

    def connections(self) -> List[Dict[str, str]]:
        """The node's AMQP connections: user, peer_port, state, and the client's string
        properties (oslo.messaging's connection_name is "host:process:pid")."""
        out = self.ctl("list_connections", "--no-table-headers", "user", "peer_port", "state",
                       "client_properties")
        found = []
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) < 4:
                continue
            conn = dict(re.findall(r'\{"([\w.]+)","([^"]*)"\}', parts[3]))
            conn.update(user=parts[0], peer_port=parts[1], state=parts[2])
            found.append(conn)
        return found

    @property
    def pid(self) -> Optional[int]:
        """The beam.smp pid (a child of the rabbitmq-server shell script), if it runs."""
        if not self.running():
            return None
        assert self.server is not None
        for pid in session_pids(self.server.pid):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "beam.smp":
                        return pid
            except OSError:
                pass
        return None

    def running(self) -> bool:
        return self.server is not None and self.server.poll() is None

    def pids(self) -> List[int]:
        """Every live process of the server's and epmd's sessions."""
        return sorted(p for proc in (self.server, self.epmd) if proc is not None
                      for p in session_pids(proc.pid))

    def stop(self, timeout: float = 30.0) -> None:
        """TERM rabbit (it shuts down cleanly on TERM), then epmd; nothing is left running."""
        errors = []
        for proc in (self.server, self.epmd):
            if proc is None:
                continue
            try:
                kill_session(proc, timeout)
            except RuntimeError as e:
                errors.append(str(e))
        self.server = self.epmd = None
        if errors:
            raise RuntimeError("; ".join(errors))


def _connects(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --- Open vSwitch ---------------------------------------------------------------

def _links() -> List[str]:
    return os.listdir("/sys/class/net")


def _ovs_vswitchd_running(netns: Optional[str] = None) -> List[int]:
    """Every ovs-vswitchd; only those in network namespace ``netns`` ("net:[...]") if given."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/comm") as f:
                    if f.read().strip() != "ovs-vswitchd":
                        continue
                if netns is None or os.readlink(f"/proc/{name}/ns/net") == netns:
                    found.append(int(name))
            except OSError:
                pass
    return found


class OVS:
    """A private ovsdb-server + ovs-vswitchd (userspace datapath only).

    Both run in the foreground as our children, each in its own session, so
    that ``stop()`` reaps them.  ``group``: a Unix group (default ``neutron``)
    given read-write access to the database socket, so that agents running as
    that user can use ``ovsdb_connection = unix:<socket>``.

    ``prefix``: a command that runs its arguments in another network
    namespace and execs them in place, e.g. ``NetnsCluster.exec_argv(n)``.
    Then every command and both daemons run through it (our environment
    passed on with ``env``), and the taps are looked for and deleted in that
    namespace: one OVS per cluster node.  The state directory must be
    visible there under the same path.
    """

    DAEMONS = ("ovsdb-server", "ovs-vswitchd")

    def __init__(self, group: Optional[str] = "neutron", prefix: Sequence[str] = ()) -> None:
        self.group = group
        self.prefix = [str(word) for word in prefix]
        self.dir = ""
        self.bridges: List[str] = []     # every bridge made through add_bridge()
        self.procs: Dict[str, "subprocess.Popen[bytes]"] = {}

    @property
    def rundir(self) -> str:
        return os.path.join(self.dir, "run")

    @property
    def socket(self) -> str:
        return os.path.join(self.rundir, "db.sock")

    @property
    def connection(self) -> str:
        """The ovsdb_connection string for neutron's [ovs] section."""
        return f"unix:{self.socket}"

    def log(self, daemon: str) -> str:
        return os.path.join(self.dir, "log", f"{daemon}.log")

    def pid(self, daemon: str) -> Optional[int]:
        """The pid of ``ovsdb-server`` or ``ovs-vswitchd`` while it runs."""
        proc = self.procs.get(daemon)
        return proc.pid if proc is not None and proc.poll() is None else None

    def env(self) -> Dict[str, str]:
        return {"PATH": PATH, "LANG": "C.UTF-8", "OVS_RUNDIR": self.rundir,
                "OVS_LOGDIR": os.path.join(self.dir, "log"), "OVS_DBDIR": self.dir,
                "OVS_SYSCONFDIR": os.path.join(self.dir, "etc"),
                "OVS_PKGDATADIR": "/usr/share/openvswitch"}

    def _cmd(self, argv: Sequence[str]) -> List[str]:
        """argv as run: through ``prefix``, if any, with our environment."""
        if not self.prefix:
            return list(argv)
        return [*self.prefix, "env", *(f"{k}={v}" for k, v in self.env().items()), *argv]

    def links(self) -> List[str]:
        """The network devices of the namespace the daemons run in ([] if it is gone)."""
        if not self.prefix:
            return _links()
        out = subprocess.run(self._cmd(["ls", "/sys/class/net"]), env=self.env(),
                             stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=30)
        return out.stdout.split() if out.returncode == 0 else []

    def _netns(self) -> Optional[str]:
        """The daemons' network namespace ("net:[...]"), None for ours."""
        if not self.prefix:
            return None
        out = self._run(["readlink", "/proc/self/ns/net"], timeout=30)
        return out.stdout.strip()

    def _run(self, argv: Sequence[str], timeout: float = 20.0,
             check: bool = True) -> "subprocess.CompletedProcess[str]":
        proc = subprocess.run(self._cmd(argv), env=self.env(), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise StartError(f"{' '.join(argv)} exited {proc.returncode}: "
                             f"{(proc.stderr or proc.stdout).strip()}")
        return proc

    def vsctl(self, *args: str, timeout: float = 10.0, check: bool = True) -> str:
        """ovs-vsctl on the private database; stdout."""
        return self._run(["ovs-vsctl", f"--db={self.connection}", f"--timeout={int(timeout)}",
                          *args], timeout=timeout + 5, check=check).stdout

    def appctl(self, daemon: str, *args: str, timeout: float = 10.0, check: bool = True) -> str:
        ctl = os.path.join(self.rundir, f"{daemon}.ctl")
        return self._run(["ovs-appctl", "-t", ctl, f"--timeout={int(timeout)}", *args],
                         timeout=timeout + 5, check=check).stdout

    def _spawn(self, daemon: str, argv: Sequence[str]) -> None:
        with _log(os.path.join(self.dir, "log", f"{daemon}.out")) as out:
            self.procs[daemon] = subprocess.Popen(self._cmd(
                [daemon, *argv, f"--pidfile={os.path.join(self.rundir, daemon + '.pid')}",
                 f"--unixctl={os.path.join(self.rundir, daemon + '.ctl')}",
                 f"--log-file={self.log(daemon)}"]),
                env=self.env(), cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, state_dir: str, timeout: float = 30.0) -> "OVS":
        """A fresh database under state_dir/ovs, ovsdb-server on its own socket, ovs-vswitchd."""
        if self.running():
            raise StartError("ovs: already started")
        if "ovs-netdev" in self.links():
            if _ovs_vswitchd_running(self._netns()):
                raise StartError("ovs: another ovs-vswitchd with a netdev datapath runs in this "
                                 "network namespace (ovs-netdev exists)")
            subprocess.run(self._cmd(["ip", "link", "del", "ovs-netdev"]), env=self.env(),
                           capture_output=True, timeout=10)
        self.dir = os.path.join(state_dir, "ovs")
        shutil.rmtree(self.dir, ignore_errors=True)
        for sub in ("run", "log", "etc"):
            os.makedirs(os.path.join(self.dir, sub))
        os.chmod(self.dir, 0o755)
        db = os.path.join(self.dir, "conf.db")
        deadline = time.monotonic() + timeout
        try:
            self._run(["ovsdb-tool", "create", db, OVS_SCHEMA], timeout)
            self._spawn("ovsdb-server", [db, f"--remote=punix:{self.socket}",
                                         "--remote=db:Open_vSwitch,Open_vSwitch,manager_options"])
            server = self.procs["ovsdb-server"]
            wait_for(lambda: server.poll() is not None or
                     self._run(["ovs-vsctl", f"--db={self.connection}", "--timeout=2",
                                "--no-wait", "init"], 5, check=False).returncode == 0,
                     deadline - time.monotonic(), 0.05)
            if server.poll() is not None:
                raise StartError(f"ovsdb-server exited with {server.returncode}")
            self.vsctl("--no-wait", "init")
            if self.group:
                gid = grp.getgrnam(self.group).gr_gid
                for path in (self.rundir, self.socket):
                    os.chown(path, 0, gid)
                os.chmod(self.rundir, 0o750)
                os.chmod(self.socket, 0o770)
            self._spawn("ovs-vswitchd", [self.connection])
            # without --no-wait, ovs-vsctl returns once vswitchd has applied the change
            self.vsctl("set", "Open_vSwitch", ".", "external_ids:harness=mirantis-ocf",
                       timeout=max(1.0, deadline - time.monotonic()))
        except BaseException as e:
            detail = "".join(f"\n--- {d}.log:\n" + tail(self.log(d)) for d in self.DAEMONS)
            self.stop()
            if isinstance(e, (StartError, subprocess.TimeoutExpired)):
                raise StartError(f"ovs: {e}{detail}") from None
            raise
        return self

    def add_bridge(self, name: str, datapath_type: str = "netdev") -> None:
        """A bridge (netdev by default; "system" fails here: no kernel module)."""
        self.bridges.append(name)
        self.vsctl("--may-exist", "add-br", name, "--", "set", "bridge", name,
                   f"datapath_type={datapath_type}")

    def list_bridges(self) -> List[str]:
        return self.vsctl("list-br").split()

    def running(self) -> bool:
        return any(self.pid(d) is not None for d in self.DAEMONS)

    def stop(self, timeout: float = 20.0) -> None:
        """Delete every bridge and the netdev datapath, stop both daemons, remove leftover taps."""
        if not self.dir:
            return
        taps = set(self.bridges) | {"ovs-netdev"}
        if self.pid("ovsdb-server") is not None:
            out = self.vsctl("--format=csv", "--data=bare", "--no-headings", "--columns=name",
                             "list", "Interface", check=False, timeout=5)
            taps |= {line.strip('"') for line in out.split()}
            wait = [] if self.pid("ovs-vswitchd") is not None else ["--no-wait"]
            for bridge in self.vsctl("list-br", check=False, timeout=5).split():
                self.vsctl(*wait, "--if-exists", "del-br", bridge, check=False, timeout=10)
            if not wait:
                self.appctl("ovs-vswitchd", "dpctl/del-dp", "netdev@ovs-netdev", check=False,
                            timeout=5)
        errors = []
        for daemon in ("ovs-vswitchd", "ovsdb-server"):
            proc = self.procs.pop(daemon, None)
            if proc is not None:
                try:
                    kill_session(proc, timeout)
                except RuntimeError as e:
                    errors.append(f"{daemon}: {e}")
        present = set(self.links())
        for tap in sorted(taps & present):
            subprocess.run(self._cmd(["ip", "link", "del", tap]), env=self.env(),
                           capture_output=True, timeout=10)
        self.bridges = []
        if errors:
            raise RuntimeError("; ".join(errors))


# --- neutron configuration ---------------------------------------------------------

NEUTRON_CONF = """[DEFAULT]
debug = {debug}
host = {host}
transport_url = {transport_url}
state_path = {state_path}
log_dir = {log_dir}
use_stderr = false
control_exchange = neutron

[agent]
root_helper = {root_helper}
report_interval = {report_interval}

[oslo_concurrency]
lock_path = {lock_path}
"""

INI = {
    "openvswitch": """[ovs]
ovsdb_connection = {ovsdb_connection}
integration_bridge = {integration_bridge}
datapath_type = netdev
of_listen_address = 127.0.0.1
of_listen_port = {of_listen_port}
bridge_mappings =

[agent]
tunnel_types =

[securitygroup]
firewall_driver = noop
""",
    "dhcp": """[DEFAULT]
interface_driver = openvswitch
dhcp_driver = neutron.agent.linux.dhcp.Dnsmasq
enable_isolated_metadata = false

[ovs]
ovsdb_connection = {ovsdb_connection}
integration_bridge = {integration_bridge}
""",
    "l3": """[DEFAULT]
interface_driver = openvswitch
agent_mode = legacy

[ovs]
ovsdb_connection = {ovsdb_connection}
integration_bridge = {integration_bridge}
""",
    "metadata": """[DEFAULT]
nova_metadata_host = 127.0.0.1
nova_metadata_port = {nova_metadata_port}
metadata_proxy_shared_secret = {metadata_secret}
metadata_proxy_socket = {state_path}/metadata_proxy
metadata_workers = 1
""",
}

# A value that oslo.config rejects.  Each agent reads it right after logging is
# set up, before it touches RabbitMQ or OVSDB, and exits 1 within a few
# seconds.  Its log then holds "CRITICAL neutron [-] Unhandled error:
# oslo_config.cfg.ConfigFileValueError: Value for option report_interval ...
# is not valid: could not convert string to float: 'often'", then the
# traceback as ERROR lines; the last line with a message repeats the error.
BROKEN = {agent: ("[agent]", "report_interval = often") for agent in AGENTS}
BROKEN_ERROR = ("oslo_config.cfg.ConfigFileValueError: Value for option report_interval",
                "could not convert string to float: 'often'")


class NeutronConf:
    """neutron.conf and the four agents' ini files, in one directory.

    Layout under ``directory``: neutron.conf, <agent>_agent.ini, state/, lock/,
    log/.  The whole tree belongs to ``user`` (the Unix user the daemons run
    as).  ``host`` fakes a node name, so two sets can act as two hosts.
    """

    def __init__(self, directory: str, transport_url: str, host: str = "node-1",
                 ovsdb_connection: str = "tcp:127.0.0.1:6640", user: str = "neutron",
                 integration_bridge: str = "br-int", of_listen_port: Optional[int] = None,
                 root_helper: Optional[str] = None, report_interval: int = 30,
                 debug: bool = False) -> None:
        self.dir = directory
        self.user = user
        if root_helper is None:
            root_helper = ROOTWRAP if user == "root" else "sudo " + ROOTWRAP
        self.fields = dict(
            transport_url=transport_url, host=host, ovsdb_connection=ovsdb_connection,
            integration_bridge=integration_bridge, root_helper=root_helper,
            of_listen_port=of_listen_port or free_port(), report_interval=report_interval,
            debug=str(debug).lower(), state_path=self.state_path, lock_path=self.lock_path,
            log_dir=self.log_dir, nova_metadata_port=free_port(), metadata_secret="s3cret")

    @property
    def neutron_conf(self) -> str:
        return os.path.join(self.dir, "neutron.conf")

    @property
    def state_path(self) -> str:
        return os.path.join(self.dir, "state")

    @property
    def lock_path(self) -> str:
        return os.path.join(self.dir, "lock")

    @property
    def log_dir(self) -> str:
        return os.path.join(self.dir, "log")

    def ini(self, agent: str) -> str:
        return os.path.join(self.dir, AGENTS[agent][1])

    def binary(self, agent: str) -> str:
        return AGENTS[agent][0]

    def log_file(self, agent: str) -> str:
        """Where oslo.log writes with log_dir set and no --log-file: <log_dir>/<binary>.log."""
        return os.path.join(self.log_dir, os.path.basename(self.binary(agent)) + ".log")

    def argv(self, agent: str) -> List[str]:
        return [self.binary(agent), "--config-file", self.neutron_conf,
                "--config-file", self.ini(agent)]

    def write(self, broken: Sequence[str] = ()) -> "NeutronConf":
        """Write every file; the agents named in ``broken`` get an ini that fails at start."""
        for sub in ("state", "lock", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        os.chmod(self.dir, 0o750)
        with open(self.neutron_conf, "w") as f:
            f.write(NEUTRON_CONF.format(**self.fields))
        for agent in AGENTS:
            text = INI[agent].format(**self.fields)
            if agent in broken:
                section, line = BROKEN[agent]
                text += f"\n{section}\n{line}\n"
            with open(self.ini(agent), "w") as f:
                f.write(text)
        chown_tree(self.dir, self.user)
        return self

    def write_broken(self, agent: str) -> str:
        """Rewrite ``agent``'s ini with a value oslo.config rejects; returns its path."""
        self.write(broken=[agent])
        return self.ini(agent)



class AgentsWorld(NamedTuple):
    """What the neutron agents of one test module run on."""
    dir: str
    rabbit: Rabbit
    ovs: OVS
    conf: NeutronConf     # under dir/neutron


@contextlib.contextmanager
def agents_world(prefix: str) -> Iterator[AgentsWorld]:
    """A RabbitMQ, a private Open vSwitch and the agents' configuration, under a
    fresh /tmp/<prefix>*.  On exit, every process whose command line names that
    configuration is killed (other tests' agents survive), RabbitMQ and Open
    vSwitch are stopped, and the directory is deleted."""
    base = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(base, 0o755)     # rabbitmq, openvswitch and neutron reach their dirs below
    rabbit, ovs = Rabbit(), OVS()
    try:
        rabbit.start(os.path.join(base, "rabbit"))
        ovs.start(os.path.join(base, "ovs"))
        conf = NeutronConf(os.path.join(base, "neutron"), rabbit.url,
                           ovsdb_connection=ovs.connection).write()
        yield AgentsWorld(base, rabbit, ovs, conf)
    finally:
        for pid in pids_mentioning(os.path.join(base, "neutron") + "/"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            rabbit.stop()
        finally:
            ovs.stop()
            shutil.rmtree(base, ignore_errors=True)


def spawn_agent(conf: NeutronConf, agent: str, user: Optional[str] = None,
                extra: Sequence[str] = (), env: Optional[Dict[str, str]] = None,
                prefix: Sequence[str] = ()) -> "subprocess.Popen[bytes]":
    """Start one agent as a daemon would run: own session, bare environment, as ``user``
    (default: the configuration's), stdout/stderr to <log_dir>/<binary>.out.

    ``env``: more environment variables.  ``prefix``: a command that runs its
    arguments (e.g. unshare ... sh -c '...; exec "$@"' sh), started as ``user``;
    it should exec the agent, so that the agent leads the session."""
    user = user or conf.user
    uid, gid, groups = user_ids(user)
    home = pwd.getpwnam(user).pw_dir
    environ = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": home if os.path.isdir(home) else "/"}
    environ.update(env or {})
    out_path = os.path.join(conf.log_dir, os.path.basename(conf.binary(agent)) + ".out")
    with open(out_path, "ab") as out:
        os.chown(out_path, uid, gid)
        return subprocess.Popen([*prefix, *conf.argv(agent), *extra], env=environ, cwd="/",
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, user=uid, group=gid, extra_groups=groups)


def stop_agent(proc: "subprocess.Popen[bytes]", timeout: float = 15.0) -> Optional[int]:
    """TERM the agent, then anything left in its session (privsep helpers...); its exit code."""
    kill_session(proc, timeout)
    return proc.returncode
