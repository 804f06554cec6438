"""The facade over the world: commands, processes, files, sockets and the clock.

Every side effect of an agent goes through one :class:`System`, so that unit
tests can hand an agent a small recording fake instead of patching ``os``.
The real implementation reads ``/proc`` directly: it is what ``psutil`` does
on Linux, without its import cost on the ``monitor`` path, which Pacemaker
runs every few seconds on every node.
"""
from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

# What the agents get if Pacemaker (or `env -i`) gives them no PATH.
DEFAULT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


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


class System:
    """The real host.  Subclass it in tests; override only what the test needs."""

    def __init__(self) -> None:
        self._children: Dict[int, object] = {}

    # --- commands ----------------------------------------------------------
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

    # --- processes ---------------------------------------------------------
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

    # --- files -------------------------------------------------------------
    def read_text(self, path: str, follow: bool = True) -> Optional[str]:
        """A text file's content; None if it is missing (or, with
        ``follow=False``, a link or anything but a plain file)."""
        if follow:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    return f.read()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        import stat
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return f.read().decode("utf-8", errors="replace")

    def size(self, path: str) -> int:
        """A file's size; 0 if it does not exist."""
        try:
            return os.stat(path).st_size
        except OSError:
            return 0

    def read_from(self, path: str, offset: int, limit: int = 65536) -> Optional[str]:
        """What a file holds past ``offset`` (its last ``limit`` bytes at most)."""
        try:
            with open(path, "rb") as f:
                end = f.seek(0, os.SEEK_END)
                f.seek(max(offset, end - limit) if end >= offset else 0)
                return f.read().decode(errors="replace")
        except OSError:
            return None

    def write_text(self, path: str, text: str, mode: int = 0o644,
                   owner: Optional[Tuple[int, int]] = None) -> None:
        """Write atomically: a reader sees the old file or the new one, never half.

        ``owner``: (uid, gid) given to the new file through its descriptor,
        before it takes the path's place (never a chown by path after)."""
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.unlink(tmp)          # left by a crash: never written through (O_EXCL)
        except FileNotFoundError:
            pass
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            try:
                if owner is not None:
                    os.fchown(fd, owner[0], owner[1])
                os.fchmod(fd, mode)     # the umask does not decide (a 0600 secret stays 0600)
                os.write(fd, text.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def secret_file(self, text: str) -> str:
        """A new file holding ``text``, mode 0600 from its creation (O_EXCL,
        never through a link): a client's options with a password, so that
        the password stays off the command line.  Remove it when done."""
        import tempfile
        fd, path = tempfile.mkstemp(prefix="mirantis-ocf-", suffix=".cnf")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def is_executable(self, path: str) -> bool:
        return os.path.isfile(path) and os.access(path, os.X_OK)

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    def ensure_dir(self, path: str, uid: int, gid: int, mode: int = 0o755) -> None:
        """Create a directory (not its parents' owners) for a daemon's user."""
        if not os.path.isdir(path):
            os.makedirs(path, mode)
            os.chown(path, uid, gid, follow_symlinks=False)

    def ensure_file(self, path: str, uid: int, gid: int, mode: int = 0o640) -> None:
        """Create a log file if missing, and give it to the daemon's user,
        through the descriptor that :func:`open_log` checked."""
        fd = open_log(path, mode)
        try:
            os.fchown(fd, uid, gid)
        finally:
            os.close(fd)

    def owner(self, path: str) -> Tuple[int, int]:
        """The owner of ``path`` itself (a link's own, never its target's)."""
        st = os.lstat(path)
        return st.st_uid, st.st_gid

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid)

    def ids(self, user: str, group: str) -> Tuple[Optional[int], Optional[int]]:
        """The uid and gid of a user and a group; None for one that does not exist."""
        import grp
        import pwd
        try:
            uid: Optional[int] = pwd.getpwnam(user).pw_uid
        except KeyError:
            uid = None
        try:
            gid: Optional[int] = grp.getgrnam(group).gr_gid
        except KeyError:
            gid = None
        return uid, gid

    def listdir(self, path: str) -> List[str]:
        """The names in a directory; empty if it does not exist."""
        try:
            return sorted(os.listdir(path))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def which(self, name: str) -> Optional[str]:
        """An executable by path, or by name on PATH (Pacemaker's, or the default)."""
        if "/" in name:
            return name if self.is_executable(name) else None
        for folder in (os.environ.get("PATH") or DEFAULT_PATH).split(":") + DEFAULT_PATH.split(":"):
            candidate = os.path.join(folder or ".", name)
            if folder.startswith("/") and self.is_executable(candidate):
                return candidate
        return None

    # --- sockets and network namespaces --------------------------------------
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

    def hostname(self) -> str:
        import socket
        return socket.gethostname()

    def primary_group(self, user: str) -> Optional[str]:
        """The name of a user's primary group (None if the user does not exist)."""
        import grp
        import pwd
        try:
            gid = pwd.getpwnam(user).pw_gid
        except KeyError:
            return None
        try:
            return grp.getgrgid(gid).gr_name
        except KeyError:
            return str(gid)

    # --- SQL -----------------------------------------------------------------
    def sql(self, socket: str, user: str, password: str, timeout: float,
            statements: Sequence[str]) -> List[List[Tuple[str, ...]]]:
        """Run statements over a MySQL unix socket; the rows of each, as text.

        pymysql is imported here only: the password goes over the socket,
        never on a command line.
        """
        pymysql = _import_pymysql()
        seconds = max(int(timeout), 1)
        conn = pymysql.connect(unix_socket=socket, user=user, password=password,
                               connect_timeout=seconds, read_timeout=seconds,
                               write_timeout=seconds)
        try:
            results = []
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
                    results.append([tuple(str(v) for v in row) for row in cur.fetchall()])
            return results
        finally:
            conn.close()

    def sql_rows(self, server: Union[str, Tuple[str, int]], user: str, password: str,
                 timeout: float, statements: Sequence[Tuple[str, Sequence[object]]]
                 ) -> List[List[Dict[str, str]]]:
        """Run statements with their arguments (escaped by pymysql, never
        formatted by hand) on a server, by unix socket (a path) or TCP (host,
        port); the rows of each, as {column: text}, NULL as "".

        Over TCP MariaDB authenticates with mysql_native_password or
        ed25519, which need neither ssl nor cryptography."""
        pymysql = _import_pymysql()
        seconds = max(int(timeout), 1)
        where: Dict[str, Any] = {"unix_socket": server} if isinstance(server, str) else \
            {"host": server[0], "port": server[1]}
        conn = pymysql.connect(user=user, password=password, connect_timeout=seconds,
                               read_timeout=seconds, write_timeout=seconds, autocommit=True,
                               **where)
        try:
            results = []
            with conn.cursor() as cur:
                for statement, args in statements:
                    cur.execute(statement, tuple(args) or None)
                    names = [d[0] for d in cur.description or ()]
                    results.append([{n: ("" if v is None else str(v)) for n, v in zip(names, row)}
                                    for row in cur.fetchall()])
            return results
        finally:
            conn.close()

    # --- sockets -----------------------------------------------------------
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


def open_log(path: str, mode: int = 0o640) -> int:
    """A descriptor to append to a log file that root opens in a directory
    its daemon's user may own (/var/log/neutron): never through a symbolic
    link, and only a plain file with a single name.  Otherwise that user
    could make root write to, or hand over, any file (a link to
    /etc/shadow).  Refusals are an OSError whose strerror says why.
    """
    import errno
    import stat
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is a symbolic link; not written through as root",
                          path) from None
        raise
    st = os.fstat(fd)
    if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
        return fd
    os.close(fd)
    why = "has other hard links" if stat.S_ISREG(st.st_mode) else "is not a regular file"
    raise OSError(errno.EPERM, f"{why}; not written to as root", path)


def _import_pymysql() -> "ModuleType":
    """pymysql, without what a query over a unix socket never uses.

    - pymysql imports ``cryptography`` (for MySQL's sha256 and caching_sha2
      RSA exchange over TCP) and ``ssl`` if they are there, and carries on
      without them if not.  Over a local socket neither is used: MariaDB
      authenticates with mysql_native_password (hashlib), unix_socket or
      ed25519, and pymysql counts a unix socket as secure, so even
      caching_sha2 sends the password without RSA.
    - ``hashlib`` loads OpenSSL's ``_hashlib`` when it can; without it, it
      uses Python's own SHA-1 and SHA-256, the same digests.
    - ``traceback`` (with linecache and tokenize) serves pymysql only when a
      connection fails; it is imported on its first use.

    Together they were two thirds of pymysql's import, paid by every
    monitor.  They are kept out while pymysql loads, and left importable
    for anything else afterwards.
    """
    import sys
    import types

    class Deferred(types.ModuleType):
        """A stand-in for a module, which imports the real one on its first use."""

        def __getattr__(self, attr: str) -> Any:
            import importlib
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            return getattr(importlib.import_module(self.__name__), attr)

    blocked = [name for name in ("cryptography", "ssl") if name not in sys.modules]
    if "hashlib" not in sys.modules:
        blocked.append("_hashlib")
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    deferred = [name for name in ("traceback",) if name not in sys.modules]
    for name in deferred:
        sys.modules[name] = Deferred(name)
    try:
        import pymysql
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
        for name in deferred:
            if isinstance(sys.modules.get(name), Deferred):
                del sys.modules[name]
    module: ModuleType = pymysql
    return module



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
