"""Removing artifact versions: the sidecar first, then the file, each re-checked on disk.

A version goes in two steps, its sidecar first: killed in between, the file is left without a
sidecar, which the catalog ignores, ``catalog.verify`` reports as a leftover and the next
``catalog.gc`` (or ``catalog.verify --repair``) removes. The other order would leave a sidecar
whose file is gone, which ``catalog.verify`` reports as a failure.

Right before each removal the decision is checked again against the disk, so a run that wrote
meanwhile cannot lose its work: a version a canonical link points to now, or the highest version
of its name on disk, stays; and before the first removal of a logical id, its newest version is
verified (size and sha256), all of that id's versions staying if it fails.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ArcticRouteError, BadInputError
from ..store.artifacts import META_SUFFIX, parse_version
from ..store.catalog import SKIP_DIRS, write_index
from ..timeutil import utc_now
from . import sidecars
from .fs import Dir, shown, size_text
from .retention import Decision, RetentionPlan, VersionInfo, group, plan_retention


def gc_list(roots: dict[str, Path], keep_months: int, tags: Iterable[str] = (), *,
            floors: Mapping[str, int] | None = None, now: datetime | None = None) -> RetentionPlan:
    """What a retention policy keeping ``keep_months`` months would remove, and why each other
    version stays; changes nothing. ``tags``: only logical ids carrying any of them.

    ``floors`` maps a kind (or ``default``) to the newest versions always kept
    (``gc.versions.<kind>.keep_versions``). The newest version of every logical id and every
    canonical link target are kept whatever the policy; so are all versions of a logical id
    whose newest version is missing or of the wrong size (``catalog.gc`` checks its sha256 as
    well, right before removing anything of that logical id).
    """
    now = now or utc_now()
    found = sidecars.scan_versions(roots, SKIP_DIRS, singles=False)
    versions = found.versions
    targets = sidecars.canonical_targets(roots, versions)
    args = {"keep_months": keep_months, "now": now, "targets": targets, "floors": floors, "tags": tags}
    plan = plan_retention(versions, **args)
    touched = {d.version.logical_id for d in plan.remove}
    damaged = {lid: why for lid, items in group(v for v in versions if v.logical_id in touched).items()
               if (why := sidecars.newest_problem(roots, items[-1], sha256=False))}
    if damaged:
        plan = plan_retention(versions, damaged=damaged, **args)
    plan.problems = found.problems
    plan.singles = found.singles
    plan.leftovers = [item for item in found.leftovers if item not in targets]
    return plan


@dataclass
class Removed:
    what: str  # "version", "leftover", or a cache reason ("ttl", "temporary", "watermark")
    path: str  # absolute, fit for printing
    bytes: int
    reason: str
    logical_id: str | None = None
    version: int | None = None

    def as_dict(self) -> dict:
        item = {"what": self.what, "path": self.path, "bytes": self.bytes, "reason": self.reason}
        if self.logical_id:
            item.update(logical_id=self.logical_id, version=self.version)
        return item


MAX_LISTED = 1000  # removals, and notes, listed one by one; counts and bytes are always complete


@dataclass
class Outcome:
    """What a GC removed (the first MAX_LISTED one by one, all of them counted) and left."""

    listed: list[Removed] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)  # what -> [files, bytes]
    left: list[str] = field(default_factory=list)  # what a re-check kept, and why
    errors: list[str] = field(default_factory=list)  # removals the system refused
    notes_total: int = 0

    def record(self, removed: Removed) -> None:
        count = self.counts.setdefault(removed.what, [0, 0])
        count[0] += 1
        count[1] += removed.bytes
        if len(self.listed) < MAX_LISTED:
            self.listed.append(removed)

    def count(self, what: str, files: int, size: int) -> None:
        """Count removals already listed (or past the listing's end) in one go."""
        count = self.counts.setdefault(what, [0, 0])
        count[0] += files
        count[1] += size

    def add(self, what: str, size: int, make) -> None:
        """Count a removal; build its description (``make()``) only while it will be listed."""
        if len(self.listed) < MAX_LISTED:
            self.record(make())
        else:
            count = self.counts.setdefault(what, [0, 0])
            count[0] += 1
            count[1] += size

    def note(self, text: str) -> None:
        self.notes_total += 1
        if len(self.left) < MAX_LISTED:
            self.left.append(text)

    @property
    def files(self) -> int:
        return sum(c[0] for c in self.counts.values())

    @property
    def bytes(self) -> int:
        return sum(c[1] for c in self.counts.values())

    def as_dict(self) -> dict:
        return {"files": self.files, "bytes": self.bytes,
                "by_reason": {k: {"files": v[0], "bytes": v[1]} for k, v in sorted(self.counts.items())},
                "listed": [r.as_dict() for r in self.listed], "listed_max": MAX_LISTED,
                "left": self.left, "left_total": self.notes_total, "errors": self.errors}


class Remover:
    """Removes versions under resolved roots; keeps the last folder open (removals come grouped)."""

    def __init__(self, roots: dict[str, Path], versions: list[VersionInfo], outcome: Outcome, *,
                 device: int | None = None):
        self.roots = roots
        self.newest = {lid: items[-1] for lid, items in group(versions).items()}
        self.outcome = outcome
        self.device = device  # only remove on this filesystem (None: any)
        self._verified: dict[str, str | None] = {}
        self._dir: tuple[tuple[str, str], Dir | None, dict] | None = None

    def close(self) -> None:
        if self._dir and self._dir[1] is not None:
            self._dir[1].close()
        self._dir = None

    def __enter__(self) -> Remover:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _folder(self, root: str, folder: str) -> tuple[Dir | None, dict]:
        """The open folder and the highest version on disk per (stem, extension) in it."""
        if self._dir and self._dir[0] == (root, folder):
            return self._dir[1], self._dir[2]
        self.close()
        d = Dir.open(self.roots[root])
        if folder:
            top, d = d, d.descend(tuple(folder.split("/")))
            top.close()
        highest = sidecars.highest_versions(e.name for e in d.entries()) if d is not None else {}
        self._dir = ((root, folder), d, highest)
        return d, highest

    def version(self, decision: Decision) -> bool:
        """Remove one version as ``decision`` says, unless the disk says otherwise now."""
        v = decision.version
        if v.logical_id not in self._verified:
            newest = self.newest.get(v.logical_id)
            self._verified[v.logical_id] = newest and sidecars.newest_problem(self.roots, newest, sha256=True)
        if self._verified[v.logical_id]:
            self.outcome.note(f"kept {v.logical_id} version {v.version}: its newest version fails "
                              f"verification ({self._verified[v.logical_id]}); run catalog.verify --repair")
            return False
        canonical = v.canonical.rpartition("/")[2] if v.canonical else None
        return self._remove(v.root, v.relpath, canonical, "version", decision.reason, v.logical_id, v.version,
                            sidecar=True)

    def leftover(self, root: str, relpath: str, *, older_than: float) -> bool:
        """Remove a version file without a sidecar, if untouched since ``older_than`` (epoch s)."""
        name = relpath.rpartition("/")[2]
        parsed = parse_version(Path(name))
        canonical = f"{parsed[0]}{Path(name).suffix}" if parsed else None
        return self._remove(root, relpath, canonical, "leftover",
                            "a version file without its sidecar (a run or GC killed half-way)", None, None,
                            sidecar=False, older_than=older_than)

    def _remove(self, root: str, relpath: str, canonical: str | None, what: str, reason: str,
                logical_id: str | None, version: int | None, *, sidecar: bool, older_than: float | None = None) -> bool:
        folder, _, name = relpath.rpartition("/")
        where = shown(self.roots[root] / relpath)
        try:
            d, highest = self._folder(root, folder)
            if d is None:
                return False  # its folder is gone
            if self.device is not None and d.stat.st_dev != self.device:
                return False
            parsed = parse_version(Path(name))
            if parsed is None or parsed[1] >= highest.get((parsed[0], Path(name).suffix), 0):
                self.outcome.note(f"kept {where}: it is the highest version of its name on disk")
                return False
            link = d.readlink(canonical) if canonical else None
            if link is not None and posixpath.normpath(link) == name:
                self.outcome.note(f"kept {where}: a canonical link points to it now")
                return False
            st = d.lstat(name)
            if st is not None and not stat.S_ISREG(st.st_mode):
                self.outcome.note(f"kept {where}: not a regular file")
                return False
            if st is not None and older_than is not None and st.st_mtime > older_than:
                return False  # too young to be a leftover: its run may still be writing
            if sidecar:
                d.unlink(name + META_SUFFIX)
            if st is not None:
                d.unlink(name)
        except OSError as exc:
            self.outcome.errors.append(f"could not remove {where}: {exc.strerror or exc}")
            return False
        self.outcome.record(Removed(what, where, st.st_size if st else 0, reason, logical_id, version))
        return True


def check_links(roots: dict[str, Path], versions: list[VersionInfo], logical_ids: set[str]) -> list[str]:
    """Canonical paths of ``logical_ids`` that no longer resolve (there should be none)."""
    problems = []
    for lid, items in group(v for v in versions if v.logical_id in logical_ids).items():
        canonical = items[-1].canonical
        if not canonical:
            continue
        path = os.path.join(roots[items[-1].root], canonical)
        if os.path.islink(path) and not os.path.exists(path):
            problems.append(f"{lid}: canonical link {shown(path)} points to nothing")
    return problems


@dataclass
class RetentionReport:
    """What one catalog.gc run removed (or, dry, would remove) and kept."""

    plan: RetentionPlan
    dry_run: bool
    leftovers: list[tuple[str, str]] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    warnings: list[str] = field(default_factory=list)

    def headline(self) -> str:
        plan = self.plan
        kept: dict[str, int] = {"only": plan.singles} if plan.singles else {}
        for d in plan.keep:
            kept[d.rule] = kept.get(d.rule, 0) + 1
        why = ", ".join(f"{n} {rule}" for rule, n in sorted(kept.items(), key=lambda kv: -kv[1]))
        scope = (f"{plan.keep_months} months kept (since {plan.cutoff.isoformat()[:10]})"
                 + (f", tags {','.join(plan.tags)}" if plan.tags else ""))
        if self.dry_run:
            return (f"catalog.gc (dry run, nothing changed): would remove {len(plan.remove)} of "
                    f"{len(plan.decisions) + plan.singles} versions ({size_text(plan.bytes_removed)}) and "
                    f"{len(self.leftovers)} leftover files; would keep {len(plan.keep) + plan.singles} "
                    f"({why or 'none'}); {scope}")
        return (f"catalog.gc: removed {self.outcome.counts.get('version', [0])[0]} versions and "
                f"{self.outcome.counts.get('leftover', [0])[0]} leftover files ({size_text(self.outcome.bytes)}); "
                f"kept {len(plan.keep) + plan.singles} ({why or 'none'}); {scope}")

    def lines(self, roots: dict[str, Path]) -> list[str]:
        """The report as the command prints it; the first MAX_LISTED removals one by one."""
        if self.dry_run:
            out = [f"WOULD REMOVE {shown(roots[d.version.root] / d.version.relpath)} "
                   f"({d.version.logical_id} version {d.version.version}): {d.reason}"
                   for d in self.plan.remove[:MAX_LISTED]]
            out += [f"WOULD REMOVE {shown(roots[r] / p)}: a version file without its sidecar"
                    for r, p in self.leftovers[:MAX_LISTED]]
            hidden = len(self.plan.remove) + len(self.leftovers) - len(out)
        else:
            out = [f"REMOVED {r.path}" + (f" ({r.logical_id} version {r.version})" if r.logical_id else "")
                   + f": {r.reason}" for r in self.outcome.listed]
            hidden = self.outcome.files - len(out)
        if hidden > 0:
            out.append(f"... and {hidden} more, counted below (--json lists them all)")
        out += [f"KEPT {n}" for n in self.outcome.left] + [f"ERROR {e}" for e in self.outcome.errors]
        out += [f"WARN {w}" for w in self.plan.problems + self.warnings]
        out.append(self.headline())
        return out

    def summary(self) -> dict:
        """For the run record: counts, bytes, and the removals listed one by one."""
        return {"versions": self.outcome.counts.get("version", [0, 0])[0],
                "leftovers": self.outcome.counts.get("leftover", [0, 0])[0], "bytes": self.outcome.bytes,
                "kept": len(self.plan.keep), "keep_months": self.plan.keep_months, "tags": list(self.plan.tags),
                "errors": len(self.outcome.errors),
                "removed": [f"{r.path}" + (f" ({r.logical_id} v{r.version})" if r.logical_id else "")
                            for r in self.outcome.listed]}

    def as_dict(self, roots: dict[str, Path]) -> dict:
        plan = self.plan
        return {
            "ok": not self.outcome.errors, "dry_run": self.dry_run, "keep_months": plan.keep_months,
            "since": plan.cutoff.isoformat()[:10], "tags": list(plan.tags),
            "versions_considered": len(plan.decisions), "versions_not_selected": plan.not_selected,
            "only_versions_not_read": plan.singles,
            "remove": [d.as_dict() for d in plan.remove], "remove_bytes": plan.bytes_removed,
            "keep": [d.as_dict() for d in plan.keep],
            "leftovers": [shown(roots[r] / p) for r, p in self.leftovers],
            "removed": None if self.dry_run else self.outcome.as_dict(),
            "unreadable_sidecars": plan.problems, "warnings": self.warnings,
        }


def catalog_gc(roots: dict[str, Path], policy, *, tags=(), dry_run: bool, allow_remove_all: bool = False,
               now: float) -> RetentionReport:
    """catalog.gc over resolved ``roots``: ``gc_list`` by ``policy``, then ``apply_retention``."""
    plan = gc_list(roots, policy.keep_months, tags, floors=policy.floors(), now=datetime.fromtimestamp(now, UTC))
    return apply_retention(roots, plan, safety_age_s=policy.safety_age_s, now=now, dry_run=dry_run,
                           allow_remove_all=allow_remove_all)


def apply_retention(roots: dict[str, Path], plan: RetentionPlan, *, safety_age_s: float, now: float,
                    dry_run: bool, allow_remove_all: bool = False) -> RetentionReport:
    """catalog.gc: remove what ``plan`` (``gc_list``) says, and leftover version files.

    Refuses (nothing removed) ``keep_months`` 0, or a plan that leaves no superseded version at all,
    unless ``allow_remove_all``; a dry run says it would be refused instead.
    """
    report = RetentionReport(plan=plan, dry_run=dry_run)
    if plan.keep_months == 0 and not allow_remove_all:
        raise BadInputError("--keep-months 0 keeps no history at all; nothing was removed",
                            hint="keep at least one month, or add --allow-remove-all if that is really meant")
    if plan.removes_all_history and not allow_remove_all:
        message = (f"the policy would remove all {len(plan.remove)} superseded versions "
                   f"({size_text(plan.bytes_removed)}) and keep none, as none was current since "
                   f"{plan.cutoff.isoformat()[:10]} ({plan.keep_months} months back from now, "
                   f"{datetime.fromtimestamp(now, UTC).isoformat()[:16]} UTC)")
        if not dry_run:
            raise ArcticRouteError(f"{message}; refused, nothing was removed",
                                   hint="check the clock; then run catalog.gc --allow-remove-all once, "
                                        "or keep more months (--keep-months, gc.keep_months)")
        report.warnings.append(f"{message}: a run without --allow-remove-all refuses it")
    cutoff = now - safety_age_s
    for root, relpath in plan.leftovers:
        try:
            st = os.lstat(roots[root] / relpath)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mtime <= cutoff:
            report.leftovers.append((root, relpath))
    if dry_run:
        return report
    versions = [d.version for d in plan.decisions]
    with Remover(roots, versions, report.outcome) as remover:
        for decision in plan.remove:
            remover.version(decision)
        for root, relpath in report.leftovers:
            remover.leftover(root, relpath, older_than=cutoff)
    if report.outcome.files:
        try:
            write_index(roots, roots["outputs"])
        except OSError as exc:
            report.warnings.append(f"catalog index not refreshed ({exc.strerror or exc}); catalog.show rebuilds it")
    broken = check_links(roots, versions, {d.version.logical_id for d in plan.remove})
    if broken:
        report.outcome.errors += broken
    return report

