"""An artifact is what it says: the place asked for, its sidecar and its file agree.

Three statements of what an artifact is must agree before its bytes are used:

1. its **place**: the canonical path the reader asked for (``identity_of`` reads the logical
   id, kind, grid and days off the layout of docs/artifacts.md);
2. its **sidecar**: ``logical_id``, ``kind``, ``grid``, ``time_coverage``, and the paths it
   names (``sidecar_problems``);
3. its **file**: the netCDF's global ``id`` and time axis, a route document's scenario and
   date (``stated_by_file``, ``content_problems``).

A file copied over another day's with its sidecar, a canonical link pointed at another day's
version, a sidecar of another grid, or a sidecar whose sha256 and size were edited to match
another day's file: each has all the right bytes for some artifact, only not for the one asked
for. The functions here return what disagrees (empty when nothing does); the readers in
``integrity`` refuse the artifact with it. They import no layer above the store: the path
patterns below mirror ``layers.layer_relpath``, ``risk.fuse.daily_relpath`` and the others, and
tests/test_identity.py checks each against them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

_GRID = r"(?P<grid>[0-9]+-[0-9.]+km)"
_PLACES = (
    ("data", re.compile(rf"^env/(?P<layer>[a-z0-9_.]+)/{_GRID}/(?P<y>\d{{4}})/(?P<m>\d{{2}})/"
                        r"(?P<stem>[a-z0-9_]+)_(?P<day>\d{8})\.nc$"), "env-layer"),
    ("data", re.compile(rf"^risk/{_GRID}/(?P<y>\d{{4}})/(?P<m>\d{{2}})/risk_(?P<day>\d{{8}})\.nc$"), "risk-daily"),
    ("data", re.compile(rf"^risk/{_GRID}/(?P<y>\d{{4}})/(?P<m>\d{{2}})/risk_(?P<ym>\d{{6}})\.nc$"), "risk-monthly"),
    ("data", re.compile(rf"^risk/{_GRID}/models/stacking_(?P<ym>\d{{6}})\.json$"), "risk-model"),
    ("data", re.compile(rf"^static/grid_{_GRID}\.nc$"), "static-grid"),
    ("data", re.compile(rf"^forecast/ice/{_GRID}/(?P<y>\d{{4}})/(?P<m>\d{{2}})/ice_forecast_(?P<day>\d{{8}})\.nc$"),
     "forecast"),
    ("outputs", re.compile(rf"^routes/{_GRID}/(?P<name>[^/]+)_(?P<day>\d{{8}})\.geojson$"), "route"),
    ("outputs", re.compile(rf"^routes/{_GRID}/(?P<name>[^/]+)_(?P<day>\d{{8}})\.rtz$"), "route-rtz"),
    ("reports", re.compile(rf"^{_GRID}/(?P<ym>\d{{6}})/report_(?P<ym2>\d{{6}})\.html$"), "report"),
)
_EPOCH = date(1970, 1, 1)
_DAYS_SINCE = re.compile(r"^\s*days since 1970-01-01([ T]00:00(:00)?(\.0+)?)?\s*(Z|UTC)?\s*$")


@dataclass(frozen=True)
class Identity:
    """What the artifact at a canonical path is, read off the path."""

    logical_id: str
    kind: str
    grid: str
    first: date | None = None  # the days it covers, when the path fixes them
    last: date | None = None
    within: tuple[date, date] | None = None  # a month summary covers days within this month
    name: str | None = None  # a route's scenario

    def repair_meta(self) -> dict:
        """Enough of a sidecar for ``integrity.repair_command`` to name what restores it."""
        first = self.first or (self.within[0] if self.within else None)
        km = self.grid.split("-", 1)[1].removesuffix("km")
        params = {"request": {"name": self.name}} if self.name else {}
        if self.kind == "env-layer":
            params["layer"] = self.logical_id.split("/")[3].split("@")[0]
        return {"logical_id": self.logical_id, "kind": self.kind, "params": params,
                "grid": {"name": self.grid, "resolution_m": float(km) * 1000},
                "time_coverage": {"start": f"{first.isoformat()}T00:00:00Z" if first else None}}


def _day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _month(text: str) -> tuple[date, date] | None:
    try:
        first = date(int(text[:4]), int(text[4:6]), 1)
    except ValueError:
        return None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def identity_of(root: str, relpath: str) -> Identity | None:
    """The identity a canonical path stands for, or None for a path of no known kind."""
    for place_root, pattern, kind in _PLACES:
        match = pattern.match(relpath) if place_root == root else None
        if match is None:
            continue
        grid, parts = match["grid"], match.groupdict()
        if kind == "static-grid":
            return Identity(f"ar://static/grid@{grid}", kind, grid)
        if kind == "risk-model":
            return Identity(f"ar://risk/model@{parts['ym']}?grid={grid}", kind, grid)
        if kind in ("risk-monthly", "report"):
            month = _month(parts["ym"])
            if month is None or parts.get("ym2", parts["ym"]) != parts["ym"] or (
                    "y" in parts and f"{parts['y']}{parts['m']}" != parts["ym"]):
                return None
            what = "risk/monthly" if kind == "risk-monthly" else "report/monthly"
            if kind == "report":
                return Identity(f"ar://{what}@{parts['ym']}?grid={grid}", kind, grid, *month)
            return Identity(f"ar://{what}@{parts['ym']}?grid={grid}", kind, grid, within=month)
        day = _day(parts["day"])
        if day is None or ("y" in parts and f"{parts['y']}{parts['m']}" != parts["day"][:6]):
            return None
        if kind == "env-layer":
            if parts["stem"] != parts["layer"].replace(".", "_"):
                return None
            return Identity(f"ar://env/{parts['layer']}@{parts['day']}?grid={grid}", kind, grid, day, day)
        if kind == "risk-daily":
            return Identity(f"ar://risk/daily@{parts['day']}?grid={grid}", kind, grid, day, day)
        if kind == "forecast":  # the path names the issue day; the file covers the valid days after it
            return Identity(f"ar://forecast/ice@{parts['day']}?grid={grid}", kind, grid)
        if kind == "route-rtz":  # the RTZ made from the route document beside it (kind route too)
            return Identity(f"ar://rtz/{parts['name']}@{parts['day']}?grid={grid}", "route", grid, day, day,
                            name=parts["name"])
        return Identity(f"ar://route/{parts['name']}@{parts['day']}?grid={grid}", kind, grid, day, day,
                        name=parts["name"])
    return None


def _version_of(path: str) -> tuple[str, str, str] | None:
    """(folder, stem, suffix) of a version path ``<folder>/<stem>_adv_v<N><suffix>``."""
    candidate = Path(path)
    match = re.match(r"^(?P<stem>.+)_adv_v\d+$", candidate.stem)
    return (candidate.parent.as_posix(), match["stem"], candidate.suffix) if match else None


def canonical_of_version(relpath: str) -> str | None:
    """The canonical path a version path belongs to (``…_adv_v3.nc`` to ``….nc``)."""
    parsed = _version_of(relpath)
    if parsed is None:
        return None
    folder, stem, suffix = parsed
    return f"{folder}/{stem}{suffix}" if folder not in ("", ".") else f"{stem}{suffix}"


def _coverage_days(meta: dict) -> tuple[date | None, date | None]:
    coverage = meta.get("time_coverage") or {}
    days = []
    for key in ("start", "end"):
        value = coverage.get(key)
        try:
            days.append(date.fromisoformat(str(value)[:10]) if value else None)
        except ValueError:
            days.append(None)
    return days[0], days[1]


def _span(first: date | None, last: date | None) -> str:
    if first is None:
        return "no days"
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat() if last else '?'}"


def identity_problems(meta: dict, expected: Identity) -> list[str]:
    """Where a sidecar's logical id, kind, grid or days differ from the identity of its place."""
    problems = []
    if meta.get("logical_id") != expected.logical_id:
        problems.append(f"its sidecar is that of {meta.get('logical_id')}")
    if meta.get("kind") != expected.kind:
        problems.append(f"its sidecar says kind {meta.get('kind')!r}, expected {expected.kind!r}")
    grid = (meta.get("grid") or {}).get("name")
    if grid != expected.grid:
        problems.append(f"its sidecar says grid {grid}, expected {expected.grid}")
    first, last = _coverage_days(meta)
    if expected.first is not None and (first, last) != (expected.first, expected.last):
        problems.append(f"its sidecar covers {_span(first, last)}, expected {_span(expected.first, expected.last)}")
    if expected.within is not None and not (first and last and expected.within[0] <= first <= last
                                            <= expected.within[1]):
        problems.append(f"its sidecar covers {_span(first, last)}, outside {_span(*expected.within)}")
    return problems


def sidecar_problems(meta: object, root: str, relpath: str, link_target: str | None = None) -> list[str]:
    """What is wrong with ``meta`` as the sidecar of the current version of ``root``/``relpath``.

    ``link_target`` is the file name the canonical link points to (None for a copy): the
    sidecar must describe that very version.
    """
    if not isinstance(meta, dict) or "logical_id" not in meta:
        return ["its sidecar is not an artifact sidecar (no logical_id)"]
    problems = []
    if meta.get("root") != root:
        problems.append(f"its sidecar belongs to the root {meta.get('root')!r}, not {root!r}")
    if meta.get("canonical") != relpath:
        problems.append(f"its sidecar describes another path ({meta.get('canonical')})")
    version_path = str(meta.get("path", ""))
    if Path(version_path).is_absolute() or ".." in Path(version_path).parts:
        problems.append(f"its sidecar's path leaves the root ({version_path})")
    elif canonical_of_version(version_path) != relpath:
        problems.append(f"its sidecar names {version_path}, not a version of this path")
    elif link_target is not None and Path(version_path).name != link_target:
        problems.append(f"the canonical link points to {link_target}, its sidecar names {Path(version_path).name}")
    expected = identity_of(root, relpath)
    if expected is not None:
        problems += identity_problems(meta, expected)
    return problems


def location_problems(meta: dict, root: str, sidecar_relpath: str) -> list[str]:
    """A version's sidecar must describe the file beside it (``<path>.meta.json``)."""
    if not sidecar_relpath.endswith(".meta.json"):
        return []
    beside = sidecar_relpath[: -len(".meta.json")]
    problems = []
    if meta.get("path") != beside or meta.get("root") != root:
        problems.append(f"the sidecar beside {beside} describes {meta.get('logical_id')} at {meta.get('path')}")
    if meta.get("canonical") != canonical_of_version(beside):
        problems.append(f"the sidecar beside {beside} names the canonical path {meta.get('canonical')}")
    return problems


# -- what a file says about itself -----------------------------------------------------------------

@dataclass(frozen=True)
class Stated:
    """What a file says it is; None where it says nothing (older formats, other kinds)."""

    logical_id: str | None = None
    first: date | None = None
    last: date | None = None
    name: str | None = None


def stated_by_netcdf(dataset) -> Stated:
    """The global ``id`` and the days of the time axis of an open ``netCDF4.Dataset`` (the
    ACDD ``time_coverage_*`` attributes for files written before the time axis existed)."""
    attrs = set(dataset.ncattrs())
    logical_id = str(dataset.getncattr("id")) if "id" in attrs else None
    first = last = None
    bounds = dataset.variables.get("time_bnds")
    time = dataset.variables.get("time")
    units = getattr(time, "units", "") if time is not None else ""
    if bounds is not None and _DAYS_SINCE.match(str(units)):
        values = bounds[:].filled(float("nan")) if hasattr(bounds[:], "filled") else bounds[:]
        low, high = float(values.min()), float(values.max())
        if low == low and high == high:  # not NaN
            first = _EPOCH + timedelta(days=int(low // 1))
            last = _EPOCH + timedelta(days=int(-(-high // 1)) - 1)
    elif {"time_coverage_start", "time_coverage_end"} <= attrs:
        try:
            first = date.fromisoformat(str(dataset.getncattr("time_coverage_start"))[:10])
            last = date.fromisoformat(str(dataset.getncattr("time_coverage_end"))[:10]) - timedelta(days=1)
        except ValueError:
            first = last = None
    return Stated(logical_id, first, last)


def stated_by_document(document: object) -> Stated:
    """A route document's scenario and date (its ``arcticroute`` member)."""
    about = document.get("arcticroute") if isinstance(document, dict) else None
    if not isinstance(about, dict):
        return Stated()
    try:
        day = date.fromisoformat(str(about.get("date"))) if about.get("date") else None
    except ValueError:
        day = None
    return Stated(None, day, day, about.get("scenario"))


def stated_by_file(data: bytes, name: str) -> Stated:
    """What the bytes of a file named ``name`` say they are. Bytes that do not parse as the kind
    of file their name says state nothing (the reader that parses them refuses them itself)."""
    if name.endswith(".nc"):
        import netCDF4

        try:
            with netCDF4.Dataset("in-memory.nc", mode="r", memory=data) as dataset:
                return stated_by_netcdf(dataset)
        except OSError:
            return Stated()
    if name.endswith(".geojson"):
        try:
            return stated_by_document(json.loads(data.decode("utf-8")))
        except ValueError:  # UnicodeDecodeError is one
            return Stated()
    return Stated()


def content_problems(meta: dict, stated: Stated) -> list[str]:
    """Where what the file says about itself contradicts its sidecar."""
    problems = []
    if stated.logical_id is not None and stated.logical_id != meta.get("logical_id"):
        problems.append(f"the file's own id is {stated.logical_id}")
    first, last = _coverage_days(meta)
    if stated.first is not None and first is not None and (stated.first, stated.last) != (first, last):
        problems.append(f"the file's time axis covers {_span(stated.first, stated.last)}, "
                        f"its sidecar {_span(first, last)}")
    request = (meta.get("params") or {}).get("request") or {}
    if stated.name is not None and meta.get("kind") == "route" and stated.name != request.get("name"):
        problems.append(f"the document is the route of {stated.name}, its sidecar of {request.get('name')}")
    return problems
