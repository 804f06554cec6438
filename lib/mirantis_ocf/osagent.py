"""The OpenStack network agents (quantum/neutron) as one kind of daemon.

Each of ``quantum-agent-{ovs,dhcp,l3,metadata}`` is a short declaration on
top of :class:`NetworkAgent`: its kind, its parameters with Fuel's defaults,
and what it cleans up.  The same declaration serves the Neutron alias
(``neutron-agent-*``, chosen by the name the file is run under) with
today's Neutron defaults.

What the base does, for all four:

* start: launch ``binary --config-file config --config-file <second config>
  additional_parameters`` as ``user``, detached, its output appended to
  ``log_file``, and return once it runs: it holds a connection to the AMQP
  port, or it has lived ``START_SETTLE`` seconds.  A daemon that exits
  during start fails the start at once, with its last log line.
* monitor: the process named by the pid file, checked by identity (its
  program and its first ``--config-file``), so a reused pid or another
  process of the same binary never passes.  Optionally (``amqp_check``, or
  OCF_CHECK_LEVEL=10) it must hold an ESTABLISHED TCP connection to
  ``amqp_server_port``, as the upstream agents once checked.
* stop: TERM, wait within the operation's timeout, KILL; the daemon's own
  children too; then the agent's clean-up.  Idempotent.
"""
from __future__ import annotations

import os

from . import proc
from .agent import Agent, Context
from .codes import ExitCode
from .errors import ArgsError, GenericError, NotInstalledError
from .metadata import ActionSpec
from .netclean import CLEANUP_BASE, CLEANUP_PER_NAMESPACE
from .params import Param, Type, absolute_path, one_line, port_number, shell_words, split_args
from .rescheduling import DEFAULT_RSCTMP, openrc_path, rescheduler

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple, Type as TypeOf

    from .params import Value
    from .system import ProcInfo

# A daemon still alive this long after its launch has read its configuration
# (oslo.config fails within about 2 s on an idle machine here, and took over
# 5 s with a dozen agents starting at once): start returns.  One that has
# connected to the AMQP server before that returns at once.
START_SETTLE = 10.0


def no_blank(value: object) -> Optional[str]:
    text = str(value)
    if not text.strip() or any(c.isspace() for c in text):
        return "must be one word"
    return None


def daemon_params(project: str, kind: str, binary: str, second: str, second_path: str,
                  log_name: str, user: str) -> Tuple[Param, ...]:
    """The parameters every network agent has, with Fuel's (quantum) defaults."""
    return (
        Param("binary", "The agent's program", default=binary,
              longdesc="The agent daemon: a path, or a name looked up on PATH "
                       "(/usr/sbin:/usr/bin:/sbin:/bin).", checks=(no_blank,)),
        Param("config", f"{project.capitalize()} configuration file",
              default=f"/etc/{project}/{project}.conf",
              longdesc="The first --config-file of the daemon; with binary, it identifies the "
                       "running daemon.", checks=(absolute_path,)),
        Param(second, f"The {kind} agent's configuration file", default=second_path,
              longdesc="The second --config-file of the daemon.", checks=(absolute_path,)),
        Param("user", "User the daemon runs as", default=user,
              longdesc="The daemon runs as this user and its primary group.", checks=(no_blank,)),
        Param("pid", "Pid file", default="",
              longdesc="Where the agent records the daemon's pid. Empty means "
                       "$HA_RSCTMP/$OCF_RESOURCE_INSTANCE.pid, as in Fuel's agent.",
              checks=(lambda v: absolute_path(v) if v else None,)),
        Param("log_file", "File the daemon's output goes to",
              default=f"/var/log/{project}/{log_name}.log",
              longdesc="The daemon's standard output and error are appended here (its own "
                       "logging is set in its configuration files). Created for the user if "
                       "missing.", checks=(absolute_path,)),
        Param("additional_parameters", "Extra arguments of the daemon", default="",
              longdesc="Split into words like a shell would, but never run by one.",
              checks=(shell_words,)),
        Param("amqp_server_port", "Port of the AMQP server", type=Type.INTEGER, default=5672,
              longdesc="The port of the message broker (RabbitMQ). The AMQP check looks for "
                       "an established connection of the daemon to this port.",
              checks=(port_number,)),
        Param("amqp_check", "Require a connection to the AMQP server", type=Type.BOOLEAN,
              default=False,
              longdesc="When true, monitor also fails (OCF_ERR_GENERIC) unless the daemon holds "
                       "an ESTABLISHED connection to amqp_server_port. A monitor with "
                       "OCF_CHECK_LEVEL=10 always checks it. Off by default: a broker that "
                       "restarts elsewhere would otherwise restart every agent."),
    )


CREDENTIALS_USE = ("the rescheduling after start uses to reach the Neutron API "
                   "(Fuel's q-agent-cleanup.py ignored it in favour of /root/openrc)")


def credential_params(project: str) -> Tuple[Param, ...]:
    return (
        Param("username", "Keystone user", default=project,
              longdesc="The user that " + CREDENTIALS_USE + "."),
        Param("password", "Keystone password", default=f"{project}_pass", secret=True,
              longdesc="That user's password; never logged, never on a command line."),
        Param("tenant", "Keystone tenant (project)", default="services",
              longdesc="The tenant (project) of that user."),
        Param("os_auth_url", "Keystone URL", default="http://localhost:5000/v2.0",
              longdesc="The Keystone endpoint; a URL ending in /v2.0 uses the v2.0 API, "
                       "anything else v3.", checks=(one_line,)),
    )


DAEMON_LONGDESC = """
How it works.  start launches "binary --config-file config --config-file
{second} additional_parameters" as user, detached, with its output appended
to log_file, writes the pid file, and returns once the daemon runs: it holds
a connection to the AMQP port, or it has lived {settle:g} seconds.  A daemon
that exits during start (a broken configuration file) fails the start at
once with its last log line as the exit reason.  monitor checks the process
named by the pid file by its identity (its program and its first
--config-file), so a reused pid or another process of the same binary never
counts; with amqp_check (or OCF_CHECK_LEVEL=10) the daemon must also hold an
ESTABLISHED connection to amqp_server_port.  stop sends TERM to the daemon
and its children, waits within the operation timeout, then KILL; it is
idempotent and never fails because of the configuration.

Compatibility with Fuel's agent: the parameter names and defaults are kept,
the unused ones too (marked deprecated), so old configurations still load.
Differences: the pid file names the daemon itself (Fuel wrote the pid of a
shell, then guessed with pgrep); a daemon that dies during start fails the
start at once instead of looping until the timeout; stop never kills
processes that are not this agent's (Fuel's dhcp and ovs agents killed every
dnsmasq on the host).
"""

NEUTRON_NOTE = """
This is the Neutron flavour of quantum-agent-{kind}: the same agent, with
today's Neutron defaults (/etc/neutron, neutron-*-agent, user neutron).
"""


def command_words(argv: Tuple[str, ...]) -> Tuple[str, ...]:
    """A command line, also after the daemon retitled itself.

    Neutron's agents call setproctitle: /proc/PID/cmdline then holds one
    string, "neutron-dhcp-agent (/usr/bin/python3 /usr/bin/neutron-dhcp-agent
    --config-file ...)".  The words inside the parentheses are the original
    command line (paths with spaces cannot be told apart there).
    """
    if len(argv) != 1 or " (" not in argv[0] or not argv[0].endswith(")"):
        return argv
    return tuple(argv[0][argv[0].index(" (") + 2:-1].split())


def program_words(info: ProcInfo, name: str) -> Optional[Tuple[str, ...]]:
    """The command line of ``info`` when it is alive and runs the program
    ``name`` (among its first two words: ``python3 /usr/bin/neutron-…``)."""
    if not info.alive:
        return None
    argv = command_words(info.argv)
    return argv if any(os.path.basename(a) == name for a in argv[:2]) else None


def heads(found: Sequence[ProcInfo]) -> List[ProcInfo]:
    """Those of ``found`` that are no worker (child) of another of them."""
    pids = {p.pid for p in found}
    return [p for p in found if p.ppid not in pids]


def config_files(argv: Sequence[str]) -> List[str]:
    """The --config-file values of a command line, in order."""
    found = []
    for i, word in enumerate(argv):
        if word == "--config-file" and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif word.startswith("--config-file="):
            found.append(word[len("--config-file="):])
    return found


class NetworkAgent(Agent):
    """Base of the four network agents.  Subclasses declare; this acts."""

    version = "2.0"
    kind: ClassVar[str] = ""                # ovs, dhcp, l3, metadata
    flavour: ClassVar[str] = "quantum"
    second_config: ClassVar[str] = "plugin_config"   # metadata: agent_config
    # the Neutron alias's defaults, where they differ from Fuel's quantum ones
    neutron_defaults: ClassVar[Mapping[str, Value]] = {}
    identity = ("binary", "config", "pid")
    # the prefixes of the network namespaces that clean_up deletes
    namespaces: ClassVar[Tuple[str, ...]] = ()
    actions = (
        ActionSpec("start", timeout=30),
        ActionSpec("stop", timeout=30),
        ActionSpec("monitor", timeout=30, interval=20, depth=0),
        ActionSpec("status", timeout=20),
        ActionSpec("validate-all", timeout=10),
        ActionSpec("meta-data", timeout=5),
    )

    @classmethod
    def for_file(cls, path: str) -> TypeOf[NetworkAgent]:
        """The flavour the agent file is run as: neutron-agent-* or quantum-agent-*."""
        return cls.neutron() if os.path.basename(path).startswith("neutron-") else cls

    @classmethod
    def neutron(cls) -> TypeOf[NetworkAgent]:
        table = cls.neutron_defaults
        params = tuple(p.with_default(table[p.name]) if p.name in table else p
                       for p in cls.params)
        return type(cls.__name__, (cls,), {
            "name": f"neutron-agent-{cls.kind}", "flavour": "neutron", "params": params,
            "shortdesc": cls.shortdesc.replace("Quantum", "Neutron"),
            "longdesc": NEUTRON_NOTE.format(kind=cls.kind) + cls.longdesc})

    # --- what the daemon is ----------------------------------------------------
    def _pidfile(self, ctx: Context) -> str:
        if ctx.params.pid:
            return str(ctx.params.pid)
        rsctmp = ctx.environ.get("HA_RSCTMP") or DEFAULT_RSCTMP
        return os.path.join(rsctmp, f"{ctx.instance or self.name}.pid")

    def _program(self, ctx: Context) -> Optional[str]:
        return ctx.system.which(str(ctx.params.binary))

    def _match(self, ctx: Context) -> proc.Matcher:
        """Our daemon: its program among the first two words (``python3
        /usr/bin/neutron-dhcp-agent``), and our config as its first
        --config-file."""
        name = os.path.basename(str(ctx.params.binary))
        config = str(ctx.params.config)

        def match(info: ProcInfo) -> bool:
            argv = program_words(info, name)
            files = config_files(argv) if argv is not None else []
            return bool(files) and files[0] == config
        return match

    def _foreign(self, ctx: Context) -> List[ProcInfo]:
        """Daemons of our program, on our network, that read one of our
        configuration files and are not ours: started outside the cluster,
        e.g. by RDO's systemd units, which put neutron-dist.conf first."""
        name = os.path.basename(str(ctx.params.binary))
        ours = {str(ctx.params.config), str(ctx.params[self.second_config])}
        me = ctx.system.net_namespace(os.getpid())
        mine = self._match(ctx)

        def match(info: ProcInfo) -> bool:
            argv = program_words(info, name)
            if argv is None or mine(info):
                return False
            return bool(ours & set(config_files(argv))) and \
                ctx.system.net_namespace(info.pid) == me
        return heads(proc.find(ctx.system, match))

    def _running(self, ctx: Context) -> Optional[ProcInfo]:
        """The daemon named by the pid file, if alive and ours."""
        return proc.alive(ctx.system, proc.read_pidfile(ctx.system, self._pidfile(ctx)),
                          self._match(ctx))

    def _adopt(self, ctx: Context) -> Optional[ProcInfo]:
        """A daemon of ours that the pid file does not name (the file was lost,
        or the daemon was started by hand): record it, and manage it."""
        mains = heads(proc.find(ctx.system, self._match(ctx)))
        if not mains:
            return None
        main = min(mains, key=lambda p: p.start_time)
        ctx.log.warning(f"{ctx.params.binary} runs as pid {main.pid} but the pid file "
                        f"{self._pidfile(ctx)} does not say so: adopting it")
        try:
            proc.write_pidfile(ctx.system, self._pidfile(ctx), main.pid)
        except OSError as exc:
            ctx.log.warning(f"cannot write {self._pidfile(ctx)}: {exc.strerror}")
        return main

    def _family(self, ctx: Context, mains: Sequence[ProcInfo]) -> List[ProcInfo]:
        """These processes and all their descendants (workers, rootwrap daemons)."""
        return proc.descendants(ctx.system, mains)

    def _amqp_connected(self, ctx: Context, family: Sequence[ProcInfo]) -> bool:
        port = int(ctx.params.amqp_server_port)
        return any(port in ctx.system.tcp_peer_ports(p.pid) for p in family)

    # --- actions -----------------------------------------------------------------
    def monitor(self, ctx: Context) -> ExitCode:
        info = self._running(ctx) or self._adopt(ctx)
        if info is None:
            return ExitCode.NOT_RUNNING
        if proc.frozen(ctx.system, info):
            raise GenericError(proc.frozen_reason(os.path.basename(str(ctx.params.binary)), info))
        if ctx.params.amqp_check or ctx.check_level >= 10:
            # the main process holds it (the agents are eventlet processes):
            # its workers, found by a scan of /proc, only when it does not
            if not self._amqp_connected(ctx, [info]) and \
                    not self._amqp_connected(ctx, self._family(ctx, [info])[1:]):
                raise GenericError(f"{os.path.basename(str(ctx.params.binary))} (pid {info.pid}) "
                                   "holds no established connection to the AMQP server (port "
                                   f"{ctx.params.amqp_server_port})")
        return ExitCode.SUCCESS

    def status(self, ctx: Context) -> ExitCode:
        return self.monitor(ctx)

    def validate_all(self, ctx: Context) -> None:
        if ctx.check_level >= 10:
            self._need_installed(ctx)

    def _need_installed(self, ctx: Context) -> str:
        program = self._program(ctx)
        if program is None:
            raise NotInstalledError(f"binary {ctx.params.binary} is not an executable file "
                                    "on this node")
        for name in ("config", self.second_config):
            path = str(ctx.params[name])
            if not ctx.system.exists(path):
                raise NotInstalledError(f"{name} {path} does not exist on this node")
        uid, _ = ctx.system.ids(str(ctx.params.user), "root")
        if uid is None:
            raise NotInstalledError(f"user {ctx.params.user} does not exist")
        return program

    def start(self, ctx: Context) -> None:
        if self._running(ctx) is not None or self._adopt(ctx) is not None:
            ctx.log.info(f"{ctx.params.binary} is already running")
            return
        program = self._need_installed(ctx)
        foreign = self._foreign(ctx)
        if foreign:
            # a second agent with the same host would be the cloud's twin:
            # our clean-up would kill the first one's dnsmasq and keepalived
            theirs = config_files(command_words(foreign[0].argv))
            ctx.log.error(f"pid {foreign[0].pid}: {' '.join(command_words(foreign[0].argv))}")
            # (an exit reason keeps 128 characters: the command line is in the log)
            raise ArgsError(f"{os.path.basename(str(ctx.params.binary))} pid {foreign[0].pid} "
                            "runs outside the cluster (systemd?): disable it; it reads "
                            f"{', '.join(os.path.basename(f) for f in theirs)}")
        self.clean_up(ctx, "start")
        p = ctx.params
        user = str(p.user)
        group = ctx.system.primary_group(user)
        uid, gid = ctx.system.ids(user, group or "root")
        assert uid is not None and gid is not None
        try:
            ctx.system.ensure_dir(os.path.dirname(str(p.log_file)), uid, gid)
            ctx.system.ensure_file(str(p.log_file), uid, gid)
        except OSError as exc:
            raise GenericError(f"log_file {p.log_file}: {exc.strerror}") from None
        pidfile = self._pidfile(ctx)
        ctx.system.ensure_dir(os.path.dirname(pidfile), 0, 0)
        argv = [program, "--config-file", str(p.config),
                "--config-file", str(p[self.second_config]), *split_args(str(p.additional_parameters))[0]]
        ctx.log.info("starting " + " ".join(argv))
        began = ctx.system.monotonic()
        settle = min(START_SETTLE, ctx.budget.remaining() / 2)

        def ready(pid: int) -> bool:
            info = ctx.system.process(pid)
            if info is None or not info.alive:
                return False                    # start_daemon reports the death
            if ctx.system.monotonic() - began >= settle:
                return True
            return self._amqp_connected(ctx, self._family(ctx, [info]))

        # Its own log (log_dir/log_file in its configuration) tells why it
        # died when its output (our log_file) does not.
        own_log = self._daemon_log(ctx, program)
        own_offset = ctx.system.size(own_log) if own_log else 0

        def explain(output: str) -> str:
            found = oslo_error(output)
            if own_log and (not found or " CRITICAL " not in f" {found}"):
                found = oslo_error(ctx.system.read_from(own_log, own_offset) or "") or found
            return found

        proc.start_daemon(ctx.system, ctx.budget, os.path.basename(program), argv, pidfile,
                          ready, log_path=str(p.log_file), user=user, group=group,
                          explain=explain)
        self.started(ctx)

    def config_value(self, ctx: Context, section: str, *options: str) -> Dict[str, str]:
        """Options of the daemon's configuration files (the later file wins),
        as oslo.config reads them; unreadable files count as empty."""
        import configparser
        found: Dict[str, str] = {}
        for name in ("config", self.second_config):
            parser = configparser.RawConfigParser(strict=False, interpolation=None)
            try:
                parser.read_string(ctx.system.read_text(str(ctx.params[name])) or "")
            except configparser.Error:
                continue
            values = parser.defaults() if section == "DEFAULT" else \
                (dict(parser.items(section)) if parser.has_section(section) else {})
            for option in options:
                value = values.get(option, "").strip()
                if value:
                    found[option] = value
        return found

    def _daemon_log(self, ctx: Context, program: str) -> Optional[str]:
        """The daemon's own log file, as oslo.log derives it from its
        configuration files ([DEFAULT] log_file and log_dir); None if it
        logs to its output only."""
        found = self.config_value(ctx, "DEFAULT", "log_file", "log_dir", "logfile", "logdir")
        log_file = found.get("log_file") or found.get("logfile")
        log_dir = found.get("log_dir") or found.get("logdir")
        if log_file:
            return log_file if log_file.startswith("/") or not log_dir else os.path.join(log_dir, log_file)
        if log_dir:
            return os.path.join(log_dir, os.path.basename(program) + ".log")
        return None

    def stop(self, ctx: Context) -> None:
        mains = [i for i in (self._running(ctx),) if i is not None]
        mains += [i for i in proc.find(ctx.system, self._match(ctx))
                  if all(i.pid != m.pid for m in mains)]
        # a rescheduling still polling would move things to the agent we stop
        mains += proc.find(ctx.system, rescheduler(ctx.instance or self.name))
        # a daemon slow on TERM (oslo's graceful shutdown may take a minute)
        # must leave the clean-up its time: its namespaces would otherwise
        # stay, answering ARP for the gateway, on a node the resource left
        reserve = min(self._cleanup_reserve(ctx), ctx.budget.remaining() / 2)
        proc.stop_processes(ctx.system, self._family(ctx, mains), ctx.budget, ctx.log,
                            os.path.basename(str(ctx.params.binary)),
                            grace=max(ctx.budget.remaining() - reserve, 1.0) if reserve else None)
        for path in (self._pidfile(ctx), openrc_path(ctx, self)):   # and the rescheduling's credentials
            try:
                ctx.system.remove(path)
            except OSError as exc:      # a directory, a read-only place: the daemon is stopped
                ctx.log.warning(f"cannot remove {path}: {exc.strerror}")
        self.clean_up(ctx, "stop")

    def _cleanup_reserve(self, ctx: Context) -> float:
        """Seconds the clean-up needs (0 when it deletes no namespace)."""
        if not self.namespaces or ("remove_artifacts_on_stop_start" in ctx.params
                                   and not ctx.params.remove_artifacts_on_stop_start):
            return 0.0
        spaces = [n for n in ctx.system.named_namespaces() if n.startswith(self.namespaces)]
        return CLEANUP_BASE + CLEANUP_PER_NAMESPACE * len(spaces)

    # --- what each agent adds ---------------------------------------------------------
    def clean_up(self, ctx: Context, when: str) -> None:
        """What a dead agent leaves behind, before start and after stop."""

    def started(self, ctx: Context) -> None:
        """After a successful start (the dhcp and l3 agents reschedule)."""


LEVELS = (" CRITICAL ", " ERROR ", " WARNING ", " INFO ", " DEBUG ", " TRACE ")


def oslo_error(text: str) -> str:
    """The line that says why an OpenStack daemon died, from its log output.

    oslo.log ends a fatal error with the traceback, one "ERROR neutron"
    line each, the very last often empty; the CRITICAL line before it
    names the error.  Without one, the last line that has a message.
    """
    lines = [ln.strip() for ln in text.splitlines()[-200:] if ln.strip()]
    for line in reversed(lines):
        if " CRITICAL " in f" {line} ":
            return compact(line[line.index("CRITICAL"):])
    for line in reversed(lines):
        for level in LEVELS:
            if level in f" {line} ":
                message = line[line.index(level.strip()):]
                if len(message.split()) > 2:          # more than "ERROR neutron"
                    return compact(message)
                break
        else:
            return line[-300:]
    return ""


def compact(message: str) -> str:
    """An oslo.log message, short enough for an exit reason: without the
    level, the logger, the request id, "Unhandled error:", the exception's
    module path and oslo.config's LocationInfo."""
    import re
    message = re.sub(r"^(CRITICAL|ERROR|WARNING|INFO|DEBUG|TRACE) \S+ (\[[^]]*\] )?", "", message)
    message = re.sub(r"^Unhandled error: ", "", message)
    message = re.sub(r"^([a-z_][\w]*\.)+(?=[A-Z]\w*(Error|Exception)\b)", "", message)
    message = re.sub(r" from LocationInfo\(.*?\)(?= is not valid)", "", message)
    return message[:300]
