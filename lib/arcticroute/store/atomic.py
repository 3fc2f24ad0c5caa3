"""Atomic file writes: a temporary file in the destination folder, fsync, then os.replace."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".tmp-"
_NEARLY_FULL_BYTES = 1 << 20
_run_tag = "x"


def set_run_tag(run_id: str) -> None:
    """Put the run id into temporary names, so the next run can remove those of a dead one."""
    global _run_tag
    _run_tag = run_id


def tmp_prefix_for(run_id: str) -> str:
    return f"{TMP_PREFIX}{run_id}-"


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder for fsync; NTFS journals the rename itself
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(path: Path, suffix: str = "") -> Path:
    """A unique hidden name beside ``path``; cache GC skips names with this prefix. ``suffix``
    hides the name from readers that pick files by extension (node_exporter reads ``*.prom``)."""
    return path.with_name(f"{tmp_prefix_for(_run_tag)}{uuid.uuid4().hex[:8]}-{path.name}{suffix}")


@contextmanager
def atomic_path(path: Path, temp_suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one step.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path, temp_suffix)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        if exc.errno is not None and (exc.filename is None or Path(exc.filename) == tmp):
            exc.filename = str(path)  # name the file being written, not its hidden temporary
        note_disk_full(exc, path.parent)
        raise
    except RuntimeError as exc:  # netCDF/HDF5 report a full disk so
        note_disk_full(exc, path.parent)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def remove_if_present(path: Path) -> None:
    """Remove ``path`` if it is there. Unlike ``unlink(missing_ok=True)`` this does not fail on a
    read-only file system when there is nothing to remove (unlink checks for a writable mount
    before it looks the name up), so cleaning up never hides the error being handled."""
    if path.is_symlink() or path.exists():
        path.unlink()


def note_disk_full(exc: BaseException, folder: Path) -> None:
    """Remember on ``exc`` whether the disk was full when it was raised: once the partial file
    is removed, the free space no longer tells (a netCDF write hides ENOSPC in its error)."""
    if not hasattr(exc, "disk_full"):
        try:
            exc.disk_full = is_disk_full(exc, folder)
        except AttributeError:  # an exception type without a __dict__
            pass


def is_disk_full(exc: BaseException, folder: Path) -> bool:
    """ENOSPC, or an error from a library that hides it (netCDF/HDF5) on a nearly full disk."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if getattr(exc, "disk_full", None) is not None:
        return bool(exc.disk_full)
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def write_bytes(path: Path, data: bytes, temp_suffix: str = "") -> None:
    with atomic_path(path, temp_suffix) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str, temp_suffix: str = "") -> None:
    write_bytes(path, text.encode("utf-8"), temp_suffix)


def write_json(path: Path, payload) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
