"""The System's files: read, write atomically, own, find executables.

A part of the facade (:class:`mirantis_ocf.system.System`), with
:func:`open_log`, the one way root appends to a daemon's log file.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Tuple

# What the agents get if Pacemaker (or `env -i`) gives them no PATH.
DEFAULT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


class Files:
    """Files, directories, owners and accounts on the host."""

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
