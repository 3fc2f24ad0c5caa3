"""Any-angle smoothing (issue 14): shorter legs, never through land or a forbidden cell, never
dearer than the grid path. Legs are checked here independently of ``smoothing``: land with
global-land-mask at 1 km along the GeoJSON, hard limits by sampling each leg every 250 m
against ``routing.blocked_masks``, cost by sampling the cost surface every 100 m."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import ndimage

from arcticroute.errors import BadInputError, NoRouteError
from arcticroute.grid import X_MIN, Y_MAX, Grid
from arcticroute.route import geometry, routing, smoothing
from arcticroute.route.routing import Conditions, Place, Vessel
from arcticroute.sources import synthetic_fields as fields
from arcticroute.static import StaticGrid

from .land_check import land_points

MURMANSK = Place("Murmansk (Kola Bay off Severomorsk)", 69.10, 33.42)
BERING = Place("Bering Strait (east of the Diomedes)", 65.80, -168.46)
SABETTA = Place("Sabetta (Ob Bay)", 71.28, 72.095)
ROTTERDAM = Place("Rotterdam (Maasvlakte)", 51.9565, 4.0129)
PEVEK = Place("off Pevek", 69.90, 170.0)
POINT_HOPE = Place("off Point Hope", 68.60, -167.5)
PC5 = Vessel("pc5_cargo", "PC5", speed_kn=13, max_wave_m=7.0)
ARC7 = Vessel("arc7_lng", "Arc7", speed_kn=19.5, max_wave_m=8.0)
OPEN_WATER = Vessel("open_water_container", "none", speed_kn=18, max_wave_m=6.0)
LATE_SUMMER = date(2026, 9, 15)
POLARROUTE_NM = 2798.8  # issue 14: BAS PolarRoute 1.1.11, smoothed, same field, 25 km


@lru_cache(maxsize=1)
def grid25() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return grid25()


def conditions_on(static: StaticGrid, day: date) -> Conditions:
    sic = fields.sea_ice_concentration(static, day)
    hs = fields.wave_height(static, day, sic)
    return Conditions(sic=sic, hs=hs, risk=np.clip(0.6 * sic + 0.4 * hs / 6.0, 0, 1),
                      stage=fields.ice_stage(static, day, sic))


def nm(static, path, origin, destination, smoothed=True) -> float:
    if smoothed:
        x, y, _ = routing.path_vertices(static, path, origin, destination)
    else:
        x, y, _ = routing.route_vertices(static, path.cells, origin, destination)
    lon, lat = routing.vertices_lonlat(x, y)
    return float(geometry.segment_metres(lon, lat).sum() / 1852)


def forbidden(static: StaticGrid, conditions: Conditions, vessel: Vessel) -> np.ndarray:
    """Cells a vessel may not enter, from the limits themselves (not the smoothing's cost array)."""
    filled = routing.with_fairways(static, conditions)
    masks = routing.blocked_masks(static, filled, vessel)
    return np.logical_or.reduce(list(masks.values())) | ~routing.routable(static).ocean


def legs_enter(static: StaticGrid, blocked: np.ndarray, path) -> list[tuple[int, float, float]]:
    """Samples every 250 m along each smoothed leg (one that replaced grid steps) that fall in a
    blocked cell; points within 1 mm of a cell corner (where a leg may pass between two blocked
    cells, as the grid path's diagonal steps do) are not counted."""
    res = static.grid.resolution_m
    replaced = np.diff(path.smoothing["kept"]) > 1
    hits = []
    for k in np.flatnonzero(replaced):
        x0, y0, x1, y1 = path.legs_x[k], path.legs_y[k], path.legs_x[k + 1], path.legs_y[k + 1]
        n = int(np.hypot(x1 - x0, y1 - y0) // 250) + 2
        t = np.linspace(0, 1, n)
        u, v = (x0 + t * (x1 - x0) - X_MIN) / res, (Y_MAX - (y0 + t * (y1 - y0))) / res
        corner = (np.abs(u - np.round(u)) < 1e-7) & (np.abs(v - np.round(v)) < 1e-7)
        rows, cols = np.floor(v).astype(int), np.floor(u).astype(int)
        bad = blocked[rows, cols] & ~corner
        hits += [(int(k), float(a), float(b)) for a, b in zip(u[bad], v[bad], strict=True)]
    return hits


def test_late_summer_distance_route_beats_polarroute_and_every_leg_is_clear(static):
    """The issue's case: Murmansk -> Bering Strait, 2026-09-15, 25 km."""
    conditions = conditions_on(static, LATE_SUMMER)
    route, baseline, _ = routing.plan_path(static, conditions, PC5, MURMANSK, BERING, 2.0)
    gc = geometry.great_circle_nm(MURMANSK.lat, MURMANSK.lon, BERING.lat, BERING.lon)
    grid_nm, smooth_nm = nm(static, baseline, MURMANSK, BERING, False), nm(static, baseline, MURMANSK, BERING)
    assert smooth_nm <= POLARROUTE_NM * 1.01 and smooth_nm < POLARROUTE_NM
    assert smooth_nm < grid_nm * 0.97
    assert smooth_nm / gc < 1.03
    assert nm(static, route, MURMANSK, BERING) < nm(static, route, MURMANSK, BERING, False)
    blocked = forbidden(static, conditions, PC5)
    for path in (route, baseline):
        assert path.smoothing["cost"] <= path.smoothing["grid_cost"]
        assert legs_enter(static, blocked, path) == []
        x, y, _ = routing.path_vertices(static, path, MURMANSK, BERING)
        assert land_points(geometry.line_geometry(*geometry.path_lonlat(x, y))) == []


@pytest.mark.parametrize(("origin", "destination", "vessel", "day"), [
    (SABETTA, ROTTERDAM, ARC7, date(2026, 2, 15)),
    (SABETTA, ROTTERDAM, ARC7, date(2026, 8, 20)),
    (MURMANSK, BERING, PC5, date(2026, 11, 20)),
    (MURMANSK, BERING, OPEN_WATER, date(2026, 9, 10)),
    (PEVEK, POINT_HOPE, PC5, date(2026, 9, 15)),
])
def test_other_scenarios_and_dates_stay_clear_and_cost_no_more(static, origin, destination, vessel, day):
    conditions = conditions_on(static, day)
    route, baseline, _ = routing.plan_path(static, conditions, vessel, origin, destination, 2.0)
    blocked = forbidden(static, conditions, vessel)
    for path in (route, baseline):
        assert path.smoothing["cost"] <= path.smoothing["grid_cost"] * (1 + 1e-9)
        assert nm(static, path, origin, destination) <= nm(static, path, origin, destination, False) * 1.0001
        assert legs_enter(static, blocked, path) == []
        x, y, _ = routing.path_vertices(static, path, origin, destination)
        assert land_points(geometry.line_geometry(*geometry.path_lonlat(x, y))) == []


def test_a_leg_across_the_antimeridian_is_one_straight_line_booked_at_its_length(static):
    """Pevek -> Point Hope crosses 180 degrees: the legs are straight in the projection, the
    GeoJSON is split there, and the length is that of the voyage (not around the world)."""
    route, baseline, _ = routing.plan_path(static, conditions_on(static, LATE_SUMMER), PC5, PEVEK, POINT_HOPE, 0.0)
    gc = geometry.great_circle_nm(PEVEK.lat, PEVEK.lon, POINT_HOPE.lat, POINT_HOPE.lon)
    length = nm(static, baseline, PEVEK, POINT_HOPE)
    assert gc <= length < gc * 1.1
    x, y, _ = routing.path_vertices(static, baseline, PEVEK, POINT_HOPE)
    line = geometry.line_geometry(*geometry.path_lonlat(x, y))
    assert line["type"] == "MultiLineString"
    lon, lat = geometry.path_lonlat(x, y)
    assert ((np.diff(lon) + 180) % 360 - 180).__abs__().max() <= 2.0 + 1e-9  # no step jumps round the globe


def test_traverse_finds_the_exact_length_in_each_cell(static):
    """Against a fine sampling of random segments: the length in every cell agrees."""
    grid = static.grid
    rng = np.random.default_rng(14)
    x0, y0 = rng.uniform(-1e6, 1e6, 40), rng.uniform(-1e6, 1e6, 40)
    x1, y1 = x0 + rng.uniform(-3e5, 3e5, 40), y0 + rng.uniform(-3e5, 3e5, 40)
    seg, rows, cols, length = smoothing.traverse(grid, x0, y0, x1, y1)
    for s in range(40):
        n = 200_000
        t = (np.arange(n) + 0.5) / n
        r = np.floor((Y_MAX - (y0[s] + t * (y1[s] - y0[s]))) / grid.resolution_m).astype(int)
        c = np.floor((x0[s] + t * (x1[s] - x0[s]) - X_MIN) / grid.resolution_m).astype(int)
        step = np.hypot(x1[s] - x0[s], y1[s] - y0[s]) / n
        sampled: dict[tuple[int, int], float] = {}
        for key in zip(r.tolist(), c.tolist(), strict=True):
            sampled[key] = sampled.get(key, 0.0) + step
        exact = {(int(a), int(b)): float(v) for a, b, v in zip(rows[seg == s], cols[seg == s], length[seg == s],
                                                                strict=True) if v > 0}
        assert exact.keys() == sampled.keys()
        for key, value in exact.items():
            assert value == pytest.approx(sampled[key], abs=2 * step)


def sampled_cost(static: StaticGrid, per_metre: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The cost of a polyline by the midpoint rule every ~100 m (an even count per segment, so a
    diagonal grid step's midpoint, a cell corner, is never a sample)."""
    res = static.grid.resolution_m
    total = 0.0
    for k in range(x.size - 1):
        length = float(np.hypot(x[k + 1] - x[k], y[k + 1] - y[k]))
        n = 2 * max(int(length // 200), 1)
        t = (np.arange(n) + 0.5) / n
        rows = np.clip(np.floor((Y_MAX - (y[k] + t * (y[k + 1] - y[k]))) / res).astype(int), 0, static.grid.ny - 1)
        cols = np.clip(np.floor((x[k] + t * (x[k + 1] - x[k]) - X_MIN) / res).astype(int), 0, static.grid.nx - 1)
        total += float((per_metre[rows, cols] * (length / n) / static.scale[rows, cols]).sum())
    return total


@lru_cache(maxsize=1)
def _ocean_cells() -> np.ndarray:
    static = grid25()
    where = routing.routable(static)
    cells = np.argwhere(where.ocean & ~where.index.opened & (static.lat > 60))
    return cells[::7]


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), a=st.integers(0, 10**6), b=st.integers(0, 10**6),
       vessel=st.sampled_from([PC5, OPEN_WATER, ARC7]), risk_weight=st.sampled_from([0.0, 2.0, 8.0]))
def test_a_smoothed_route_never_costs_more_than_its_grid_path(seed, a, b, vessel, risk_weight):
    """Random ice, waves and risk (smooth blobs), random sea end points: the smoothed route's
    cost, sampled independently along the cost surface, is not above the grid path's."""
    static = grid25()
    cells = _ocean_cells()
    start, end = cells[a % len(cells)], cells[b % len(cells)]
    assume(abs(int(start[0]) - int(end[0])) + abs(int(start[1]) - int(end[1])) > 10)
    rng = np.random.default_rng(seed)
    shape = static.grid.shape

    def blobs(sigma):
        field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
        return (field - field.min()) / (np.ptp(field) + 1e-12)

    sic = np.clip(blobs(6) * 1.6 - 0.4, 0, 1).astype(np.float32)
    conditions = Conditions(sic=sic, hs=(blobs(8) * 9).astype(np.float32), risk=blobs(4).astype(np.float32),
                            stage=np.clip(blobs(10) * 12, 0, 11).astype(np.float32))
    origin = Place("a", float(static.lat[tuple(start)]), float(static.lon[tuple(start)]))
    destination = Place("b", float(static.lat[tuple(end)]), float(static.lon[tuple(end)]))
    try:
        route, baseline, _ = routing.plan_path(static, conditions, vessel, origin, destination, risk_weight)
    except (NoRouteError, BadInputError):
        assume(False)
    filled = routing.with_fairways(static, conditions)
    blocked = forbidden(static, conditions, vessel)
    assume(not blocked[tuple(start)] and not blocked[tuple(end)])  # MCP may start in a forbidden cell; not here
    step = routing.step_metres(static)
    for path, distance_only in ((route, False), (baseline, True)):
        cost = routing.cost_surface(static, filled, vessel, risk_weight, distance_only=distance_only)
        per_metre = np.where(cost > 0, cost / step, np.nan)
        per_metre = np.where(np.isfinite(per_metre), per_metre, np.nanmax(per_metre))
        gx, gy, _ = routing.route_vertices(static, path.cells, origin, destination)
        grid_cost = sampled_cost(static, per_metre, gx, gy)
        smooth_cost = sampled_cost(static, per_metre, path.legs_x, path.legs_y)
        assert smooth_cost <= grid_cost * (1 + 1e-3)
        assert path.smoothing["cost"] <= path.smoothing["grid_cost"] * (1 + 1e-9)
        assert path.smoothing["grid_cost"] == pytest.approx(grid_cost, rel=1e-3)
        assert legs_enter(static, blocked, path) == []


def test_the_route_document_explains_the_smoothed_legs_beside_the_grid_path(static):
    from arcticroute.route import planner

    conditions = conditions_on(static, LATE_SUMMER)
    route, baseline, _ = routing.plan_path(static, conditions, PC5, MURMANSK, BERING, 2.0)
    request = planner.RouteRequest("murmansk_bering", MURMANSK, BERING, PC5)
    document = planner.build_geojson(static, conditions, request, LATE_SUMMER, route, baseline, [], True, "run", 2.0)
    planner.check_route_document(document)
    props = {f["properties"]["role"]: f["properties"] for f in document["features"]}
    for role in ("route", "baseline"):
        p = props[role]
        assert p["distance_nm"] < p["grid_path"]["distance_nm"]
        assert p["smoothing"]["saved_nm"] == pytest.approx(p["grid_path"]["distance_nm"] - p["distance_nm"], abs=0.11)
        assert land_points(document["features"][0 if role == "route" else 1]["geometry"]) == []
    p = props["route"]
    # the route's cost (transit time + risk penalty) sailed along the legs is not above the grid path's
    assert p["duration_h"] + p["cost_h"]["risk"] <= p["grid_path"]["duration_h"] + p["grid_path"]["cost_h"]["risk"]
    assert p["smoothing"]["planning_cost_h"]["smoothed"] <= p["smoothing"]["planning_cost_h"]["grid_path"]
    legs, segments = p["legs"], p["segments"]
    assert sum(leg["distance_nm"] for leg in legs) == pytest.approx(p["distance_nm"], abs=0.1 * len(legs))
    assert legs[0]["from"] == [MURMANSK.lon, MURMANSK.lat] and legs[-1]["to"] == [BERING.lon, BERING.lat]
    # segments follow the legs: each lies on the legs it names, in order, and they cover the route
    assert segments[0]["legs"][0] == 1 and segments[-1]["legs"][1] == len(legs)
    for a, b in zip(segments[:-1], segments[1:], strict=True):
        assert a["to"] == b["from"] and b["legs"][0] >= a["legs"][1]
    assert len(segments) < planner.MAX_SEGMENTS  # so none was merged across a turn
    assert {tuple(leg["to"]) for leg in legs[:-1]} <= {tuple(s["to"]) for s in segments[:-1]}  # cut at every turn
