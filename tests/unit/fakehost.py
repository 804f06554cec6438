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

    def kill(self, pid: int, sig: int) -> bool:
        self.signals.append((pid, sig))
        if pid not in self.procs:
            return False
        if sig == 9 or pid not in self.ignore_term:
            del self.procs[pid]
        return True

    def signal_process(self, info: ProcInfo, sig: int) -> bool:
        now = self.procs.get(info.pid)
        if now is None or now.start_time != info.start_time:
            return False
        return self.kill(info.pid, sig)

    # files
    def read_text(self, path: str) -> Optional[str]:
        return self.files.get(path)

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        self.files[path] = text

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
