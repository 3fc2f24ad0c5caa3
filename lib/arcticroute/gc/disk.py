"""The disk GC works against: its usage as ``df`` shows it, and the reserve of cache.gc."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..store import atomic
from .fs import shown

# Space cache.gc sets aside for its own run record, log and alert: on a full disk a run could
# not even start (its record is written first), so it gives this back before it starts.
RESERVE = Path("locks") / "gc.reserve"
RESERVE_BYTES = 1 << 20


@dataclass(frozen=True)
class Usage:
    """Space on the filesystem holding ``path``; ``fraction`` is used / (used + available), as df."""

    path: str
    mount: str
    total: int
    used: int
    free: int

    @property
    def fraction(self) -> float:
        return self.used / (self.used + self.free) if self.used + self.free else 0.0

    def as_dict(self) -> dict:
        return {"path": self.path, "mount": self.mount, "total_bytes": self.total, "used_bytes": self.used,
                "free_bytes": self.free, "fraction_used": round(self.fraction, 4)}


def disk_usage(path: Path) -> Usage:
    total, used, free = shutil.disk_usage(path)
    mount = Path(path)
    while not os.path.ismount(mount) and mount.parent != mount:
        mount = mount.parent
    return Usage(shown(path), shown(mount), total, used, free)


def release_reserve(outputs_root: Path) -> bool:
    """Give back the reserve when the outputs disk is (nearly) full, so that a run can start."""
    path = outputs_root / RESERVE
    try:
        if shutil.disk_usage(outputs_root).free >= 2 * RESERVE_BYTES:
            return False
        path.unlink()
    except OSError:
        return False
    return True


def keep_reserve(outputs_root: Path, watermark: float) -> None:
    """Set the reserve aside again if that keeps the disk below the watermark; else the next run will."""
    path = outputs_root / RESERVE
    try:
        total, used, free = shutil.disk_usage(outputs_root)
        if path.is_file() or free < 4 * RESERVE_BYTES or (used + 2 * RESERVE_BYTES) / (used + free) >= watermark:
            return
        atomic.write_bytes(path, b"\0" * RESERVE_BYTES)
    except OSError:
        path.unlink(missing_ok=True)
