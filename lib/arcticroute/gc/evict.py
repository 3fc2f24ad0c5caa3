"""cache.gc under disk pressure: evict the least recently used cache files, then superseded
versions as ``gc.versions`` lets them go, until the data disk is below the watermark; or say why
it cannot get there."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ..store.catalog import SKIP_DIRS, write_index
from . import sidecars
from .cache_report import CacheReport
from .disk import Usage, disk_usage
from .fs import Dir, last_used, shown, size_text
from .policy import DAY_S, GcPolicy
from .retention import group, plan_eviction
from .versions import Removed, Remover


@dataclass
class Candidate:
    """A cache entry that may be evicted, oldest first."""

    age: float
    blocks: int
    size: int
    root: str
    parts: tuple[str, ...]
    name: str
    ino: int
    mtime_ns: int
    changed: bool


class Walk(Protocol):
    """What eviction needs of cache.gc's walk: the entries it may evict, the blocks the walk freed,
    and the one way an entry is removed (counted and reported like every other removal)."""

    candidates: list[Candidate]
    freed_blocks: int

    def remove(self, d: Dir, name: str, st: os.stat_result, what: str, reason: str) -> bool: ...


# Eviction, once started, goes this far below the watermark (a share of the disk), so that what
# the run writes after it (the catalog index, its record and log) leaves the disk below the
# watermark: stopping at the first step below it left a 32 MB disk 12 to 180 kB over.
HEADROOM = 0.01


def evict(roots, policy: GcPolicy, sweep: Walk, report: CacheReport, now: float, device: int) -> None:
    """Evict cache entries, then superseded versions, oldest first, until below the watermark
    (by ``HEADROOM``)."""
    before = report.usage_before
    used = before.used - sweep.freed_blocks if report.dry_run else None

    def usage() -> float:
        if report.dry_run:
            return used / (before.used + before.free) if before.used + before.free else 0.0
        return disk_usage(roots["data"]).fraction

    if usage() < policy.watermark:
        report.usage_after = _after(roots, before, used, report.dry_run)
        return

    def fraction() -> float:  # the usage eviction compares with the watermark: with the headroom
        return usage() + HEADROOM

    sweep.candidates.sort(key=lambda c: c.age)
    opened: tuple[tuple, Dir | None] = ((), None)
    try:
        for c in sweep.candidates:
            if fraction() < policy.watermark:
                break
            if report.dry_run:
                used -= c.blocks
                report.outcome.add("watermark", c.size, lambda c=c: Removed(
                    "watermark", shown(roots[c.root].joinpath(*c.parts, c.name)), c.size, _evict_reason(c, now)))
                continue
            if opened[0] != (c.root, c.parts):
                if opened[1] is not None:
                    opened[1].close()
                with Dir.open(roots[c.root]) as top:
                    opened = ((c.root, c.parts), top.descend(c.parts))
            d = opened[1]
            st = d.lstat(c.name) if d is not None else None
            if st is None or (st.st_ino, st.st_mtime_ns) != (c.ino, c.mtime_ns) or last_used(st, c.changed) > c.age:
                continue  # gone, replaced or used since the walk
            sweep.remove(d, c.name, st, "watermark", _evict_reason(c, now))
    finally:
        if opened[1] is not None:
            opened[1].close()
    if fraction() >= policy.watermark and policy.evict_versions:
        used = _evict_versions(roots, policy, report, now, device, fraction, used)
    report.usage_after = _after(roots, before, used, report.dry_run)
    if report.usage_after.fraction >= policy.watermark:
        _explain(report, roots, policy)


def _evict_reason(c: Candidate, now: float) -> str:
    return f"oldest cache entry (unused for {(now - c.age) / DAY_S:.1f} days), evicted to reach the watermark"


def _evict_versions(roots, policy: GcPolicy, report, now: float, device: int, fraction, used):
    found = sidecars.scan_versions(roots, SKIP_DIRS, singles=False)
    moment = datetime.fromtimestamp(now, UTC)
    targets = sidecars.canonical_targets(roots, found.versions)
    plan = plan_eviction(found.versions, now=moment, kinds=policy.kinds, targets=targets)
    touched = {d.version.logical_id for d in plan}
    damaged = {lid: why for lid, items in group(v for v in found.versions if v.logical_id in touched).items()
               if (why := sidecars.newest_problem(roots, items[-1], sha256=False))}
    plan = plan_eviction(found.versions, now=moment, kinds=policy.kinds, targets=targets, damaged=damaged)
    removed_any = False
    with Remover(roots, found.versions, report.outcome, device=device) as remover:
        for decision in plan:
            if fraction() < policy.watermark:
                break
            if report.dry_run:
                used -= decision.version.size_bytes
                v = decision.version
                report.outcome.record(Removed("version", shown(roots[v.root] / v.relpath), v.size_bytes,
                                              decision.reason, v.logical_id, v.version))
                continue
            removed_any |= remover.version(decision)
    if removed_any:
        _refresh_index(roots, report)
    return used


def _refresh_index(roots, report: CacheReport) -> None:
    try:
        write_index(roots, roots["outputs"])
    except OSError as exc:
        report.warnings.append(f"catalog index not refreshed ({exc.strerror or exc}); catalog.show rebuilds it")


def _after(roots, before: Usage, used: int | None, dry_run: bool) -> Usage:
    if dry_run:
        return Usage(before.path, before.mount, before.total, max(used, 0), before.free + before.used - max(used, 0))
    return disk_usage(roots["data"])


def _explain(report, roots, policy: GcPolicy) -> None:
    """Why usage stays at or above the watermark, and what an operator can do."""
    after = report.usage_after
    found = sidecars.scan_versions(roots, SKIP_DIRS)
    current = sum(items[-1].size_bytes for items in group(found.versions).values())
    superseded = sum(v.size_bytes for v in found.versions) - current
    would = "would stay" if report.dry_run else "stays"
    report.error = (
        f"disk usage of {after.mount} {would} at {after.fraction:.1%}, not below the watermark "
        f"{policy.watermark:.0%}, after removing all that GC may remove "
        f"({report.outcome.files} files, {size_text(report.outcome.bytes)}); what is left: current versions "
        f"{size_text(current)} (never removed), superseded versions {size_text(superseded)} "
        f"({'kept by gc.versions' if policy.evict_versions else 'gc.evict_versions is false'}), "
        f"and {size_text(max(after.used - current - superseded, 0))} of other files and caches too young or in use")
    report.hint = (f"free space on {after.mount} (other files, a larger disk), let GC evict more versions "
                   "(gc.evict_versions, gc.versions.<kind>.keep_versions and min_age_days in config/runtime.yaml), "
                   "or raise gc.watermark_disk")

