"""The highest version number ever used for a canonical path, kept outside the sidecars.

Versions and sidecars can disappear (quarantined by repair, a file gone, a sidecar deleted by
hand, removed by GC), but their numbers must never name other bytes later: a report or route
that cited ``…_adv_v3`` must not find different data under that name. So each canonical
``<stem>.<ext>`` has a small file ``.<stem>.<ext>.last-version`` beside it holding the highest
number used; ``artifacts.next_version`` takes one above the larger of it and every version on
disk. Written (by rename) before a new version's sidecar, and durably by repair before it
moves or drops anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import atomic

SUFFIX = ".last-version"


def highwater_path(canonical: Path) -> Path:
    return canonical.with_name(f".{canonical.name}{SUFFIX}")


def read_highwater(canonical: Path) -> int:
    """The highest version number recorded for ``canonical`` (0 when none is)."""
    try:
        text = highwater_path(canonical).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError):
        return 0  # unreadable: the versions on disk still bound the next number
    return int(text) if text.isdigit() else 0


def raise_highwater(canonical: Path, version: int, *, durable: bool = True) -> None:
    """Record that ``version`` of ``canonical`` was used (never lowers the recorded number).

    ``durable=False`` (``artifacts.write_artifact``) skips both fsyncs: the folder's one fsync
    after the sidecar and the links covers the rename, and should a crash leave the file empty,
    the version files on disk still bound the next number, as they did before these files.
    Repair records durably, before it moves or drops a version.
    """
    if read_highwater(canonical) >= version:
        return
    path = highwater_path(canonical)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic.temp_path_for(path)
    try:
        tmp.write_text(f"{version}\n", encoding="ascii")
        if durable:
            atomic._fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        atomic.remove_if_present(tmp)
    if durable:
        atomic._fsync_dir(path.parent)


def is_highwater_file(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(SUFFIX)
