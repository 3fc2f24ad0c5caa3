"""Folders opened without following links; removals relative to an open folder.

On POSIX every folder is opened relative to its parent's descriptor with ``O_NOFOLLOW`` and
entries are looked at and removed with ``*at`` calls (``fstatat``, ``unlinkat``): a folder
swapped for a symbolic link between listing and opening is refused by the kernel, and a
removal can only hit the folder that was listed, whatever is renamed meanwhile. Elsewhere
(Windows) the same operations go by path, with ``lstat`` checks that no component is a link:
the window for a race is narrower there, not closed.

Every operation treats an entry that has vanished meanwhile as "nothing to do", never as an
error: another process may remove files while GC looks at them.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be removed there anyway
    fcntl = None

FD_BASED = (os.name == "posix" and os.scandir in os.supports_fd
            and {os.open, os.stat, os.unlink, os.rmdir, os.readlink} <= os.supports_dir_fd)
_GONE = (errno.ENOENT, errno.ENOTDIR)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def shown(path: Path | str) -> str:
    """A path fit for a message, a log line or JSON, on one line: undecodable bytes of a name as
    ``\\xNN``, control characters (a newline in a name) escaped."""
    text = os.fsencode(str(path)).decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def last_used(st: os.stat_result, changed: bool) -> float:
    """When an entry was last used: the newest of its modification and access times, and with
    ``changed`` of its change time too (a move or chmod counts). As systemd-tmpfiles judges age."""
    t = st.st_mtime if st.st_mtime > st.st_atime else st.st_atime
    return max(t, st.st_ctime) if changed else t


def size_text(n: int) -> str:
    """Bytes in decimal units (1 MB = 10^6 bytes, as the benches report them)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def resolve_roots(roots: dict[str, Path]) -> dict[str, Path]:
    """The roots with every symbolic link in their own path resolved, once, at the start of a GC.

    A root that is itself a link (``/data -> /mnt/big/data``) is thus cleaned where it points;
    below a root no link is ever followed.
    """
    return {name: Path(os.path.realpath(root)) for name, root in roots.items()}


def _gone(exc: OSError) -> bool:
    return exc.errno in _GONE


class Dir:
    """An open folder (by descriptor on POSIX, by path elsewhere). Use as a context manager."""

    __slots__ = ("fd", "path", "stat")

    def __init__(self, fd: int | None, path: Path, st: os.stat_result):
        self.fd = fd
        self.path = path
        self.stat = st

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path) -> Dir:
        """Open ``path`` itself (a root, already resolved); OSError when it is not a folder."""
        if FD_BASED:
            fd = os.open(path, _DIR_FLAGS)
            return cls(fd, Path(path), os.fstat(fd))
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
        return cls(None, Path(path), st)

    def child(self, name: str) -> Dir | None:
        """The subfolder ``name``; None if it vanished, is a link or is not a folder."""
        try:
            if FD_BASED:
                fd = os.open(name, _DIR_FLAGS, dir_fd=self.fd)
                return Dir(fd, self.path / name, os.fstat(fd))
            st = os.lstat(self.path / name)
            if not stat.S_ISDIR(st.st_mode):
                return None
            return Dir(None, self.path / name, st)
        except OSError as exc:
            if _gone(exc) or exc.errno == errno.ELOOP:  # ELOOP: a link, never followed
                return None
            raise

    def descend(self, parts: tuple[str, ...] | list[str]) -> Dir | None:
        """The folder ``parts`` below this one, each component opened without following links."""
        current: Dir | None = self.child(parts[0]) if parts else None
        for name in parts[1:]:
            if current is None:
                return None
            nxt = current.child(name)
            current.close()
            current = nxt
        return current

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Dir:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- looking ------------------------------------------------------------------------------
    def entries(self) -> list[os.DirEntry]:
        """The folder's entries; empty if it vanished meanwhile."""
        try:
            with os.scandir(self.fd if FD_BASED else self.path) as listing:
                return list(listing)
        except OSError as exc:
            if _gone(exc):
                return []
            raise

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            if FD_BASED:
                return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            return os.lstat(self.path / name)
        except OSError as exc:
            if _gone(exc):
                return None
            raise

    def readlink(self, name: str) -> str | None:
        """Where the link ``name`` points (never followed); None if it is not a link or vanished."""
        try:
            if FD_BASED:
                return os.readlink(name, dir_fd=self.fd)
            return os.readlink(self.path / name)
        except OSError as exc:
            if _gone(exc) or exc.errno == errno.EINVAL:
                return None
            raise

    # -- removing -----------------------------------------------------------------------------
    def unlink(self, name: str) -> bool:
        """Remove the file or link ``name``; False if it had vanished already."""
        try:
            if FD_BASED:
                os.unlink(name, dir_fd=self.fd)
            else:
                os.unlink(self.path / name)
        except OSError as exc:
            if _gone(exc) or exc.errno == errno.EISDIR:  # EISDIR: replaced by a folder meanwhile
                return False
            raise
        return True

    def rmdir(self, name: str) -> bool:
        """Remove the empty folder ``name``; False if it vanished or is no longer empty."""
        try:
            if FD_BASED:
                os.rmdir(name, dir_fd=self.fd)
            else:
                os.rmdir(self.path / name)
        except OSError as exc:
            if _gone(exc) or exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            raise
        return True

    def lock_held(self, name: str) -> bool:
        """True while another process holds a lock (flock, as filelock takes it) on the file ``name``.

        Probing takes the lock for an instant when it is free; a process trying to take it in that
        very instant without waiting would be told it is busy.
        """
        if fcntl is None:
            return False
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
        try:
            fd = os.open(name, flags, dir_fd=self.fd) if FD_BASED else os.open(self.path / name, flags)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)
