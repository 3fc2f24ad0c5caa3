"""``catalog.verify --repair``: bring the catalog back to a verifying state after a fault.

Run under every command family's lock, so no writer is active. In order:

1. move a tree of the 0.1.0 layout to the current one (``layout.migrate_legacy``);
2. remove temporary files (``.tmp-…``) that dead runs left;
3. per version: a sidecar whose file is gone is dropped; a file whose size or sha256 differs
   from its sidecar is moved with its sidecar to ``<root>/.quarantine/<UTC time>/`` (kept for
   inspection, never used again); an unreadable sidecar is quarantined the same way;
4. version files without a sidecar (a run killed between the two writes) are removed;
5. every canonical path is pointed at its newest intact version, or removed when none is left;
   links whose target is gone are removed;
6. what only a producer can restore is listed with the command that does it.

Nothing here writes new data: the producers (``just daily``) do that afterwards.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..timeutil import utc_now
from . import atomic
from .artifacts import META_SUFFIX, existing_versions, meta_path_for, parse_version, point_canonical
from .catalog import SKIP_DIRS
from .identity import identity_of, identity_problems, location_problems
from .integrity import IntegrityError, problem, repair_command, verify_artifact
from .layout import migrate_legacy

QUARANTINE = ".quarantine"


@dataclass
class RepairReport:
    actions: list[str] = field(default_factory=list)
    to_restore: dict[str, str] = field(default_factory=dict)  # logical id -> command that restores it

    def as_dict(self) -> dict:
        return {"actions": self.actions,
                "to_restore": [{"logical_id": k, "command": v} for k, v in sorted(self.to_restore.items())]}


def _walk(root: Path):
    """Every file and link under ``root`` outside the bookkeeping folders; links not followed."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and d != QUARANTINE]
        for name in filenames:
            yield Path(dirpath) / name


def repair(roots: dict[str, Path]) -> RepairReport:
    report = RepairReport()
    report.actions += migrate_legacy(roots)
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    canonicals: dict[Path, dict] = {}  # canonical path -> a sidecar of it (for the restore command)
    for root_name, root in roots.items():
        if not root.is_dir():
            continue
        for path in list(_walk(root)):
            if path.name.startswith(atomic.TMP_PREFIX):
                path.unlink(missing_ok=True)
                report.actions.append(f"removed temporary file {path} left by a dead run")
            elif _is_version_sidecar(path):
                meta = _check_version(roots, root_name, root, path, stamp, report)
                if meta is not None:
                    canonicals[root / meta["canonical"]] = meta
        for path in list(_walk(root)):
            if _is_version_file(path) and not meta_path_for(path).exists():
                path.unlink()
                report.actions.append(f"removed orphan version {path} (no sidecar: its run was killed)")
    for canonical, meta in sorted(canonicals.items()):
        _relink(roots, canonical, meta, report)
    for root in roots.values():
        if root.is_dir():
            _drop_dangling_links(root, report)
    return report


def leftovers(roots: dict[str, Path]) -> list[str]:
    """What faults left that verification by sidecar cannot see: temporary files, version files
    without a sidecar, links to nothing. ``repair`` removes them all."""
    found = []
    for root in roots.values():
        if not root.is_dir():
            continue
        for path in _walk(root):
            if path.name.startswith(atomic.TMP_PREFIX):
                found.append(f"temporary file left by a dead run: {path}")
            elif _is_version_file(path) and not meta_path_for(path).exists():
                found.append(f"orphan version without a sidecar: {path}")
            elif path.is_symlink() and not path.exists():
                found.append(f"dangling link: {path}")
            elif path.is_symlink() and not path.name.endswith(META_SUFFIX) and _newer_version_unlinked(path):
                found.append(f"a newer version than the one {path} links to has its sidecar but no link "
                             "(a run was killed while publishing it)")
    return found


def _newer_version_unlinked(canonical: Path) -> bool:
    pointed = parse_version(Path(os.readlink(canonical)))
    if pointed is None:
        return False
    newer = [v for v, p in existing_versions(canonical).items() if v > pointed[1] and meta_path_for(p).is_file()]
    return bool(newer)


def _is_version_sidecar(path: Path) -> bool:
    return (path.name.endswith(META_SUFFIX) and not path.is_symlink()
            and parse_version(Path(path.name[: -len(META_SUFFIX)])) is not None)


def _is_version_file(path: Path) -> bool:
    return not path.name.endswith(META_SUFFIX) and not path.is_symlink() and parse_version(path) is not None


def _quarantine(root: Path, stamp: str, paths: list[Path]) -> Path:
    folder = root / QUARANTINE / stamp
    for path in paths:
        if path.exists():
            target = folder / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    return folder


def _check_version(roots, root_name: str, root: Path, sidecar: Path, stamp: str,
                   report: RepairReport) -> dict | None:
    """The sidecar's meta when its version is intact; otherwise drop or quarantine it."""
    data_file = sidecar.with_name(sidecar.name[: -len(META_SUFFIX)])
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or "logical_id" not in meta or "canonical" not in meta:
            raise ValueError("not an artifact sidecar")
    except (OSError, ValueError) as exc:
        folder = _quarantine(root, stamp, [sidecar, data_file])
        report.actions.append(f"quarantined {sidecar} and its file in {folder}: unreadable sidecar ({exc})")
        return None
    if not data_file.exists():
        sidecar.unlink()
        report.actions.append(f"dropped the sidecar of {meta['logical_id']} version {meta.get('version')}: its file is gone")
        report.to_restore[meta["logical_id"]] = repair_command(meta)
        return meta
    try:
        _check_what_it_is(roots, root_name, root, sidecar, meta)
        verify_artifact(roots, {**meta, "root": root_name})
    except IntegrityError as exc:
        folder = _quarantine(root, stamp, [sidecar, data_file])
        report.actions.append(f"quarantined {meta['logical_id']} version {meta.get('version')} in {folder}: {exc}")
        # what is lost is the artifact of this place, whatever its sidecar claimed to be
        place_relpath = _place_of(root, sidecar)
        place = identity_of(root_name, place_relpath)
        lost = place.repair_meta() if place else meta
        report.to_restore[lost["logical_id"]] = repair_command(lost)
        return {**lost, "canonical": place_relpath}
    return meta


def _place_of(root: Path, sidecar: Path) -> str:
    """The canonical path of the version file beside ``sidecar``."""
    beside = sidecar.with_name(sidecar.name[: -len(META_SUFFIX)])
    stem, _version = parse_version(beside)
    return beside.with_name(stem + beside.suffix).relative_to(root).as_posix()


def _check_what_it_is(roots, root_name: str, root: Path, sidecar: Path, meta: dict) -> None:
    """IntegrityError when the sidecar is not that of the file beside it, or its logical id,
    kind, grid or days are not those of its place (store/identity.py)."""
    problems = location_problems(meta, root_name, sidecar.relative_to(root).as_posix())
    place = identity_of(root_name, _place_of(root, sidecar))
    if place is not None and not problems:
        problems = identity_problems(meta, place)
    if problems:
        raise problem(meta, sidecar, "; ".join(problems))


def _relink(roots, canonical: Path, meta: dict, report: RepairReport) -> None:
    """Point ``canonical`` at its newest intact version (all remaining versions are intact now)."""
    versions = {v: p for v, p in existing_versions(canonical).items() if meta_path_for(p).is_file()}
    meta_link = meta_path_for(canonical)
    if not versions:
        for path in (canonical, meta_link):
            if path.is_symlink() or path.exists():
                path.unlink()
        report.actions.append(f"removed canonical {canonical}: no intact version is left")
        report.to_restore[meta["logical_id"]] = repair_command(meta)
        return
    newest = versions[max(versions)]
    report.to_restore.pop(meta["logical_id"], None)  # an intact version stands for it
    newest_meta = json.loads(meta_path_for(newest).read_text(encoding="utf-8"))
    link = newest_meta.get("link", "symlink")
    if _points_to(canonical, newest, link) and _points_to(meta_link, meta_path_for(newest), link):
        return
    point_canonical(canonical, newest, link)
    point_canonical(meta_link, meta_path_for(newest), link)
    report.actions.append(f"pointed {canonical} at {newest.name}, its newest intact version")


def _points_to(canonical: Path, target: Path, link: str) -> bool:
    if link == "copy":
        return canonical.is_file() and not canonical.is_symlink() and atomic.sha256_file(canonical) == atomic.sha256_file(target)
    return canonical.is_symlink() and os.readlink(canonical) == target.name


def _drop_dangling_links(root: Path, report: RepairReport) -> None:
    for path in list(_walk(root)):
        if path.is_symlink() and not path.exists():
            path.unlink()
            report.actions.append(f"removed dangling link {path}")
