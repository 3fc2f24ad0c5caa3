"""The catalog: derived from the sidecars (the truth), rebuildable at any time.

``build_index`` scans every root for versioned sidecars; ``verify`` checks each version's
sidecar against its place, its file (existence, size, sha256 of the bytes, what the file says it
is) and each canonical link (``verify_logical_id`` one logical id); ``missing_logical_ids`` names
the logical ids whose place is taken by another artifact's file and sidecar;
``write_index`` keeps a JSON copy at ``outputs/catalog/index.json`` for the UI and other
readers. What a retention policy would remove is ``gc.versions.gc_list`` (``catalog.gc``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jsonschema

from ..timeutil import iso_utc, utc_now
from . import atomic
from .artifacts import META_SUFFIX, artifact_meta_schema, meta_path_for
from .identity import (
    canonical_of_version,
    content_problems,
    identity_of,
    identity_problems,
    location_problems,
    stated_by_file,
)

log = logging.getLogger("arcticroute.store.catalog")
SKIP_DIRS = {"catalog", "locks", "logs", "runs", "alerts"}
INDEX_RELPATH = "catalog/index.json"  # under the outputs root


def iter_sidecars(roots: dict[str, Path]):
    """Yield the path of every versioned sidecar (not the canonical links or copies)."""
    for root in roots.values():
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
            for name in filenames:
                if name.endswith(META_SUFFIX) and "_adv_v" in name and not name.startswith("."):
                    path = Path(dirpath) / name
                    if not path.is_symlink():
                        yield path


def scan(roots: dict[str, Path]) -> tuple[list[dict], list[str]]:
    """All sidecars as dicts, plus problems with sidecars that could not be read."""
    metas, problems = [], []
    for path in iter_sidecars(roots):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: unreadable sidecar ({exc})")
            continue
        if not isinstance(meta, dict) or "logical_id" not in meta:
            problems.append(f"{path}: not an artifact sidecar (no logical_id)")
            continue
        meta["_sidecar"] = str(path)
        metas.append(meta)
    return metas, problems


@dataclass
class Entry:
    """One logical id with all its versions, newest last."""

    logical_id: str
    versions: list[dict]

    @property
    def newest(self) -> dict:
        return self.versions[-1]

    def summary(self) -> dict:
        newest = self.newest
        return {
            "logical_id": self.logical_id,
            "kind": newest.get("kind"),
            "tags": newest.get("tags", []),
            "synthetic": newest.get("synthetic"),
            "newest_version": newest.get("version"),
            "versions": [v.get("version") for v in self.versions],
            "root": newest.get("root"),
            "canonical": newest.get("canonical"),
            "path": newest.get("path"),
            "sha256": newest.get("sha256"),
            "size_bytes": newest.get("size_bytes"),
            "created_at": newest.get("created_at"),
            "time_coverage": newest.get("time_coverage"),
            "run_id": newest.get("run_id"),
        }


def build_index(roots: dict[str, Path]) -> tuple[list[Entry], list[str]]:
    metas, problems = scan(roots)
    grouped: dict[str, list[dict]] = {}
    for meta in metas:
        grouped.setdefault(meta["logical_id"], []).append(meta)
    entries = [
        Entry(lid, sorted(versions, key=lambda m: m.get("version", 0)))
        for lid, versions in sorted(grouped.items())
    ]
    return entries, problems


def write_index(roots: dict[str, Path], outputs_root: Path) -> Path:
    entries, problems = build_index(roots)
    path = outputs_root / INDEX_RELPATH
    atomic.write_json(
        path,
        {
            "schema_version": 1,
            "generated_at": iso_utc(utc_now()),
            "entries": [e.summary() for e in entries],
            "problems": problems,
        },
    )
    return path


def read_index(roots: dict[str, Path], outputs_root: Path) -> dict:
    """The catalog index the runs keep up to date; rebuilt from the sidecars when absent or unreadable."""
    path = outputs_root / "catalog" / "index.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        write_index(roots, outputs_root)
        return json.loads(path.read_text(encoding="utf-8"))


def matches(entry: Entry, *, prefix: str | None = None, kind: str | None = None,
            month: str | None = None, tag: str | None = None) -> bool:
    """Filter used by ``catalog.show``; ``month`` is ``YYYYMM`` and matches the time coverage."""
    newest = entry.newest
    if prefix and not entry.logical_id.startswith(prefix):
        return False
    if kind and newest.get("kind") != kind:
        return False
    if tag and tag not in newest.get("tags", []):
        return False
    if month:
        coverage = newest.get("time_coverage") or {}
        start = (coverage.get("start") or "")[:7].replace("-", "")
        end = (coverage.get("end") or "")[:7].replace("-", "")
        if not (start and end and start <= month <= end):
            return False
    return True


@dataclass
class Problem:
    logical_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.logical_id}: {self.message}"


def _logical_id_at(version: Path) -> str | None:
    """The logical id the sidecar of a version file names, or None without a readable one."""
    try:
        meta = json.loads(meta_path_for(version).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get("logical_id") if isinstance(meta, dict) else None


@lru_cache(maxsize=1)
def _meta_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(artifact_meta_schema())


def verify_entry(roots: dict[str, Path], entry: Entry) -> list[Problem]:
    """Every version of a logical id: its sidecar (schema, the file beside it, the identity of its
    place), its file (size, sha256 of the bytes read now) and what the file says it is; then the
    canonical link."""
    problems: list[Problem] = []
    validator = _meta_validator()
    for meta in entry.versions:
        tag = f"version {meta.get('version')}"
        for error in validator.iter_errors({k: v for k, v in meta.items() if not k.startswith("_")}):
            where = ".".join(map(str, error.absolute_path)) or "(top level)"
            problems.append(Problem(entry.logical_id, f"{tag}: sidecar {where}: {error.message}"))
        root = roots.get(meta.get("root", ""))
        if root is None:
            problems.append(Problem(entry.logical_id, f"{tag}: unknown root {meta.get('root')!r}"))
            continue
        misplaced = _misplaced(roots, meta)
        if misplaced:
            problems += [Problem(entry.logical_id, f"{tag}: {text}") for text in misplaced]
            continue
        place = identity_of(meta["root"], str(meta.get("canonical")))
        if place is not None:
            problems += [Problem(entry.logical_id, f"{tag}: {text} (its place {meta.get('canonical')} is "
                                                   f"{place.logical_id})") for text in identity_problems(meta, place)]
        problems += [Problem(entry.logical_id, f"{tag}: {text}") for text in _file_problems(root, meta)]
    problems += _verify_canonical(roots, entry)
    return problems


def _misplaced(roots: dict[str, Path], meta: dict) -> list[str]:
    """A sidecar that does not describe the file beside it (copied over another version's)."""
    sidecar = meta.get("_sidecar")
    root = roots.get(meta.get("root", ""))
    if not sidecar or root is None:
        return []
    found_in = next(((name, r) for name, r in roots.items() if Path(sidecar).is_relative_to(r)), None)
    if found_in is None:
        return []
    return [f"{text}: {sidecar}" for text in location_problems(meta, found_in[0],
                                                              Path(sidecar).relative_to(found_in[1]).as_posix())]


def _file_problems(root: Path, meta: dict) -> list[str]:
    """Size and sha256 of the version's bytes (read now, no cache), then what they say they are."""
    path = root / meta.get("path", "")
    if not path.is_file():
        return [f"file missing: {path}"]
    size = path.stat().st_size
    if size != meta.get("size_bytes"):
        return [f"size {size} bytes, sidecar says {meta.get('size_bytes')}: {path}"]
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if sha != meta.get("sha256"):
        return [f"sha256 {sha[:12]}… does not match the sidecar's {str(meta.get('sha256'))[:12]}…: {path}"]
    return [f"content contradicts its sidecar: {text}: {path}"
            for text in content_problems(meta, stated_by_file(data, path.name))]


def missing_logical_ids(roots: dict[str, Path], entries: list[Entry], prefix: str | None = None) -> list[Problem]:
    """Logical ids whose place exists on disk (a canonical path, a version file) while no sidecar
    names them: another artifact's file and sidecar were put in their place, so the catalog
    counts one logical id fewer without any file being missing."""
    known = {entry.logical_id for entry in entries}
    lost: dict[str, str] = {}
    for root_name, root in roots.items():
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
            for name in filenames:
                if not name.endswith(META_SUFFIX) or name.startswith("."):
                    continue
                relpath = (Path(dirpath) / name[: -len(META_SUFFIX)]).relative_to(root).as_posix()
                place = identity_of(root_name, canonical_of_version(relpath) or relpath)
                if place is not None and place.logical_id not in known:
                    lost.setdefault(place.logical_id, str(root / relpath))
    return [Problem(lid, f"missing from the catalog: no sidecar names it, yet {where} stands in its place "
                         "(another artifact's file and sidecar, or a link to another artifact's version)")
            for lid, where in sorted(lost.items()) if not prefix or lid.startswith(prefix)]


def _older_intact_version(entry: Entry, pointed: Path) -> bool:
    """The link still names an older catalogued version whose file exists: a run was killed
    between writing a newer version's sidecar and swapping the link. Readers keep using the
    older version, so this is a leftover (``repair.leftovers``), not a broken catalog."""
    older = {Path(m.get("path", "")).name for m in entry.versions[:-1]}
    return pointed.name in older and pointed.is_file()


def _verify_canonical(roots: dict[str, Path], entry: Entry) -> list[Problem]:
    newest = entry.newest
    root = roots.get(newest.get("root", ""))
    if root is None or not newest.get("canonical"):
        return []
    canonical = root / newest["canonical"]
    target = root / newest["path"]
    if canonical.is_symlink():
        pointed = (canonical.parent / os.readlink(canonical))
        other = _logical_id_at(pointed)
        if other is not None and other != entry.logical_id:
            return [Problem(entry.logical_id, f"canonical link {canonical} points to {pointed.name}, a version of "
                                              f"another logical id ({other})")]
        if pointed.name != target.name and not _older_intact_version(entry, pointed):
            return [Problem(entry.logical_id, f"canonical link {canonical} points to {pointed.name}, newest version is {target.name}")]
        if not pointed.exists():
            return [Problem(entry.logical_id, f"canonical link {canonical} is dangling")]
        meta_link = meta_path_for(canonical)
        if not meta_link.exists():
            return [Problem(entry.logical_id, f"canonical sidecar {meta_link} is missing")]
        if meta_link.is_symlink() and os.readlink(meta_link) != pointed.name + META_SUFFIX:
            return [Problem(entry.logical_id, f"canonical sidecar {meta_link} points to {os.readlink(meta_link)}, "
                                              f"the canonical link to {pointed.name}")]
        return []
    if not canonical.is_file():
        return [Problem(entry.logical_id, f"canonical path {canonical} is missing")]
    if atomic.sha256_file(canonical) != newest.get("sha256"):
        return [Problem(entry.logical_id, f"canonical copy {canonical} differs from the newest version {target.name}")]
    return []


def verify(roots: dict[str, Path], entries: list[Entry]) -> list[Problem]:
    problems: list[Problem] = []
    for entry in entries:
        problems += verify_entry(roots, entry)
    return problems


def verify_logical_id(roots: dict[str, Path], logical_id: str,
                      entries: list[Entry] | None = None) -> list[Problem]:
    """Check one logical id: every version's file (existence, size, sha256) and its canonical link.

    ``entries`` saves rebuilding the index when the caller has it already.
    """
    if entries is None:
        entries, _problems = build_index(roots)
    for entry in entries:
        if entry.logical_id == logical_id:
            return verify_entry(roots, entry)
    return [Problem(logical_id, "not in the catalog (no sidecar names it)")]
