"""Which artifact versions a policy keeps and which it removes, each with its reason.

Pure functions over facts read elsewhere (``sidecars``): the versions with what their sidecars
say, the canonical link targets found on disk, the logical ids whose newest version fails
verification. Nothing here touches the filesystem, so the decisions are tested as data.

Always kept, by any policy (DESIGN.md §4): the newest version of every logical id and every
canonical link target. A version whose newest sibling fails verification is kept as well (it may
be the last good copy, for ``catalog.verify --repair`` to fall back on).

A version *was current* from its ``created_at`` until the ``created_at`` of the next version of
its logical id: ``keep_months`` keeps every version that was current at some moment of the last N
months, so whatever a report or route of that time cited can still be found.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

DAY = timedelta(days=1)


class VersionInfo(NamedTuple):
    """One artifact version as its sidecar describes it, found at ``root``/``relpath``.

    A named tuple rather than a dataclass: a catalog of 100 000 versions builds as many, and a
    frozen dataclass takes three times as long to make one.
    """

    logical_id: str
    version: int
    kind: str | None
    tags: tuple[str, ...]
    created_at: datetime | None
    root: str
    relpath: str  # the version's file, relative to its root (where its sidecar was found)
    canonical: str | None  # the canonical path relative to the root, as the sidecar says
    size_bytes: int
    sha256: str | None = None
    problem: str | None = None  # why its sidecar cannot be trusted to delete by (kept then)

    @property
    def key(self) -> tuple[str, str]:
        return (self.root, self.relpath)


class Decision(NamedTuple):
    version: VersionInfo
    keep: bool
    rule: str  # newest, link-target, damaged, sidecar, floor, undated, window (kept); superseded, evictable
    reason: str
    superseded_at: datetime | None = None

    def as_dict(self) -> dict:
        v = self.version
        return {"logical_id": v.logical_id, "version": v.version, "kind": v.kind, "root": v.root,
                "path": v.relpath, "size_bytes": v.size_bytes, "keep": self.keep, "rule": self.rule,
                "reason": self.reason}


@dataclass
class RetentionPlan:
    keep_months: int
    cutoff: datetime
    tags: tuple[str, ...]
    decisions: list[Decision] = field(default_factory=list)
    not_selected: int = 0  # versions of logical ids the tags left out
    singles: int = 0  # versions alone of their name in their folder: nothing to remove, their sidecars not read
    problems: list[str] = field(default_factory=list)  # sidecars that could not be read (left alone)
    # version files without a sidecar, neither the highest of their name nor a link target: (root, relpath)
    leftovers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def remove(self) -> list[Decision]:
        return [d for d in self.decisions if not d.keep]

    @property
    def keep(self) -> list[Decision]:
        return [d for d in self.decisions if d.keep]

    @property
    def bytes_removed(self) -> int:
        return sum(d.version.size_bytes for d in self.remove)

    @property
    def removes_all_history(self) -> bool:
        """True when it removes something and no superseded version survives it (the whole
        history of every selected logical id would go): refused without an explicit override."""
        superseded_kept = [d for d in self.keep if d.rule not in ("newest", "link-target")]
        return bool(self.remove) and not superseded_kept


def months_back(now: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the day clamped to the month's end)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def parse_created(text: object) -> datetime | None:
    """A sidecar's ``created_at`` (UTC ISO 8601, ``Z``), or None when absent or malformed."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)  # Python >= 3.11 reads the "Z"
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return moment.isoformat()[:10]


def group(versions: Iterable[VersionInfo]) -> dict[str, list[VersionInfo]]:
    """Versions by logical id, oldest first."""
    grouped: dict[str, list[VersionInfo]] = {}
    for v in versions:
        grouped.setdefault(v.logical_id, []).append(v)
    for items in grouped.values():
        items.sort(key=lambda v: v.version)
    return grouped


def selected(items: list[VersionInfo], tags: tuple[str, ...]) -> bool:
    """``tags`` empty, or the newest version carries any of them."""
    return not tags or any(t in items[-1].tags for t in tags)


def _protected(items: list[VersionInfo], index: int, targets: set, damaged: Mapping[str, str],
               floor: int) -> tuple[str, str] | None:
    """``(rule, reason)`` that forbids removing ``items[index]`` whatever its age, or None."""
    v = items[index]
    if index == len(items) - 1:
        return "newest", "newest version"
    if v.key in targets:
        return "link-target", "a canonical link points to it"
    if v.logical_id in damaged:
        return "damaged", f"the newest version fails verification ({damaged[v.logical_id]}): kept for catalog.verify --repair"
    if v.problem:
        return "sidecar", f"left alone: {v.problem}"
    if len(items) - index <= floor:
        return "floor", f"one of the {floor} newest versions kept for {v.kind or 'its kind'} (gc.versions)"
    return None


def plan_retention(versions: Iterable[VersionInfo], *, keep_months: int, now: datetime,
                   targets: set[tuple[str, str]] | frozenset = frozenset(),
                   damaged: Mapping[str, str] | None = None, floors: Mapping[str, int] | None = None,
                   tags: Iterable[str] = ()) -> RetentionPlan:
    """catalog.gc: keep what was current within the last ``keep_months`` months, remove the rest.

    ``floors`` maps a kind (or ``default``) to the number of newest versions always kept.
    """
    damaged = damaged or {}
    floors = floors or {}
    tags = tuple(tags)
    cutoff = months_back(now, keep_months)
    window = f"the {keep_months} months kept (since {_day(cutoff)})"
    plan = RetentionPlan(keep_months=keep_months, cutoff=cutoff, tags=tags)
    grouped = group(versions)
    for _lid, items in sorted(grouped.items()):
        if not selected(items, tags):
            plan.not_selected += len(items)
            continue
        floor = floors.get(items[-1].kind or "", floors.get("default", 1))
        for index, v in enumerate(items):
            successor = items[index + 1] if index + 1 < len(items) else None
            superseded = successor.created_at if successor else None
            why = _protected(items, index, targets, damaged, floor)
            if why is None and (v.created_at is None or superseded is None):
                why = "undated", "no usable created_at in its sidecar or its successor's"
            if why is None and superseded >= cutoff:
                why = "window", f"current until {_day(superseded)}, within {window}"
            if why is not None:
                plan.decisions.append(Decision(v, True, *why, superseded))
            else:
                plan.decisions.append(Decision(
                    v, False, "superseded",
                    f"superseded by version {successor.version} on {_day(superseded)}, before {window}", superseded))
    return plan


def plan_eviction(versions: Iterable[VersionInfo], *, now: datetime, kinds: Mapping[str, object],
                  targets: set[tuple[str, str]] | frozenset = frozenset(),
                  damaged: Mapping[str, str] | None = None) -> list[Decision]:
    """cache.gc under disk pressure: superseded versions its kind's policy lets go, oldest first.

    ``kinds`` maps a kind (and ``default``) to an object with ``keep_versions``,
    ``min_age_days`` and ``evict``. Only removable versions are returned.
    """
    damaged = damaged or {}
    out: list[Decision] = []
    for items in group(versions).values():
        kind = items[-1].kind or ""
        rule = kinds.get(kind, kinds["default"])
        if not rule.evict:
            continue
        for index, v in enumerate(items[:-1]):
            superseded = items[index + 1].created_at
            if _protected(items, index, targets, damaged, rule.keep_versions) or superseded is None:
                continue
            age = (now - superseded) / DAY
            if age < rule.min_age_days:
                continue
            out.append(Decision(v, False, "evictable", f"superseded by version {items[index + 1].version} {age:.0f} days ago "
                                          f"(gc.versions: {kind or 'default'} may go after {rule.min_age_days:g} days, "
                                          f"keeping the {rule.keep_versions} newest)", superseded))
    out.sort(key=lambda d: (d.superseded_at, d.version.logical_id, d.version.version))
    return out
