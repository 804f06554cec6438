"""The facade over the world: commands, processes, files, sockets and the clock.

Every side effect of an agent goes through one :class:`System`, so that unit
tests can hand an agent a small recording fake instead of patching ``os``.
Its parts live beside it, one job each:

- ``sys_files``: files, directories, owners, accounts, ``which``, ``open_log``;
- ``sys_commands``: running commands and starting daemons (``CommandResult``);
- ``sys_processes``: processes read from /proc, signals, a process's TCP
  peers and network namespace (``ProcInfo``);
- ``sys_sql``: queries with pymysql, imported lazily.

Here: the facade itself, a unix socket's request, the host name and the clock.
"""
from __future__ import annotations

import time

from .sys_commands import CommandResult, command_env
from .sys_files import DEFAULT_PATH, open_log
from .sys_processes import ProcInfo, Processes
from .sys_sql import Sql, _import_pymysql

__all__ = ["System", "CommandResult", "ProcInfo", "DEFAULT_PATH", "command_env", "open_log",
           "_import_pymysql"]


class System(Processes, Sql):
    """The real host.  Subclass it in tests; override only what the test needs."""

    def hostname(self) -> str:
        import socket
        return socket.gethostname()

    def unix_request(self, path: str, request: bytes, timeout: float) -> bytes:
        """Send one request on a unix stream socket and read until EOF."""
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(max(timeout, 0.1))
            sock.connect(path)
            sock.sendall(request)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    # --- clock -------------------------------------------------------------
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))
