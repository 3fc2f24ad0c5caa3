"""Routing on the 25 km grid with the demo fields: land, limits, snapping, distances."""

from datetime import date

import numpy as np
import pytest

from arcticroute import geometry, routing
from arcticroute.errors import NoRouteError
from arcticroute.grid import Grid
from arcticroute.routing import Conditions, Place, Vessel
from arcticroute.sources import synthetic_fields as fields
from arcticroute.static import StaticGrid

from .land_check import land_points

MURMANSK = Place("Murmansk", 69.10, 33.60)
BERING = Place("Bering Strait", 65.90, -169.20)
PC5 = Vessel("pc5_cargo", "PC5", max_sic=0.7, max_wave_m=7.0, speed_kn=13, ice_speed_factor=0.6)
OPEN_WATER = Vessel("open_water_container", "none", max_sic=0.15, max_wave_m=6.0, speed_kn=18)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def conditions_on(static: StaticGrid, day: date) -> Conditions:
    sic = fields.sea_ice_concentration(static, day)
    hs = fields.wave_height(static, day, sic)
    return Conditions(sic=sic, hs=hs, risk=np.clip(0.6 * sic + 0.4 * hs / 6.0, 0, 1))


def _geometry(static, path):
    x, y = static.grid.cell_xy(path.cells[:, 0], path.cells[:, 1])
    return geometry.line_geometry(*geometry.path_lonlat(x, y))


def test_late_summer_ice_class_route_exists_and_is_close_to_the_great_circle(static):
    route, baseline, _ = routing.plan_path(static, conditions_on(static, date(2026, 9, 10)), PC5, MURMANSK, BERING, 2.0)
    lon, lat = geometry.path_lonlat(*static.grid.cell_xy(route.cells[:, 0], route.cells[:, 1]))
    ratio = geometry.segment_metres(lon, lat).sum() / 1852 / geometry.great_circle_nm(
        MURMANSK.lat, MURMANSK.lon, BERING.lat, BERING.lon)
    assert 1.0 <= ratio <= 1.6
    assert route.cost >= baseline.cost  # risk only ever adds cost
    for path in (route, baseline):
        assert land_points(_geometry(static, path)) == []
        assert not static.land[path.cells[:, 0], path.cells[:, 1]].any()


def test_route_respects_the_vessels_ice_and_wave_limits(static):
    conditions = conditions_on(static, date(2026, 9, 25))
    route, _, _ = routing.plan_path(static, conditions, PC5, MURMANSK, BERING, 2.0)
    rows, cols = route.cells[:, 0], route.cells[:, 1]
    assert conditions.sic[rows, cols].max() <= PC5.max_sic
    assert conditions.hs[rows, cols].max() <= PC5.max_wave_m


def test_winter_route_for_a_ship_without_ice_class_names_the_ice_limit(static):
    with pytest.raises(NoRouteError) as info:
        routing.plan_path(static, conditions_on(static, date(2026, 1, 20)), OPEN_WATER, MURMANSK, BERING, 2.0)
    message = str(info.value)
    assert "sea-ice concentration above the vessel's limit max_sic=0.15" in message
    assert "open_water_container" in message


def test_wave_limit_is_named_when_waves_alone_block(static):
    conditions = conditions_on(static, date(2026, 9, 10))
    conditions.hs[:] = 0.0
    conditions.hs[:, : static.grid.nx // 2 + 10] = 9.0  # a wall of waves across the grid
    calm_sailor = Vessel("calm", "PC5", max_sic=1.0, max_wave_m=4.0, speed_kn=12)
    with pytest.raises(NoRouteError, match="significant wave height above the vessel's limit max_wave_m=4 m"):
        routing.plan_path(static, conditions, calm_sailor, MURMANSK, BERING, 2.0)


def test_an_end_on_land_snaps_to_the_nearest_sea_cell_with_a_warning(static):
    inland = Place("Inland Finnmark", 69.5, 25.0)
    route, _, _ = routing.plan_path(static, conditions_on(static, date(2026, 9, 10)), PC5, inland, BERING, 2.0)
    assert any("Inland Finnmark" in w and "nearest sea cell" in w for w in route.warnings)
    assert not static.land[tuple(route.cells[0])]


def test_cost_is_metric_length_times_risk_and_blocked_cells_are_negative(static):
    conditions = conditions_on(static, date(2026, 3, 1))
    cost = routing.cost_surface(static, conditions, OPEN_WATER, risk_weight=2.0)
    assert (cost[static.land] == -1).all()
    sea = ~static.land & (conditions.sic <= 0.15) & (conditions.hs <= 6.0)
    expected = 25_000 / static.scale[sea] * (1 + 2.0 * conditions.risk[sea])
    np.testing.assert_allclose(cost[sea], expected, rtol=1e-5)
