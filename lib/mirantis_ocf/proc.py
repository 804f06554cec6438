"""Processes: pid files, liveness that survives pid reuse, start and stop.

A pid alone proves nothing: after a crash the kernel may give it to any
other process.  A process counts as ours only if its executable and command
line match what we started, and a signal is sent only after re-reading the
process and finding the same start time.
"""
from __future__ import annotations

import os


from .budget import Budget
from .errors import GenericError
from .log import Log
from .system import ProcInfo, System

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterable, List, Optional, Sequence
    Matcher = Callable[[ProcInfo], bool]


# --- pid files ---------------------------------------------------------------

def read_pidfile(system: System, path: str) -> Optional[int]:
    """The pid in a pid file, or None if it is missing, empty or garbage."""
    if not path:
        return None
    text = system.read_text(path)
    if not text:
        return None
    first = text.strip().split("\n", 1)[0].strip()
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses
    return int(first) if first.isascii() and first.isdigit() and int(first) > 0 else None


def write_pidfile(system: System, path: str, pid: int) -> None:
    system.write_text(path, f"{pid}\n", 0o644)


# --- identity ----------------------------------------------------------------

def matcher(exe: Optional[str] = None, argv_has: Sequence[str] = (),
            argv_pair: Optional[Sequence[str]] = None, argv_lacks: Sequence[str] = ()) -> Matcher:
    """A predicate for "this process is our daemon".

    ``exe``: the resolved path of the binary (compared with /proc/PID/exe,
    or with argv[0] when exe is unreadable).  ``argv_has``: words that must
    all appear in the command line.  ``argv_pair``: an option and its value
    that must appear next to each other (``("-f", "/etc/haproxy.cfg")``).
    ``argv_lacks``: words that mark someone else's process (``-c``, a check).
    """
    def match(info: ProcInfo) -> bool:
        if not info.alive:
            return False
        if exe is not None:
            if info.exe is not None:
                if info.exe != exe:
                    return False
            else:  # /proc/PID/exe unreadable (not root): fall back to argv[0]
                argv0 = info.argv[0] if info.argv else ""
                if os.path.basename(argv0) != os.path.basename(exe):
                    return False
        if any(word not in info.argv for word in argv_has):
            return False
        if any(word in info.argv for word in argv_lacks):
            return False
        if argv_pair is not None:
            opt, value = argv_pair
            pairs = zip(info.argv, info.argv[1:])
            if not any(a == opt and b == value for a, b in pairs) and f"{opt}{value}" not in info.argv:
                return False
        return True
    return match


def alive(system: System, pid: Optional[int], match: Matcher) -> Optional[ProcInfo]:
    """The process ``pid`` if it is alive *and* is ours, else None."""
    if pid is None:
        return None
    info = system.process(pid)
    if info is None or not match(info):
        return None
    own = system.own_mntns()
    return None if own and info.mntns and info.mntns != own else info


def find(system: System, match: Matcher) -> List[ProcInfo]:
    """Every live process that is ours (a scan of /proc; not for the hot path).

    A process in another mount namespace (a container, or another node of a
    test cluster on one host) is never ours, whatever its command line says:
    its paths name another file system.
    """
    found = []
    own = system.own_mntns()
    for pid in system.pids():
        if pid == os.getpid():
            continue
        info = system.process(pid)
        if info is None or (own and info.mntns and info.mntns != own):
            continue
        if match(info):
            found.append(info)
    return found


def descendants(system: System, roots: Sequence[ProcInfo]) -> List[ProcInfo]:
    """These processes and every live descendant of theirs (one /proc scan)."""
    if not roots:
        return []
    children: dict = {}   # type: ignore[type-arg]
    for pid in system.pids():
        info = system.process(pid)
        if info is not None and info.alive and pid != os.getpid():
            children.setdefault(info.ppid, []).append(info)
    family, todo = list(roots), list(roots)
    while todo:
        for child in children.get(todo.pop().pid, []):
            if all(child.pid != f.pid for f in family):
                family.append(child)
                todo.append(child)
    return family


def same(system: System, info: ProcInfo) -> bool:
    """True while ``info`` still names the same live process (no pid reuse)."""
    now = system.process(info.pid)
    return now is not None and now.alive and now.start_time == info.start_time


def frozen(system: System, info: ProcInfo, settle: float = 0.5) -> bool:
    """True if ``info`` is stopped by a signal (state T: SIGSTOP, SIGTSTP),
    now and again ``settle`` seconds later: a daemon that serves nothing
    while its pid looks alive.  A tracing stop (t: strace, a debugger) is
    not counted: strace makes it at every system call."""
    if info.state != "T":
        return False
    system.sleep(settle)
    now = system.process(info.pid)
    return now is not None and now.start_time == info.start_time and now.state == "T"


def frozen_reason(name: str, info: ProcInfo) -> str:
    return f"{name} (pid {info.pid}) is stopped (SIGSTOP): it serves nothing"


# --- waiting -----------------------------------------------------------------

def wait_until(system: System, budget: Budget, done: Callable[[], bool],
               failed: Callable[[], Optional[str]] = lambda: None,
               interval: float = 0.1, limit: Optional[float] = None,
               max_interval: float = 1.0) -> bool:
    """Poll ``done`` until it holds, the budget (or ``limit`` s) runs out, or ``failed``.

    ``limit``, when given, replaces the budget: the caller has reserved it.

    ``failed`` returns a reason when waiting longer is pointless (the daemon
    died); it is raised as :class:`GenericError` at once, so a start fails
    fast instead of looping until Pacemaker's timeout.
    """
    end = system.monotonic() + (limit if limit is not None else budget.remaining())
    while True:
        if done():
            return True
        reason = failed()
        if reason:
            raise GenericError(reason)
        left = end - system.monotonic()
        if left <= 0:
            return False
        system.sleep(min(interval, left))
        interval = min(interval * 1.5, max_interval)


# --- starting ----------------------------------------------------------------

def last_line(system: System, path: Optional[str]) -> str:
    """The last non-empty line of a log file, for an exit reason."""
    text = system.read_text(path) if path else None
    return last_of(text or "")


def last_of(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines()[-50:] if ln.strip()]
    return lines[-1][-200:] if lines else ""


def exit_note(status: Optional[int]) -> str:
    """How a child ended, from its wait status as Popen gives it (a signal
    is negative): "killed by SIGKILL", "exit status 1", or "exited"."""
    if status is None:
        return "exited"
    if status < 0:
        import signal
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def start_daemon(system: System, budget: Budget, name: str, argv: Sequence[str],
                 pidfile: str, ready: Callable[[int], bool], log_path: Optional[str] = None,
                 user: Optional[str] = None, group: Optional[str] = None,
                 explain: Callable[[str], str] = last_of) -> int:
    """Start a foreground daemon detached, record its pid, wait until ``ready(pid)``.

    If the daemon exits first, fail at once with its exit status and what
    ``explain`` finds in the lines it added to its log (by default the last
    one), rather than wait for Pacemaker's timeout.
    """
    offset = system.size(log_path) if log_path else 0
    pid = system.spawn(argv, log_path=log_path, user=user, group=group)
    write_pidfile(system, pidfile, pid)

    def died() -> Optional[str]:
        status = system.reap(pid)
        if status is None:
            info = system.process(pid)
            if info is not None and info.alive:
                return None
            status = system.reap(pid)     # it may have exited (and been reaped) just now
        detail = explain(system.read_from(log_path, offset) or "") if log_path else ""
        code = exit_note(status)
        # the daemon's words first: Pacemaker keeps 128 characters of a reason
        return f"{name} died during start: {detail} ({code})" if detail \
            else f"{name} died during start ({code})"

    if not wait_until(system, budget, lambda: ready(pid), died):
        raise GenericError(f"{name} (pid {pid}) was not ready within the start timeout")
    return pid


# --- stopping ----------------------------------------------------------------

def stop_processes(system: System, targets: Iterable[ProcInfo], budget: Budget, log: Log,
                   name: str, term: int = 15, grace: Optional[float] = None) -> None:
    """TERM (and CONT), wait within the budget, then KILL; return only when all are gone.

    Raises :class:`GenericError` if a process survives KILL (a process in D
    state): a stop must not claim success while the service still runs.
    ``grace`` shortens the wait after TERM, for a process known to have
    nothing to lose (a Galera node outside any Primary Component).
    """
    import signal
    targets = [t for t in targets if same(system, t)]
    if not targets:
        return
    log.info(f"stopping {name}: signal {signal.Signals(term).name} to pid "
             + ",".join(str(t.pid) for t in targets))
    for t in targets:
        system.signal_process(t, term)
        if term != signal.SIGKILL:
            # as systemd does: a stopped process (SIGSTOP, a hung daemon
            # someone froze) acts on TERM only once it runs again
            system.signal_process(t, signal.SIGCONT)

    def gone() -> bool:
        return not any(same(system, t) for t in targets)

    # keep part of the budget for KILL and its own wait
    reserve = min(5.0, budget.remaining() * 0.25)
    wait = max(budget.remaining() - reserve, 0.1)
    if wait_until(system, budget, gone, limit=min(wait, grace) if grace is not None else wait):
        return
    survivors = [t for t in targets if same(system, t)]
    log.warning(f"{name} did not stop on {signal.Signals(term).name} in time: "
                "SIGKILL to pid " + ",".join(str(t.pid) for t in survivors))
    for t in survivors:
        system.signal_process(t, signal.SIGKILL)
    # at least a moment for the kernel to reap, taken from the reporting margin
    if wait_until(system, budget, gone, limit=max(reserve, min(1.0, budget.margin / 2))):
        return
    left = [str(t.pid) for t in targets if same(system, t)]
    raise GenericError(f"{name} pid {','.join(left)} survived SIGKILL")
