"""Approaches: routes from coastal end points are clear of land at 1 km sampling end to end (the
acceptance check, ``land_check``), through a water path where the straight leg to the network
would cross land; an end point on land or cut off from the sea is refused naming it (exit 2)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from arcticroute.errors import BadInputError
from arcticroute.grid import Grid, to_lonlat
from arcticroute.route import approach, geometry, routing
from arcticroute.route.routing import Place, Vessel
from arcticroute.static import StaticGrid

from .conftest import run_command
from .land_check import land_points
from .synthetic_days import open_water

SHIP = Vessel("pc5", "PC5", speed_kn=13.0)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))



def drawn(static, path, origin, destination) -> dict:
    x, y, _cells = routing.path_vertices(static, path, origin, destination)
    return geometry.line_geometry(*geometry.path_lonlat(x, y))


# coastal points in water in the land data, each with an open-sea point to sail to; several lie up
# fjords or behind islands where the straight leg to the nearest sea cell crosses land
COASTAL = [
    (Place("Hammerfest harbour", 70.6619, 23.6661), Place("Barents", 72.0, 35.0)),
    (Place("Tromsø", 69.65, 18.96), Place("Norwegian Sea", 71.0, 12.0)),
    (Place("Longyearbyen (Adventfjorden)", 78.2335, 15.5973), Place("Greenland Sea", 76.0, 5.0)),
    (Place("Nuuk", 64.17, -51.74), Place("Davis Strait", 66.0, -58.0)),
    (Place("Kirkenes", 69.7335, 30.0602), Place("Barents", 72.0, 35.0)),
    (Place("Taymyr coast", 76.0, 96.062), Place("Laptev Sea", 77.0, 115.0)),
    (Place("Tiksi", 71.6335, 128.8812), Place("Laptev Sea", 74.0, 125.0)),
    (Place("Utqiagvik", 71.4, -156.5), Place("Chukchi Sea", 72.5, -165.0)),
]


@pytest.mark.parametrize("origin,destination", COASTAL, ids=[o.name for o, _d in COASTAL])
def test_routes_from_coastal_points_are_clear_of_land_end_to_end(static, origin, destination):
    route, baseline, _ = routing.plan_path(static, open_water(static), SHIP, origin, destination, 0.0)
    for path in (route, baseline, route.cells):
        line = drawn(static, path, origin, destination)
        assert land_points(line) == [], origin.name
        coordinates = line["coordinates"] if line["type"] == "LineString" else line["coordinates"][0]
        assert coordinates[0] == pytest.approx([origin.lon, origin.lat], abs=1e-6)


def test_a_fjord_approach_is_a_water_path_not_the_straight_leg(static):
    """Tromsø: the straight leg to the first network vertex crosses land, so the approach has
    turning points, each leg clear of land."""
    tromso = Place("Tromsø", 69.65, 18.96)
    cell, _warning = routing.snap_to_sea(static, static.grid.index_of(tromso.lat, tromso.lon), tromso)
    vx, vy = static.grid.cell_xy(np.array([cell[0]]), np.array([cell[1]]))
    from arcticroute.grid import to_xy

    px, py = to_xy(tromso.lon, tromso.lat)
    assert not approach.leg_clear(float(px), float(py), float(vx[0]), float(vy[0]))
    ax, ay = approach.approach_xy(tromso, float(vx[0]), float(vy[0]))
    assert ax.size >= 2
    xs, ys = np.concatenate([ax, vx]), np.concatenate([ay, vy])
    assert all(approach.leg_clear(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(xs.size - 1))
    lon, lat = to_lonlat(xs, ys)
    assert land_points({"type": "LineString", "coordinates": np.stack([lon, lat], axis=1).tolist()}) == []


@pytest.mark.parametrize("lat,lon", [(70.7, 23.7), (76.0, 96.0), (71.0, -156.0), (69.5, 25.0)])
def test_end_points_on_land_are_bad_input_naming_the_point(static, lat, lon):
    place = Place(f"{lat:.3f},{lon:.3f}", lat, lon)
    with pytest.raises(BadInputError, match=rf"\({lat:.4f},{lon:.4f}\) lies on land"):
        routing.plan_path(static, open_water(static), SHIP, place, Place("Barents", 72.0, 35.0), 0.0)


def test_lakes_count_as_land():
    """The land data (GLOBE, global-land-mask) marks only the sea as water: Lake Inari is land."""
    assert approach.on_land(69.0, 27.9)


def test_no_water_path_within_the_window_is_bad_input_naming_the_point(static, monkeypatch):
    """A point whose approach has no water path to the network in the search window (here a
    window too small for Tromsø's fjords) is refused naming it, not joined across land."""
    monkeypatch.setattr(approach, "MARGINS_DEG", (0.01,))
    monkeypatch.setattr(approach, "_CACHE", {})
    tromso = Place("Tromsø", 69.65, 18.96)
    with pytest.raises(BadInputError, match=r"Tromsø \(69.6500,18.9600\): no water path .* cannot be made clear"):
        routing.plan_path(static, open_water(static), SHIP, tromso, Place("Barents", 72.0, 35.0), 0.0)


@pytest.mark.parametrize("start", ["70.7,23.7", "76.0,96.0", "71.0,-156.0"])
def test_route_plan_refuses_an_end_on_land_with_exit_2_and_writes_nothing(roots, start):
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-15"), ("risk.fuse", "--ym", "202609")):
        assert run_command(name, *args).exit_code == 0
    result = run_command("route.plan", "--from", start, "--to", "73.0,40.0", "--vessel", "pc5_cargo",
                         "--date", "2026-09-15")
    assert result.exit_code == 2, result.output
    assert "lies on land" in result.stderr and start.split(",")[0] in result.stderr
    assert "Traceback" not in result.stderr
    routes = roots.outputs / "routes"
    assert not routes.exists() or not any(routes.rglob("*.geojson"))


def test_route_plan_from_a_fjord_writes_a_land_free_route(roots):
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-15"), ("risk.fuse", "--ym", "202609")):
        assert run_command(name, *args).exit_code == 0
    result = run_command("route.plan", "--from", "69.65,18.96", "--to", "72.0,35.0", "--vessel", "pc5_cargo",
                         "--date", "2026-09-15")
    assert result.exit_code == 0, result.output
    document = json.loads(next((roots.outputs / "routes" / "3413-25km").glob("adhoc_*_20260915.geojson")).read_text())
    for feature in document["features"]:
        assert land_points(feature["geometry"]) == []
    assert date.fromisoformat(document["arcticroute"]["date"]) == date(2026, 9, 15)
