"""The catalog: derived from the sidecars (the truth), rebuildable at any time.

``build_index`` scans every root for versioned sidecars; ``verify`` checks each version's
file (existence, size, sha256) and each canonical link (``verify_logical_id`` one logical id);
``write_index`` keeps a JSON copy at ``outputs/catalog/index.json`` for the UI and other
readers. What a retention policy would remove is ``gc.versions.gc_list`` (``catalog.gc``).
"""

from __future__ import annotations

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

log = logging.getLogger("arcticroute.store.catalog")
SKIP_DIRS = {"catalog", "locks", "logs", "runs", "alerts"}


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
    path = outputs_root / "catalog" / "index.json"
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


@lru_cache(maxsize=1)
def _meta_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(artifact_meta_schema())


def verify_entry(roots: dict[str, Path], entry: Entry) -> list[Problem]:
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
        path = root / meta.get("path", "")
        if not path.is_file():
            problems.append(Problem(entry.logical_id, f"{tag}: file missing: {path}"))
            continue
        size = path.stat().st_size
        if size != meta.get("size_bytes"):
            problems.append(Problem(entry.logical_id, f"{tag}: size {size} bytes, sidecar says {meta.get('size_bytes')}: {path}"))
            continue
        sha = atomic.sha256_file(path)
        if sha != meta.get("sha256"):
            problems.append(Problem(entry.logical_id, f"{tag}: sha256 {sha[:12]}… does not match the sidecar's {str(meta.get('sha256'))[:12]}…: {path}"))
    problems += _verify_canonical(roots, entry)
    return problems


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
        if pointed.name != target.name and not _older_intact_version(entry, pointed):
            return [Problem(entry.logical_id, f"canonical link {canonical} points to {pointed.name}, newest version is {target.name}")]
        if not pointed.exists():
            return [Problem(entry.logical_id, f"canonical link {canonical} is dangling")]
        if not meta_path_for(canonical).exists():
            return [Problem(entry.logical_id, f"canonical sidecar {meta_path_for(canonical)} is missing")]
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
