"""The System's commands: run one and keep its output, run one for its
exit status alone, pipe two, start a daemon detached, reap it.

A part of the facade (:class:`mirantis_ocf.system.System`).  Every command
gets :func:`command_env`: never the ``OCF_RESKEY_*`` parameters.
"""
from __future__ import annotations

import os
import time

from .sys_files import DEFAULT_PATH, Files, open_log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Sequence, Tuple


class CommandResult:
    """What a command did: its exit code and its output."""

    __slots__ = ("argv", "rc", "stdout", "stderr", "timed_out")

    def __init__(self, argv: Tuple[str, ...], rc: int, stdout: str, stderr: str,
                 timed_out: bool = False) -> None:
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def first_line(self, marker: str = "") -> str:
        """The first output line containing ``marker`` (stderr first), stripped."""
        for text in (self.stderr, self.stdout):
            for line in text.splitlines():
                if marker in line and line.strip():
                    return line.strip()
        return ""


class Commands(Files):
    """Commands and the daemons they start (``which`` comes from :class:`Files`)."""

    def __init__(self) -> None:
        self._children: Dict[int, object] = {}

    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            input_text: Optional[str] = None, detach: bool = False) -> CommandResult:
        """Run a command without a shell, with ``LC_ALL=C`` and a hard timeout.

        Output goes through temporary files rather than pipes, so a command
        that leaves a daemon behind (``haproxy -D``) cannot hang the agent by
        holding a pipe open.  ``detach`` puts the command in its own session,
        so a daemon it forks survives Pacemaker killing the agent's group.
        """
        import subprocess
        import tempfile
        full_env = command_env(env)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    list(argv), stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
                    stdout=out, stderr=err, env=full_env, cwd="/", close_fds=True,
                    start_new_session=detach)
            except OSError as exc:
                return CommandResult(tuple(argv), 127, "", f"{argv[0]}: {exc.strerror}")
            timed_out = False
            try:
                proc.communicate(input=input_text.encode() if input_text is not None else None,
                                 timeout=max(timeout, 0.1))
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.kill()
                proc.wait()
            out.seek(0)
            err.seek(0)
            return CommandResult(tuple(argv), proc.returncode, out.read().decode(errors="replace"),
                                 err.read().decode(errors="replace"), timed_out)

    def pipe(self, producer: Sequence[str], consumer: Sequence[str],
             timeout: float) -> Tuple[CommandResult, CommandResult]:
        """``producer | consumer``, without a shell, both killed past
        ``timeout``: each one's result (stdout is the pipe: not kept)."""
        import subprocess
        import tempfile
        env = command_env()
        with tempfile.TemporaryFile() as err1, tempfile.TemporaryFile() as err2, \
                tempfile.TemporaryFile() as out2:
            try:
                first = subprocess.Popen(list(producer), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err1, env=env, cwd="/",
                                         close_fds=True)
            except OSError as exc:
                failed = CommandResult(tuple(producer), 127, "", f"{producer[0]}: {exc.strerror}")
                return failed, CommandResult(tuple(consumer), 127, "", "not started")
            try:
                second = subprocess.Popen(list(consumer), stdin=first.stdout, stdout=out2,
                                          stderr=err2, env=env, cwd="/", close_fds=True)
            except OSError as exc:
                first.kill()
                first.wait()
                return (CommandResult(tuple(producer), -9, "", "killed"),
                        CommandResult(tuple(consumer), 127, "", f"{consumer[0]}: {exc.strerror}"))
            finally:
                assert first.stdout is not None
                first.stdout.close()        # the consumer holds the pipe now
            end = time.monotonic() + max(timeout, 0.1)
            timed_out = False
            for proc in (second, first):
                try:
                    proc.wait(timeout=max(end - time.monotonic(), 0.01))
                except subprocess.TimeoutExpired:
                    timed_out = True
                    first.kill()
                    second.kill()
                    first.wait()
                    second.wait()
                    break
            for f in (err1, err2, out2):
                f.seek(0)
            return (CommandResult(tuple(producer), first.returncode, "",
                                  err1.read().decode(errors="replace"), timed_out),
                    CommandResult(tuple(consumer), second.returncode,
                                  out2.read().decode(errors="replace"),
                                  err2.read().decode(errors="replace"), timed_out))

    def call(self, argv: Sequence[str], timeout: float, wait: bool = True) -> Optional[int]:
        """Run a short command for its exit status alone (no output kept),
        with ``os.posix_spawn``: none of :meth:`run`'s imports (subprocess,
        tempfile), which a monitor that runs every few seconds would pay.
        None if it cannot be run, or is killed past ``timeout``.  With
        ``wait=False``, 0 once it is started: it finishes on its own (an
        action exits at once, and the command is reparented)."""
        path = self.which(argv[0]) if "/" not in argv[0] else argv[0]
        if path is None:
            return None
        null = os.open(os.devnull, os.O_RDWR)
        try:
            pid = os.posix_spawn(path, list(argv), command_env(),
                                 file_actions=[(os.POSIX_SPAWN_DUP2, null, 0),
                                               (os.POSIX_SPAWN_DUP2, null, 1),
                                               (os.POSIX_SPAWN_DUP2, null, 2)])
        except OSError:
            return None
        finally:
            os.close(null)
        if not wait:
            return 0
        end = time.monotonic() + max(timeout, 0.1)
        delay = 0.002
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() >= end:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def spawn(self, argv: Sequence[str], log_path: Optional[str] = None,
              user: Optional[str] = None, group: Optional[str] = None,
              env: Optional[Mapping[str, str]] = None) -> int:
        """Start a daemon detached: own session, cwd ``/``, stdio away from ours."""
        import subprocess
        extra = dict(env or {})
        groups = None
        if user is not None:
            # the user's own groups: without this the daemon would keep ours (root's)
            import pwd
            entry = pwd.getpwnam(user)
            groups = os.getgrouplist(user, entry.pw_gid)
            extra.setdefault("HOME", entry.pw_dir if os.path.isdir(entry.pw_dir) else "/")
            extra.setdefault("USER", user)
            extra.setdefault("LOGNAME", user)
        out = open_log(log_path) if log_path else os.open(os.devnull, os.O_WRONLY)
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd="/", env=command_env(extra),
                                    close_fds=True, start_new_session=True,
                                    user=user, group=group, extra_groups=groups)
        finally:
            os.close(out)
        self._children[proc.pid] = proc
        return proc.pid

    def reap(self, pid: int) -> Optional[int]:
        """Exit status of a child we spawned that has exited, else None."""
        proc = self._children.get(pid)
        if proc is None:
            return None
        return proc.poll()  # type: ignore[attr-defined,no-any-return]


def command_env(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment of a child command: ours, a sane PATH, ``LC_ALL=C``.

    The ``OCF_RESKEY_*`` parameters are left out: they may hold secrets, and a
    daemon running as another user could read them from /proc/PID/environ.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_RESKEY_")}
    env.setdefault("PATH", DEFAULT_PATH)
    if not env["PATH"]:
        env["PATH"] = DEFAULT_PATH
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    if extra:
        env.update(extra)
    return env
