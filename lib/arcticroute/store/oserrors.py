"""Errors of writing a root, as the domain errors a person can act on.

A full disk (ENOSPC, EDQUOT), a read-only file system (EROFS) or a folder this user may not
write (EACCES, EPERM) becomes ``DiskFullError`` or ``NotWritableError``: the message names the
path, the hint says what to do and which variable moves the root. Every command turns such an
``OSError`` into one of these, wherever it arose (``ops.runs``, ``cli.execute``), so none of
them ends as "unexpected OSError". HDF5 sometimes calls a full disk EACCES or a bare "HDF
error": such an error from a folder this user may write, on a disk that had no room when it
failed, is a full disk.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ..errors import DiskFullError, NotWritableError, StorageError
from .atomic import is_disk_full

ROOT_VARIABLES = {"data": "ARCTICROUTE_DATA", "reports": "ARCTICROUTE_REPORTS", "outputs": "ARCTICROUTE_OUTPUTS"}
_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ_ONLY = (errno.EROFS,)
_DENIED = (errno.EACCES, errno.EPERM)
KEPT = "the previous version is kept and no partial file was left"
NOTHING_LEFT = "no partial file was left"


def _root_variable(path: Path, roots: dict[str, Path] | None) -> str:
    for name, root in (roots or {}).items():
        try:
            path.resolve().relative_to(Path(root).resolve())
        except (ValueError, OSError):
            continue
        return ROOT_VARIABLES.get(name, "its root's variable")
    return "ARCTICROUTE_DATA, ARCTICROUTE_OUTPUTS or ARCTICROUTE_REPORTS"


def disk_full(where: str, folder: Path, kept: str = KEPT) -> DiskFullError:
    return DiskFullError(
        f"no space left on the device (ENOSPC) writing {where}; {kept}",
        hint=f"free space on the filesystem holding {folder} (df -h {folder}), or run the cache GC (just gc), "
             "then run the command again",
    )


def storage_error(exc: BaseException, path: Path | None = None, *, what: str | None = None,
                  roots: dict[str, Path] | None = None) -> StorageError | None:
    """The domain error for ``exc`` when it is a full, read-only or forbidden place to write,
    else None. ``path`` is where the caller wrote (``exc.filename`` wins when it names one);
    ``what`` names the thing written (a logical id)."""
    if isinstance(exc, StorageError):
        return exc
    code = getattr(exc, "errno", None)
    named = getattr(exc, "filename", None)
    where_path = Path(named) if isinstance(named, (str, os.PathLike)) else path
    if where_path is None:
        return None
    folder = where_path if where_path.is_dir() else where_path.parent
    where = f"{what} in {folder}" if what else str(where_path)
    kept = KEPT if what else NOTHING_LEFT
    hidden = code not in (*_READ_ONLY, *_DENIED) and isinstance(exc, (OSError, RuntimeError))
    if code in _FULL or (hidden and is_disk_full(exc, _existing(folder))):  # netCDF/HDF5 hide ENOSPC
        return disk_full(where, folder, kept)
    if code in _DENIED and _full_yet_writable(exc, _existing(folder)):  # HDF5 may say EACCES for no room
        return disk_full(where, folder, kept)
    if code in _READ_ONLY or (code in _DENIED and _read_only_mount(_existing(folder))):  # HDF5 says EACCES
        return NotWritableError(
            f"read-only file system (EROFS) writing {where}; {kept}",
            hint=f"remount the filesystem holding {folder} read-write, or set {_root_variable(where_path, roots)} "
                 "to a writable folder, then run the command again",
        )
    if code in _DENIED:
        return NotWritableError(
            f"permission denied ({errno.errorcode.get(code, code)}) writing {where}; {kept}",
            hint=f"let this user (uid {_uid()}) write {folder} (chown or chmod), or set "
                 f"{_root_variable(where_path, roots)} to a folder it may write, then run the command again",
        )
    return None


def _full_yet_writable(exc: BaseException, folder: Path) -> bool:
    """A "denied" from a writer into a folder this user may write, on a disk that had no room when
    it failed (``atomic.note_disk_full``, judged before the partial file was removed): the writer
    ran out of space, whatever it called it."""
    return os.access(folder, os.W_OK) and is_disk_full(exc, folder)


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _uid() -> str:
    return str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "?")
