"""Stacking on the synthetic world, whose incidents are drawn from a known rate per vessel-hour:
the learned weights come out near the known ones, past incidents get next to none, stacking
beats ``weighted`` on held-out Brier skill, and a busy lane is no riskier than the water beside
it. Too few incidents is an error with the counts."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import numpy as np
import pytest

from arcticroute.grid import Grid
from arcticroute.risk import stacking
from arcticroute.risk.calibration import Reliability
from arcticroute.risk.fuse import RiskParams, exposure_floor_hours, normalised_hazards
from arcticroute.sources import synthetic_fields as fields
from arcticroute.static import StaticGrid

from .synthetic_days import risk_inputs

RUNTIME = {"risk": {"method": "weighted", "weights": {"ice": 0.55, "wave": 0.25, "traffic": 0.0, "incidents": 0.2},
                    "wave_reference_m": 6.0, "traffic_reference": 20.0, "incident_window_days": 30,
                    "incident_sigma_km": 100}}


@pytest.fixture(scope="module")
def world():
    static = StaticGrid.compute(Grid.from_km(25))
    params = RiskParams.from_runtime(RUNTIME, None)

    @cache
    def raw(day: date):
        return risk_inputs(static, day)

    sea = ~static.land

    floor = exposure_floor_hours(params, static.grid.resolution_m) / params.incident_window_days

    def load(day: date) -> stacking.DayData:
        sic, hs, ais, stage, counts = raw(day)
        before = [raw(day - timedelta(days=n)) for n in range(1, params.incident_window_days + 1)]
        hazards = normalised_hazards(params, static.grid.resolution_m, sic=sic, hs=hs, ais=ais,
                                     incident_counts=sum(b[4] for b in before), stage=stage,
                                     exposure_hours=sum(b[2].astype(float) for b in before), sea=sea)
        return stacking.DayData(stacking.features_matrix(hazards, sea), counts[sea], (ais + floor)[sea])

    load.static, load.sea, load.raw = static, sea, raw
    return load


def days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def test_stacking_recovers_the_known_rate_and_says_how_uncertain_its_skill_is(world):
    params = stacking.StackingParams(min_train_incidents=40, min_heldout_incidents=15)
    model = stacking.fit(days(date(2026, 1, 1), 120), days(date(2026, 5, 1), 31), world, params,
                         RUNTIME["risk"]["weights"])
    coef = model["coefficients"]
    known = fields.KNOWN_WEIGHTS  # ice > wave per vessel-hour; traffic is exposure; past incidents play no part
    assert "traffic" not in coef and coef["ice"] > coef["wave"] > 0
    assert abs(coef["incidents"]) < coef["ice"] / 2  # the past rate echoes the ice and waves of its days
    for name, weight in known.items():
        assert coef[name] == pytest.approx(weight, rel=0.5), (name, coef)
    held = model["heldout"]
    interval = held["brier_skill_interval"]
    assert interval["block"] == "day" and interval["blocks"] == 31 and interval["low"] <= held["brier_skill"] <= interval["high"]
    # the held-out probabilities follow the known function; its own Brier skill lies in the interval
    static, sea, raw = world.static, world.sea, world.raw
    known = Reliability(model["climatology"])
    for day in days(date(2026, 5, 1), 31):
        sic, hs, ais, stage, counts = raw(day)
        truth = -np.expm1(-fields.expected_incidents(static, sic, hs, ais, stage))[sea]
        data = world(day)
        predicted = stacking.probability(model, data.features, data.exposure)
        assert np.corrcoef(predicted, truth)[0, 1] > 0.9, day
        known.add(truth, counts[sea] > 0)
    assert interval["low"] <= known.summary()["brier_skill"] <= interval["high"]


def test_too_few_incidents_is_an_error_with_the_counts(world):
    params = stacking.StackingParams(min_train_incidents=10_000)
    with pytest.raises(stacking.TooFewIncidentsError, match=r"at least 10000 incident cell-days .* found \d+ in 3 days"):
        stacking.fit(days(date(2026, 1, 1), 3), days(date(2026, 1, 4), 2), world, params, RUNTIME["risk"]["weights"])


def test_reliability_sums_are_the_brier_score():
    rng = np.random.default_rng(1)
    p = rng.random(1000) * 0.01
    y = rng.random(1000) < p
    rel = Reliability(climatology=0.005)
    rel.add(p[:400], y[:400])
    rel.add(p[400:], y[400:])
    summary = rel.summary()
    assert summary["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert summary["brier_climatology"] == pytest.approx(np.mean((0.005 - y) ** 2))
    assert sum(b["cell_days"] for b in summary["bins"]) == 1000 and summary["events"] == int(y.sum())


def test_months_before_are_split_into_training_and_held_out():
    train, held = stacking.split_months(2026, 2, stacking.StackingParams(train_months=3, heldout_months=1))
    assert train == [(2025, 10), (2025, 11), (2025, 12)] and held == [(2026, 1)]


# -- through the commands ---------------------------------------------------------------------------

import json  # noqa: E402

import xarray as xr  # noqa: E402

from .conftest import config_copy, make_roots, run_command  # noqa: E402


def small_config(tmp_path) -> str:
    """The repository's config with a stacking model fitted on one month and scored on the next."""
    return str(config_copy(tmp_path / "cfg", {"    train_months: 3 ": "    train_months: 1 ",
                                              "    min_train_incidents: 40": "    min_train_incidents: 20",
                                              "    min_heldout_incidents: 15": "    min_heldout_incidents: 10"}))


@pytest.fixture(scope="module")
def stacked_month(tmp_path_factory):
    """July and August pulled to learn from, September fused with stacking, routed and reported."""
    base = tmp_path_factory.mktemp("stacking")
    roots = make_roots(base)
    env = {**roots.env, "ARCTICROUTE_CONFIG_DIR": small_config(base)}
    for name, *args in (("ingest.nrt.pull", "--ym", "202607"), ("ingest.nrt.pull", "--ym", "202608"),
                        ("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-16"),
                        ("risk.fuse", "--ym", "202609", "--method", "stacking"),
                        ("route.plan", "--scenario", "murmansk_bering"),
                        ("report.build", "--ym", "202609", "--include", "routes,layers,calibration,freshness,runs")):
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, (name, result.output)
        if name == "risk.fuse":
            fused = result
    return roots, env, fused


def test_the_model_is_a_versioned_artifact_with_its_skill(stacked_month):
    roots, _env, fused = stacked_month
    assert "stacking model ar://risk/model@202609?grid=3413-25km v1" in fused.stdout
    path = roots.data / "risk" / "3413-25km" / "models" / "stacking_202609.json"
    meta = json.loads((path.parent / (path.name + ".meta.json")).read_text())
    import jsonschema

    from arcticroute.store.artifacts import artifact_meta_schema

    jsonschema.validate(meta, artifact_meta_schema())
    params = meta["params"]
    assert meta["kind"] == "risk-model" and meta["synthetic"] is True and meta["version"] == 1
    assert params["training_months"] == ["2026-07"] and params["heldout_months"] == ["2026-08"]
    assert params["features"] == list(stacking.FEATURES)
    coef = params["coefficients"]
    assert coef["ice"] > 0 and coef["wave"] > 0 and "traffic" not in coef  # traffic is the exposure
    interval = params["heldout_skill"]["brier_skill_interval"]
    assert interval["low"] <= params["heldout_skill"]["brier_skill"] <= interval["high"]
    assert any(i["logical_id"].startswith("ar://env/incidents@202607") for i in meta["inputs"])
    daily = json.loads((roots.data / "risk/3413-25km/2026/09/risk_20260930.nc.meta.json").read_text())
    assert daily["params"]["method"] == "stacking" and daily["params"]["model"] == meta["logical_id"]
    again = run_command("risk.fuse", "--ym", "202609", "--method", "stacking", env=_env)
    assert again.exit_code == 0 and "0 days written" in again.stdout and " v1:" in again.stdout


def test_the_calibration_numbers_are_recomputed_from_the_same_artifacts(stacked_month):
    """Read the daily probabilities and the incidents with xarray, independently of the library."""
    roots, _env, _fused = stacked_month
    meta = json.loads((roots.reports / "3413-25km/202609/report_202609.html.meta.json").read_text())
    reported = meta["params"]["calibration"]
    model = json.loads((roots.data / "risk/3413-25km/models/stacking_202609.json").read_text())
    p_all, y_all = [], []
    for day in range(16, 31):
        stamp = f"202609{day:02d}"
        with xr.open_dataset(roots.data / f"risk/3413-25km/2026/09/risk_{stamp}.nc") as risk_ds, \
                xr.open_dataset(roots.data / f"env/incidents/3413-25km/2026/09/incidents_{stamp}.nc") as inc_ds:
            p = risk_ds["probability"].values
            sea = np.isfinite(p)
            p_all.append(p[sea])
            y_all.append(inc_ds["count"].values[sea] > 0)
    p, y = np.concatenate(p_all).astype(float), np.concatenate(y_all).astype(float)
    clim = model["climatology"]
    brier, brier_clim = np.mean((p - y) ** 2), np.mean((clim - y) ** 2)
    assert reported["cell_days"] == p.size and reported["events"] == int(y.sum())
    assert reported["brier"] == pytest.approx(brier, rel=1e-6)
    assert reported["brier_climatology"] == pytest.approx(brier_clim, rel=1e-6)
    assert reported["brier_skill"] == pytest.approx(1 - brier / brier_clim, rel=1e-6, abs=1e-9)
    top = reported["bins"][-3]  # 0.003..0.01
    inside = (p >= top["low"]) & (p < top["high"])
    assert top["cell_days"] == int(inside.sum()) and top["events"] == int(y[inside].sum())
    page = (roots.reports / "3413-25km/202609/report_202609.html").read_text()
    assert "<h2>Calibration (synthetic incidents)</h2>" in page and "reliability diagram" in page
    # synthetic labels are named as such, and the skill comes with its interval and verdict
    assert "Synthetic labels." in page and "recovering that function, not how well it would predict" in page
    interval = reported["brier_skill_interval"]
    assert interval["block"] == "day" and interval["blocks"] == 15 and interval["low"] <= reported["brier_skill"]
    verdict = "excludes 0" if interval["excludes_zero"] else "includes 0: no skill shown"
    assert f"(block bootstrap by day, 15 days, 2000 resamples): {verdict}" in page


def test_too_few_incidents_exits_1_with_the_counts_unless_falling_back(tmp_path):
    roots = make_roots(tmp_path)
    env = roots.env
    assert run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-29", env=env).exit_code == 0
    refused = run_command("risk.fuse", "--ym", "202609", "--method", "stacking", env=env)
    assert refused.exit_code == 1
    assert "stacking needs at least 40 incident cell-days in its training months, found 0 in 0 days" in refused.stderr
    assert "--fallback weighted" in refused.stderr and not (roots.data / "risk").exists()
    fallen = run_command("risk.fuse", "--ym", "202609", "--method", "stacking", "--fallback", "weighted", env=env)
    assert fallen.exit_code == 0 and "fused with weighted (--fallback)" in fallen.stdout
    daily = json.loads((roots.data / "risk/3413-25km/2026/09/risk_20260930.nc.meta.json").read_text())
    assert daily["params"]["method"] == "weighted" and "stacking refused" in daily["params"]["fallback_reason"]
    assert any("stacking refused" in w for w in daily["warnings"])
    built = run_command("report.build", "--ym", "202609", "--include", "calibration,freshness", env=env)
    assert built.exit_code == 0, built.output
    page = (roots.reports / "3413-25km/202609/report_202609.html").read_text()
    assert "stacking refused" in page and "<h2>Routes</h2>" not in page and "data:image/png" not in page
