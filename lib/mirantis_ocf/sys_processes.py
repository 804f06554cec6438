"""The System's processes: read one from /proc, list them, signal exactly
one (never a successor that reused its pid), and what a process holds of
the network: its TCP peers, its network namespace.

A part of the facade (:class:`mirantis_ocf.system.System`).  It reads
``/proc`` directly: it is what ``psutil`` does on Linux, without its import
cost on the ``monitor`` path.
"""
from __future__ import annotations

import os

from .sys_commands import Commands

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Tuple


class ProcInfo:
    """What identifies a process beyond its pid."""

    __slots__ = ("pid", "ppid", "state", "start_time", "exe", "argv", "mntns")

    def __init__(self, pid: int, ppid: int, state: str, start_time: int, exe: Optional[str],
                 argv: Tuple[str, ...], mntns: Optional[str] = None) -> None:
        self.pid = pid
        self.ppid = ppid
        self.state = state
        self.start_time = start_time    # clock ticks since boot: changes when a pid is reused
        self.exe = exe                  # None when unreadable (kernel thread, not root)
        self.argv = argv
        # its mount namespace: paths in its command line mean what they say
        # only if it sees the same file system as we do
        self.mntns = mntns

    def __repr__(self) -> str:
        return f"ProcInfo(pid={self.pid}, state={self.state!r}, argv={self.argv!r})"

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X", "x")


class Processes(Commands):
    """Processes, by /proc (``reap`` comes from :class:`Commands`: a child of
    ours that exited is reaped before it is read)."""

    def process(self, pid: int) -> Optional[ProcInfo]:
        """Read one process from /proc; None if there is no such process."""
        if pid <= 0:
            return None
        self.reap(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            return None
        # comm may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        try:
            exe: Optional[str] = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = None
        if exe and exe.endswith(" (deleted)"):   # binary upgraded under a running daemon
            exe = exe[: -len(" (deleted)")]
        argv = tuple(a.decode(errors="replace") for a in cmdline.split(b"\0") if a)
        try:
            mntns: Optional[str] = os.readlink(f"/proc/{pid}/ns/mnt")
        except OSError:
            mntns = None
        return ProcInfo(pid, int(fields[1]), fields[0], int(fields[19]), exe, argv, mntns)

    def own_mntns(self) -> Optional[str]:
        try:
            return os.readlink("/proc/self/ns/mnt")
        except OSError:
            return None

    def pids(self) -> List[int]:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]

    def kill(self, pid: int, sig: int) -> bool:
        try:
            os.kill(pid, sig)
            return True
        except ProcessLookupError:
            return False

    def signal_process(self, info: ProcInfo, sig: int) -> bool:
        """Signal exactly the process ``info`` describes, never one that reused its pid.

        A pidfd pins the process: once it is open and the start time still
        matches, the signal cannot reach a successor.  Without pidfd (an old
        kernel), the start time is checked just before ``kill``.
        """
        try:
            fd = os.pidfd_open(info.pid)
        except ProcessLookupError:
            return False
        except (AttributeError, OSError):
            now = self.process(info.pid)
            return (now is not None and now.start_time == info.start_time
                    and self.kill(info.pid, sig))
        try:
            now = self.process(info.pid)
            if now is None or now.start_time != info.start_time:
                return False
            import signal
            signal.pidfd_send_signal(fd, sig)
            return True
        except ProcessLookupError:
            return False
        finally:
            os.close(fd)

    def tcp_peer_ports(self, pid: int) -> List[int]:
        """The remote ports of the ESTABLISHED TCP connections a process holds.

        Its socket inodes (/proc/PID/fd) matched against the TCP tables of
        its network namespace (/proc/PID/net/tcp and tcp6), as ``ss -tnp``
        does, without running it.
        """
        inodes = set()
        for fd in self.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        ports: List[int] = []
        if not inodes:
            return ports
        for table in ("tcp", "tcp6"):
            text = self.read_text(f"/proc/{pid}/net/{table}") or ""
            for line in text.splitlines()[1:]:
                fields = line.split()
                # sl local rem st ... inode; state 01 is ESTABLISHED
                if len(fields) > 9 and fields[3] == "01" and fields[9] in inodes:
                    ports.append(int(fields[2].rsplit(":", 1)[1], 16))
        return ports

    def net_namespace(self, pid: int) -> Optional[int]:
        """The inode of a process's network namespace (None if it is gone)."""
        try:
            link = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            return None
        return int(link[link.index("[") + 1:-1]) if link.startswith("net:[") else None

    def named_namespaces(self) -> Dict[str, int]:
        """``ip netns`` namespaces (/run/netns) and the inode of each."""
        found = {}
        for name in self.listdir("/run/netns"):
            try:
                found[name] = os.stat(os.path.join("/run/netns", name)).st_ino
            except OSError:
                continue
        return found
