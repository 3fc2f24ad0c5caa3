"""Routing on the 25 km grid with the demo fields: land, limits, snapping, distances."""

from datetime import date

import numpy as np
import pytest

from arcticroute import polaris
from arcticroute.errors import BadInputError, NoRouteError
from arcticroute.grid import Grid
from arcticroute.route import geometry, routing
from arcticroute.route.routing import Conditions, Place, Vessel
from arcticroute.sources import synthetic_fields as fields
from arcticroute.static import StaticGrid

from .land_check import land_points

MURMANSK = Place("Murmansk (Kola Bay off Severomorsk)", 69.10, 33.42)
BERING = Place("Bering Strait (east of the Diomedes)", 65.80, -168.46)
PC5 = Vessel("pc5_cargo", "PC5", speed_kn=13, max_wave_m=7.0)
PC7 = Vessel("pc7_cargo", "PC7", speed_kn=13, max_wave_m=7.0)
OPEN_WATER = Vessel("open_water_container", "none", speed_kn=18, max_wave_m=6.0)
ARC7 = Vessel("arc7_lng", "Arc7", speed_kn=19.5, max_wave_m=8.0)
ROTTERDAM = Place("Rotterdam (Maasvlakte)", 51.9565, 4.0129)
NAVARIN = Place("Bering Sea", 61.50, 179.50)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def conditions_on(static: StaticGrid, day: date) -> Conditions:
    sic = fields.sea_ice_concentration(static, day)
    hs = fields.wave_height(static, day, sic)
    return Conditions(sic=sic, hs=hs, risk=np.clip(0.6 * sic + 0.4 * hs / 6.0, 0, 1),
                      stage=fields.ice_stage(static, day, sic))


def _geometry(static, path, origin=MURMANSK, destination=BERING):
    x, y, _cells = routing.route_vertices(static, path.cells, origin, destination)
    return geometry.line_geometry(*geometry.path_lonlat(x, y))


def test_late_summer_ice_class_route_exists_and_is_close_to_the_great_circle(static):
    route, baseline, _ = routing.plan_path(static, conditions_on(static, date(2026, 9, 10)), PC5, MURMANSK, BERING, 2.0)
    x, y, _cells = routing.route_vertices(static, route.cells, MURMANSK, BERING)
    lon, lat = routing.vertices_lonlat(x, y)
    ratio = geometry.segment_metres(lon, lat).sum() / 1852 / geometry.great_circle_nm(
        MURMANSK.lat, MURMANSK.lon, BERING.lat, BERING.lon)
    assert 1.0 <= ratio <= 1.6
    blon, blat = routing.vertices_lonlat(*routing.route_vertices(static, baseline.cells, MURMANSK, BERING)[:2])
    assert geometry.segment_metres(blon, blat).sum() <= geometry.segment_metres(lon, lat).sum() * 1.001
    for path in (route, baseline):
        assert land_points(_geometry(static, path)) == []
        assert not routing.routable(static).land[path.cells[:, 0], path.cells[:, 1]].any()


def test_route_respects_the_vessels_polaris_and_wave_limits(static):
    conditions = conditions_on(static, date(2026, 11, 20))
    route, _, _ = routing.plan_path(static, conditions, PC5, MURMANSK, BERING, 2.0)
    rows, cols = route.cells[:, 0], route.cells[:, 1]
    stage = conditions.stage[rows, cols]
    assert (polaris.rio(conditions.sic[rows, cols], stage, "PC5") >= -10).all()
    assert conditions.hs[rows, cols].max() <= PC5.max_wave_m


def test_winter_route_for_a_ship_without_ice_class_names_the_polaris_limit(static):
    with pytest.raises(NoRouteError) as info:
        routing.plan_path(static, conditions_on(static, date(2026, 1, 20)), OPEN_WATER, MURMANSK, BERING, 2.0)
    message = str(info.value)
    assert "POLARIS Risk Index Outcome for ice class none is below 0" in message
    assert "open_water_container" in message


def test_an_optional_max_sic_is_an_extra_limit_named_when_it_blocks(static):
    cautious = Vessel("cautious", "PC5", speed_kn=13, max_sic=0.15)
    with pytest.raises(NoRouteError, match="sea-ice concentration above the vessel's limit max_sic=0.15"):
        routing.plan_path(static, conditions_on(static, date(2026, 1, 20)), cautious, MURMANSK, BERING, 2.0)


def test_early_summer_a_pc7_sails_where_a_ship_without_ice_class_may_not(static):
    conditions = conditions_on(static, date(2026, 7, 25))
    route, _, _ = routing.plan_path(static, conditions, PC7, MURMANSK, BERING, 2.0)
    assert route.cells.size
    with pytest.raises(NoRouteError, match="POLARIS"):
        routing.plan_path(static, conditions, OPEN_WATER, MURMANSK, BERING, 2.0)


@pytest.mark.parametrize("day", [date(2026, 2, 15), date(2026, 11, 29), date(2026, 4, 10)])
def test_winter_arc7_route_keeps_off_the_multi_year_pack(static, day):
    """Rotterdam to the Bering Sea: the time-based cost keeps the Arc7 carrier on the shelf
    seas instead of crossing the multi-year ice north of Greenland and the pole."""
    conditions = conditions_on(static, day)
    route, _, _ = routing.plan_path(static, conditions, ARC7, ROTTERDAM, NAVARIN, 2.0)
    rows, cols = route.cells[:, 0], route.cells[:, 1]
    assert static.lat[rows, cols].max() < 82.0
    assert (conditions.stage[rows, cols] < polaris.STAGE_CODES["light_my"]).all()


def test_wave_limit_is_named_when_waves_alone_block(static):
    conditions = conditions_on(static, date(2026, 9, 10))
    conditions.hs[:] = 0.0
    conditions.hs[:, : static.grid.nx // 2 + 10] = 9.0  # a wall of waves across the grid
    calm_sailor = Vessel("calm", "PC1", max_wave_m=4.0, speed_kn=12)
    with pytest.raises(NoRouteError, match="significant wave height above the vessel's limit max_wave_m=4 m"):
        routing.plan_path(static, conditions, calm_sailor, MURMANSK, BERING, 2.0)


def test_an_end_on_land_is_bad_input_naming_the_point(static):
    inland = Place("Inland Finnmark", 69.5, 25.0)
    with pytest.raises(BadInputError, match=r"Inland Finnmark \(69.5000,25.0000\) lies on land"):
        routing.plan_path(static, conditions_on(static, date(2026, 9, 10)), PC5, inland, BERING, 2.0)


def test_cost_is_time_plus_risk_penalty_and_blocked_cells_are_negative(static):
    conditions = conditions_on(static, date(2026, 3, 1))
    cost = routing.cost_surface(static, conditions, OPEN_WATER, risk_weight=2.0)
    assert (cost[routing.routable(static).land] == -1).all()
    calm_open = ~static.land & (conditions.sic == 0) & (conditions.hs == 0)
    speed = 18 * 1852 / 3600
    expected = 25_000 / static.scale[calm_open] / speed * (1 + 2.0 * conditions.risk[calm_open])
    np.testing.assert_allclose(cost[calm_open], expected, rtol=1e-5)
    rough = ~static.land & (conditions.sic == 0) & (conditions.hs > 2) & (conditions.hs <= 6)
    slower = 25_000 / static.scale[rough] / speed * (1 + 2.0 * conditions.risk[rough])
    assert (cost[rough] > slower * 1.03).all()  # waves cost time
    distance = routing.cost_surface(static, conditions, OPEN_WATER, 0.0, distance_only=True)
    np.testing.assert_allclose(distance[calm_open], 25_000 / static.scale[calm_open], rtol=1e-6)
