"""route.plan: scenarios and vessels from config, the day's conditions, GeoJSON route artifacts."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np

from .. import polaris
from ..config import Settings
from ..errors import ArcticRouteError, BadInputError, ConfigError, NoRouteError, RouteRefusedError
from ..layers import layer_relpath, read_artifact, require_grid
from ..provenance import DEMO_NOTICE
from ..risk.fuse import daily_relpath
from ..static import StaticGrid, load_static
from ..store.artifacts import ArtifactSpec, current_meta, input_ref, previous_meta, write_artifact
from ..store.integrity import is_intact, read_json
from ..timeutil import day_span, parse_day
from . import conditions as basis
from . import coordinates, depth, geometry, ice_regime, plausibility, routing, rules, time_search
from .passage import UNROUTED
from .routing import Conditions, PathResult, Place, Vessel, plan_path
from .rtz_artifact import rtz_is_current, write_route_rtz
from .voyage import HORIZON_DAYS, DailyConditions, Voyage, sail, sail_onward

# Bump when planning or the document changes, so existing routes are planned again.
PLANNER_VERSION = 9  # 4: POLARIS, time cost, ice type, segments; 5: fairways, end legs; 6: ETA through time;
# 7: smoothed into straight legs; 8: assumed ice types, sea-area rules, ice forecast and persisted days, depth and
# draught, land-free approaches, plausibility, per-point times and conditions (coordinateProperties);
# 9: time-dependent search (each step on the day it is sailed), waiting, per-segment conditions days
_RISK_FILE = re.compile(r"^risk_(\d{8})\.nc$")


@dataclass(frozen=True)
class RouteRequest:
    name: str
    origin: Place
    destination: Place
    vessel: Vessel
    description: str = ""
    onward: dict | None = None
    assume_escort: bool = False  # scenarios.yaml assume_escort (route.plan --assume-escort for every request)

    def as_dict(self) -> dict:
        return {"name": self.name, "from": self.origin.__dict__, "to": self.destination.__dict__,
                "vessel": self.vessel.as_dict(), "onward": self.onward, "assume_escort": self.assume_escort}


def vessel_named(settings: Settings, name: str) -> Vessel:
    vessels = settings.scenarios.get("vessels", {})
    if name not in vessels:
        raise BadInputError(f"unknown vessel {name!r}; expected one of {', '.join(sorted(vessels))} "
                            f"(config/scenarios.yaml: vessels)")
    vessel = Vessel.from_config(name, vessels[name])
    if vessel.draught_m is not None and vessel.ukc_m is None:
        rule = depth.UkcRule.from_config(settings.runtime.get("route", {}).get("ukc"))
        vessel = replace(vessel, ukc_m=round(rule.clearance(vessel.draught_m), 2))
    return vessel


def scenario_requests(settings: Settings, names: list[str]) -> list[RouteRequest]:
    """Requests for named scenarios (``all`` for every one); BadInputError lists the choices."""
    scenarios = settings.scenarios.get("scenarios", {})
    if names == ["all"]:
        names = list(scenarios)
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        raise BadInputError(f"unknown scenario {', '.join(map(repr, unknown))}; expected one of "
                            f"{', '.join(sorted(scenarios))} or 'all' (config/scenarios.yaml: scenarios)")
    for name in names:
        for end in ("from", "to"):
            place = scenarios[name][end]
            try:
                settings.grid.index_of(place["lat"], place["lon"])
            except BadInputError as exc:
                raise ConfigError(f"{settings.config_dir / 'scenarios.yaml'}: key scenarios.{name}.{end}: {exc}",
                                  hint=exc.hint) from None
    return [
        RouteRequest(
            name=name,
            origin=Place(**scenarios[name]["from"]),
            destination=Place(**scenarios[name]["to"]),
            vessel=vessel_named(settings, scenarios[name]["vessel"]),
            description=scenarios[name].get("description", ""),
            onward=scenarios[name].get("onward"),
            assume_escort=bool(scenarios[name].get("assume_escort", False)),
        )
        for name in names
    ]


def parse_position(text: str, option: str) -> Place:
    """``LAT,LON`` in decimal degrees to a Place; BadInputError says what was expected."""
    parts = [p.strip() for p in text.split(",")]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise BadInputError(f"{option} {text!r} is not a position: expected LAT,LON in decimal degrees, e.g. 69.1,33.6") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadInputError(f"{option} {text!r} is out of range: latitude -90..90, longitude -180..180")
    return Place(name=f"{lat:.3f},{lon:.3f}", lat=lat, lon=lon)


def adhoc_request(settings: Settings, origin: Place, destination: Place, vessel_name: str) -> RouteRequest:
    vessel = vessel_named(settings, vessel_name)
    key = f"{origin.lat:.4f},{origin.lon:.4f}-{destination.lat:.4f},{destination.lon:.4f}-{vessel.name}"
    name = f"adhoc_{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    # outside the grid or both ends in one cell is bad input, found before any run
    if settings.grid.index_of(origin.lat, origin.lon) == settings.grid.index_of(destination.lat, destination.lon):
        raise BadInputError(
            f"--from {origin.lat:g},{origin.lon:g} and --to {destination.lat:g},{destination.lon:g} fall in the same "
            f"cell of grid {settings.grid.name}: there is no route to plan",
            hint="give end points at least one grid cell apart, or a finer grid (--grid-km 6.25)",
        )
    return RouteRequest(name=name, origin=origin, destination=destination, vessel=vessel,
                        description=f"{origin.name} to {destination.name}")


def risk_days(settings: Settings) -> list[date]:
    """Days with a daily risk layer on this run's grid, oldest first."""
    folder = settings.data_root / "risk" / settings.grid.name
    days = []
    if folder.is_dir():
        for path in folder.glob("*/*/risk_*.nc"):
            match = _RISK_FILE.match(path.name)
            if match and (path.is_symlink() or path.is_file()):
                days.append(datetime.strptime(match[1], "%Y%m%d").date())
    return sorted(days)


def resolve_day(settings: Settings, wanted: str | date) -> date:
    """``latest`` or a day, which must have a daily risk layer on this run's grid."""
    days = risk_days(settings)
    if wanted == "latest":
        if not days:
            raise ArcticRouteError(f"no daily risk layer exists yet on grid {settings.grid.name}",
                                   hint="run risk.fuse (just fuse) first")
        return days[-1]
    day = parse_day(wanted) if isinstance(wanted, str) else wanted
    if day not in days:
        raise ArcticRouteError(f"no daily risk layer for {day} on grid {settings.grid.name}",
                               hint=f"run ingest.nrt.pull --ym {day:%Y%m} and risk.fuse --ym {day:%Y%m}; "
                                    f"newest available: {days[-1] if days else 'none'}")
    return day


def load_conditions(settings: Settings, day: date) -> tuple[Conditions, list[dict]]:
    """The day's sea ice (concentration and type), waves and risk, each verified against its
    sidecar. Without an ice-type layer the ice counts as thick first-year ice (a warning says so)."""
    roots = settings.roots
    grid_name = settings.grid.name
    wanted = {"risk": daily_relpath(day, grid_name), "ice.sic": layer_relpath("ice.sic", day, grid_name),
              "wave.hs": layer_relpath("wave.hs", day, grid_name)}
    metas = {}
    for name, relpath in wanted.items():
        meta = current_meta(roots, "data", relpath)
        if meta is None:
            raise ArcticRouteError(f"{name} layer for {day} is missing; a route needs risk, sea ice and waves",
                                   hint=f"run ingest.nrt.pull and risk.fuse for {day:%Y%m}")
        metas[name] = meta
    type_meta = current_meta(roots, "data", layer_relpath("ice.type", day, grid_name))
    if type_meta is not None:
        metas["ice.type"] = type_meta
    require_grid(list(metas.values()), settings.grid)

    sic = read_artifact(roots, metas["ice.sic"], "sic")
    stage = read_artifact(roots, type_meta, "stage") if type_meta else None
    carried: list[dict] = []
    typed = ice_regime.resolve(settings.grid, day, sic, stage,
                               ice_regime.earlier_types(roots, settings.grid, day, carried))
    conditions = Conditions(sic=sic, hs=read_artifact(roots, metas["wave.hs"], "hs"),
                            risk=read_artifact(roots, metas["risk"], "risk"), stage=typed.stage,
                            assumed=typed.basis, assumed_age=typed.age_days)
    if type_meta is None:
        conditions.warnings.append(f"no ice.type layer for {day}: ice of unknown type taken as the most severe "
                                   f"plausible type (docs/route-model.md) (run ingest.nrt.pull --what ice.type "
                                   f"--ym {day:%Y%m})")
    return conditions, list(metas.values()) + carried


def minute_utc(moment: datetime) -> str:
    """``2026-10-14T08:35Z``: times of a voyage are given to the minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _path_metrics(static: StaticGrid, voyage: Voyage) -> tuple[dict, np.ndarray, np.ndarray, dict]:
    """Distance, time and conditions along a sailed route (``voyage.sail``): from the true origin
    through the grid path (fairways followed on their own points) to the true destination, each
    step in the conditions of the day it is reached."""
    terms, seg = voyage.terms, voyage.seg
    rows = voyage.vcells[:, 0]
    hours = voyage.hours
    distance_nm = float(seg.sum() / geometry.METRES_PER_NM)
    lon_c, lat_c = routing.vertices_lonlat(voyage.x, voyage.y)
    lon, lat, position = geometry.path_points(voyage.x, voyage.y)
    in_ice = terms["sic"] >= 0.05
    days = voyage.days_used
    metrics = {
        "distance_nm": round(distance_nm, 1),
        "duration_h": round(hours, 1),
        "departure": minute_utc(voyage.departure),
        "eta": minute_utc(voyage.departure + timedelta(hours=hours)),
        "max_sic": round(float(terms["sic"].max()), 3) if seg.size else 0.0,
        "max_hs_m": round(float(terms["hs"].max()), 2) if seg.size else 0.0,
        "mean_risk": round(float(np.average(terms["risk"], weights=seg)), 4) if seg.sum() else 0.0,
        "min_rio": round(float(terms["rio"].min()), 1) if seg.size else None,
        "ice_nm": round(float(seg[in_ice].sum() / geometry.METRES_PER_NM), 1),
        "elevated_risk_nm": round(float(seg[terms["elevated"]].sum() / geometry.METRES_PER_NM), 1),
        "cost_h": {k: round(float(terms[f"{k}_h"].sum()), 1) for k in ("open", "ice", "wave", "risk")},
        "conditions_days": [days[0].isoformat(), days[-1].isoformat()] if days else [],
        "replans": voyage.replans,
        **waiting_metrics(voyage, lon_c, lat_c),
        "cells": int(len(rows)),
        **ice_regime.summary(terms["assumed"], terms["assumed_age"], seg),
    }
    return metrics, lon, lat, {"terms": terms, "lon": lon_c, "lat": lat_c, "seg": seg,
                               "leg": step_legs(voyage.x, voyage.y), "position": position}


def waiting_metrics(voyage: Voyage, lon: np.ndarray, lat: np.ndarray) -> dict:
    """Hours the voyage waits for a later day's conditions (``time_search.Waiting``) and each
    wait: where (the vertex the step after it begins at), how long, until when (UTC)."""
    wait_h = voyage.terms["wait_h"] if voyage.seg.size else np.zeros(0)
    starts = basis.step_starts(voyage.terms["hours"], wait_h) if voyage.seg.size else np.zeros(0)
    waits = [{"lon": round(float(lon[i]), 4), "lat": round(float(lat[i]), 4), "hours": round(float(wait_h[i]), 2),
              "until": minute_utc(voyage.departure + timedelta(hours=float(starts[i])))}
             for i in np.flatnonzero(wait_h > 0)]
    return {"waiting_h": round(float(wait_h.sum()), 2), "waits": waits}


def step_legs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per step, the number (from 0) of the straight leg it lies on: a new leg begins at each
    vertex where the line turns (points along a leg are collinear in the projection)."""
    if x.size < 3:
        return np.zeros(max(x.size - 1, 0), dtype=np.int64)
    ax, ay, bx, by = np.diff(x)[:-1], np.diff(y)[:-1], np.diff(x)[1:], np.diff(y)[1:]
    norm = np.maximum(np.hypot(ax, ay) * np.hypot(bx, by), 1e-9)
    turns = (np.abs(ax * by - ay * bx) / norm > 1e-6) | (ax * bx + ay * by < 0)
    return np.concatenate([[0], np.cumsum(turns)]).astype(np.int64)


def describe_legs(steps: dict) -> list[dict]:
    """The straight legs of a sailed route: ends, length, time and initial true course."""
    leg, seg, hours = steps["leg"], steps["seg"], steps["terms"]["hours"]
    out = []
    for number in range(int(leg.max()) + 1 if leg.size else 0):
        where = np.flatnonzero(leg == number)
        a, b = int(where[0]), int(where[-1]) + 1
        lon0, lat0, lon1, lat1 = (float(v) for v in (steps["lon"][a], steps["lat"][a], steps["lon"][b], steps["lat"][b]))
        course = float(geometry.GEOD.inv(lon0, lat0, lon1, lat1)[0]) % 360.0
        out.append({"leg": number + 1, "from": [round(lon0, 4), round(lat0, 4)], "to": [round(lon1, 4), round(lat1, 4)],
                    "distance_nm": round(float(seg[a:b].sum() / geometry.METRES_PER_NM), 1),
                    "hours": round(float(hours[a:b].sum()), 2), "initial_course_deg": round(course, 1)})
    return out


def eta_assumption(daily: DailyConditions, through: time_search.ThroughTime | None = None) -> str:
    newest, last = daily.newest_daily, daily.last_day
    forecast_text = (f"then the ice forecast's steps to {last} (waves and risk of {newest}); "
                     if daily.forecast_days else "no ice forecast; ")
    waiting = (f"waiting for a later day's conditions where the search chose it (at most "
               f"{through.waiting.max_hours:g} h at a cell, runtime.yaml route.wait)"
               if through is not None and through.waiting.max_hours > 0 else "no waiting")
    return (f"departure 00:00 UTC on the plan date; each step sailed at the speed the ice-speed model, the POLARIS "
            f"limits and the wave speed loss allow in the conditions of the day it is reached: the daily layers to "
            f"{newest}, {forecast_text}after {last} the conditions of {last} persisted (persistence_days); "
            f"{waiting}, no icebreaker escort, no port time; times to the minute, not to the second: the model is no "
            "better than that")


def search_description(path: PathResult, through: time_search.ThroughTime | None) -> dict:
    """How the route was searched: through the days it is sailed (``time_search``) or on the
    departure day's conditions alone, and the days whose conditions the search used."""
    if through is None or path.step_days is None:
        reason = ("route.time_dependent is false (runtime.yaml)" if through is None else
                  "no path keeps within the limits of every day it would be sailed (see warnings)")
        return {"method": "departure day", "note": f"planned on the departure day's conditions: {reason}; the voyage "
                                                   "re-plans where a later day closes the way"}
    days = sorted(set(path.step_days))
    return {"method": "time-dependent",
            "note": "each step priced and limited by the conditions of the day the ship begins it "
                    "(docs/route-model.md, Time-dependent search)",
            "conditions_days": [days[0].isoformat(), days[-1].isoformat()] if days else [],
            "days_built": path.days_built,
            "wait": {"max_hours": through.waiting.max_hours, "cost_per_hour": through.waiting.cost_per_hour}}


TERM_NAMES = {"open": "transit time", "ice": "ice (speed loss)", "wave": "waves (speed loss)", "risk": "risk penalty"}
MAX_SEGMENTS = 40


def explain_segments(vessel: Vessel, steps: dict) -> list[dict]:
    """The path cut at each turn between straight legs and where the ice type, the POLARIS band
    or the dominant cost term changes, at most ``MAX_SEGMENTS`` (the shortest pieces merged into a
    neighbour), each explained; ``legs`` names the first and last leg it lies on."""
    terms, seg = steps["terms"], steps["seg"]
    if seg.size == 0:
        return []
    costs = np.stack([terms[f"{k}_h"] for k in TERM_NAMES])
    dominant = np.argmax(costs, axis=0)
    region = steps["sea_rules"]["region"] if "sea_rules" in steps else np.zeros(seg.size, dtype=np.int16)
    sailed_in = steps.get("basis", np.full(seg.size, basis.DAILY, dtype=object))
    waited = terms["wait_h"] if "wait_h" in terms else np.zeros(seg.size)
    key = np.stack([terms["stage"], terms["elevated"].astype(int), dominant, steps["leg"], terms["assumed"] > 0, region,
                    np.array([basis.BASES.index(b) for b in sailed_in]), np.cumsum(waited > 0)])
    cuts = [0] + [i for i in range(1, seg.size) if (key[:, i] != key[:, i - 1]).any()] + [seg.size]
    pieces = [[a, b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    while len(pieces) > MAX_SEGMENTS:
        lengths = [seg[a:b].sum() for a, b in pieces]
        i = int(np.argmin(lengths))
        j = i - 1 if i > 0 else 1
        lo, hi = min(i, j), max(i, j)
        pieces[lo] = [pieces[lo][0], pieces[hi][1]]
        del pieces[hi]
    cls = vessel.polaris_class
    out = []
    for a, b in pieces:
        length = seg[a:b]
        nm = float(length.sum() / geometry.METRES_PER_NM)
        hours = float(terms["hours"][a:b].sum())
        by_stage = np.bincount(terms["stage"][a:b].astype(int), weights=length, minlength=12)
        stage = int(np.argmax(by_stage))
        cost = {k: round(float(terms[f"{k}_h"][a:b].sum()), 2) for k in TERM_NAMES}
        elevated = bool(terms["elevated"][a:b].any())
        out.append({
            "from": [round(float(steps["lon"][a]), 4), round(float(steps["lat"][a]), 4)],
            "to": [round(float(steps["lon"][b]), 4), round(float(steps["lat"][b]), 4)],
            "legs": [int(steps["leg"][a]) + 1, int(steps["leg"][b - 1]) + 1],
            "distance_nm": round(nm, 1),
            "hours": round(hours, 2),
            "speed_kn": round(nm / hours, 1) if hours > 0 else None,
            "ice_type": polaris.STAGE_NAMES[stage],
            "assumed_type_nm": round(float(length[terms["assumed"][a:b] > 0].sum() / geometry.METRES_PER_NM), 1),
            "sic_mean": round(float(np.average(terms["sic"][a:b], weights=length)) if length.sum() else 0.0, 2),
            "sic_max": round(float(terms["sic"][a:b].max()), 2),
            "rio_min": round(float(terms["rio"][a:b].min()), 1),
            "polaris": "elevated risk" if elevated else "normal",
            **({"speed_limit_kn": polaris.elevated_speed_kn(cls)} if elevated else {}),
            **_segment_rules(steps, a, b, length),
            "hs_max_m": round(float(terms["hs"][a:b].max()), 2),
            "risk_mean": round(float(terms["risk"][a:b].mean()), 3),
            "cost_h": cost,
            "dominant": TERM_NAMES[max(cost, key=cost.get)],
            "conditions": str(sailed_in[a]),
            "persisted": bool(sailed_in[a] == basis.PERSISTED),
            **_segment_days(steps, a, b),
            "waiting_h": round(float(waited[a:b].sum()), 2),
        })
    return out


def _segment_days(steps: dict, a: int, b: int) -> dict:
    """The days whose conditions (daily layer or forecast step) a segment was sailed in, first and last."""
    if "day" not in steps:
        return {}
    days = steps["day"][a:b]
    return {"conditions_days": [min(days).isoformat(), max(days).isoformat()]}


def point_terms(static: StaticGrid, sailed: Voyage, vessel: Vessel, steps: dict) -> dict[str, np.ndarray]:
    """Per step, what the passage plan reports beside the voyage's terms: the shallowest water
    (``depth_m``), escort by the sea-area rules (``escort``, when assessed) and persisted
    conditions (``persisted``)."""
    out = {"depth_m": depth.step_depths(static, sailed.vcells, vessel),
           "persisted": np.asarray(steps["basis"]) == basis.PERSISTED}
    if "sea_rules" in steps:
        out["escort"] = steps["sea_rules"]["mode"] == rules.MODES.index("escort")
    return out


def _segment_rules(steps: dict, a: int, b: int, length: np.ndarray) -> dict:
    """A segment's sea areas (``rules.assess``, in order) and its miles under icebreaker escort."""
    if "sea_rules" not in steps:
        return {}
    names, region, mode = steps["sea_rules"]["names"], steps["sea_rules"]["region"][a:b], steps["sea_rules"]["mode"][a:b]
    areas = [names[k] for k in dict.fromkeys(region[region >= 0].tolist())]
    escort_nm = float(length[mode == rules.MODES.index("escort")].sum() / geometry.METRES_PER_NM)
    return {"sea_areas": areas, "escort_nm": round(escort_nm, 1)} if areas else {}


def assess_rules(sea_rules: rules.SeaRules, static: StaticGrid, daily: DailyConditions, vessel: Vessel,
                 sailed: Voyage, steps: dict) -> dict:
    """The sea-area rules' verdict on the sailed route (``rules.assess``), each step in the ice
    conditions of the day it is sailed; the per-step part is kept in ``steps`` for the segments."""
    hours = steps["terms"]["hours"]
    starts = [sailed.departure + timedelta(hours=float(h)) for h in basis.step_starts(hours, sailed.terms["wait_h"])]
    maps: dict[date, np.ndarray] = {}
    condition = np.zeros(len(sailed.step_day), dtype=np.int8)
    for i, day in enumerate(sailed.step_day):
        if day not in maps:
            conditions = routing.with_fairways(static, daily.get(day))
            maps[day] = rules.conditions_map(sea_rules, conditions.sic, conditions.stage, static.grid.resolution_m)
        (r0, c0), (r1, c1) = sailed.vcells[i], sailed.vcells[i + 1]
        condition[i] = max(maps[day][r0, c0], maps[day][r1, c1])
    found = rules.assess(sea_rules, vessel.ice_class, steps["lon"][:-1], steps["lat"][:-1], steps["seg"],
                         condition, starts)
    per_step = found.pop("steps")
    steps["sea_rules"] = {"names": [r.name for r in sea_rules.regions], **per_step}
    return found


LEGS_NOTE = ("straight legs in the grid's projection (EPSG:3413), within the vessel's hard limits and clear of land "
             "in the land data, replacing the grid path wherever that costs no more (docs/route-model.md)")


def _smoothing_metrics(static: StaticGrid, daily: DailyConditions, vessel: Vessel, risk_weight: float,
                       departure: datetime, request: RouteRequest, path: PathResult, metrics: dict, gc_nm: float,
                       steps: dict, *, distance_only: bool) -> dict:
    """The smoothed path's legs, and the grid path it came from sailed alike (same days, no
    re-planning) beside it, so the gain shows."""
    grid_sailed = sail(static, daily, vessel, risk_weight, departure, request.origin, request.destination,
                       path.cells, replan=False)
    grid_metrics, _lon, _lat, _steps = _path_metrics(static, grid_sailed)
    done = path.smoothing
    unit, factor = ("nm", 1 / geometry.METRES_PER_NM) if distance_only else ("h", 1 / 3600.0)
    return {
        "grid_path": {
            "distance_nm": grid_metrics["distance_nm"], "duration_h": grid_metrics["duration_h"],
            "distance_ratio": round(grid_metrics["distance_nm"] / gc_nm, 3) if gc_nm else None,
            "cost_h": grid_metrics["cost_h"], "vertices": done["grid_vertices"],
        },
        "smoothing": {
            "legs": done["legs"], "geometry": LEGS_NOTE,
            "saved_nm": round(grid_metrics["distance_nm"] - metrics["distance_nm"], 1),
            "saved_h": round(grid_metrics["duration_h"] - metrics["duration_h"], 1),
            f"planning_cost_{unit}": {"grid_path": round(done["grid_cost"] * factor, 2),
                                      "smoothed": round(done["cost"] * factor, 2)},
        },
        "legs": describe_legs(steps),
    }


def _onward_feature(static: StaticGrid, daily: DailyConditions, request: RouteRequest, arrival: datetime,
                    vessel: Vessel) -> tuple[dict, float, float, list[str]]:
    waypoints = [tuple(p) for p in request.onward["waypoints"]]
    leg = sail_onward(static, daily, vessel, arrival, waypoints)
    feature = {
        "type": "Feature",
        "geometry": geometry.line_geometry(leg["lon"], leg["lat"]),
        "properties": {
            "role": "onward",
            "to": request.onward["to"],
            "distance_nm": round(leg["distance_nm"], 1),
            "duration_h": round(leg["hours"], 1),
            "eta": minute_utc(leg["eta"]),
            "checked_nm": round(leg["checked_nm"], 1),
            "persistence_days": round(leg["persisted_h"] / 24.0, 2),
            "note": "fixed great-circle legs between configured waypoints: on the polar grid sailed in the ice and "
                    "waves of the day reached (POLARIS, speed model; limits reported, not re-routed), beyond it at "
                    "open-water speed with no ice or wave data",
            **({"warnings": leg["warnings"]} if leg["warnings"] else {}),
        },
    }
    return feature, leg["distance_nm"], leg["hours"], leg["warnings"]


def build_geojson(static: StaticGrid, conditions: Conditions | DailyConditions, request: RouteRequest, day: date,
                  route: PathResult, baseline: PathResult, inputs: list[dict], synthetic: bool,
                  run_id: str, risk_weight: float = 0.0, checks: dict | None = None, *,
                  sea_rules: rules.SeaRules | None = None, ignore_rules: bool = False,
                  through: time_search.ThroughTime | None = None) -> dict:
    """The route document; ``conditions`` is the day's, or the daily layers the voyage sails through;
    ``checks``: the plausibility settings (``plausibility_settings``). With ``sea_rules`` the route
    carries their verdict (``rules``; ``ignored`` with ``ignore_rules``); ``through``: the route was
    searched through time (``time_search``) and its re-plans are too."""
    checks = checks or plausibility_settings(None, static.grid.resolution_m / 1000.0)
    daily = conditions if isinstance(conditions, DailyConditions) else DailyConditions.single(day, conditions)
    departure = datetime(day.year, day.month, day.day, tzinfo=UTC)
    vessel = request.vessel
    gc_nm = geometry.great_circle_nm(request.origin.lat, request.origin.lon, request.destination.lat, request.destination.lon)
    common = {"scenario": request.name, "vessel": vessel.name, "ice_class": vessel.ice_class,
              "polaris_class": vessel.polaris_class,
              "date": day.isoformat(), "synthetic": synthetic, "run_id": run_id}
    if synthetic:
        common["notice"] = DEMO_NOTICE
    features = []
    warnings = list(route.warnings) + list(daily.get(day).warnings)
    for role, path in (("route", route), ("baseline", baseline)):
        sailed = sail(static, daily, vessel, risk_weight, departure, request.origin, request.destination, path,
                      replan=role == "route", through=through if role == "route" else None)
        metrics, lon, lat, steps = _path_metrics(static, sailed)
        steps["basis"] = basis.step_basis(daily, departure, sailed.terms["hours"], sailed.step_day,
                                          sailed.terms["wait_h"])
        steps["day"] = sailed.step_day
        metrics.update(basis.basis_metrics(daily, sailed.terms["hours"], steps["basis"]))
        metrics.update(depth.route_depth(static, sailed.vcells, steps["lon"], steps["lat"], vessel))
        metrics["great_circle_nm"] = round(gc_nm, 1)
        metrics["distance_ratio"] = round(metrics["distance_nm"] / gc_nm, 3) if gc_nm else None
        if path.smoothing is not None:
            metrics.update(_smoothing_metrics(static, daily, vessel, risk_weight, departure, request, path, metrics,
                                              gc_nm, steps, distance_only=role == "baseline"))
        description = ("minimum-cost route (transit time + risk penalty) within the vessel's hard limits"
                       if role == "route" else "distance-only baseline within the same hard limits")
        if role == "route" and sea_rules is not None:
            metrics["rules"] = {**assess_rules(sea_rules, static, daily, vessel, sailed, steps), "ignored": ignore_rules}
        extra = {"segments": explain_segments(vessel, steps)} if role == "route" else {}
        if role == "route":
            warnings += sailed.warnings + [w for w in [basis.persistence_warning(metrics)] if w]
            if metrics.get("unknown_depth_nm"):
                warnings.append(f"{metrics['unknown_depth_nm']:g} nm sailed in water whose depth the relief does not "
                                f"resolve (it reads land where the land data has sea): check the chart there")
            extra["eta_assumption"] = eta_assumption(daily, through)
            extra["search"] = search_description(path, through)
            route_steps = steps
        parts, positions = geometry.split_with_positions(lon, lat, steps["position"])
        per_point = coordinates.shaped(coordinates.coordinate_properties(
            departure, {**steps["terms"], **point_terms(static, sailed, vessel, steps)}, positions))
        features.append({"type": "Feature", "geometry": geometry.nest(parts),
                         "properties": {"role": role, "description": description, **common, **metrics, **extra,
                                        "coordinateProperties": per_point}})
    plausible, plausible_warnings = plausibility.assess(
        route_steps, features[0]["properties"], vessel, baseline_ratio=features[1]["properties"]["distance_ratio"],
        shallow_straits=tuple(depth.closing_straits(static, vessel)), **checks)
    features[0]["properties"].update(plausible)
    warnings += plausible_warnings
    summary = {k: v for k, v in features[0]["properties"].items()
               if k not in ("segments", "legs", "coordinateProperties")}
    if request.onward:
        arrival = departure + timedelta(hours=features[0]["properties"]["duration_h"])
        onward, onward_nm, _onward_h, onward_warnings = _onward_feature(static, daily, request, arrival, vessel)
        onward["properties"].update(common)
        features.append(onward)
        summary["total_distance_nm"] = round(summary["distance_nm"] + onward_nm, 1)
        summary["total_eta"] = onward["properties"]["eta"]
        summary["final_destination"] = request.onward["to"]
        warnings += onward_warnings
    used = sorted(d for d in daily.metas if d != day)
    extra_inputs = [input_ref(m) for d in used for m in daily.metas[d]]
    cited = list({(i["logical_id"], i["sha256"]): i for i in inputs + extra_inputs}.values())
    return _document(request, day, cited, synthetic, run_id, features, summary=summary,
                     warnings=warnings)


def _document(request: RouteRequest, day: date, inputs: list[dict], synthetic: bool, run_id: str,
              features: list[dict], **details) -> dict:
    """The FeatureCollection, with what it is about in its ``arcticroute`` member."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "arcticroute": {
            "scenario": request.name, "description": request.description,
            "from": request.origin.__dict__, "to": request.destination.__dict__,
            "vessel": request.vessel.as_dict(), "date": day.isoformat(), **details,
            "inputs": inputs, "run_id": run_id, "synthetic": synthetic,
            **({"notice": DEMO_NOTICE} if synthetic else {}),
        },
    }


def plausibility_settings(settings: Settings | None, grid_km: float, *, assume_escort: bool = False) -> dict:
    """The keyword arguments of ``plausibility.assess`` from runtime.yaml ``route``."""
    cfg = settings.runtime.get("route", {}) if settings is not None else {}
    return {"min_speed_kn": float(cfg.get("min_speed_kn", plausibility.DEFAULT_MIN_SPEED_KN)),
            "window_nm": float(cfg.get("min_speed_window_nm", plausibility.DEFAULT_WINDOW_NM)),
            "assume_escort": assume_escort, "grid_km": grid_km}


def voyage_input_ids(settings: Settings, days: list[date]) -> list[tuple[str, str]]:
    """Identity (logical id, sha256) of the layers of the later days a voyage may sail through,
    so a route is planned again when any of them changes or a new day arrives."""
    found = []
    for d in days:
        for relpath in (daily_relpath(d, settings.grid.name), *(layer_relpath(layer, d, settings.grid.name)
                                                                for layer in ("ice.sic", "ice.type", "wave.hs"))):
            meta = current_meta(settings.roots, "data", relpath)
            if meta is not None:
                found.append((meta["logical_id"], meta["sha256"]))
    return found


def route_relpath(name: str, day: date, grid_name: str) -> str:
    return f"routes/{grid_name}/{name}_{day:%Y%m%d}.geojson"


def plan_request(settings: Settings, request: RouteRequest, day: date, loaded: tuple[Conditions, list[dict]],
                 run, *, force: bool = False, ignore_rules: bool = False,
                 assume_escort: bool = False) -> tuple[str, dict]:
    """Plan and write one route; returns (outcome, summary), outcome "written", "unchanged",
    "no-route" or "refused".

    A day on which no path satisfies the vessel's limits is written too (an empty
    FeatureCollection with the reason), so the report can show it; so is a route the sea-area
    rules do not permit (status "refused", the rule named), unless ``ignore_rules`` (for
    studies: the route is written and says the rules were ignored).
    """
    sea_rules = rules.load(settings.config_dir)
    roots = settings.roots
    conditions, metas = loaded  # load_conditions(settings, day), read once for all requests of the day
    inputs = [input_ref(m) for m in metas]
    risk_weight = float(settings.runtime["route"]["risk_weight"])
    route_cfg = settings.runtime.get("route", {})
    waiting = time_search.Waiting.from_config(route_cfg)
    search = {"time_dependent": bool(route_cfg.get("time_dependent", True)), "wait": asdict(waiting)}
    assume_escort = assume_escort or request.assume_escort
    checks = plausibility_settings(settings, settings.grid.resolution_m / 1000.0, assume_escort=assume_escort)
    later = [d for d in risk_days(settings) if day < d <= day + timedelta(days=HORIZON_DAYS)]
    ice_forecast = basis.forecast_issue(settings, later[-1] if later else day)
    digest = hashlib.sha256(json.dumps({"inputs": inputs, "later": voyage_input_ids(settings, later),
                                        "request": request.as_dict(), "risk_weight": risk_weight,
                                        "checks": checks, "planner": PLANNER_VERSION, "search": search, "sea_rules": sea_rules.sha256,
                                        "ignore_rules": ignore_rules, "conditions": basis.CONDITIONS_VERSION,
                                        "forecast": ice_forecast and [ice_forecast["logical_id"],
                                                                      ice_forecast["sha256"]]},
                                       sort_keys=True, default=str).encode()).hexdigest()
    relpath = route_relpath(request.name, day, settings.grid.name)
    previous = previous_meta(roots, "outputs", relpath)
    if (not force and previous and previous.get("params", {}).get("inputs_digest") == digest
            and is_intact(roots, previous)):
        summary = previous["params"].get("summary", {})
        if summary.get("status") not in UNROUTED and not rtz_is_current(settings, relpath, previous):
            document = read_json(roots, previous)
            write_route_rtz(settings, document, relpath, previous, run)
        return (summary["status"] if summary.get("status") in UNROUTED else "unchanged"), summary
    static = load_static(roots, settings.grid, run=run)
    daily = basis.with_forecast(day, [day, *later], lambda d: loaded if d == day else load_conditions(settings, d),
                                ice_forecast, roots)
    if not ignore_rules:
        daily.close_by(lambda d: rules_closure(sea_rules, static, d))
    conditions = daily.get(day)
    synthetic = any(m.get("synthetic") for m in metas)
    through = time_search.ThroughTime(daily, datetime(day.year, day.month, day.day, tzinfo=UTC),
                                      waiting) if search["time_dependent"] else None
    try:
        route, baseline, _blocked = plan_path(static, conditions, request.vessel, request.origin,
                                              request.destination, risk_weight, through=through)
    except NoRouteError as exc:
        status = "refused" if isinstance(exc, RouteRefusedError) else "no-route"
        document = _document(request, day, inputs, synthetic, run.run_id, [], status=status, reason=str(exc))
        summary, warnings = {"status": status, "reason": str(exc), "synthetic": synthetic}, [str(exc)]
    else:
        for message in route.warnings:
            run.warn(message)
        document = build_geojson(static, daily, request, day, route, baseline, inputs, synthetic, run.run_id,
                                 risk_weight, checks, sea_rules=sea_rules, ignore_rules=ignore_rules,
                                 through=through)
        full = document["arcticroute"]["summary"]
        verdict = full["rules"]
        if verdict["verdict"] == "not permitted" and not ignore_rules:
            reason = (f"refused for vessel {request.vessel.name} ({request.vessel.ice_class}, NSR class "
                      f"{verdict['rs_class']}) on {day}: " + "; ".join(verdict["refused_by"]))
            document = _document(request, day, document["arcticroute"]["inputs"], synthetic, run.run_id, [],
                                 status="refused", reason=reason, rules=verdict)
            summary = {"status": "refused", "reason": reason, "synthetic": synthetic, "rules": _rules_summary(verdict)}
            warnings = [reason]
        else:
            document["arcticroute"]["warnings"] += rules_warnings(verdict)
            summary = {"status": "ok", "synthetic": synthetic, **{k: full[k] for k in _SUMMARY_KEYS if k in full}}
            summary["rules"] = _rules_summary(verdict)
            warnings = list(document["arcticroute"]["warnings"])
        inputs = document["arcticroute"]["inputs"]
        if summary["status"] == "ok" and full.get("beset_risk") and not assume_escort:
            reason = (f"no route from {request.origin.name} to {request.destination.name} for vessel "
                      f"{request.vessel.name} ({request.vessel.ice_class}) without escort: beset risk, "
                      f"{full['min_sustained_speed_kn']:g} kn sustained over {checks['window_nm']:g} nm, below the "
                      f"minimum of {checks['min_speed_kn']:g} kn (runtime.yaml route.min_speed_kn); "
                      "plan with --assume-escort to assume icebreaker escort")
            refused = _document(request, day, inputs, synthetic, run.run_id, [], status="no-route", reason=reason,
                                beset_risk=True, assumed_escort=False, refused_summary=full)
            document, warnings = refused, warnings + [reason]
            summary = {"status": "no-route", "reason": reason, "synthetic": synthetic, "beset_risk": True}
    spec = ArtifactSpec(
        logical_id=f"ar://route/{request.name}@{day:%Y%m%d}?grid={settings.grid.name}",
        root="outputs",
        relpath=relpath,
        kind="route",
        synthetic=synthetic,
        time_coverage=day_span(day),
        grid=settings.grid.describe(),
        tags=["route", request.name, request.vessel.name] + (["synthetic"] if synthetic else []),
        inputs=inputs,
        params={"request": request.as_dict(), "risk_weight": risk_weight, "inputs_digest": digest, "summary": summary},
        warnings=warnings,
    )
    check_route_document(document)
    text = json.dumps(document, indent=1, allow_nan=False)
    meta = write_artifact(roots, spec, lambda p: p.write_text(text, encoding="utf-8"), run_id=run.run_id, command=run.command)
    run.artifact(meta)
    if summary["status"] not in UNROUTED and not rtz_is_current(settings, relpath, meta):
        write_route_rtz(settings, document, relpath, meta, run)
    return (summary["status"] if summary["status"] in UNROUTED else "written"), summary


def rules_closure(sea_rules: rules.SeaRules, static: StaticGrid, day: date):
    """``Conditions.closed_for`` of ``day``: the cells the sea-area rules close to a vessel."""
    def closed_for(conditions: Conditions, vessel: Vessel) -> dict[str, np.ndarray]:
        return rules.closed_cells(sea_rules, vessel.ice_class, day, static.lon, static.lat, conditions.sic,
                                  conditions.stage, static.grid.resolution_m)
    return closed_for


def _rules_summary(verdict: dict) -> dict:
    return {k: verdict[k] for k in ("verdict", "rs_class", "escort_nm", "escort_areas", "refused_by", "ignored")}


def rules_line(summary: dict) -> str:
    """One line on a route's sea-area rules verdict and assumed ice types (for the CLI)."""
    verdict = summary.get("rules") or {}
    text = verdict.get("verdict", "not assessed")
    if verdict.get("escort_areas"):
        text += f" ({verdict['escort_nm']:.0f} nm under escort: {', '.join(verdict['escort_areas'])})"
    if verdict.get("ignored") and verdict.get("verdict") == "not permitted":
        text += " -- IGNORED (--ignore-rules)"
    if summary.get("assumed_type_nm"):
        text += f"; {summary['assumed_type_nm']:.0f} nm on assumed ice types"
    return text


def rules_warnings(verdict: dict) -> list[str]:
    """What the sea-area rules' verdict asks of the voyage, as warnings of the route."""
    out = []
    if verdict["ignored"] and verdict["verdict"] == "not permitted":
        out.append("sea-area rules IGNORED (--ignore-rules, for studies): the voyage is not permitted: "
                   + "; ".join(verdict["refused_by"]))
    escort = [a for a in verdict["areas"] if a["mode"] == "escort"]
    if escort:
        out.append("icebreaker escort required by the NSR Rules in " + ", ".join(
            f"{a['name']} ({a['nm']:.0f} nm, {a['ice_conditions']} conditions)" for a in escort))
    return out + list(verdict["notices"])


_SUMMARY_KEYS = ("distance_nm", "great_circle_nm", "distance_ratio", "duration_h", "eta", "max_sic", "mean_risk",
                 "min_rio", "ice_nm", "elevated_risk_nm", "conditions_days", "replans", "assumed_type_nm",
                 "persistence_days", "forecast_days", "min_depth_m", "min_depth_at", "min_sustained_speed_kn",
                 "beset_risk", "assumed_escort", "waiting_h",
                 "total_distance_nm", "total_eta", "final_destination")


def check_route_document(document: dict) -> None:
    """Refuse to write a route document that is not valid RFC 7946 with finite numbers.

    A route feature needs a LineString of at least two distinct positions (or a
    MultiLineString of such lines), each ``[lon, lat]`` within range; a no-route document
    has no features and says why.
    """
    def bad(why: str) -> ArcticRouteError:
        return ArcticRouteError(f"route document for {document.get('arcticroute', {}).get('scenario')} is invalid: "
                                f"{why}; nothing was written", hint="report this as a bug with the command line used")

    if document.get("type") != "FeatureCollection" or not isinstance(document.get("features"), list):
        raise bad("not a FeatureCollection")
    if not document["features"]:
        if document.get("arcticroute", {}).get("status") not in UNROUTED:
            raise bad("no features and no no-route or refused status")
        return
    for feature in document["features"]:
        geometry_ = feature.get("geometry") or {}
        kind, coordinates = geometry_.get("type"), geometry_.get("coordinates")
        lines = [coordinates] if kind == "LineString" else coordinates if kind == "MultiLineString" else None
        if not lines:
            raise bad(f"{feature.get('properties', {}).get('role')} has no line geometry")
        for line in lines:
            if len(line) < 2 or len({tuple(p) for p in line}) < 2:
                raise bad(f"{feature.get('properties', {}).get('role')} has a line with fewer than two positions")
            for lon, lat in line:
                if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
                    raise bad(f"position {lon},{lat} is not a finite lon/lat")
        for key, value in feature.get("properties", {}).items():
            if isinstance(value, float) and not np.isfinite(value):
                raise bad(f"property {key} is {value}")
