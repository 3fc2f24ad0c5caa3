# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""Ice type errs safe: unknown or inconsistent types become the most severe plausible one
(carried forward with its age, the multi-year zones, thick first-year ice), regridding breaks
ties towards the more severe class, mixed regimes enter POLARIS as the Circular's sum, and a
route reports the miles it sailed on assumed types."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
import yaml

from arcticroute import polaris
from arcticroute.grid import Grid
from arcticroute.route import ice_regime, routing
from arcticroute.route.routing import Conditions, Vessel
from arcticroute.sources.regrid import Regridder

from .conftest import run_command
from .replicas.config import live_config
from .replicas.files import osisaf_type
from .replicas.helpers import loopback_only, site  # noqa: F401 - fixtures

GRID = Grid.from_km(25)
CODE = polaris.STAGE_CODES


def _cell(sic: float, stage: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    return np.array([sic], np.float32), None if stage is None else np.array([stage], np.float32)


@pytest.mark.parametrize("cls", ["none", "IA", "PC7", "PC5"])
def test_ice_typed_ice_free_under_six_tenths_is_not_open_water(cls):
    sic, stage = _cell(0.6, CODE["ice_free"])
    assert polaris.type_unknown(sic, stage)[0]
    assert polaris.rio(sic, stage, cls)[0] == polaris.rio_table(cls, 6, "thick_fy") < 30
    assert polaris.ice_speed_fraction(sic, stage, cls)[0] < 1.0
    open_sea = polaris.rio(np.array([0.0], np.float32), stage, cls)[0]
    assert open_sea == 30  # truly open water keeps its full RIO


def test_the_inconsistent_cell_blocks_a_ship_without_ice_class_and_slows_the_others():
    shape = (5, 5)
    conditions = Conditions(sic=np.full(shape, 0.6, np.float32), hs=np.zeros(shape, np.float32),
                            risk=np.zeros(shape, np.float32), stage=np.zeros(shape, np.int8))
    none = Vessel("c", "none", speed_kn=18.0)
    pc5 = Vessel("p", "PC5", speed_kn=13.0)
    permitted, _speed, _rio = routing._regime_tables("none", 18.0)
    assert not permitted[conditions.regime()].any()  # 6/10 thick FY: RIO -24 for no ice class
    assert routing.speed_knots(conditions, pc5)[0, 0] < 13.0
    assert routing.speed_knots(conditions, none)[0, 0] < 18.0


@pytest.mark.parametrize("stage", [None, polaris.UNKNOWN_CODE, np.nan, 12, -7])
def test_unknown_types_with_ice_need_one_and_a_trace_of_ice_does_not(stage):
    sic, codes = _cell(0.5, stage)
    assert polaris.type_unknown(sic, codes)[0]
    assert polaris.stage_or_default(sic, codes)[0] == polaris.UNKNOWN_STAGE
    trace, codes = _cell(0.1, stage)
    assert not polaris.type_unknown(trace, codes)[0]
    assert polaris.stage_or_default(trace, codes)[0] == 0


def test_a_mixed_regime_is_the_circulars_sum():
    # 5/10 thick first-year, 3/10 second-year, 2/10 open water for a PC5: 5x0 + 3x(-1) + 2x3
    assert polaris.rio_regime({CODE["thick_fy"]: 5, CODE["second_year"]: 3}, "PC5") == 3.0
    # a single type is the uniform regime of rio_table
    assert polaris.rio_regime({CODE["medium_fy"]: 7}, "PC7") == polaris.rio_table("PC7", 7, "medium_fy")
    # every type of the Circular's Table 1.3 counts with its own RIV
    regime = {code: 10 / 12 for code in range(12)}
    assert polaris.rio_regime(regime, "IA") == pytest.approx(sum(polaris.RIV["IA"]) * 10 / 12)
    with pytest.raises(ValueError, match="sum to 12"):
        polaris.rio_regime({CODE["new"]: 6, CODE["grey"]: 6}, "PC1")
    with pytest.raises(ValueError, match="expected codes 0..11"):
        polaris.rio_regime({12: 1}, "PC1")


def _regridder_two_pixels_per_cell() -> Regridder:
    grid = Grid.from_km(25)
    row, col = 100, 100
    x0, y0 = grid.cell_xy(np.array([row]), np.array([col]))
    x = np.array([[x0[0] - 5000.0, x0[0] + 5000.0]])
    y = np.array([[y0[0], y0[0]]])
    return Regridder(x, y, grid), (row, col)


@pytest.mark.parametrize("pair, expected", [((8, 11), 11), ((11, 8), 11), ((0, 8), 8), ((2, 5), 5),
                                            ((0, polaris.UNKNOWN_CODE), polaris.UNKNOWN_CODE),
                                            ((8, polaris.UNKNOWN_CODE), polaris.UNKNOWN_CODE),
                                            ((9, polaris.UNKNOWN_CODE), 9)])
def test_regridding_breaks_ties_towards_the_more_severe_type(pair, expected):
    regridder, cell = _regridder_two_pixels_per_cell()
    categories = sorted({0, 2, 5, 8, 9, 11, polaris.UNKNOWN_CODE}, key=polaris.severity_rank)
    out = regridder.apply_mode(np.array([pair], dtype=np.float64), categories)
    assert out[cell] == expected


def test_a_majority_still_wins_over_severity():
    grid = Grid.from_km(25)
    x0, y0 = grid.cell_xy(np.array([100]), np.array([100]))
    x = np.array([[x0[0] - 6000.0, x0[0], x0[0] + 6000.0]])
    y = np.full((1, 3), y0[0])
    out = Regridder(x, y, grid).apply_mode(np.array([[8.0, 8.0, 11.0]]), [0, 8, 11])
    assert out[100, 100] == 8


@pytest.mark.parametrize("code, typed_on, day, expected", [
    (CODE["thin_fy_1"], date(2026, 4, 1), date(2026, 8, 15), CODE["thick_fy"]),    # grown, not yet old
    (CODE["thick_fy"], date(2026, 4, 1), date(2026, 10, 2), CODE["second_year"]),  # survived a summer
    (CODE["second_year"], date(2026, 4, 1), date(2026, 10, 2), CODE["light_my"]),
    (CODE["thick_fy"], date(2025, 4, 1), date(2026, 10, 2), CODE["light_my"]),     # two summers
    (CODE["heavy_my"], date(2025, 4, 1), date(2026, 10, 2), CODE["heavy_my"]),     # heavy stays heavy
    (CODE["light_my"], date(2026, 5, 1), date(2026, 9, 1), CODE["light_my"]),
])
def test_a_carried_classification_ages(code, typed_on, day, expected):
    assert ice_regime.aged(np.array([code]), typed_on, day)[0] == expected


def _lat_lon_cell(lat: float, lon: float) -> tuple[int, int]:
    return GRID.index_of(lat, lon)


def test_resolution_order_carried_then_multi_year_zone_then_thick_first_year():
    day = date(2026, 8, 15)
    sic = np.zeros(GRID.shape, np.float32)
    stage = np.full(GRID.shape, polaris.UNKNOWN_CODE, np.float32)
    carried_cell = _lat_lon_cell(77.0, 120.0)       # Laptev Sea, classified in spring
    zone_cell = _lat_lon_cell(82.0, -90.0)          # Canadian Arctic Archipelago, multi-year zone
    default_cell = _lat_lon_cell(74.0, 60.0)        # Kara Sea, no earlier type
    observed_cell = _lat_lon_cell(76.0, 140.0)      # typed today
    open_cell = _lat_lon_cell(72.0, 30.0)           # open water, nothing to assume
    for cell in (carried_cell, zone_cell, default_cell, observed_cell):
        sic[cell] = 0.8
    stage[observed_cell] = CODE["medium_fy"]
    spring = np.full(GRID.shape, np.nan, np.float32)
    spring[carried_cell] = CODE["second_year"]
    earlier = [(date(2026, 5, 10), spring)]
    got = ice_regime.resolve(GRID, day, sic, stage, earlier)
    assert (got.stage[carried_cell], got.basis[carried_cell], got.age_days[carried_cell]) == (CODE["second_year"], 1, 97)
    assert (got.stage[zone_cell], got.basis[zone_cell]) == (CODE["heavy_my"], 2)
    assert (got.stage[default_cell], got.basis[default_cell]) == (polaris.UNKNOWN_STAGE, 3)
    assert (got.stage[observed_cell], got.basis[observed_cell]) == (CODE["medium_fy"], 0)
    assert (got.stage[open_cell], got.basis[open_cell]) == (0, 0)
    assert np.isnan(got.age_days[zone_cell])


def test_earlier_days_are_read_only_while_cells_still_need_a_type():
    sic = np.zeros(GRID.shape, np.float32)
    stage = np.zeros(GRID.shape, np.float32)
    read = []

    def earlier():
        read.append(1)
        yield date(2026, 5, 1), np.zeros(GRID.shape, np.float32)

    ice_regime.resolve(GRID, date(2026, 8, 1), sic, stage, earlier())
    assert read == []  # nothing needed a type: no file was read


def test_the_multi_year_zones_hold_the_old_ice_and_not_the_seasonal_seas():
    lon = np.array([-100.0, -150.0, -20.0, 0.0, 170.0, 60.0, 130.0, 40.0, -165.0])
    lat = np.array([76.0, 75.0, 70.0, 85.0, 75.0, 75.0, 76.0, 72.0, 68.0])
    assert ice_regime.myi_zone(lon, lat).tolist() == [True, True, True, True, True, False, False, False, False]


def _summer_type_config(tmp_path, base_url):
    """The demo profile with its ice type from OSI SAF's product on the replica site."""
    config = live_config(tmp_path, base_url)
    env = yaml.safe_load((config / "env.yaml").read_text())
    osisaf = env["profiles"]["live"]["sources"]["available"]["osisaf-ice-type"]
    env["profiles"]["demo"]["sources"]["ice.type"] = "osisaf-ice-type"
    env["profiles"]["demo"]["sources"]["available"] = {"osisaf-ice-type": osisaf}
    (config / "env.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    return config


@pytest.mark.slow
def test_a_summer_osi_saf_type_without_valid_classes_makes_the_route_report_assumed_miles(roots, site, tmp_path):
    """The last winter classification (31 May) is carried forward where it reaches; beyond it the
    multi-year zones and the thick first-year default; the route says how many miles each."""
    for day in (date(2026, 5, 31), date(2026, 8, 30), date(2026, 8, 31)):
        path = site.root / f"thredds.met.no/thredds/fileServer/osisaf/met.no/ice/type/{day:%Y/%m}" / \
            f"ice_type_nh_polstere-100_multi_{day:%Y%m%d}1200.nc"
        path.parent.mkdir(parents=True, exist_ok=True)
        osisaf_type(path, day, summer=day.month > 5)
    env = {**roots.env, "ARCTICROUTE_CONFIG_DIR": str(_summer_type_config(tmp_path, site.url()))}
    for name, *args in (("ingest.nrt.pull", "--ym", "202605", "--since", "2026-05-31", "--what", "ice.type"),
                        ("ingest.nrt.pull", "--ym", "202608", "--since", "2026-08-30", "--what", "ice,wave,incidents,ais"),
                        ("risk.fuse", "--ym", "202608")):
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, result.output
    stage_file = next((roots.data / "env" / "ice.type").rglob("ice_type_20260831.nc"))
    import xarray as xr

    with xr.open_dataset(stage_file) as ds:
        codes = ds["stage"].squeeze("time").values
    assert (codes == polaris.UNKNOWN_CODE).any() and not np.isin(codes, range(1, 12)).any()
    result = run_command("route.plan", "--from", "77.0,125.0", "--to", "83.0,110.0", "--vessel", "arc7_lng",
                         "--date", "2026-08-31", env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(next((roots.outputs / "routes").rglob("adhoc_*_20260831.geojson")).read_text())
    route = document["features"][0]["properties"]
    assert route["assumed_type_nm"] > 0
    assert set(route["assumed_type_basis_nm"]) <= set(ice_regime.BASIS.values())
    assert route["assumed_type_basis_nm"].get("carried forward", 0) > 0
    assert route["assumed_type_max_age_days"] == (date(2026, 8, 31) - date(2026, 5, 31)).days
    assert any(i["logical_id"].startswith("ar://env/ice.type@20260531") for i in document["arcticroute"]["inputs"])
    assert sum(s["assumed_type_nm"] for s in route["segments"]) == pytest.approx(route["assumed_type_nm"], abs=1.0)
    assert document["arcticroute"]["summary"]["assumed_type_nm"] == route["assumed_type_nm"]
    assert "on assumed ice types" in result.stdout
