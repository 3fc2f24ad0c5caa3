# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""Time beyond the data: which conditions a voyage sails in at each instant (daily layers, the ice
forecast, persisted), the forecast artifact (synthetic on the demo profile, Copernicus Marine
through the cmems adapter on the live one), and what route documents, the report and the UI say
about the days sailed on persisted conditions."""

from __future__ import annotations

import importlib.machinery
import json
import re
import sys
import types
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from arcticroute import forecast
from arcticroute.grid import Grid
from arcticroute.route import conditions, voyage
from arcticroute.route.routing import Conditions, Place, Vessel, plan_path
from arcticroute.sources import synthetic_fields as fields
from arcticroute.static import StaticGrid
from arcticroute.timeutil import utc_now

from .conftest import run_command
from .replicas.config import live_config
from .replicas.files import cmems_arctic_ice, cmems_wave
from .replicas.helpers import SINCE, YM, env_for, loopback_only, site  # noqa: F401 - fixtures
from .synthetic_days import synthetic_day

MURMANSK = Place("Murmansk (Kola Bay off Severomorsk)", 69.10, 33.42)
BERING = Place("Bering Strait (east of the Diomedes)", 65.80, -168.46)
PC5 = Vessel("pc5_cargo", "PC5", speed_kn=13.0, max_wave_m=7.0)


def midnight(day: date, hour: float = 0.0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


# -- the conditions of an instant ---------------------------------------------------------------------

def _constant(value: float) -> Conditions:
    grid = np.full((2, 2), value, dtype=np.float32)
    return Conditions(sic=grid, hs=grid, risk=grid)


def test_daily_then_forecast_then_persisted_and_a_gap_day_is_persisted():
    first = date(2026, 2, 10)
    daily_days = [first, first + timedelta(days=1), first + timedelta(days=3)]  # the 12th is missing
    forecast_days = [first + timedelta(days=n) for n in (2, 4, 5, 6)]  # the 12th is before the newest daily: ignored
    loaded = {d: _constant(i) for i, d in enumerate(sorted({*daily_days, *forecast_days}))}
    daily = conditions.DailyConditions(first, daily_days, lambda d: (loaded[d], []), forecast_days)
    assert daily.forecast_days == [first + timedelta(days=n) for n in (4, 5, 6)]
    assert daily.basis_at(midnight(first, 13)) == conditions.DAILY
    assert daily.basis_at(midnight(first + timedelta(days=2), 5)) == conditions.PERSISTED  # a gap in the record
    assert daily.day_for(midnight(first + timedelta(days=2), 5)) == first + timedelta(days=1)
    assert daily.basis_at(midnight(first + timedelta(days=5), 23.9)) == conditions.FORECAST
    later = midnight(first + timedelta(days=9), 2)
    assert daily.basis_at(later) == conditions.PERSISTED and daily.day_for(later) == first + timedelta(days=6)
    assert daily.at(later) is loaded[first + timedelta(days=6)]
    assert daily.next_change(midnight(first + timedelta(days=5), 3)) == midnight(first + timedelta(days=6))
    assert daily.next_change(later) is None


def test_a_forecast_thickness_gives_first_year_stages_and_keeps_the_analysis_old_ice():
    sic = np.array([0.0, 0.5, 0.9, 0.9, 0.9, 0.9])
    thickness = np.array([0.0, 0.05, 0.10, 0.6, 1.2, 2.9])
    stage = forecast.thickness_stage(sic, thickness)
    assert stage.tolist() == [0, 1, 2, 5, 8, 8]  # WMO ranges; no thickness makes old ice
    analysis = np.array([0, 0, 11, 4, 9, 10], dtype=np.float32)
    assert forecast.with_analysis_stage(stage, sic, analysis).tolist() == [0, 1, 11, 5, 9, 10]
    assert forecast.with_analysis_stage(stage, sic, None).tolist() == stage.tolist()


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))



@pytest.mark.parametrize("first", [date(2026, 2, 15), date(2026, 11, 20)])
def test_each_step_of_a_voyage_records_what_it_sailed_in(static, first):
    """A PC5 voyage that outlasts three daily layers: the days after them are sailed on forecast
    steps while the forecast lasts and on persisted conditions after it."""
    daily_days = [first + timedelta(days=n) for n in range(3)]
    forecast_days = [first + timedelta(days=n) for n in range(3, 8)]
    cache = {}

    def load(day):
        if day not in cache:
            cache[day] = synthetic_day(static, day)
        return cache[day], []

    with_forecast = conditions.DailyConditions(first, daily_days, load, forecast_days)
    without = conditions.DailyConditions(first, daily_days, load)
    route, _b, _ = plan_path(static, load(first)[0], PC5, MURMANSK, BERING, 2.0)
    results = {}
    for name, daily in (("forecast", with_forecast), ("none", without)):
        sailed = voyage.sail(static, daily, PC5, 2.0, midnight(first), MURMANSK, BERING, route.cells, replan=False)
        basis = conditions.step_basis(daily, midnight(first), sailed.terms["hours"], sailed.step_day)
        order = [conditions.BASES.index(b) for b in basis]
        assert order == sorted(order)  # daily, then forecast, then persisted, never back
        starts = np.concatenate([[0.0], np.cumsum(sailed.terms["hours"])[:-1]])
        last = daily.last_day
        persisted_h = sum(h for h, s in zip(sailed.terms["hours"], starts, strict=True)
                          if (midnight(first) + timedelta(hours=float(s))).date() > last)
        metrics = conditions.basis_metrics(daily, sailed.terms["hours"], basis)
        assert metrics["persistence_days"] == pytest.approx(persisted_h / 24.0, abs=0.01)
        assert sailed.hours > 8 * 24  # the voyage outlasts the forecast: some days are persisted
        results[name] = metrics
    assert results["forecast"]["forecast_days"] > 4.5 and results["none"]["forecast_days"] == 0
    for name, days_covered in (("forecast", 8), ("none", 3)):  # to the end of the last day with conditions
        hours = results[name]["conditions_hours"]
        assert days_covered * 24 - 12 < hours["daily"] + hours["forecast"] <= days_covered * 24 + 12
    warning = conditions.persistence_warning(results["none"])
    assert "no ice forecast covers the days after it" in warning


# -- through the commands, demo profile -----------------------------------------------------------

@pytest.fixture(scope="module")
def demo_voyage(tmp_path_factory):
    """The last days of February 2026 pulled with the synthetic ice forecast, fused, routed (a study:
    the PC5 ship is not permitted in the NSR in February and beset at times without escort; the
    conditions are what is tested)."""
    from .conftest import make_roots

    roots = make_roots(tmp_path_factory.mktemp("forecast"))
    env = roots.env
    outputs = {}
    for name, *args in (("ingest.nrt.pull", "--ym", "202602", "--since", "2026-02-25", "--forecast"),
                        ("risk.fuse", "--ym", "202602"),
                        ("route.plan", "--scenario", "murmansk_bering", "--date", "2026-02-26", "--ignore-rules",
                         "--assume-escort"),
                        ("report.build", "--ym", "202602", "--include", "routes,freshness")):
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, (name, result.output)
        outputs[name] = result
    return roots, env, outputs


def test_the_synthetic_forecast_is_a_versioned_artifact_marked_synthetic(demo_voyage):
    roots, env, outputs = demo_voyage
    assert "ice forecast issued 2026-02-28: written, valid 2026-03-01..2026-03-10" in outputs["ingest.nrt.pull"].stdout
    path = roots.data / "forecast/ice/3413-25km/2026/02/ice_forecast_20260228.nc"
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
    import jsonschema

    from arcticroute.store.artifacts import artifact_meta_schema

    jsonschema.validate(meta, artifact_meta_schema())
    assert meta["kind"] == "forecast" and meta["synthetic"] is True and "synthetic" in meta["tags"]
    assert meta["logical_id"] == "ar://forecast/ice@20260228?grid=3413-25km"
    assert meta["params"]["valid_days"][0] == "2026-03-01" and len(meta["params"]["valid_days"]) == 10
    assert meta["time_coverage"]["start"].startswith("2026-03-01")
    with xr.open_dataset(path) as ds:
        assert ds["sic"].dims == ("time", "y", "x") and ds.sizes["time"] == 10
        assert ds["forecast_period"].values.tolist() == list(range(1, 11))
        assert ds["forecast_reference_time"].attrs["standard_name"] == "forecast_reference_time"
        assert "SYNTHETIC" in ds.attrs["title"] and ds.attrs["synthetic"] == "true"
        day5 = ds["sic"].isel(time=4).values
    static = StaticGrid.compute(Grid.from_km(25))
    assert np.allclose(np.nan_to_num(day5), fields.sea_ice_concentration(static, date(2026, 3, 5)), atol=1e-3)
    again = run_command("ingest.nrt.pull", "--ym", "202602", "--since", "2026-02-25", "--forecast", env=env)
    assert again.exit_code == 0 and "ice forecast issued 2026-02-28: unchanged" in again.stdout


def test_the_forecast_file_passes_every_cf_1_8_check(demo_voyage, tmp_path):
    from .test_cf import compliance, failures

    roots, _env, _outputs = demo_voyage
    result = compliance(roots.data / "forecast/ice/3413-25km/2026/02/ice_forecast_20260228.nc", "cf:1.8", tmp_path)
    assert failures(result) == [] and result["scored_points"] == result["possible_points"] > 100, failures(result)


def test_the_route_states_its_days_on_forecast_and_persisted_conditions(demo_voyage):
    roots, _env, outputs = demo_voyage
    document = json.loads((roots.outputs / "routes/3413-25km/murmansk_bering_20260226.geojson").read_text())
    info = document["arcticroute"]
    summary = info["summary"]
    assert summary["newest_daily_layer"] == "2026-02-28" and summary["forecast_to"] == "2026-03-10"
    assert 9.5 < summary["forecast_days"] < 10.5  # every forecast day is sailed (a step may run past midnight)
    hours = summary["conditions_hours"]
    assert summary["persistence_days"] == pytest.approx(hours["persisted"] / 24.0, abs=0.01) and hours["persisted"] > 0
    assert sum(hours.values()) == pytest.approx(summary["duration_h"], abs=0.5)
    assert any("days on persisted conditions" in w and "the ice forecast ends 2026-03-10" in w for w in info["warnings"])
    segments = document["features"][0]["properties"]["segments"]
    kinds = [s["conditions"] for s in segments]
    assert kinds[0] == "daily" and kinds[-1] == "persisted" and "forecast" in kinds
    assert all(s["persisted"] == (s["conditions"] == "persisted") for s in segments)
    assert "ar://forecast/ice@20260228?grid=3413-25km" in {i["logical_id"] for i in info["inputs"]}
    assert "then the ice forecast's steps to 2026-03-10" in document["features"][0]["properties"]["eta_assumption"]
    page = (roots.reports / "3413-25km/202602/report_202602.html").read_text()
    assert "days on persisted conditions" in page
    shown = f"{summary['persistence_days']:.1f} ({summary['forecast_days']:.1f} on the forecast)"
    assert f'<td class="num persisted">{shown}</td>' in page


def test_a_new_forecast_plans_the_route_again(demo_voyage):
    _roots, env, _outputs = demo_voyage
    same = run_command("route.plan", "--scenario", "murmansk_bering", "--date", "2026-02-26", "--ignore-rules",
                         "--assume-escort", env=env)
    assert same.exit_code == 0 and "[unchanged]" in same.stdout
    # only the forecast changes among what the route reads (the incidents feed no route until fused again)
    forced = run_command("ingest.nrt.pull", "--ym", "202602", "--since", "2026-02-28", "--forecast", "--force",
                         "--what", "incidents", env=env)
    assert forced.exit_code == 0 and "ice forecast issued 2026-02-28: written" in forced.stdout
    again = run_command("route.plan", "--scenario", "murmansk_bering", "--date", "2026-02-26", "--ignore-rules",
                         "--assume-escort", env=env)
    assert again.exit_code == 0 and "[written]" in again.stdout


def test_a_profile_without_a_forecast_source_says_so_before_pulling(tmp_path):
    from .conftest import config_copy, make_roots

    config = config_copy(tmp_path / "cfg")
    text = (config / "env.yaml").read_text()
    (config / "env.yaml").write_text(text.replace("      ice.forecast: {kind: synthetic, lead_days: 10}\n", ""))
    roots = make_roots(tmp_path)
    result = run_command("ingest.nrt.pull", "--ym", "202602", "--since", "2026-02-27", "--forecast",
                         env={**roots.env, "ARCTICROUTE_CONFIG_DIR": str(config)})
    assert result.exit_code == 2
    assert "configures no ice forecast (config/env.yaml: profiles.demo.sources.ice.forecast)" in result.stderr
    assert not roots.data.exists() or not any(roots.data.rglob("*.nc"))


# -- the cmems adapter, live profile ----------------------------------------------------------------

@pytest.fixture
def toolbox(monkeypatch):
    """The copernicusmarine toolbox as the mocked edge of the outside world: ``subset`` writes the
    replica file of the dataset asked for (waves or the ice analysis-forecast), one day at a time,
    and answers a day past the forecast's end as the real toolbox does. ``calls.percent`` makes
    the ice file state its concentration in percent (a product change the adapter must refuse)."""
    calls = Calls()

    def subset(**kwargs):
        calls.append(kwargs)
        day = date.fromisoformat(kwargs["start_datetime"][:10])
        target = Path(kwargs["output_directory"]) / kwargs["output_filename"]
        if kwargs["dataset_id"].startswith("cmems_mod_arc_phy_anfc"):
            if (day - utc_now().date()).days > 6:
                raise ValueError(f"Some or all of your subset selection [{day}] for the time dimension exceed "
                                 "the dataset coordinates")
            cmems_arctic_ice(target, day)
            if calls.percent:
                with xr.open_dataset(target) as ds:
                    changed = ds.load()
                changed["siconc"] = changed["siconc"] * 100
                changed["siconc"].attrs["units"] = "%"
                changed.to_netcdf(target)
        else:
            cmems_wave(target, day)

    module = types.ModuleType("copernicusmarine")
    module.__spec__ = importlib.machinery.ModuleSpec("copernicusmarine", None)
    module.subset = subset
    monkeypatch.setitem(sys.modules, "copernicusmarine", module)
    return calls


class Calls(list):
    percent = False


def test_a_forecast_file_not_as_configured_is_refused_and_the_layers_kept(roots, site, tmp_path, toolbox):
    toolbox.percent = True
    env = env_for(roots, live_config(tmp_path, site.url()), COPERNICUSMARINE_SERVICE_USERNAME="someone",
                  COPERNICUSMARINE_SERVICE_PASSWORD="pw")
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "wave", "--jobs", "1",
                         "--forecast", env=env)
    assert result.exit_code == 1
    assert "cmems-arctic-ice-forecast" in result.stderr and "'siconc' in units '%'" in result.stderr
    assert not (roots.data / "forecast").exists() or not any((roots.data / "forecast").rglob("*.nc"))
    assert any((roots.data / "env" / "wave.hs").rglob("*.nc"))  # what was pulled before is kept


def test_the_cmems_ice_forecast_through_the_toolbox(roots, site, tmp_path, toolbox):
    env = env_for(roots, live_config(tmp_path, site.url()), COPERNICUSMARINE_SERVICE_USERNAME="someone",
                  COPERNICUSMARINE_SERVICE_PASSWORD="canary-forecast-pw-7781")
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "wave", "--jobs", "1",
                         "--forecast", env=env)
    assert result.exit_code == 0, result.output
    issued = utc_now().date()  # the month's days run past today: the forecast is issued today
    ice_calls = [c for c in toolbox if c["dataset_id"] == "cmems_mod_arc_phy_anfc_6km_detided_P1D-m"]
    assert ice_calls[0]["variables"] == ["siconc", "sithick"] and ice_calls[0]["username"] == "someone"
    assert ice_calls[0]["start_datetime"] == f"{issued + timedelta(days=1)}T00:00:00"
    valid = [issued + timedelta(days=n) for n in range(1, 7)]  # the replica's forecast ends after six days
    assert f"ice forecast issued {issued}: written, valid {valid[0]}..{valid[-1]}" in result.stdout
    path = roots.data / forecast.relpath(issued, "3413-25km")
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
    assert meta["synthetic"] is False and meta["params"]["valid_days"] == [d.isoformat() for d in valid]
    assert meta["params"]["license"].startswith("Copernicus Marine") and len(meta["inputs"]) == 6
    assert all(i["sha256"] and i["source_url"].startswith("copernicusmarine://") for i in meta["inputs"])
    grid = Grid.from_km(25)
    with xr.open_dataset(path) as ds:
        sic, stage, thick = (ds[name].isel(time=0).values for name in ("sic", "stage", "sithick"))
        assert "SYNTHETIC" not in ds.attrs["title"]
    row, col = grid.index_of(85.0, 0.0)  # deep in the replica's ice: 1.0 concentration, 2.7 m
    assert sic[row, col] == pytest.approx(1.0, abs=0.01) and thick[row, col] == pytest.approx(2.7, abs=0.05)
    assert stage[row, col] == 8  # thick first-year by thickness: the forecast cannot tell old ice
    row, col = grid.index_of(66.0, -30.0)
    assert sic[row, col] == 0 and stage[row, col] == 0
    everything = "".join(p.read_text(errors="replace") for p in roots.files() if p.suffix in (".json", ".log"))
    assert "canary-forecast-pw-7781" not in everything + result.output


def test_a_forecast_issued_after_the_newest_daily_layer_is_used_and_the_days_between_persisted(tmp_path):
    """Live: the forecast is issued the day it is pulled, the daily layers lag a day or two."""
    from arcticroute.config import load_settings
    from arcticroute.store.artifacts import ArtifactSpec, write_artifact

    from .conftest import make_roots

    roots = make_roots(tmp_path)
    settings = load_settings(environ={**roots.env, "ARCTICROUTE_PROFILE": "demo"})
    newest = date(2026, 12, 2)

    def issue(day: date, days_ahead: int) -> None:
        valid = [day + timedelta(days=n) for n in range(1, days_ahead + 1)]
        spec = ArtifactSpec(logical_id=forecast.logical_id(day, settings.grid.name), root="data",
                            relpath=forecast.relpath(day, settings.grid.name), kind="forecast", synthetic=True,
                            time_coverage={"start": f"{valid[0]}T00:00:00Z", "end": f"{valid[-1]}T23:59:59Z"},
                            grid=settings.grid.describe(),
                            params={"valid_days": [d.isoformat() for d in valid], "issued": day.isoformat()})
        write_artifact(settings.roots, spec, lambda p: p.write_bytes(b"replica"), run_id="t", command="test")

    assert conditions.forecast_issue(settings, newest) is None
    issue(newest - timedelta(days=4), 10)
    assert conditions.forecast_issue(settings, newest)["params"]["issued"] == "2026-11-28"
    issue(newest + timedelta(days=2), 10)  # today's, two days after the newest daily layer
    chosen = conditions.forecast_issue(settings, newest)
    assert chosen["params"]["issued"] == "2026-12-04"
    issue(newest + timedelta(days=4), 10)  # too far after it: not this voyage's
    assert conditions.forecast_issue(settings, newest)["params"]["issued"] == "2026-12-04"
    daily = conditions.DailyConditions(newest - timedelta(days=1), [newest - timedelta(days=1), newest],
                                       lambda d: (_constant(0.0), []), forecast.valid_days(chosen))
    assert daily.basis_at(midnight(newest + timedelta(days=1), 6)) == conditions.PERSISTED  # between them
    assert daily.basis_at(midnight(newest + timedelta(days=3), 6)) == conditions.FORECAST


def test_a_dry_run_lists_the_forecast_and_writes_nothing(demo_voyage):
    from .replicas.helpers import tree_digest

    roots, env, _outputs = demo_voyage
    before = tree_digest(roots.data)
    result = run_command("ingest.nrt.pull", "--ym", "202602", "--since", "2026-02-27", "--what", "ice", "--forecast",
                         "--dry-run", env=env)
    assert result.exit_code == 0, result.output
    assert re.search(r"^forecast ice\.forecast 2026-02-28  issued that day, ice\.forecast-synthetic \(synthetic\)  -> "
                     r"forecast/ice/3413-25km/2026/02/ice_forecast_20260228\.nc$", result.stdout, re.M)
    assert tree_digest(roots.data) == before


def test_the_valid_days_of_an_issue_are_read_and_verified_once_and_equal_the_file(demo_voyage, monkeypatch):
    """A voyage asks for each valid day many times: the file is hashed once, each day decoded once,
    the values those of the file; a file whose bytes are not its sidecar's is refused."""
    from arcticroute.forecast import IssueReader
    from arcticroute.store import integrity
    from arcticroute.store.integrity import IntegrityError

    roots, _env, _outputs = demo_voyage
    path = roots.data / "forecast/ice/3413-25km/2026/02/ice_forecast_20260228.nc"
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text())
    tree = {"data": roots.data, "reports": roots.reports, "outputs": roots.outputs}
    reads = []
    real = integrity.read_verified
    monkeypatch.setattr(integrity, "read_verified", lambda *a: reads.append(a) or real(*a))
    issue = IssueReader(tree, meta)
    for _ in range(3):
        for n in (1, 5, 10):
            day5 = issue.valid_day(date(2026, 3, n))
    assert len(reads) == 1
    with xr.open_dataset(path) as ds:
        np.testing.assert_array_equal(day5["sic"], ds["sic"].isel(time=9).values)
    with pytest.raises(ValueError, match="no valid day 2026-03-11"):
        issue.valid_day(date(2026, 3, 11))
    other = {**meta, "sha256": "0" * 64}  # the bytes on disk are not those the sidecar names
    with pytest.raises(IntegrityError):
        IssueReader(tree, other).valid_day(date(2026, 3, 1))
