"""What the UI pages show, gathered through the library's verified readers.

The Streamlit pages (``apps/``) only lay these out; everything here is plain Python, so it is
tested without a browser. A corrupt artifact surfaces as ``IntegrityError`` (with the repair
command in its hint) and is never drawn.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .config import Settings
from .layers import LAYERS, layer_relpath, read_artifact
from .risk.fuse import daily_relpath
from .route.passage import position_text
from .route.planner import route_relpath
from .static import load_static
from .store.artifacts import current_meta
from .store.catalog import Entry, build_index, verify_entry
from .store.integrity import problem, read_bytes, read_json, verify_artifact

DISPLAY_CELLS = 450  # at most this many cells along a side on screen
VIEW_LAYERS = {
    "ice.sic": ("sic", "sea-ice concentration", "fraction", (0.0, 1.0)),
    "wave.hs": ("hs", "significant wave height", "m", (0.0, 10.0)),
    "ais.density": ("density", "AIS traffic density", "vessel-hours per cell per day", None),
    "risk": ("risk", "fused risk", "0..1", (0.0, 1.0)),
}
_DAY = re.compile(r"_(\d{8})\.(nc|geojson)$")


def relpath_for(layer: str, day: date, grid_name: str) -> str:
    return daily_relpath(day, grid_name) if layer == "risk" else layer_relpath(layer, day, grid_name)


def layer_days(settings: Settings, layer: str) -> list[date]:
    """Days that have a canonical file of ``layer`` on this run's grid, oldest first."""
    grid = settings.grid.name
    folder = settings.data_root / ("risk" if layer == "risk" else f"env/{layer}") / grid
    days = set()
    for path in folder.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/*.nc") if folder.is_dir() else []:
        match = _DAY.search(path.name)
        if match and "_adv_v" not in path.name:
            days.add(datetime.strptime(match[1], "%Y%m%d").date())
    return sorted(days)


def stride_for(shape: tuple[int, int], limit: int = DISPLAY_CELLS) -> int:
    return max(1, int(np.ceil(max(shape) / limit)))


@dataclass(frozen=True)
class LayerView:
    """A layer of one day, downsampled for display, in EPSG:3413 kilometres."""

    layer: str
    day: date
    values: np.ndarray  # NaN on land
    land: np.ndarray
    x_km: np.ndarray
    y_km: np.ndarray
    meta: dict
    title: str
    unit: str
    value_range: tuple[float, float] | None

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic"))


def layer_meta(settings: Settings, layer: str, day: date) -> dict | None:
    """Sidecar of the layer's current version of ``day``; IntegrityError when the canonical path
    stands for another artifact (another day's version, another grid's sidecar)."""
    return current_meta(settings.roots, "data", relpath_for(layer, day, settings.grid.name))


def check_intact(settings: Settings, meta: dict) -> None:
    """IntegrityError unless the version's bytes, read now, are those of its sidecar and say they
    are that artifact; for views cached by sha256, so a file corrupted since is never drawn."""
    verify_artifact(settings.roots, meta)


def layer_view(settings: Settings, layer: str, day: date) -> LayerView:
    """The layer's verified values, every ``stride``-th cell; raises IntegrityError if corrupt."""
    variable, title, unit, value_range = VIEW_LAYERS[layer]
    meta = layer_meta(settings, layer, day)
    if meta is None:
        raise LookupError(f"no {layer} layer for {day} on grid {settings.grid.name}")
    values = read_artifact(settings.roots, meta, variable).astype(np.float32)
    static = load_static(settings.roots, settings.grid)
    step = stride_for(values.shape)
    land = static.land[::step, ::step]
    shown = values[::step, ::step].copy()
    shown[land] = np.nan
    grid = settings.grid
    return LayerView(layer, day, shown, land, grid.x[::step] / 1000.0, grid.y[::step] / 1000.0, meta,
                     f"{title} {day}", unit, value_range)


def route_days(settings: Settings) -> list[date]:
    folder = settings.outputs_root / "routes" / settings.grid.name
    days = {datetime.strptime(m[1], "%Y%m%d").date() for p in folder.glob("*.geojson") if (m := _DAY.search(p.name))
            and "_adv_v" not in p.name} if folder.is_dir() else set()
    return sorted(days)


def route_document(settings: Settings, name: str, day: date) -> tuple[dict, dict, bytes] | None:
    """The route document (verified), its sidecar and its bytes, or None when there is none."""
    meta = current_meta(settings.roots, "outputs", route_relpath(name, day, settings.grid.name))
    if meta is None:
        return None
    data = read_bytes(settings.roots, meta)
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # bytes as the sidecar says, yet no document (a sidecar rewritten to fit them)
        raise problem(meta, settings.roots["outputs"] / meta["path"], f"not a route document ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("arcticroute"), dict):
        raise problem(meta, settings.roots["outputs"] / meta["path"], "not a route document (no arcticroute member)")
    return document, meta, data


def route_lines_km(document: dict, role: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The feature of ``role`` as EPSG:3413 kilometres (one polyline; NaN between parts)."""
    points = route_line_points(document, role)
    return None if points is None else (points["x_km"], points["y_km"])


def route_line_points(document: dict, role: str) -> dict | None:
    """The feature of ``role`` for a map: EPSG:3413 kilometres (one polyline, NaN between parts),
    and for each point its latitude and longitude and, where the document has them, the time it
    is reached, the RIO of the step reaching it and the number of the passage-plan leg it is on."""
    from .grid import to_xy

    feature = next((f for f in document.get("features", []) if f.get("properties", {}).get("role") == role), None)
    if feature is None:
        return None
    geometry = feature["geometry"]
    multi = geometry["type"] != "LineString"
    parts = geometry["coordinates"] if multi else [geometry["coordinates"]]
    per_point = feature["properties"].get("coordinateProperties") or {}
    times = per_point.get("times") if multi else [per_point.get("times")]
    rios = per_point.get("rio") if multi else [per_point.get("rio")]
    legs_at = _leg_of_time(document) if role == "route" and times and times[0] else None
    out: dict[str, list] = {"x_km": [], "y_km": [], "lat": [], "lon": [], "time": [], "rio": [], "leg": []}
    for index, part in enumerate(parts):
        lon, lat = np.asarray(part, dtype=float).T
        x, y = to_xy(lon, lat)
        part_times = times[index] if times and times[0] else [None] * lon.size
        part_rio = rios[index] if rios and rios[0] else [None] * lon.size
        for key, values, gap in (("x_km", np.asarray(x) / 1000.0, np.nan), ("y_km", np.asarray(y) / 1000.0, np.nan),
                                 ("lat", lat, np.nan), ("lon", lon, np.nan), ("time", part_times, ""),
                                 ("rio", part_rio, None),
                                 ("leg", [legs_at(t) for t in part_times] if legs_at else [None] * lon.size, None)):
            out[key] += [*values, gap]
    return {key: np.asarray(values) if key in ("x_km", "y_km", "lat", "lon") else values
            for key, values in out.items()}


def route_rtz(settings: Settings, name: str, day: date, route_meta: dict) -> bytes:
    """The RTZ artifact's verified bytes when it was made from the route document's current
    version; otherwise the RTZ rendered from that (verified) document, as route.plan would write it."""
    from .route.export import to_rtz
    from .route.passage import passage_plan
    from .route.rtz_artifact import rtz_is_current, rtz_relpath

    relpath = route_relpath(name, day, settings.grid.name)
    if rtz_is_current(settings, relpath, route_meta):
        return read_bytes(settings.roots, current_meta(settings.roots, "outputs", rtz_relpath(relpath)))
    return to_rtz(passage_plan(read_json(settings.roots, route_meta)))


def _leg_of_time(document: dict):
    """The passage-plan leg a moment of the voyage falls on (times increase along the route)."""
    from .route.passage import passage_plan

    ends = [leg.end.time.strftime("%Y-%m-%dT%H:%M:%SZ") for leg in passage_plan(document).legs]
    return lambda moment: min(bisect.bisect_left(ends, moment) + 1, len(ends)) if moment else None


STAT_KEYS = (("distance_nm", "distance (nm)"), ("duration_h", "duration (h)"), ("eta", "ETA (UTC)"),
             ("max_sic", "max sea ice"), ("max_hs_m", "max wave (m)"), ("mean_risk", "mean risk"),
             ("distance_ratio", "× great circle"), ("persistence_days", "days on persisted conditions"),
             ("forecast_days", "days on the ice forecast"), ("waiting_h", "hours waiting for a later day's conditions"))


def route_stats(document: dict) -> list[dict]:
    """One row per statistic, the route and the baseline side by side."""
    props = {f["properties"]["role"]: f["properties"] for f in document.get("features", [])}

    def text(role: str, key: str) -> str:
        value = props.get(role, {}).get(key)
        return "—" if value is None else str(value)

    return [{"": label, "route": text("route", key), "baseline": text("baseline", key)} for key, label in STAT_KEYS]


def route_rules(document: dict) -> dict:
    """The sea-area rules' verdict of a route document (the route's, or a refusal's), {} if none."""
    route = next((f["properties"] for f in document.get("features", []) if f["properties"].get("role") == "route"), {})
    return route.get("rules") or document.get("arcticroute", {}).get("rules") or {}


def rules_rows(document: dict) -> list[dict]:
    """One row per sea area the route enters: miles, type of ice conditions, mode, rule."""
    return [{"area": a["name"], "nm": a["nm"], "entered (UTC)": a["entered"], "ice conditions": a.get("ice_conditions", "—"),
             "mode": a["mode"], "rule": a.get("rule", "—")} for a in route_rules(document).get("areas", [])]


def rules_verdict_text(document: dict) -> str:
    """The verdict, escort miles and assumed-type miles of a route in one sentence."""
    verdict = route_rules(document)
    summary = document.get("arcticroute", {}).get("summary", {})
    text = f"Sea-area rules: {verdict.get('verdict', 'not assessed')}"
    if verdict.get("ignored") and verdict.get("verdict") == "not permitted":
        text += " — IGNORED for this study (--ignore-rules)"
    if verdict.get("escort_areas"):
        text += f"; icebreaker escort for {verdict['escort_nm']:,.0f} nm in {', '.join(verdict['escort_areas'])}"
    assumed = summary.get("assumed_type_nm")
    if assumed is not None:
        text += f"; {assumed:,.0f} nm on assumed ice types"
        if summary.get("assumed_type_basis_nm"):
            text += " (" + ", ".join(f"{k} {v:,.0f} nm" for k, v in summary["assumed_type_basis_nm"].items()) + ")"
    return text + "."


def conditions_note(document: dict) -> str:
    """What the route sailed in: daily layers to when, the ice forecast to when, days persisted."""
    summary = document.get("arcticroute", {}).get("summary", {})
    if "persistence_days" not in summary:
        return "Planned before routes stated the conditions they sail in: plan it again to see them."
    forecast = (f"the ice forecast to {summary['forecast_to']} ({summary['forecast_days']:.1f} days)"
                if summary.get("forecast_to") else "no ice forecast")
    route = next((f["properties"] for f in document.get("features", []) if f["properties"].get("role") == "route"), {})
    search = route.get("search", {})
    searched = (f" Searched through the days it is sailed, each step on the conditions of the day it begins "
                f"({search['conditions_days'][0]} to {search['conditions_days'][-1]})."
                if search.get("method") == "time-dependent" and search.get("conditions_days") else
                " Planned on the departure day's conditions." if search else "")
    waits = "".join(f" Waits {w['hours']:.1f} h at {position_text(w['lat'], w['lon'])} until {w['until']}."
                    for w in route.get("waits", []))
    return (f"Sailed in the daily layers to {summary['newest_daily_layer']}, then {forecast}; "
            f"{summary['persistence_days']:.1f} days on persisted conditions (the newest of them, unchanged)."
            + searched + waits)


# -- catalog ------------------------------------------------------------------------------------

def catalog_entries(settings: Settings) -> tuple[list[Entry], list[str]]:
    return build_index(settings.roots)


def catalog_rows(entries: list[Entry], search: str = "") -> list[dict]:
    needle = search.strip().lower()
    rows = []
    for entry in entries:
        newest = entry.newest
        source = next((i.get("source_url") for i in newest.get("inputs", []) if i.get("source_url")), None)
        row = {"logical_id": entry.logical_id, "kind": newest.get("kind"), "version": newest.get("version"),
               "date": (newest.get("time_coverage") or {}).get("start"), "size_bytes": newest.get("size_bytes"),
               "synthetic": newest.get("synthetic"), "source": source or newest.get("params", {}).get("source_kind"),
               "license": newest.get("params", {}).get("license"), "created_at": newest.get("created_at")}
        if not needle or any(needle in str(v).lower() for v in row.values()):
            rows.append(row)
    return rows


def versions_rows(entry: Entry) -> list[dict]:
    return [{"version": m.get("version"), "created_at": m.get("created_at"), "size_bytes": m.get("size_bytes"),
             "sha256": (m.get("sha256") or "")[:16], "run_id": m.get("run_id"), "path": m.get("path")}
            for m in reversed(entry.versions)]


def lineage_rows(entry: Entry) -> list[dict]:
    return [{"input": i.get("logical_id"), "sha256": (i.get("sha256") or "")[:16], "source_url": i.get("source_url")}
            for i in entry.newest.get("inputs", [])]


def verify(settings: Settings, entry: Entry) -> list[str]:
    return [p.message for p in verify_entry(settings.roots, entry)]


# -- alerts -------------------------------------------------------------------------------------

def recent_alerts(settings: Settings, limit: int = 10) -> list[dict]:
    """The newest alert files, newest first; one that cannot be read is listed as such."""
    folder = settings.outputs_root / "alerts"
    alerts = []
    for path in sorted(folder.glob("*.json"), reverse=True)[:limit] if folder.is_dir() else []:
        try:
            alerts.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            alerts.append({"created_at": path.name[:16], "severity": "unknown", "command": None,
                           "what": f"unreadable alert file {path.name}: {exc}", "hint": "open it to see what is left"})
    return alerts


# -- logs ---------------------------------------------------------------------------------------

def log_commands(settings: Settings) -> list[str]:
    folder = settings.outputs_root / "logs"
    return sorted(p.name[: -len(".log")] for p in folder.glob("*.log")) if folder.is_dir() else []


def log_tail(settings: Settings, command: str, lines: int = 200) -> str:
    """The last ``lines`` lines of a command's log (logs are already redacted when written)."""
    path: Path = settings.outputs_root / "logs" / f"{command}.log"
    if not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 256 * lines))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def has_data(settings: Settings) -> bool:
    return any(layer_days(settings, layer) for layer in LAYERS)


# -- planning in the page -------------------------------------------------------------------------

def plan_route(settings: Settings, request, day: date, *, ignore_rules: bool = False) -> tuple[str, dict, str]:
    """Plan and write one route exactly as ``route.plan`` does (lock, run record, artifact);
    returns (outcome, summary, run id). Errors (a held lock, a refused input) propagate."""
    from .ops.runs import Run
    from .route import planner
    from .store.layout import refuse_legacy

    with Run(settings, "route.plan", family="route",
             argv=["ui", "route.plan", "--scenario", request.name, "--date", day.isoformat(),
                   *(["--ignore-rules"] if ignore_rules else [])]) as run:
        refuse_legacy(settings.roots)
        loaded = planner.load_conditions(settings, day)
        outcome, summary = planner.plan_request(settings, request, day, loaded, run, ignore_rules=ignore_rules)
        run.summary = {request.name: {"outcome": outcome, **summary}}
    return outcome, summary, run.run_id
