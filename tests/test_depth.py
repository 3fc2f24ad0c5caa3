"""Depth and draught: the bathymetry static layer (minimum depth within each cell), the vessel's
draught plus under-keel clearance as a hard limit, charted controlling depths of the straits,
the route document's minimum depth, and a configured GEBCO-style relief file."""

from __future__ import annotations

import json
from datetime import date

import netCDF4
import numpy as np
import pytest

from arcticroute import bathymetry
from arcticroute.errors import NoRouteError
from arcticroute.grid import Grid
from arcticroute.route import depth, routing
from arcticroute.route.routing import Place, Vessel
from arcticroute.static import StaticGrid

from .conftest import config_copy, run_command
from .land_check import land_points
from .synthetic_days import open_water
from .test_routing import conditions_on

LNG = Vessel("arc7_lng", "Arc7", speed_kn=19.5, max_wave_m=8.0, draught_m=11.8)
LAPTEV = Place("Laptev Sea", 73.2, 131.0)
EAST_SIBERIAN = Place("East Siberian Sea", 72.0, 152.0)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))



def vertices(static, path, origin, destination):
    x, y, vcells = routing.path_vertices(static, path, origin, destination)
    lon, lat = routing.vertices_lonlat(x, y)
    return lon, lat, vcells


def test_the_depth_layer_is_the_minimum_within_the_cell_not_the_mean(static):
    """Every source node inside a cell is at least as deep as the cell's depth, and cells on the
    Siberian shelf are shallower than the mean of their nodes."""
    with netCDF4.Dataset(bathymetry.embedded_source().path) as dataset:
        lat = dataset["lat"][:]
        lon = dataset["lon"][:]
        z = dataset["z"][:].astype(float)
    rows = (lat > 72.0) & (lat < 74.0)
    cols = (lon > 130.0) & (lon < 150.0)
    glat, glon = np.meshgrid(lat[rows], lon[cols], indexing="ij")
    node_depth = -z[np.ix_(rows, cols)]
    from arcticroute.grid import to_xy

    x, y = to_xy(glon.ravel(), glat.ravel())
    flat = bathymetry._cell_of(static.grid, np.asarray(x), np.asarray(y))
    cell_depth = static.depth.ravel()[flat]
    seabed = node_depth.ravel() > 0
    assert np.isfinite(cell_depth[seabed]).all()  # a cell with a seabed node has a depth
    assert (cell_depth[seabed] <= node_depth.ravel()[seabed] + 1e-3).all()
    means = {}
    for cell, d in zip(flat[seabed], node_depth.ravel()[seabed], strict=True):
        means.setdefault(int(cell), []).append(d)
    shallower = [static.depth.ravel()[c] < np.mean(v) - 1 for c, v in means.items() if len(v) > 3]
    assert sum(shallower) > len(shallower) / 2


def test_depth_is_unknown_on_land_and_deep_in_the_basins(static):
    r, c = static.grid.index_of(85.0, 0.0)
    assert static.depth[r, c] >= 1000.0  # the Eurasian basin, stored to 1000 m
    r, c = static.grid.index_of(69.5, 25.0)
    assert np.isnan(static.depth[r, c])  # inland Finnmark: no seabed


def test_water_the_relief_does_not_resolve_is_unknown_not_shallow():
    """At 6.25 km the 0.1 degree relief reads Tromsø harbour as land: its depth is unknown, not
    0 m, so a ship of 8.5 m draught may leave the port (it was refused as lying in 0 m of water),
    with a warning; the route reports its miles on unknown depth."""
    fine = StaticGrid.compute(Grid.from_km(6.25))
    tromso, sea = Place("Tromsø", 69.65, 18.96), Place("Norwegian Sea", 71.0, 12.0)
    ship = Vessel("pc5", "PC5", speed_kn=13.0, draught_m=8.5)
    route, _b, _ = routing.plan_path(fine, open_water(fine), ship, tromso, sea, 0.0)
    assert any("Tromsø" in w and "depth is unknown" in w for w in route.warnings)
    lon, lat, vcells = vertices(fine, route, tromso, sea)
    reported = depth.route_depth(fine, vcells, lon, lat, ship)
    assert reported["unknown_depth_nm"] >= 0 and reported["min_depth_m"] >= depth.required_depth(ship)
    from arcticroute.route import geometry

    assert land_points(geometry.line_geometry(lon, lat)) == []


def test_the_lng_carrier_keeps_out_of_dmitry_laptev_and_reports_its_minimum_depth(static):
    """The issue's check: an Arc7 carrier of 11.8 m draught (needs 12.98 m with the UKC) has no
    vertex between 139E and 144E south of 73.4N, and every cell it crosses is deep enough."""
    route, baseline, _ = routing.plan_path(static, conditions_on(static, date(2026, 9, 15)), LNG, LAPTEV,
                                           EAST_SIBERIAN, 2.0)
    need = depth.required_depth(LNG)
    assert need == pytest.approx(11.8 + 1.18)
    effective = depth.effective_depth(static)
    for path in (route, baseline):
        lon, lat, vcells = vertices(static, path, LAPTEV, EAST_SIBERIAN)
        assert not ((lon > 139.0) & (lon < 144.0) & (lat < 73.4)).any()
        inner = vcells[1:-1]
        ends = {tuple(path.cells[0]), tuple(path.cells[-1])}
        inside = [effective[r, c] for r, c in inner if (r, c) not in ends]
        assert min(inside) >= need
        from arcticroute.route import geometry

        assert land_points(geometry.line_geometry(lon, lat)) == []
    lon, lat, vcells = vertices(static, route, LAPTEV, EAST_SIBERIAN)
    reported = depth.route_depth(static, vcells, lon, lat, LNG)
    assert reported["min_depth_m"] >= need and reported["required_depth_m"] == pytest.approx(12.98)
    assert len(reported["min_depth_at"]) == 2


def test_a_shallow_draught_ship_may_take_dmitry_laptev(static):
    coaster = Vessel("coaster", "Arc7", speed_kn=19.5, draught_m=4.5)
    route, _b, _ = routing.plan_path(static, open_water(static), coaster, LAPTEV, EAST_SIBERIAN, 0.0)
    lon, lat, _ = vertices(static, route, LAPTEV, EAST_SIBERIAN)
    assert ((lon > 139.0) & (lon < 144.0) & (lat < 73.4)).any()


def test_a_route_closed_by_depth_names_the_strait(static):
    """With the ice north of 74.9N closed to everyone, a ship of 12.5 m draught
    has no way east: the message names the strait the shortest way would take, with its charted depth."""
    conditions = open_water(static)
    pack = static.lat > 74.9  # closes Vilkitsky and the way north of the islands
    conditions.sic = np.where(pack, 1.0, 0.0).astype(np.float32)
    conditions.stage = np.where(pack, 11, 0).astype(np.int8)
    deep = Vessel("deep", "PC7", speed_kn=14.0, draught_m=12.5)
    with pytest.raises(NoRouteError) as info:
        routing.plan_path(static, conditions, deep, LAPTEV, EAST_SIBERIAN, 0.0)
    message = str(info.value)
    assert "blocked by depth" in message and "13.8 m of water" in message
    assert "the shortest way within the other limits runs through" in message
    assert "Dmitry Laptev Strait" in message and "6.7 m charted" in message


def test_charted_controlling_depths_override_the_grid(static):
    found = depth.fairway_depths(static)
    assert found["dmitry_laptev"] == 6.7 and found["sannikov"] == 13.0 and found["ob_bay"] == 15.1
    effective = depth.effective_depth(static)
    index = routing.routable(static).index
    laptev = next(f for f in index.fairways if f.name == "dmitry_laptev")
    cells = np.unique(laptev.s_cell[laptev.s_cell >= 0])
    assert (effective.flat[cells] == np.float32(6.7)).all()
    assert all(source for _value, source in depth.CHARTED_DEPTH.values())
    assert set(depth.CHARTED_DEPTH) == set(routing.fairways.FAIRWAYS)


def test_an_end_point_in_water_too_shallow_is_refused_naming_its_depth(static):
    deep = Vessel("deep", "Arc7", speed_kn=19.5, draught_m=20.0)
    with pytest.raises(NoRouteError, match=r"Shelf \(74.000,125.000\) lies in 10.0 m of water.*22.0 m"):
        routing.plan_path(static, open_water(static), deep, Place("Shelf", 74.0, 125.0), EAST_SIBERIAN, 0.0)


def test_ukc_rule_defaults_and_vessel_override():
    rule = depth.UkcRule()
    assert rule.clearance(5.0) == 1.0 and rule.clearance(15.0) == pytest.approx(1.5)
    assert depth.required_depth(Vessel("v", "PC5", speed_kn=10, draught_m=8.0, ukc_m=2.5)) == 10.5
    assert depth.required_depth(Vessel("v", "PC5", speed_kn=10)) is None


def gebco_file(path, value_m: float):
    """A GEBCO-format relief (lat/lon, int16 elevation) covering 60..90N at 0.25 degree: the same
    value everywhere but a 4 m shoal on the Kara Sea."""
    lat = np.arange(60.0, 90.01, 0.25)
    lon = np.arange(-180.0, 180.0, 0.25)
    elevation = np.full((lat.size, lon.size), -value_m, dtype=np.int16)
    shoal = (np.abs(lat[:, None] - 75.0) < 0.6) & (np.abs(lon[None, :] - 70.0) < 2.0)
    elevation[shoal] = -4
    with netCDF4.Dataset(path, "w") as dataset:
        dataset.createDimension("lat", lat.size)
        dataset.createDimension("lon", lon.size)
        dataset.createVariable("lat", "f8", ("lat",))[:] = lat
        dataset.createVariable("lon", "f8", ("lon",))[:] = lon
        variable = dataset.createVariable("elevation", "i2", ("lat", "lon"))
        variable.units = "m"
        variable[:] = elevation


def test_a_configured_gebco_file_builds_the_depth_layer(tmp_path):
    path = tmp_path / "gebco_test.nc"
    gebco_file(path, 40.0)
    source = bathymetry.source_from_config({"kind": "file", "path": "gebco_test.nc"}, tmp_path)
    grid = Grid.from_km(100)
    layer = bathymetry.min_depth_from(grid, source)
    r, c = grid.index_of(75.0, 70.0)
    assert layer[r, c] == pytest.approx(4.0)
    r, c = grid.index_of(80.0, -30.0)
    assert layer[r, c] == pytest.approx(40.0)
    assert bathymetry.depth_at(source, 75.0, 70.0)[0] == pytest.approx(4.0)


def test_a_missing_configured_file_is_a_config_error(tmp_path):
    from arcticroute.errors import ConfigError

    with pytest.raises(ConfigError, match="bathymetry.path: no file at"):
        bathymetry.source_from_config({"kind": "file", "path": "nowhere.nc"}, tmp_path)


def test_route_plan_writes_the_depth_layer_and_reports_depth_with_a_configured_relief(roots, tmp_path):
    """route.plan with runtime.yaml route.bathymetry pointing at a dropped GEBCO-format file:
    the static layer records it as its input, and the route document gives its minimum depth."""
    relief = tmp_path / "gebco_drop.nc"
    gebco_file(relief, 60.0)
    config = config_copy(tmp_path / "config", {
        "  bathymetry: {kind: embedded}": f"  bathymetry: {{kind: file, path: {relief}, variable: elevation, "
                                          "license: 'test relief, public domain'}"})
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-14"),
                        ("risk.fuse", "--ym", "202609"),
                        ("route.plan", "--from", "70.0,40.0", "--to", "76.0,60.0", "--vessel", "arc7_lng",
                         "--date", "2026-09-15")):
        result = run_command(name, *args, "--config-dir", str(config))
        assert result.exit_code == 0, result.output
    static_meta = json.loads(next((roots.data / "static").glob("grid_3413-25km.nc.meta.json")).read_text())
    assert static_meta["params"]["depth_source"].startswith("file:gebco_drop.nc:")
    assert any(i["logical_id"] == "relief://file/gebco_drop.nc" for i in static_meta["inputs"])
    route_file = next((roots.outputs / "routes" / "3413-25km").glob("adhoc_*_20260915.geojson"))
    props = json.loads(route_file.read_text())["features"][0]["properties"]
    assert props["depth_source"] == "relief grid gebco_drop.nc"
    assert props["min_depth_m"] <= 60.0 and props["required_depth_m"] == pytest.approx(12.98)
    assert "min depth" in result.output
