"""Risk with meaning: incidents enter the risk as a rate per vessel-hour of AIS exposure, so a busy
open-water lane is not riskier than the open water beside it at equal ice and waves — with the
weighted, max and stacking methods — while the old incident density (where ships are, incidents
are) made lanes several times riskier. Empty water gets a floor of exposure, not an infinite rate."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from functools import cache

import numpy as np
import pytest
import xarray as xr

from arcticroute.grid import Grid
from arcticroute.risk import stacking
from arcticroute.risk.fuse import (
    RiskParams,
    exposure_floor_hours,
    hazards_to_risk,
    incident_density,
    incident_rate,
    normalised_hazards,
    rate_hazard,
)
from arcticroute.static import StaticGrid

from .conftest import run_command
from .synthetic_days import risk_inputs

RUNTIME = {"risk": {"method": "weighted", "weights": {"ice": 0.55, "wave": 0.25, "traffic": 0.0, "incidents": 0.2},
                    "wave_reference_m": 6.0, "traffic_reference": 20.0, "incident_window_days": 30,
                    "incident_sigma_km": 100}}
CHECK_DAY = date(2026, 3, 15)
MAX_RATIO = 1.2


def lane_ratio(risk: np.ndarray, sic: np.ndarray, hs: np.ndarray, ais: np.ndarray, sea: np.ndarray) -> tuple[float, int]:
    """Mean risk of open-water lane cells (AIS >= 4 vessel-hours a day) over the mean risk of the
    quiet open water beside each (AIS < 0.05, 50-200 km away, waves within 0.25 m), and how many
    lane cells had such water beside them."""
    from scipy import ndimage

    open_water = sea & (np.nan_to_num(sic) == 0)
    lane = open_water & (ais >= 4)
    quiet = open_water & (ais < 0.05)
    away = ndimage.distance_transform_edt(~lane)
    lane_risk, beside_risk = [], []
    for r, c in zip(*np.nonzero(lane), strict=True):
        rows, cols = slice(max(r - 8, 0), r + 9), slice(max(c - 8, 0), c + 9)
        beside = quiet[rows, cols] & (away[rows, cols] >= 2) & (np.abs(hs[rows, cols] - hs[r, c]) <= 0.25)
        if beside.any():
            lane_risk.append(risk[r, c])
            beside_risk.append(risk[rows, cols][beside].mean())
    return float(np.mean(lane_risk) / np.mean(beside_risk)), len(lane_risk)


@pytest.fixture(scope="module")
def world():
    static = StaticGrid.compute(Grid.from_km(25))
    sea = ~static.land
    params = RiskParams.from_runtime(RUNTIME, None)

    @cache
    def raw(day: date):
        return risk_inputs(static, day)

    def window(day: date, shift: int):
        return [raw(day - timedelta(days=n)) for n in range(shift, params.incident_window_days + shift)]

    def hazards(day: date, shift: int = 0):
        sic, hs, ais, stage, _counts = raw(day)
        before = window(day, shift)
        return normalised_hazards(params, static.grid.resolution_m, sic=sic, hs=hs, ais=ais, stage=stage,
                                  incident_counts=sum(b[4] for b in before),
                                  exposure_hours=sum(b[2].astype(np.float64) for b in before), sea=sea)

    return static, sea, params, raw, window, hazards


@pytest.mark.parametrize("day", [CHECK_DAY, date(2026, 1, 20), date(2026, 7, 1), date(2026, 11, 20)])
@pytest.mark.parametrize("method", ["weighted", "max"])
def test_a_busy_open_water_lane_is_no_riskier_than_the_water_beside_it(world, method, day):
    static, sea, params, raw, _window, hazards = world
    sic, hs, ais, _stage, _counts = raw(day)
    risk = hazards_to_risk(hazards(day), dataclasses.replace(params, method=method))
    ratio, lanes = lane_ratio(risk, sic, hs, ais, sea)
    assert lanes > 100 and ratio <= MAX_RATIO, (method, day, ratio)


def test_the_incident_density_it_replaces_made_lanes_riskier(world):
    """The same check fails for the old hazard (saturating kernel density of incidents): the test
    can tell a lane penalty from none."""
    static, sea, params, raw, window, hazards = world
    sic, hs, ais, _stage, _counts = raw(CHECK_DAY)
    density = incident_density(sum(b[4] for b in window(CHECK_DAY, 0)), params.incident_sigma_km,
                               static.grid.resolution_m)
    sigma = params.incident_sigma_km * 1000.0 / static.grid.resolution_m
    old = {**hazards(CHECK_DAY), "incidents": 1.0 - np.exp(-density * 2.0 * np.pi * sigma**2)}
    ratio, _lanes = lane_ratio(hazards_to_risk(old, params), sic, hs, ais, sea)
    assert ratio > MAX_RATIO, ratio  # fails the check the rate passes


def test_the_stacking_risk_is_a_rate_so_lanes_are_no_riskier(world):
    static, sea, params, raw, _window, hazards = world
    floor = exposure_floor_hours(params, static.grid.resolution_m) / params.incident_window_days

    def load(day: date) -> stacking.DayData:
        _sic, _hs, ais, _stage, counts = raw(day)
        return stacking.DayData(stacking.features_matrix(hazards(day, shift=1), sea), counts[sea], (ais + floor)[sea])

    train = [date(2025, 11, 15) + timedelta(days=n) for n in range(92)]
    held = [date(2026, 2, 15) + timedelta(days=n) for n in range(28)]
    model = stacking.fit(train, held, load, stacking.StackingParams(), RUNTIME["risk"]["weights"])
    sic, hs, ais, _stage, _counts = raw(CHECK_DAY)
    everywhere = np.ones(static.grid.shape, dtype=bool)
    rate = stacking.predict(model, stacking.features_matrix(hazards(CHECK_DAY, shift=1), everywhere))
    risk = stacking.risk_from_rate(model, rate).reshape(static.grid.shape)
    ratio, lanes = lane_ratio(risk, sic, hs, ais, sea)
    assert lanes > 100 and ratio <= MAX_RATIO, ratio
    # the probability of an incident in a cell-day still follows the ships: exposure x rate
    probability = stacking.probability(model, stacking.features_matrix(hazards(CHECK_DAY, shift=1), sea),
                                       (ais + floor)[sea])
    busy = (ais[sea] >= 4) & (np.nan_to_num(sic[sea]) == 0)
    quiet = (ais[sea] < 0.05) & (np.nan_to_num(sic[sea]) == 0)
    assert probability[busy].mean() > 20 * probability[quiet].mean()


def test_empty_water_gets_the_floor_of_exposure_not_an_infinite_rate():
    params = RiskParams.from_runtime(RUNTIME, None)
    counts = np.zeros((60, 60))
    counts[30, 30] = 1  # one incident where AIS saw no ship
    exposure = np.zeros((60, 60))
    rate = incident_rate(counts, exposure, params, 25_000.0)
    assert np.isfinite(rate).all() and rate.max() > 0
    floor = exposure_floor_hours(params, 25_000.0)
    density = incident_density(counts, params.incident_sigma_km, 25_000.0)
    assert rate[30, 30] == pytest.approx(density[30, 30] / floor, rel=0.05)  # the kernel of a uniform floor is the floor
    busy = incident_rate(counts, np.full((60, 60), 100.0), params, 25_000.0)  # the same incident among many ships
    assert busy[30, 30] < rate[30, 30] / 50
    assert rate_hazard(np.array([params.incident_rate_reference / 1000.0]), params)[0] == pytest.approx(1 - np.exp(-1))
    # a lane twice as busy with twice the incidents has the same rate
    lane = np.zeros((60, 60))
    lane[:, 28:33] = 300.0  # vessel-hours in the window: the floor (0.94 a cell) hardly counts
    incidents = np.zeros((60, 60))
    incidents[10:50:8, 30] = 1
    one = incident_rate(incidents, lane, params, 25_000.0)
    two = incident_rate(2 * incidents, 2 * lane, params, 25_000.0)
    assert two[30, 30] == pytest.approx(one[30, 30], rel=0.02)


# -- through the commands ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fused_march(tmp_path_factory):
    """Demo data from mid-February (the incident window) to 2026-03-15, fused for March."""
    from .conftest import config_copy, make_roots

    base = tmp_path_factory.mktemp("rate")
    roots = make_roots(base)
    config = config_copy(base / "cfg", {"  store_hazards: []": "  store_hazards: [ice, wave, incidents]"})
    env = {**roots.env, "ARCTICROUTE_CONFIG_DIR": str(config)}
    for name, *args in (("ingest.nrt.pull", "--ym", "202602", "--since", "2026-02-13", "--what", "incidents,ais"),
                        ("ingest.nrt.pull", "--ym", "202603", "--since", "2026-03-01", "--what", "incidents,ais"),
                        ("ingest.nrt.pull", "--ym", "202603", "--since", "2026-03-15", "--what", "ice,wave")):
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, (name, result.output)
    return roots, env


def _layer(roots, layer: str, variable: str, day: date) -> np.ndarray:
    path = roots.data / f"env/{layer}/3413-25km/{day:%Y}/{day:%m}/{layer.replace('.', '_')}_{day:%Y%m%d}.nc"
    with xr.open_dataset(path) as ds:
        return ds[variable].isel(time=0).values


@pytest.mark.parametrize("method", ["weighted", "max"])
def test_the_fused_risk_file_of_the_day_passes_the_lane_check(fused_march, method):
    roots, env = fused_march
    result = run_command("risk.fuse", "--ym", "202603", "--method", method, env=env)
    assert result.exit_code == 0, result.output
    path = roots.data / "risk/3413-25km/2026/03/risk_20260315.nc"
    with xr.open_dataset(path) as ds:
        risk = ds["risk"].isel(time=0).values
        assert "hazard_incidents" in ds
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
    assert meta["params"]["method"] == method and meta["params"]["incident_exposure_floor"] == 0.05
    cited = {i["logical_id"] for i in meta["inputs"]}
    assert "ar://env/ais.density@20260214?grid=3413-25km" in cited  # the window's exposure is an input
    sic, hs, ais = (_layer(roots, layer, var, CHECK_DAY) for layer, var in
                    (("ice.sic", "sic"), ("wave.hs", "hs"), ("ais.density", "density")))
    ratio, lanes = lane_ratio(risk, sic, hs, ais, np.isfinite(risk))
    assert lanes > 100 and ratio <= MAX_RATIO, (method, ratio)
