"""The on-disk layout: the grid is a folder level of every grid-bound artifact.

Current layout (docs/artifacts.md)::

    data_processed/env/<layer>/<grid>/YYYY/MM/<layer>_<YYYYMMDD>.nc
    data_processed/risk/<grid>/YYYY/MM/risk_<YYYYMMDD>.nc, risk_<YYYYMM>.nc
    data_processed/static/grid_<grid>.nc
    outputs/routes/<grid>/<scenario>_<YYYYMMDD>.geojson
    reports/<grid>/<YYYYMM>/report_<YYYYMM>.html

Releases up to 0.1.0 wrote the same paths without the grid level, so artifacts of two grids
for one day overwrote each other's canonical links. ``migrate_legacy`` moves such a tree into
the current layout without losing a version: each version goes to the folder of its own grid
(read from its sidecar), its sidecar is rewritten with the new paths, and the canonical links
are made again there. ``catalog.verify --repair`` runs it; producers refuse to run on a tree
that still needs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import ArcticRouteError
from . import atomic
from .artifacts import (
    META_SUFFIX,
    existing_versions,
    meta_path_for,
    next_version,
    parse_version,
    point_canonical,
    read_meta,
    version_path,
)
from .highwater import raise_highwater
from .identity import identity_of
from .integrity import is_safe_relpath

_YEAR = re.compile(r"^\d{4}$")
_YEAR_MONTH = re.compile(r"^\d{6}$")


def new_relpath(root: str, relpath: str, grid_name: str) -> str | None:
    """The current-layout path of a legacy ``relpath``, or None when it needs no move."""
    parts = relpath.split("/")
    if root == "data" and parts[0] == "env" and len(parts) == 5 and _YEAR.match(parts[2]):
        return "/".join([*parts[:2], grid_name, *parts[2:]])
    if root == "data" and parts[0] == "risk" and len(parts) == 4 and _YEAR.match(parts[1]):
        return "/".join([parts[0], grid_name, *parts[1:]])
    if root == "outputs" and parts[0] == "routes" and len(parts) == 2:
        return "/".join([parts[0], grid_name, parts[1]])
    if root == "reports" and len(parts) == 2 and _YEAR_MONTH.match(parts[0]):
        return "/".join([grid_name, *parts])
    return None


def legacy_folders(roots: dict[str, Path]) -> list[Path]:
    """Folders (or route files) of the legacy layout under the roots; cheap, no tree walk."""
    found: list[Path] = []
    data, outputs, reports = roots["data"], roots["outputs"], roots["reports"]
    found += [p for p in data.glob("env/*/*") if p.is_dir() and _YEAR.match(p.name)]
    found += [p for p in data.glob("risk/*") if p.is_dir() and _YEAR.match(p.name)]
    found += [p for pattern in ("routes/*.geojson*", "routes/*.rtz*")  # documents and their RTZ
              for p in outputs.glob(pattern) if p.is_file() or p.is_symlink()]
    found += [p for p in reports.glob("*") if p.is_dir() and _YEAR_MONTH.match(p.name)]
    return sorted(found)


def refuse_legacy(roots: dict[str, Path]) -> None:
    """Producers call this: writing beside a legacy tree would split its history in two."""
    legacy = legacy_folders(roots)
    if legacy:
        raise ArcticRouteError(
            f"the data tree is in the layout of release 0.1.0 (no grid level in the paths, e.g. {legacy[0]}); "
            "nothing was written",
            hint="run catalog.verify --repair (just repair) once: it moves every version to its grid's folder "
                 "and loses nothing",
        )


def _legacy_sidecars(roots: dict[str, Path]):
    for folder in legacy_folders(roots):
        candidates = [folder] if folder.is_file() else folder.rglob(f"*{META_SUFFIX}")
        for path in candidates:
            if path.name.endswith(META_SUFFIX) and not path.is_symlink() and parse_version(
                    Path(path.name[: -len(META_SUFFIX)])):
                yield path


def migrate_legacy(roots: dict[str, Path]) -> list[str]:
    """Move every legacy version into the current layout; returns what was done."""
    actions: list[str] = []
    moved_to: set[Path] = set()
    old_canonicals: set[Path] = set()
    for sidecar in list(_legacy_sidecars(roots)):
        meta = read_meta(sidecar)
        grid_name = (meta.get("grid") or {}).get("name")
        root_name = meta.get("root")
        if not grid_name or root_name not in roots:
            actions.append(f"left {sidecar}: its sidecar names no grid or root")
            continue
        if not (is_safe_relpath(str(meta.get("path"))) and is_safe_relpath(str(meta.get("canonical")))):
            actions.append(f"left {sidecar}: its paths leave the root")
            continue
        canonical = new_relpath(root_name, meta["canonical"], grid_name)
        if canonical is None:
            continue
        root = roots[root_name]
        new_canonical = root / canonical
        old_canonicals |= {root / meta["canonical"], meta_path_for(root / meta["canonical"])}
        source = root / meta["path"]
        target = version_path(new_canonical, meta["version"])
        resumed = target.is_file() and not source.exists() and atomic.sha256_file(target) == meta.get("sha256")
        if target.exists() and not resumed:
            target = version_path(new_canonical, next_version(new_canonical))
        target.parent.mkdir(parents=True, exist_ok=True)
        raise_highwater(new_canonical, parse_version(target)[1])
        meta.update(path=target.relative_to(root).as_posix(), canonical=canonical,
                    version=parse_version(target)[1])
        if meta.get("kind") == "report" and "?grid=" not in meta["logical_id"]:
            meta["logical_id"] = f"{meta['logical_id']}?grid={grid_name}"
        # sidecar first, then the file, then the old sidecar: a move cut short resumes next time
        atomic.write_json(meta_path_for(target), meta)
        if source.is_file():
            os.replace(source, target)
        sidecar.unlink()
        moved_to.add(new_canonical)
        actions.append(f"moved {meta['logical_id']} version {meta['version']} to {target}")
    for new_canonical in sorted(moved_to):
        _link_newest(new_canonical)
    for old in sorted(old_canonicals):
        if old.is_symlink() or old.is_file():
            old.unlink()  # a link to, or a copy of, a version that has moved
    actions += _remove_empty(legacy_folders(roots))
    return actions


def _link_newest(canonical: Path) -> None:
    newest = existing_versions(canonical)[max(existing_versions(canonical))]
    link = read_meta(meta_path_for(newest)).get("link", "symlink")
    point_canonical(canonical, newest, link)
    point_canonical(meta_path_for(canonical), meta_path_for(newest), link)


def _remove_empty(folders: list[Path]) -> list[str]:
    """Remove the legacy folders the move emptied; name those still holding other files."""
    actions = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()), reverse=True):
            if not any(sub.iterdir()):
                sub.rmdir()
        if any(folder.iterdir()):
            actions.append(f"left {folder}: it still holds files that are not catalogued artifacts")
        else:
            folder.rmdir()
            actions.append(f"removed the emptied legacy folder {folder}")
    return actions


# -- what a canonical path says an artifact is -------------------------------------------------

def identity_of_path(root: str, canonical_relpath: str) -> dict | None:
    """What the current layout says the artifact at ``canonical_relpath`` is (``identity.identity_of``,
    the one table of artifact places): ``logical_id``, ``kind``, ``grid`` (its name), ``layer``,
    ``scenario``, ``day`` (YYYYMMDD) or ``month`` (YYYYMM) as the path has them; None for a path
    of no known artifact."""
    found = identity_of(root, canonical_relpath)
    if found is None:
        return None
    out = {"logical_id": found.logical_id, "kind": found.kind, "grid": found.grid}
    stamp = found.logical_id.partition("@")[2].partition("?")[0]  # the path's YYYYMMDD or YYYYMM
    if found.kind == "env-layer":
        out["layer"] = found.logical_id.removeprefix("ar://env/").partition("@")[0]
    if found.name is not None:
        out["scenario"] = found.name
    if found.first is not None and found.first == found.last:
        out["day"] = stamp
    elif found.within is not None or found.kind in ("report", "risk-model"):
        out["month"] = stamp
    return out
