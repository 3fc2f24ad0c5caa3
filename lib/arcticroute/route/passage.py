"""The passage plan of a route document: its waypoints and the legs between them, as a bridge
reads them (RTZ, GPX and the CSV passage plan render this; nothing here sails the route again).

Waypoints are points of the document's route line: the line's vertices where it turns, plus as
many of its other vertices as keep every leg, sailed as a great circle (an orthodrome, what an
ECDIS steers between two waypoints), within ``max_deviation_nm`` of the planned line at every point
(checked about every kilometre along it). So each leg is truly an orthodrome, the waypoints are
the document's own positions, and collinear vertices are merged. Each leg carries what the voyage
met on it: ETA, speed, ice (mean and highest concentration, the most severe stage of development),
the lowest POLARIS RIO and its operation level, the highest waves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from .. import polaris
from ..errors import ArcticRouteError
from ..grid import to_lonlat, to_xy
from . import geometry

MAX_DEVIATION_NM = 0.05  # a leg's orthodrome stays this close to the planned line (about 93 m)
CHECK_SPACING_M = 1000.0
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG): cross-track distances on the sphere
STAGE_ORDER = {name: code for code, name in enumerate(polaris.STAGE_NAMES)}


@dataclass(frozen=True)
class Waypoint:
    id: int
    name: str
    lat: float
    lon: float
    time: datetime


@dataclass(frozen=True)
class Leg:
    number: int
    start: Waypoint
    end: Waypoint
    course_deg: float  # initial true course of the orthodrome
    distance_nm: float
    cumulative_nm: float
    hours: float
    speed_kn: float
    sic_mean: float | None
    sic_max: float | None
    stage: str | None  # the most severe stage of development met
    rio_min: float | None
    operation: str | None
    hs_max_m: float | None
    min_depth_m: float | None = None  # the shallowest water met (None: not resolved, or planned before depth)
    escort: bool | None = None  # under icebreaker escort by the sea-area rules on some of the leg
    persisted: bool | None = None  # some of the leg sailed on persisted conditions (past the data)


@dataclass(frozen=True)
class Passage:
    scenario: str
    date: str
    vessel: dict
    synthetic: bool
    notice: str | None
    conditions_days: list[str]
    waypoints: list[Waypoint]
    legs: list[Leg]
    max_deviation_nm: float
    source: dict  # run id, scenario, date: where the route came from
    draught_m: float | None = None
    safety_depth_m: float | None = None  # draught + under-keel clearance: shallower water is a hard limit
    escort_areas: tuple[str, ...] = ()  # sea areas the rules enter only under icebreaker escort
    assumed_escort: bool = False  # planned assuming escort (beset risk accepted)

    @property
    def departure(self) -> datetime:
        return self.waypoints[0].time

    @property
    def arrival(self) -> datetime:
        return self.waypoints[-1].time


def operation_level(rio: float, polaris_class: str) -> str:
    """POLARIS operation level of a RIO (MSC.1/Circ.1519, 2.3)."""
    if rio >= 0:
        return "normal"
    if rio >= polaris.rio_limit(polaris_class):
        return "elevated risk"
    return "special consideration"


def degrees_minutes(value: float, positive: str, negative: str, width: int) -> str:
    """``71°03.25'N`` / ``024°42.10'E``: whole degrees and decimal minutes, as charts give them."""
    hemisphere = positive if value >= 0 else negative
    minutes_total = round(abs(value) * 60.0, 2)
    degrees, minutes = divmod(minutes_total, 60.0)
    return f"{int(degrees):0{width}d}°{minutes:05.2f}'{hemisphere}"


def position_text(lat: float, lon: float) -> str:
    return f"{degrees_minutes(lat, 'N', 'S', 2)} {degrees_minutes(lon, 'E', 'W', 3)}"


UNROUTED = ("no-route", "refused")  # statuses of a route document without a route (the reason given)


def has_route(document: dict) -> bool:
    return document.get("arcticroute", {}).get("status") not in UNROUTED


def route_feature(document: dict) -> dict:
    info = document.get("arcticroute", {})
    if not has_route(document):
        raise ArcticRouteError(f"route {info.get('scenario')} on {info.get('date')} has no route to export "
                               f"({info.get('reason')})", hint="plan it on another day or with another vessel")
    for feature in document.get("features", []):
        if feature.get("properties", {}).get("role") == "route":
            if "coordinateProperties" not in feature["properties"]:
                raise ArcticRouteError(
                    f"route {info.get('scenario')} on {info.get('date')} was planned by an older version without "
                    "per-point times", hint=f"plan it again: route.plan --scenario {info.get('scenario')} "
                                            f"--date {info.get('date')} --force")
            return feature
    raise ArcticRouteError(f"route document {info.get('scenario')} on {info.get('date')} has no route feature",
                           hint="plan it again with route.plan --force")


def line_points(feature: dict) -> tuple[np.ndarray, np.ndarray, dict[str, list]]:
    """The route line's points (lon, lat) part after part, without the points the antimeridian
    split added (a part's last point and the next part's first: the same crossing), and their
    per-point properties."""
    geom = feature["geometry"]
    parts = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
    props = feature["properties"]["coordinateProperties"]
    nested = {k: [v] for k, v in props.items()} if geom["type"] == "LineString" else props
    keep = []
    for index, part in enumerate(parts):
        lo = 1 if index > 0 else 0
        hi = len(part) - 1 if index < len(parts) - 1 else len(part)
        keep.append(range(lo, hi))
    coords = np.asarray([parts[p][i] for p, rows in enumerate(keep) for i in rows], dtype=float)
    values = {k: [v[p][i] for p, rows in enumerate(keep) for i in rows] for k, v in nested.items()}
    return coords[:, 0], coords[:, 1], values


def _cross_track_m(lon_a, lat_a, lon_b, lat_b, lon_p, lat_p) -> np.ndarray:
    """Distance of points P from the great circle through A and B (sphere, metres)."""
    fwd_ab, _back, _dist = geometry.GEOD.inv(lon_a, lat_a, lon_b, lat_b)
    n = np.size(lon_p)
    fwd_ap, _back, dist_ap = geometry.GEOD.inv(np.full(n, lon_a), np.full(n, lat_a), lon_p, lat_p)
    angle = np.radians(np.asarray(fwd_ap) - fwd_ab)
    return np.abs(np.arcsin(np.clip(np.sin(np.asarray(dist_ap) / EARTH_RADIUS_M) * np.sin(angle), -1, 1))
                  ) * EARTH_RADIUS_M


def _samples(x: np.ndarray, y: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of the planned line (straight in the projection) from vertex a to b about every
    kilometre, as lon/lat, with the vertex each one follows."""
    xs, ys, owner = [], [], []
    for k in range(a, b):
        n = max(int(math.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) / CHECK_SPACING_M), 1)
        t = np.arange(n) / n
        xs.append(x[k] + t * (x[k + 1] - x[k]))
        ys.append(y[k] + t * (y[k + 1] - y[k]))
        owner.append(np.full(n, k))
    lon, lat = to_lonlat(np.concatenate(xs), np.concatenate(ys))
    return np.asarray(lon), np.asarray(lat), np.concatenate(owner)


def waypoint_indices(lon: np.ndarray, lat: np.ndarray, max_deviation_nm: float) -> list[int]:
    """Indices of the line's vertices kept as waypoints (Douglas-Peucker with the cross-track
    distance of the planned line from each leg's orthodrome as the measure)."""
    x, y = (np.asarray(v, dtype=float) for v in to_xy(lon, lat))
    tolerance = max_deviation_nm * geometry.METRES_PER_NM
    keep = {0, lon.size - 1}
    stack = [(0, lon.size - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        s_lon, s_lat, owner = _samples(x, y, a, b)
        off = _cross_track_m(lon[a], lat[a], lon[b], lat[b], s_lon, s_lat)
        worst = int(np.argmax(off))
        if off[worst] <= tolerance:
            continue
        k = int(owner[worst])
        split = k if k > a else k + 1  # the vertex at or right after the worst point
        if split >= b:
            split = b - 1
        keep.add(split)
        stack += [(a, split), (split, b)]
    return sorted(keep)


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def passage_plan(document: dict, max_deviation_nm: float = MAX_DEVIATION_NM) -> Passage:
    """The waypoints and legs of a route document (see the module doc)."""
    feature = route_feature(document)
    info = document["arcticroute"]
    props = feature["properties"]
    lon, lat, values = line_points(feature)
    # a zero-length step (the true end point on its cell's centre) is no leg
    distinct = [0] + [i for i in range(1, lon.size) if (lon[i], lat[i]) != (lon[i - 1], lat[i - 1])]
    lon, lat = lon[distinct], lat[distinct]
    values = {k: [v[i] for i in distinct] for k, v in values.items()}
    kept = waypoint_indices(lon, lat, max_deviation_nm)
    names = {0: info.get("from", {}).get("name") or "departure", len(kept) - 1: info.get("to", {}).get("name") or "arrival"}
    waypoints = [Waypoint(n + 1, names.get(n, f"WP{n + 1:03d}"), float(lat[i]), float(lon[i]),
                          _parse_time(values["times"][i])) for n, i in enumerate(kept)]
    polaris_class = props.get("polaris_class") or info.get("vessel", {}).get("polaris_class") or ""
    legs, cumulative = [], 0.0
    for number, (a, b) in enumerate(zip(kept[:-1], kept[1:], strict=True), start=1):
        start, end = waypoints[number - 1], waypoints[number]
        course, _back, metres = geometry.GEOD.inv(start.lon, start.lat, end.lon, end.lat)
        distance = float(metres) / geometry.METRES_PER_NM
        cumulative += distance
        hours = (end.time - start.time).total_seconds() / 3600.0
        on_leg = range(a + 1, b + 1)  # each point carries the step that reaches it
        sic = [values["sic"][i] for i in on_leg if values["sic"][i] is not None]
        rio = [values["rio"][i] for i in on_leg if values["rio"][i] is not None]
        hs = [values["hs_m"][i] for i in on_leg if values["hs_m"][i] is not None]
        stages = [values["stage"][i] for i in on_leg if values["stage"][i] is not None]
        depths = [v for i in on_leg if (v := values.get("depth_m", [None] * lon.size)[i]) is not None]
        legs.append(Leg(
            number=number, start=start, end=end, course_deg=round(float(course) % 360.0, 1),
            distance_nm=round(distance, 2), cumulative_nm=round(cumulative, 1), hours=round(hours, 2),
            speed_kn=round(distance / hours, 1) if hours > 0 else 0.0,
            sic_mean=round(float(np.mean(sic)), 2) if sic else None, sic_max=round(max(sic), 2) if sic else None,
            stage=max(stages, key=lambda s: STAGE_ORDER.get(s, 0)) if stages else None,
            rio_min=min(rio) if rio else None,
            operation=operation_level(min(rio), polaris_class) if rio else None,
            hs_max_m=round(max(hs), 2) if hs else None,
            min_depth_m=min(depths) if depths else None,
            escort=_any_flag(values, "escort", on_leg), persisted=_any_flag(values, "persisted", on_leg),
        ))
    rules = props.get("rules") or {}
    return Passage(scenario=info.get("scenario", ""), date=info.get("date", ""), vessel=info.get("vessel", {}),
                   synthetic=bool(info.get("synthetic")), notice=info.get("notice"),
                   conditions_days=list(props.get("conditions_days") or [info.get("date", "")]),
                   waypoints=waypoints, legs=legs, max_deviation_nm=max_deviation_nm,
                   source={"scenario": info.get("scenario"), "date": info.get("date"), "run_id": info.get("run_id")},
                   draught_m=props.get("draught_m"), safety_depth_m=props.get("required_depth_m"),
                   escort_areas=tuple(rules.get("escort_areas") or ()), assumed_escort=bool(props.get("assumed_escort")))


def _any_flag(values: dict[str, list], key: str, on_leg: range) -> bool | None:
    """Whether a per-point flag is set on any point of a leg; None for a document without it."""
    flags = values.get(key)
    if flags is None or all(flags[i] is None for i in on_leg):
        return None
    return any(bool(flags[i]) for i in on_leg)
