"""A version whose sidecar is missing or unreadable gets its sidecar back, if its file proves
to be what its path says (``catalog.verify --repair``).

The file is checked as far as its format allows: a netCDF artifact must open, its global ``id``
must be the logical id its path names, its time axis (``time_bnds``) must cover the path's day
(or lie in its month) and its ``x``/``y`` axes must be the grid its folder names; a route
(GeoJSON) must parse and name the path's scenario and day; a report (HTML) must decode, parse
and carry the path's month and grid in its title and caption. A sha256 still recorded for the
version (the catalog index, a cut-short sidecar) must match its bytes. What cannot vouch for itself
(a stacking model, an unknown path, any check failing) raises ``NotRebuildable`` and repair
quarantines it with a ``RESTORE`` line.

A rebuilt sidecar says so: tag ``sidecar-rebuilt``, ``params.rebuilt`` (when, why, what was
checked) and a warning; its inputs and the run that made it are unknown, so the next run of its
producer writes a new version rather than trusting it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from ..errors import BadInputError
from ..grid import Grid
from ..provenance import producer
from ..timeutil import day_span, iso_utc, month_days, utc_now
from . import atomic
from .artifacts import META_SUFFIX, SCHEMA_VERSION, link_mode, meta_path_for, parse_version
from .layout import identity_of_path

REBUILT_TAG = "sidecar-rebuilt"
_EPOCH = date(1970, 1, 1)


class NotRebuildable(Exception):
    """Why a version's file cannot vouch for itself; repair quarantines it."""


def canonical_of(version_file: Path) -> Path:
    stem, _version = parse_version(version_file)
    return version_file.with_name(stem + version_file.suffix)


def path_identity(root_name: str, root: Path, version_file: Path) -> dict | None:
    """What the version's path says it is (``layout.identity_of_path`` of its canonical)."""
    return identity_of_path(root_name, canonical_of(version_file).relative_to(root).as_posix())


def restore_meta(identity: dict) -> dict:
    """Enough of a sidecar for ``integrity.repair_command`` to name the command restoring it."""
    grid = _grid(identity)
    return {"logical_id": identity["logical_id"], "kind": identity["kind"], "time_coverage": _coverage(identity),
            "grid": grid.describe() if grid else None,
            "params": {"layer": identity.get("layer"), "request": {"name": identity.get("scenario", "NAME")}}}


def rebuild_sidecar(roots: dict[str, Path], root_name: str, version_file: Path, *, reason: str,
                    run_id: str, recorded: tuple[str, str] | None = None) -> dict:
    """Check ``version_file`` against its path and write its sidecar; NotRebuildable if it fails.

    ``recorded``: a sha256 this version had elsewhere and where (the catalog index, what is
    left of an unreadable sidecar): bytes that changed since are not adopted.
    """
    root = roots[root_name]
    identity = path_identity(root_name, root, version_file)
    if identity is None:
        raise NotRebuildable("its path is not that of any artifact ArcticRoute writes")
    check = _CHECKS.get((identity["kind"], version_file.suffix))
    if check is None:
        raise NotRebuildable(f"a {identity['kind']} file cannot vouch for itself")
    grid = _grid(identity)
    if grid is None:
        raise NotRebuildable(f"its folder names no grid ArcticRoute uses ({identity['grid']})")
    synthetic, coverage, checked = check(version_file, identity, grid)
    sha = atomic.sha256_file(version_file)
    if recorded is not None and recorded[0] != sha:
        raise NotRebuildable(f"its sha256 {sha[:12]}… differs from the {recorded[0][:12]}… {recorded[1]} recorded")
    if recorded is not None:
        checked.append(f"sha256 as {recorded[1]} recorded")
    now = iso_utc(utc_now())
    canonical = canonical_of(version_file)
    sibling = _sibling_meta(canonical, version_file)
    stat = version_file.stat()
    meta = {
        "schema_version": SCHEMA_VERSION,
        "logical_id": identity["logical_id"],
        "version": parse_version(version_file)[1],
        "root": root_name,
        "path": version_file.relative_to(root).as_posix(),
        "canonical": canonical.relative_to(root).as_posix(),
        "link": (sibling or {}).get("link") or link_mode(canonical),
        "sha256": sha,
        "size_bytes": stat.st_size,
        "created_at": iso_utc(datetime.fromtimestamp(stat.st_mtime, UTC)),
        "run_id": run_id,
        "producer": {**producer("catalog.verify"), "command": "catalog.verify --repair (sidecar rebuilt)"},
        "kind": identity["kind"],
        "tags": _tags(sibling, identity, synthetic),
        "synthetic": synthetic,
        "time_coverage": coverage,
        "grid": grid.describe(),
        "inputs": [],
        "params": {"layer": identity.get("layer"), "request": {"name": identity.get("scenario")},
                   "rebuilt": {"by": "catalog.verify --repair", "at": now, "reason": reason, "checked": checked}},
        "warnings": [f"sidecar rebuilt by catalog.verify --repair at {now} ({reason}); the file was checked "
                     f"({', '.join(checked)}) but its inputs and the run that made it are unknown, so the next "
                     "run of its producer writes a new version"],
    }
    meta["params"] = {k: v for k, v in meta["params"].items() if v not in (None, {"name": None})}
    atomic.write_json(meta_path_for(version_file), meta)
    return meta


def _grid(identity: dict) -> Grid | None:
    try:
        return Grid.from_km(float(identity["grid"].split("-", 1)[1].removesuffix("km")))
    except (KeyError, ValueError, IndexError, ArithmeticError, BadInputError):
        return None


def _coverage(identity: dict) -> dict:
    if "day" in identity:
        return day_span(datetime.strptime(identity["day"], "%Y%m%d").date())
    if "month" in identity:
        days = month_days(int(identity["month"][:4]), int(identity["month"][4:]))
        return day_span(days[0], days[-1])
    return {"start": None, "end": None}


def _tags(sibling: dict | None, identity: dict, synthetic: bool) -> list[str]:
    base = [t for t in (sibling or {}).get("tags", []) if t not in ("synthetic", "live", REBUILT_TAG)]
    if not base:
        base = [v for v in (identity.get("layer"), identity["kind"]) if v]
    return [*base, "synthetic" if synthetic else "live", REBUILT_TAG]


def sibling_meta(version_file: Path) -> dict | None:
    """A readable sidecar of another version of ``version_file``'s canonical path, or None."""
    return _sibling_meta(canonical_of(version_file), version_file)


def _sibling_meta(canonical: Path, version_file: Path) -> dict | None:
    """A readable sidecar of another version of the same canonical (for its tags and link)."""
    for sidecar in sorted(canonical.parent.glob(f"{canonical.stem}_adv_v*{canonical.suffix}{META_SUFFIX}")):
        if sidecar.name == version_file.name + META_SUFFIX or sidecar.is_symlink():
            continue
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            return meta
    return None


# -- the checks, one per format ----------------------------------------------------------------

def _check_netcdf(path: Path, identity: dict, grid: Grid) -> tuple[bool, dict, list[str]]:
    import netCDF4

    try:
        with netCDF4.Dataset(path) as ds:
            attrs = {name: ds.getncattr(name) for name in ds.ncattrs()}
            sizes = {name: len(dim) for name, dim in ds.dimensions.items()}
            x = ds.variables["x"][:2].tolist() if "x" in ds.variables else []
            bounds = ds.variables["time_bnds"][0].tolist() if "time_bnds" in ds.variables else None
    except Exception as exc:  # noqa: BLE001 - whatever netCDF/HDF5 refuses, the file cannot vouch for itself
        raise NotRebuildable(f"it does not open as netCDF ({type(exc).__name__}: {exc})") from None
    if attrs.get("id") != identity["logical_id"]:
        raise NotRebuildable(f"its global attribute id is {attrs.get('id')!r}, its path says {identity['logical_id']}")
    if (sizes.get("y"), sizes.get("x")) != grid.shape or len(x) < 2 or abs((x[1] - x[0]) - grid.resolution_m) > 1e-6:
        raise NotRebuildable(f"its x/y axes ({sizes.get('y')} x {sizes.get('x')}) are not the grid {grid.name} "
                             "its folder names")
    checked = ["opens as netCDF", f"id = {identity['logical_id']}", f"x/y axes of {grid.name}"]
    coverage = {"start": None, "end": None}
    if "day" in identity or "month" in identity:
        if bounds is None:
            raise NotRebuildable("it has no time axis (time_bnds) to date it by")
        first = _EPOCH + timedelta(days=float(bounds[0]))
        after = _EPOCH + timedelta(days=float(bounds[1]))
        coverage = day_span(first, after - timedelta(days=1))
        if "day" in identity and (first.strftime("%Y%m%d"), (after - timedelta(days=1)).strftime("%Y%m%d")) != (
                identity["day"], identity["day"]):
            raise NotRebuildable(f"its time axis covers {coverage['start']}..{coverage['end']}, its path says "
                                 f"{identity['day']}")
        if "month" in identity and not (first.strftime("%Y%m") == identity["month"]
                                        == (after - timedelta(days=1)).strftime("%Y%m")):
            raise NotRebuildable(f"its time axis covers {coverage['start']}..{coverage['end']}, its path says "
                                 f"the month {identity['month']}")
        checked.append(f"time axis {coverage['start'][:10]}..{coverage['end'][:10]}")
    if attrs.get("synthetic") not in ("true", "false"):
        raise NotRebuildable("its attribute synthetic is neither 'true' nor 'false': real or demo data cannot be told")
    return attrs["synthetic"] == "true", coverage, checked


def _check_route(path: Path, identity: dict, grid: Grid) -> tuple[bool, dict, list[str]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotRebuildable(f"it does not parse as JSON ({exc})") from None
    about = document.get("arcticroute") if isinstance(document, dict) else None
    if document.get("type") != "FeatureCollection" or not isinstance(about, dict):
        raise NotRebuildable("it is not an ArcticRoute FeatureCollection (no 'arcticroute' member)")
    day = datetime.strptime(identity["day"], "%Y%m%d").date().isoformat()
    if (about.get("scenario"), about.get("date")) != (identity["scenario"], day):
        raise NotRebuildable(f"it is the route of {about.get('scenario')!r} on {about.get('date')!r}, its path says "
                             f"{identity['scenario']!r} on {day}")
    if not isinstance(about.get("synthetic"), bool):
        raise NotRebuildable("it does not say whether its data are synthetic")
    return about["synthetic"], _coverage(identity), ["parses as GeoJSON", f"scenario {identity['scenario']}, day {day}"]


class _Title(HTMLParser):
    def __init__(self):
        super().__init__()
        self.title, self._inside = "", False

    def handle_starttag(self, tag, attrs):
        self._inside = tag == "title"

    def handle_endtag(self, tag):
        self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.title += data


def _check_report(path: Path, identity: dict, grid: Grid) -> tuple[bool, dict, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
        parser = _Title()
        parser.feed(text)
        parser.close()
    except (OSError, ValueError) as exc:
        raise NotRebuildable(f"it does not read as UTF-8 HTML ({exc})") from None
    month = f"{identity['month'][:4]}-{identity['month'][4:]}"
    if parser.title.strip() != f"ArcticRoute monthly report {month}" or f"grid {grid.name}" not in text:
        raise NotRebuildable(f"its title {parser.title.strip()!r} and caption do not name the month {month} and the "
                             f"grid {grid.name} of its path")
    return 'class="banner"' in text, _coverage(identity), ["parses as HTML", f"month {month}, grid {grid.name}"]


_CHECKS = {
    ("env-layer", ".nc"): _check_netcdf,
    ("risk-daily", ".nc"): _check_netcdf,
    ("risk-monthly", ".nc"): _check_netcdf,
    ("static-grid", ".nc"): _check_netcdf,
    ("route", ".geojson"): _check_route,
    ("report", ".html"): _check_report,
}

