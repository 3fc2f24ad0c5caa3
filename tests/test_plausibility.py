"""Plausibility: beset risk (minimum sustained speed over 50 nm) refused unless escort is
assumed, slow-passage and long-way-round warnings, the Northwest Passage open at 25 km."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from arcticroute.grid import Grid
from arcticroute.route import geometry, plausibility, routing
from arcticroute.route.routing import Place, Vessel
from arcticroute.static import StaticGrid

from .conftest import run_command
from .land_check import land_points
from .test_routing import conditions_on

BAFFIN = Place("Baffin Bay", 68.5, -62.0)
UTQIAGVIK = Place("Utqiagvik", 71.4, -156.5)
PC5 = Vessel("pc5_cargo", "PC5", speed_kn=13, max_wave_m=7.0, draught_m=8.5)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def test_min_sustained_speed_finds_the_slowest_stretch():
    seg = np.full(20, 10 * 1852.0)  # 20 steps of 10 nm
    hours = np.full(20, 1.0)  # 10 kn
    hours[8:13] = 5.0  # 50 nm at 2 kn
    speed, first, last = plausibility.min_sustained_speed(seg, hours, 50.0)
    assert speed == pytest.approx(2.0)
    assert (first, last) == (8, 12)
    short_speed, _a, _b = plausibility.min_sustained_speed(seg[:3], hours[:3], 50.0)
    assert short_speed == pytest.approx(10.0)  # shorter than the window: the whole route


def steps_of(speeds_kn: list[float], nm_each: float = 10.0) -> dict:
    seg = np.full(len(speeds_kn), nm_each * geometry.METRES_PER_NM)
    hours = nm_each / np.asarray(speeds_kn, dtype=float)
    lon = np.linspace(30.0, 40.0, len(speeds_kn) + 1)
    lat = np.full(len(speeds_kn) + 1, 72.0)
    return {"seg": seg, "terms": {"hours": hours}, "lon": lon, "lat": lat}


def metrics_of(steps: dict, gc_nm: float) -> dict:
    nm = float(steps["seg"].sum() / geometry.METRES_PER_NM)
    return {"distance_nm": nm, "duration_h": float(steps["terms"]["hours"].sum()), "distance_ratio": nm / gc_nm}


@pytest.mark.parametrize("escort", [False, True])
def test_beset_risk_is_flagged_and_escort_recorded(escort):
    steps = steps_of([13.0] * 10 + [2.0] * 6 + [13.0] * 10)
    props, warnings = plausibility.assess(steps, metrics_of(steps, 250.0), PC5, min_speed_kn=3.0, window_nm=50.0,
                                          assume_escort=escort, baseline_ratio=1.0, grid_km=25)
    assert props["beset_risk"] is True and props["assumed_escort"] is escort
    assert props["min_sustained_speed_kn"] == pytest.approx(2.0)
    assert any(w.startswith("beset risk: the ship makes 2.0 kn over 50 nm") for w in warnings)
    assert any(w.startswith("slow passage") for w in warnings)


def test_no_flag_for_a_route_that_keeps_up_its_speed():
    steps = steps_of([13.0] * 30)
    props, warnings = plausibility.assess(steps, metrics_of(steps, 290.0), PC5, min_speed_kn=3.0, window_nm=50.0,
                                          assume_escort=False, baseline_ratio=1.0, grid_km=25)
    assert props["beset_risk"] is False and warnings == []


def test_long_way_round_names_the_grid_and_the_command_when_the_baseline_is_as_long():
    steps = steps_of([13.0] * 30)
    metrics = metrics_of(steps, 150.0)  # 2x the great circle
    _props, warnings = plausibility.assess(steps, metrics, PC5, min_speed_kn=3.0, window_nm=50.0, assume_escort=False,
                                           baseline_ratio=1.9, grid_km=25,
                                           shallow_straits=("Dmitry Laptev Strait (6.7 m charted)",))
    (warning,) = warnings
    assert "2.00x the great circle" in warning and "closed at this grid" in warning
    assert "--grid-km 6.25" in warning and "Dmitry Laptev" in warning
    _props, warnings = plausibility.assess(steps, metrics, PC5, min_speed_kn=3.0, window_nm=50.0, assume_escort=False,
                                           baseline_ratio=1.1, grid_km=25)
    assert "detours round ice" in warnings[0] and "--grid-km" not in warnings[0]


def test_the_northwest_passage_is_open_at_25_km(static):
    """The issue's case: Baffin Bay to Utqiagvik on 2026-09-15 came out at 2.75x the great circle
    via Fram Strait; through the Barrow and Prince of Wales Strait fairways it is within 1.3x."""
    route, baseline, _ = routing.plan_path(static, conditions_on(static, date(2026, 9, 15)), PC5, BAFFIN, UTQIAGVIK,
                                           2.0)
    gc = geometry.great_circle_nm(BAFFIN.lat, BAFFIN.lon, UTQIAGVIK.lat, UTQIAGVIK.lon)
    for path in (route, baseline):
        x, y, _cells = routing.path_vertices(static, path, BAFFIN, UTQIAGVIK)
        lon, lat = routing.vertices_lonlat(x, y)
        nm = geometry.segment_metres(lon, lat).sum() / geometry.METRES_PER_NM
        assert nm <= 1.3 * gc
        assert lat.max() < 76.0  # not round by Fram Strait
        assert land_points(geometry.line_geometry(*geometry.path_lonlat(x, y))) == []


def test_nwp_fairways_are_clear_of_land_and_open_cells():
    from arcticroute.route import fairways

    assert {"barrow", "prince_of_wales"} <= set(fairways.FAIRWAYS)
    static = StaticGrid.compute(Grid.from_km(25))
    index = routing.routable(static).index
    names = [f.name for f in index.fairways]
    opened_by = {name: 0 for name in ("barrow", "prince_of_wales")}
    for cell, members in index.members.items():
        for number in members:
            if names[number] in opened_by and index.opened.flat[cell]:
                opened_by[names[number]] += 1
    assert all(count > 0 for count in opened_by.values())


def build(roots, ym: str, since: str) -> None:
    for name, *args in (("ingest.nrt.pull", "--ym", ym, "--since", since), ("risk.fuse", "--ym", ym)):
        result = run_command(name, *args)
        assert result.exit_code == 0, result.output


def test_pc5_murmansk_bering_in_may_is_refused_as_beset_unless_escort_is_assumed(roots):
    """The issue's check: PC5 Murmansk -> Bering Strait on 2026-05-15 (the voyage sails into
    June on the last day's ice) is refused with exit 1 naming the beset risk; with
    --assume-escort it is written and flagged."""
    build(roots, "202605", "2026-05-15")
    refused = run_command("route.plan", "--scenario", "murmansk_bering", "--date", "2026-05-15")
    assert refused.exit_code == 1, refused.output
    assert "beset risk" in refused.stderr and "--assume-escort" in refused.stderr
    path = roots.outputs / "routes" / "3413-25km" / "murmansk_bering_20260515.geojson"
    document = json.loads(path.read_text())
    assert document["features"] == [] and document["arcticroute"]["status"] == "no-route"
    assert document["arcticroute"]["beset_risk"] is True and "beset risk" in document["arcticroute"]["reason"]
    escorted = run_command("route.plan", "--scenario", "murmansk_bering", "--date", "2026-05-15", "--assume-escort")
    assert escorted.exit_code == 0, escorted.output
    assert "BESET RISK (escort assumed)" in escorted.output
    props = json.loads(path.read_text())["features"][0]["properties"]
    assert props["beset_risk"] is True and props["assumed_escort"] is True
    assert props["min_sustained_speed_kn"] < 3.0 and props["min_depth_m"] >= props["required_depth_m"]


def test_a_late_summer_route_is_not_beset(roots):
    build(roots, "202609", "2026-09-10")
    result = run_command("route.plan", "--scenario", "murmansk_bering", "--date", "2026-09-10")
    assert result.exit_code == 0, result.output
    props = json.loads((roots.outputs / "routes" / "3413-25km" / "murmansk_bering_20260910.geojson").read_text()
                       )["features"][0]["properties"]
    assert props["beset_risk"] is False and props["assumed_escort"] is False
    assert props["min_sustained_speed_kn"] >= 3.0


def test_a_scenario_may_assume_escort_in_config(roots, tmp_path):
    from .conftest import config_copy

    config = config_copy(tmp_path / "config")
    scenarios = config / "scenarios.yaml"
    text = scenarios.read_text()
    old = "    vessel: pc5_cargo\n"
    assert text.count(old) == 1
    scenarios.write_text(text.replace(old, old + "    assume_escort: true\n"))
    build(roots, "202605", "2026-05-15")
    result = run_command("route.plan", "--scenario", "murmansk_bering", "--date", "2026-05-15",
                         "--config-dir", str(config))
    assert result.exit_code == 0, result.output
    props = json.loads((roots.outputs / "routes" / "3413-25km" / "murmansk_bering_20260515.geojson").read_text()
                       )["features"][0]["properties"]
    assert props["beset_risk"] is True and props["assumed_escort"] is True
