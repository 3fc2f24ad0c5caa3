"""Straits and port approaches at the default 25 km grid: passable, taken where shorter, clear of
land at 1 km sampling; scenario end points snap at most one routing cell; distances include
the legs from the true end points."""

from __future__ import annotations

import numpy as np
import pytest
from global_land_mask import globe

from arcticroute.config import load_settings
from arcticroute.grid import Grid, to_lonlat, to_xy
from arcticroute.route import fairways, geometry, routing
from arcticroute.route.routing import Place, Vessel
from arcticroute.static import StaticGrid

from .conftest import REPO
from .synthetic_days import open_water

SHIP = Vessel("pc5", "PC5", speed_kn=13.0)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))



def land_samples(x: np.ndarray, y: np.ndarray, spacing_m: float = 1000.0) -> list[tuple[float, float]]:
    """(lat, lon) of points every ``spacing_m`` along the projected polyline that are on land."""
    hits = []
    for i in range(len(x) - 1):
        n = max(2, int(np.hypot(x[i + 1] - x[i], y[i + 1] - y[i]) / spacing_m) + 1)
        lon, lat = to_lonlat(np.linspace(x[i], x[i + 1], n), np.linspace(y[i], y[i + 1], n))
        lon, lat = np.asarray(lon), np.asarray(lat)
        on_land = globe.is_land(lat, lon)
        hits += [(float(a), float(b)) for a, b in zip(lat[on_land], lon[on_land], strict=True)]
    return hits


def planned(static, origin: Place, destination: Place):
    route, _baseline, _ = routing.plan_path(static, open_water(static), SHIP, origin, destination, 0.0)
    x, y, _cells = routing.route_vertices(static, route.cells, origin, destination)
    lon, lat = routing.vertices_lonlat(x, y)
    return x, y, float(geometry.segment_metres(lon, lat).sum() / geometry.METRES_PER_NM)


@pytest.mark.parametrize("name", list(fairways.FAIRWAYS))
def test_stored_fairways_are_clear_of_land_at_100_m(name):
    lat, lon = np.array(fairways.FAIRWAYS[name][2]).T
    x, y = to_xy(lon, lat)
    assert land_samples(np.asarray(x), np.asarray(y), spacing_m=100.0) == []


STRAITS = [n for n, (kind, *_rest) in fairways.FAIRWAYS.items() if kind == "strait"]


@pytest.mark.parametrize("name", STRAITS)
def test_each_strait_is_passable_at_25_km_and_clear_of_land(static, name):
    points = fairways.FAIRWAYS[name][2]
    origin, destination = Place("west", *points[0]), Place("east", *points[-1])
    x, y, nm = planned(static, origin, destination)
    fairway_nm = float(geometry.segment_metres(*fairways_lonlat(points)).sum() / geometry.METRES_PER_NM)
    assert nm <= fairway_nm * 1.3, (name, nm, fairway_nm)
    assert land_samples(x, y) == []


def fairways_lonlat(points):
    lat, lon = np.array(points, dtype=float).T
    return lon, lat


def test_kara_gate_is_taken_where_it_is_shorter(static):
    """The issue's case: 70.0N 55.5E -> 70.9N 60.0E came out at 10x the great circle."""
    origin, destination = Place("Pechora Sea", 70.0, 55.5), Place("Kara Sea", 70.9, 60.0)
    x, y, nm = planned(static, origin, destination)
    assert nm <= 1.3 * geometry.great_circle_nm(origin.lat, origin.lon, destination.lat, destination.lon)
    assert land_samples(x, y) == []


def test_a_voyage_through_the_straits_follows_them(static):
    """Kara Sea to the East Siberian Sea in open water: through Vilkitsky (or Shokalsky), and
    Sannikov or Dmitry Laptev, never round Severnaya Zemlya or the New Siberian Islands."""
    origin, destination = Place("Kara Sea", 76.0, 90.0), Place("East Siberian Sea", 73.0, 155.0)
    x, y, nm = planned(static, origin, destination)
    _lon, lat = routing.vertices_lonlat(x, y)
    assert lat.max() < 79.8
    assert land_samples(x, y) == []


@pytest.mark.parametrize("km", [25, 12.5])
def test_scenario_end_points_snap_at_most_one_routing_cell(km):
    settings = load_settings(REPO / "config", environ={})
    static = StaticGrid.compute(Grid.from_km(km))
    for name, scenario in settings.scenarios["scenarios"].items():
        for end in ("from", "to"):
            place = Place(**scenario[end])
            cell = static.grid.index_of(place.lat, place.lon)
            snapped, warning = routing.snap_to_sea(static, cell, place)
            assert max(abs(snapped[0] - cell[0]), abs(snapped[1] - cell[1])) <= 1, (name, end, km)
            assert warning is None
            assert not globe.is_land(place.lat, place.lon), (name, end)


def test_distance_includes_the_legs_from_the_true_end_points(static):
    origin = Place("Sabetta", 71.28, 72.095)
    destination = Place("Maasvlakte", 51.9565, 4.0129)
    route, _b, _ = routing.plan_path(static, open_water(static), SHIP, origin, destination, 0.0)
    x, y, _cells = routing.route_vertices(static, route.cells, origin, destination)
    ox, oy = to_xy(origin.lon, origin.lat)
    dx, dy = to_xy(destination.lon, destination.lat)
    assert (x[0], y[0]) == pytest.approx((ox, oy)) and (x[-1], y[-1]) == pytest.approx((dx, dy))
    lon, lat = routing.vertices_lonlat(x, y)
    assert geometry.segment_metres(lon, lat).sum() / 1852 >= geometry.great_circle_nm(71.28, 72.095, 51.9565, 4.0129)
    assert land_samples(x, y) == []


def test_a_point_up_a_fjord_snaps_with_a_warning_and_its_approach_counts(static):
    """Tromsø harbour lies up fjords narrower than a cell: the route starts at the true point and
    reaches the network through a land-free approach, whose length counts."""
    fjord = Place("Tromsø", 69.65, 18.96)
    barents = Place("Barents", 72.0, 35.0)
    route, _b, _ = routing.plan_path(static, open_water(static), SHIP, fjord, barents, 0.0)
    assert any("Tromsø" in w and "the leg from the given point is included" in w for w in route.warnings)
    x, y, _cells = routing.route_vertices(static, route.cells, fjord, barents)
    ix, iy = to_xy(18.96, 69.65)
    assert (x[0], y[0]) == pytest.approx((ix, iy))
    assert land_samples(x, y) == []
