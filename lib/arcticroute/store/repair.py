"""``catalog.verify --repair``: bring the catalog back to a verifying state after a fault.

Run under every command family's lock, so no writer is active. In order:

1. move a tree of the 0.1.0 layout to the current one (``layout.migrate_legacy``);
2. remove temporary files (``.tmp-…``) that dead runs left;
3. per version: a sidecar whose file is gone is dropped; a file whose size or sha256 differs
   from its sidecar is moved with its sidecar to ``<root>/.quarantine/<UTC time>/`` (kept for
   inspection, never used again); an unreadable sidecar is quarantined alone and its file
   treated as in 4;
4. a version file without a sidecar (a run killed between the two writes, a sidecar deleted)
   gets its sidecar rebuilt when the file proves to be what its path says (``rebuild``),
   else it is quarantined;
5. every canonical path is pointed at its newest intact version, or removed when none is left;
   links whose target is gone are removed;
6. what only a producer can restore is listed with the command that does it.

Before it moves or drops any version, its number is recorded as used (``highwater``), so a
new version never takes it. It never writes outside its roots: a ``.quarantine`` that is a
symbolic link, or has one on the way to where a file would go, is refused before anything is
changed. Nothing here writes new data: the producers (``just daily``) do that afterwards.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArcticRouteError
from ..timeutil import new_run_id, utc_now
from . import atomic
from .artifacts import (
    META_SUFFIX,
    existing_versions,
    meta_path_for,
    parse_version,
    point_canonical,
    points_to,
)
from .catalog import INDEX_RELPATH, SKIP_DIRS
from .highwater import raise_highwater
from .identity import identity_of, identity_problems, location_problems
from .integrity import IntegrityError, problem, repair_command, verify_artifact
from .layout import migrate_legacy
from .rebuild import (
    NotRebuildable,
    canonical_of,
    path_identity,
    rebuild_sidecar,
    restore_meta,
    sibling_meta,
)

QUARANTINE = ".quarantine"
_SHA_FIELD = re.compile(r'"sha256"\s*:\s*"([0-9a-f]{64})"')


class RepairRefusedError(ArcticRouteError):
    """Repair would write outside its roots (a ``.quarantine`` link); nothing was changed."""


@dataclass
class RepairReport:
    actions: list[str] = field(default_factory=list)
    to_restore: dict[str, str] = field(default_factory=dict)  # logical id -> command that restores it

    def as_dict(self) -> dict:
        return {"actions": self.actions,
                "to_restore": [{"logical_id": k, "command": v} for k, v in sorted(self.to_restore.items())]}


def _walk(root: Path, skip_quarantine: bool = True):
    """Every file and link under ``root`` outside the bookkeeping folders; links not followed."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and (d != QUARANTINE or not skip_quarantine)]
        for name in filenames:
            yield Path(dirpath) / name


def repair(roots: dict[str, Path], run_id: str | None = None) -> RepairReport:
    """``run_id``: the repair's run, recorded in the sidecars it rebuilds."""
    for root in roots.values():
        refuse_linked_quarantine(root)
    run_id = run_id or new_run_id()
    recorded = _indexed_sha256(roots)
    report = RepairReport()
    report.actions += migrate_legacy(roots)
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    canonicals: dict[Path, dict] = {}  # canonical path -> a sidecar of it (for the restore command)
    for root_name, root in roots.items():
        if not root.is_dir():
            continue
        _remember_quarantined_numbers(root)
        fix = _Fixer(roots, root_name, root, stamp, run_id, report, recorded)
        for path in list(_walk(root)):
            if path.name.startswith(atomic.TMP_PREFIX):
                path.unlink(missing_ok=True)
                report.actions.append(f"removed temporary file {path} left by a dead run")
            elif _is_version_sidecar(path):
                meta = fix.check_version(path)
                if meta is not None:
                    canonicals[root / meta["canonical"]] = meta
        for path in list(_walk(root)):
            if _is_version_file(path) and not meta_path_for(path).exists():
                meta = fix.adopt(path, "its sidecar is missing")
                if meta is not None:
                    canonicals[root / meta["canonical"]] = meta
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
                found.append(f"version without a sidecar: {path} (repair rebuilds its sidecar if the file proves "
                             "to be what its path says, else quarantines it)")
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


def refuse_linked_quarantine(root: Path) -> None:
    """Repair moves files into ``<root>/.quarantine``: a link there would take them elsewhere."""
    folder = root / QUARANTINE
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        what = f"a symbolic link to {os.readlink(folder)}" if folder.is_symlink() else "not a folder"
        raise RepairRefusedError(
            f"{folder} is {what}; repair moves corrupt versions there and never writes outside {root}, "
            "so nothing was changed",
            hint=f"remove it (rm {folder}) or make it a real folder inside the root, then run catalog.verify "
                 "--repair (just repair) again",
        )


def _real_folder(root: Path, parts: tuple[str, ...]) -> Path:
    """``root/parts…``, made folder by folder, each checked not to be a link (nothing followed)."""
    folder = root
    for part in parts:
        folder = folder / part
        if not folder.is_symlink():
            folder.mkdir(exist_ok=True)
        if folder.is_symlink() or not folder.is_dir():
            raise RepairRefusedError(
                f"{folder} is a symbolic link or not a folder; repair never writes outside {root}, so the file "
                "meant for it stays where it was",
                hint=f"remove {folder}, then run catalog.verify --repair (just repair) again",
            )
    return folder


def _quarantine(root: Path, stamp: str, paths: list[Path]) -> Path:
    for path in paths:
        if path.exists():
            relative = path.relative_to(root)
            folder = _real_folder(root, (QUARANTINE, stamp, *relative.parent.parts))
            os.replace(path, folder / path.name)
    return root / QUARANTINE / stamp


def _remember_quarantined_numbers(root: Path) -> None:
    """Versions quarantined before numbers were recorded: their numbers are used all the same."""
    quarantine = root / QUARANTINE
    if not quarantine.is_dir() or quarantine.is_symlink():
        return
    for path in _walk(quarantine, skip_quarantine=False):
        parsed = None if path.is_symlink() or path.name.endswith(META_SUFFIX) else parse_version(path)
        relative = path.relative_to(quarantine).parts[1:]  # below <UTC time>/
        canonical = root.joinpath(*relative[:-1], parsed[0] + path.suffix) if parsed and relative else None
        if canonical is not None and canonical.parent.is_dir() and not canonical.parent.is_symlink():
            raise_highwater(canonical, parsed[1])


def _indexed_sha256(roots: dict[str, Path]) -> dict[tuple[str, str], str]:
    """The sha256 the last catalog index recorded for each newest version, by (root, path): a
    version whose sidecar is lost since must still have those bytes to be adopted."""
    outputs = roots.get("outputs")
    try:
        entries = json.loads((outputs / INDEX_RELPATH).read_text(encoding="utf-8")).get("entries", [])
    except (OSError, ValueError, AttributeError, TypeError):
        return {}
    return {(str(e.get("root")), str(e.get("path"))): str(e.get("sha256")) for e in entries if isinstance(e, dict)}


def _salvaged_sha256(sidecar: Path) -> str | None:
    """The sha256 an unreadable sidecar still shows (a cut-short one keeps its first fields)."""
    try:
        found = _SHA_FIELD.search(sidecar.read_bytes().decode("utf-8", "replace"))
    except OSError:
        return None
    return found.group(1) if found else None


class _Fixer:
    """The repairs of one root's versions, reported to ``report``."""

    def __init__(self, roots, root_name: str, root: Path, stamp: str, run_id: str, report: RepairReport,
                 recorded: dict[tuple[str, str], str]):
        self.roots, self.root_name, self.root = roots, root_name, root
        self.stamp, self.run_id, self.report = stamp, run_id, report
        self.recorded = recorded

    def check_version(self, sidecar: Path) -> dict | None:
        """The sidecar's meta when its version is intact; otherwise drop, quarantine or adopt it."""
        data_file = sidecar.with_name(sidecar.name[: -len(META_SUFFIX)])
        raise_highwater(canonical_of(data_file), parse_version(data_file)[1])
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or "logical_id" not in meta or "canonical" not in meta:
                raise ValueError("not an artifact sidecar")
        except (OSError, ValueError) as exc:
            salvaged = _salvaged_sha256(sidecar)
            folder = _quarantine(self.root, self.stamp, [sidecar])
            self.report.actions.append(f"quarantined the unreadable sidecar {sidecar} in {folder} ({exc})")
            if data_file.exists():
                return self.adopt(data_file, f"its sidecar was unreadable: {exc}",
                                  (salvaged, "its unreadable sidecar") if salvaged else None)
            return None
        if not data_file.exists():
            sidecar.unlink()
            self.report.actions.append(
                f"dropped the sidecar of {meta['logical_id']} version {meta.get('version')}: its file is gone")
            self.report.to_restore[meta["logical_id"]] = repair_command(meta)
            return meta
        try:
            _check_what_it_is(self.roots, self.root_name, self.root, sidecar, meta)
            verify_artifact(self.roots, {**meta, "root": self.root_name})
        except IntegrityError as exc:
            folder = _quarantine(self.root, self.stamp, [sidecar, data_file])
            self.report.actions.append(
                f"quarantined {meta['logical_id']} version {meta.get('version')} in {folder}: {exc}")
            # what is lost is the artifact of this place, whatever its sidecar claimed to be
            place_relpath = _place_of(self.root, sidecar)
            place = identity_of(self.root_name, place_relpath)
            lost = place.repair_meta() if place else meta
            self.report.to_restore[lost["logical_id"]] = repair_command(lost)
            return {**lost, "canonical": place_relpath}
        return meta

    def adopt(self, data_file: Path, reason: str, recorded: tuple[str, str] | None = None) -> dict | None:
        """A version file without a (readable) sidecar: rebuild its sidecar, or quarantine it."""
        raise_highwater(canonical_of(data_file), parse_version(data_file)[1])
        indexed = self.recorded.get((self.root_name, data_file.relative_to(self.root).as_posix()))
        if recorded is None and indexed:
            recorded = (indexed, "the catalog index")
        try:
            meta = rebuild_sidecar(self.roots, self.root_name, data_file, reason=reason, run_id=self.run_id,
                                   recorded=recorded)
        except NotRebuildable as exc:
            folder = _quarantine(self.root, self.stamp, [data_file])
            self.report.actions.append(f"quarantined {data_file} in {folder}: {reason}, and {exc}")
            identity = path_identity(self.root_name, self.root, data_file)
            canonical = canonical_of(data_file).relative_to(self.root).as_posix()
            if identity is None:
                # another version's sidecar still names what this path holds (GC killed between
                # a superseded version's two removals): relinking judges whether anything is lost
                sibling = sibling_meta(data_file)
                if sibling is not None and "logical_id" in sibling:
                    self.report.to_restore[sibling["logical_id"]] = repair_command(sibling)
                    return {**sibling, "canonical": canonical}
                self.report.to_restore[str(data_file)] = f"nothing known makes it; inspect it in {folder}"
                return None
            known = restore_meta(identity)
            self.report.to_restore[identity["logical_id"]] = repair_command(known)
            return {**known, "canonical": canonical}
        self.report.actions.append(
            f"rebuilt the sidecar of {meta['logical_id']} version {meta['version']} ({reason}): its file is what its "
            f"path says ({', '.join(meta['params']['rebuilt']['checked'])}); its inputs are unknown, as the sidecar "
            "says (tag sidecar-rebuilt), so its producer writes a fresh version on its next run")
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
    if points_to(canonical, newest, link) and points_to(meta_link, meta_path_for(newest), link):
        return
    point_canonical(canonical, newest, link)
    point_canonical(meta_link, meta_path_for(newest), link)
    report.actions.append(f"pointed {canonical} at {newest.name}, its newest intact version")


def _drop_dangling_links(root: Path, report: RepairReport) -> None:
    for path in list(_walk(root)):
        if path.is_symlink() and not path.exists():
            path.unlink()
            report.actions.append(f"removed dangling link {path}")
