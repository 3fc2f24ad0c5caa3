"""Runs in progress, as GC must see them: their temporary files and their cache folders stay."""

from __future__ import annotations

import json
import time
from pathlib import Path

from filelock import FileLock, Timeout


class LiveRuns:
    """Run ids named by ``outputs/locks/*.current``: runs in progress (or dead ones their family's
    next run has yet to clean up after, which it does itself). Read again when asked about an
    unknown run, at most every few seconds."""

    def __init__(self, outputs_root: Path):
        self.folder = outputs_root / "locks"
        self.ids: set[str] = set()
        self.families: dict[str, str] = {}
        self._read_at = -1e18
        self._read()

    def _read(self) -> None:
        self._read_at = time.monotonic()
        ids, families = set(), {}
        for marker in self.folder.glob("*.current") if self.folder.is_dir() else ():
            try:
                run_id = str(json.loads(marker.read_text(encoding="utf-8"))["run_id"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            ids.add(run_id)
            families[marker.name[: -len(".current")]] = run_id
        self.ids, self.families = ids, families

    def __contains__(self, run_id: str) -> bool:
        if run_id in self.ids:
            return True
        if time.monotonic() - self._read_at > 5:
            self._read()
        return run_id in self.ids


class Owners:
    """The locks of the families that write into cache folders, held while GC cleans them."""

    def __init__(self, outputs_root: Path, live: LiveRuns, dry_run: bool):
        self.folder = outputs_root / "locks"
        self.live = live
        self.dry_run = dry_run
        self.why: dict[str, str | None] = {}  # family -> why its folders are left alone (None: ours now)
        self.locks: list[FileLock] = []

    def busy(self, family: str) -> str | None:
        """Why the folders of ``family`` must be left alone now, or None (then GC holds its lock)."""
        if family not in self.why:
            self.why[family] = self._take(family)
        return self.why[family]

    def _take(self, family: str) -> str | None:
        run = self.live.families.get(family)
        why = f"a {family} run{f' ({run})' if run else ''} is in progress (it holds outputs/locks/{family}.lock)"
        if self.dry_run:  # a dry run takes no lock; a marker says a run may be going
            return why if run else None
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.folder / f"{family}.lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return why
        self.locks.append(lock)
        return None

    def release(self) -> None:
        for lock in reversed(self.locks):
            lock.release()
        self.locks.clear()
        self.why.clear()
