"""The commands end to end over real files: pull -> fuse -> route, catalog, bad input, locks."""

import json
import os
from datetime import date

import jsonschema
import pytest
from filelock import FileLock

from arcticroute.store.artifacts import artifact_meta_schema

from .conftest import build_month, run_command
from .land_check import land_points


def _sidecars(root):
    return [p for p in root.rglob("*_adv_v*.meta.json")]


def test_every_artifact_has_a_valid_synthetic_sidecar(summer_month):
    sidecars = _sidecars(summer_month.data) + _sidecars(summer_month.outputs)
    kinds = set()
    for path in sidecars:
        meta = json.loads(path.read_text())
        jsonschema.validate(meta, artifact_meta_schema())
        kinds.add(meta["kind"])
        if meta["kind"] != "static-grid":  # the land mask is real data
            assert meta["synthetic"] is True, path
    assert kinds == {"env-layer", "risk-daily", "risk-monthly", "route", "static-grid"}


def test_catalog_verify_passes_and_show_filters(summer_month):
    result = run_command("catalog.verify", env=summer_month.env)
    assert result.exit_code == 0, result.output
    shown = run_command("catalog.show", "--kind", "route", "--json", env=summer_month.env)
    entries = json.loads(shown.stdout)
    scenarios = ("murmansk_bering", "murmansk_bering_open_water", "rotterdam_yokohama_nsr", "sabetta_rotterdam")
    # each planned route twice: the GeoJSON document and the RTZ made from it
    assert {e["logical_id"].split("@")[0] for e in entries} == {
        f"ar://{form}/{name}" for name in scenarios for form in ("route", "rtz")}
    ice = json.loads(run_command("catalog.show", "--prefix", "ar://env/ice.sic", "--month", "202609", "--json",
                                 env=summer_month.env).stdout)
    assert len(ice) == 3 and all(e["synthetic"] for e in ice)
    assert (summer_month.outputs / "catalog" / "index.json").is_file()


def test_late_summer_routes_avoid_land_and_carry_their_story(summer_month):
    for path in (summer_month.outputs / "routes" / "3413-25km").glob("*_20260930.geojson"):
        document = json.loads(path.read_text())
        info = document["arcticroute"]
        assert info["synthetic"] is True and info["notice"] == "demo data — not for navigation"
        assert info["inputs"] and info["run_id"]
        roles = [f["properties"]["role"] for f in document["features"]]
        assert roles[:2] == ["route", "baseline"]
        for feature in document["features"]:
            assert land_points(feature["geometry"]) == [], (path.name, feature["properties"]["role"])
            for part in ([feature["geometry"]["coordinates"]] if feature["geometry"]["type"] == "LineString"
                         else feature["geometry"]["coordinates"]):
                assert all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in part)
    summary = json.loads((summer_month.outputs / "routes" / "3413-25km" / "murmansk_bering_20260930.geojson").read_text())[
        "arcticroute"]["summary"]
    assert 1.0 <= summary["distance_ratio"] <= 1.6
    assert summary["vessel"] == "pc5_cargo" and summary["max_sic"] <= 0.7


def test_rerunning_the_chain_writes_nothing_new(summer_month):
    before = {p: p.stat().st_mtime_ns for p in summer_month.files() if "_adv_v" in p.name}
    build_month(summer_month, "202609", "2026-09-28")
    after = {p for p in summer_month.files() if "_adv_v" in p.name}
    assert after == set(before)
    assert all(p.stat().st_mtime_ns == before[p] for p in before)


def test_dry_run_prints_the_plan_and_writes_nothing(roots):
    result = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-29", "--what", "ice,wave", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "fetch    ice.sic      2026-09-29  new" in result.stdout and "6 fetch" in result.stdout
    assert roots.files() == []


def test_future_days_are_not_yet_available_not_failures(roots):
    from arcticroute.timeutil import month_days, utc_now

    today = utc_now().date()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    result = run_command("ingest.nrt.pull", "--ym", f"{year:04d}{month:02d}", "--what", "ice.sic", "--dry-run")
    assert result.exit_code == 0 and f"{len(month_days(year, month))} not-yet" in result.stdout
    far = run_command("ingest.nrt.pull", "--ym", "209901", "--what", "ice", "--dry-run")
    assert far.exit_code == 2 and "is in the future" in far.stderr


def test_winter_route_for_an_open_water_ship_exits_1_naming_the_season_rule_and_the_ice_limit(roots):
    for name, *args in (("ingest.nrt.pull", "--ym", "202601", "--since", "2026-01-31"), ("risk.fuse", "--ym", "202601")):
        assert run_command(name, *args).exit_code == 0
    result = run_command("route.plan", "--scenario", "murmansk_bering_open_water", "--date", "2026-01-31")
    assert result.exit_code == 1
    assert "1 July to 15 November" in result.stderr  # the NSR season rule (config/sea_area_rules.yaml)
    assert "POLARIS Risk Index Outcome for ice class none" in result.stderr
    assert "Traceback" not in result.output
    document = json.loads((roots.outputs / "routes" / "3413-25km" / "murmansk_bering_open_water_20260131.geojson").read_text())
    assert document["features"] == [] and document["arcticroute"]["status"] == "refused"
    assert list((roots.outputs / "alerts").glob("*_error_route.plan.json"))
    every = run_command("route.plan", "--scenario", "all", "--date", "2026-01-31")
    assert every.exit_code == 0 and "murmansk_bering_open_water: REFUSED" in every.stdout


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("ingest.nrt.pull", ["--ym", "2026-09"], "expected YYYYMM"),
        ("ingest.nrt.pull", ["--since", "last week"], "neither an ISO 8601"),
        ("ingest.nrt.pull", ["--what", "ice,snow"], "unknown layer 'snow'"),
        ("risk.fuse", ["--method", "stacking2"], "'weighted', 'max'"),
        ("route.plan", ["--scenario", "atlantis"], "unknown scenario 'atlantis'"),
        ("route.plan", ["--from", "69.1;33.6", "--to", "65.9,-169.2", "--vessel", "pc5_cargo"], "expected LAT,LON"),
        ("route.plan", ["--from", "95,33.6", "--to", "65.9,-169.2", "--vessel", "pc5_cargo"], "out of range"),
        ("route.plan", ["--from", "10,33.6", "--to", "65.9,-169.2", "--vessel", "pc5_cargo"], "outside the polar grid"),
        ("route.plan", ["--from", "69.1,33.6", "--to", "65.9,-169.2", "--vessel", "kayak"], "unknown vessel 'kayak'"),
        ("route.plan", ["--date", "2026-02-30", "--scenario", "all"], "is not a day"),
        ("route.plan", [], "give either --scenario"),
        ("catalog.show", ["--month", "2026"], "expected YYYYMM"),
        ("ingest.nrt.pull", ["--profile", "nowhere"], "unknown profile 'nowhere'"),
        ("ingest.nrt.pull", ["--grid-km", "10"], "resolution_km"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(roots, name, args, expected):
    result = run_command(name, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert roots.files() == []


def test_live_profile_without_sources_refuses_instead_of_faking_data(roots, tmp_path):
    import shutil

    import yaml

    from .conftest import REPO

    config = tmp_path / "cfg"
    shutil.copytree(REPO / "config", config)
    env = yaml.safe_load((config / "env.yaml").read_text())
    env["profiles"]["live"]["sources"] = {}
    (config / "env.yaml").write_text(yaml.safe_dump(env))
    result = run_command("ingest.nrt.pull", "--config-dir", str(config), "--profile", "live", "--ym", "202609",
                         "--since", "2026-09-30")
    assert result.exit_code == 2
    assert "no data sources configured" in result.stderr and "no synthetic data was substituted" in result.stderr
    assert not roots.data.exists()


def test_bad_yaml_exits_2_naming_the_file(roots, tmp_path):
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "env.yaml").write_text("profile: demo\ngrid: {resolution_km: 25\n")
    result = run_command("ingest.nrt.pull", "--config-dir", str(config), "--dry-run")
    assert result.exit_code == 2 and "env.yaml: not valid YAML at line" in result.stderr
    assert "Traceback" not in result.output


def test_a_concurrent_run_exits_75_and_touches_nothing(roots):
    (roots.outputs / "locks").mkdir(parents=True)
    with FileLock(roots.outputs / "locks" / "pull.lock"):
        result = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", "--what", "ice")
    assert result.exit_code == 75 and "another pull run is in progress" in result.stderr
    assert not roots.data.exists()


def test_corrupting_or_deleting_a_file_fails_verify_naming_the_logical_id(roots):
    assert run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", "--what", "ice,wave").exit_code == 0
    assert run_command("catalog.verify").exit_code == 0
    ice = roots.data / "env/ice.sic/3413-25km/2026/09/ice_sic_20260930_adv_v1.nc"
    with open(ice, "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00garbage\x00")
    wave = roots.data / "env/wave.hs/3413-25km/2026/09/wave_hs_20260930_adv_v1.nc"
    os.remove(wave)
    result = run_command("catalog.verify")
    assert result.exit_code == 1
    assert "ar://env/ice.sic@20260930?grid=3413-25km: version 1: sha256" in result.stdout
    assert "ar://env/wave.hs@20260930?grid=3413-25km: version 1: file missing" in result.stdout


def test_a_second_pull_transfers_nothing(roots):
    first = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30")
    second = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30")
    assert "pulled 5 new" in first.stdout and "pulled 0 new, 5 already there" in second.stdout
    records = sorted((roots.outputs / "runs").glob("*.json"))
    assert [json.loads(p.read_text())["status"] for p in records] == ["ok", "ok"]


@pytest.mark.slow
def test_the_chain_runs_on_the_native_6_25_km_grid(roots):
    env = {**roots.env, "ARCTICROUTE_GRID_KM": "6.25"}
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30"), ("risk.fuse", "--ym", "202609"),
                        ("route.plan", "--scenario", "murmansk_bering")):
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, result.output
    path = roots.outputs / "routes" / "3413-6.25km" / "murmansk_bering_20260930.geojson"
    document = json.loads(path.read_text())
    meta = json.loads((path.parent / (path.name + ".meta.json")).read_text())
    assert meta["grid"]["name"] == "3413-6.25km" and meta["grid"]["shape"] == [1792, 1216]
    assert 1.0 <= document["arcticroute"]["summary"]["distance_ratio"] <= 1.6
    for feature in document["features"]:
        assert land_points(feature["geometry"]) == []


def test_plan_decisions_are_pure_and_give_reasons():
    from datetime import date

    from arcticroute.ingest import plan_pull

    day, today = date(2026, 9, 29), date(2026, 9, 30)
    identity = {"kind": "synthetic", "generator": "g/v1", "day": "2026-09-29"}
    current = {"grid": {"name": "3413-25km"}, "params": {"source_identity": identity}}
    cases = {
        "new": None,
        "already pulled, unchanged": current,
        "grid changed": {**current, "grid": {"name": "3413-6.25km"}},
        "source changed": {**current, "params": {"source_identity": {**identity, "generator": "g/v2"}}},
    }
    for reason, meta in cases.items():
        (item,) = plan_pull(["ice.sic"], [day], today, {("ice.sic", day): identity}, {("ice.sic", day): meta}, "3413-25km")
        assert item.reason == reason and item.action == ("skip" if meta is current else "fetch")
    (future,) = plan_pull(["ice.sic"], [date(2026, 10, 1)], today, {}, {}, "3413-25km")
    assert future.action == "not-yet"


def test_a_grid_without_data_says_so_with_a_hint(roots):
    assert run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30").exit_code == 0
    assert run_command("risk.fuse", "--ym", "202609").exit_code == 0
    result = run_command("route.plan", "--scenario", "murmansk_bering", "--grid-km", "12.5")
    assert result.exit_code == 1
    assert "no daily risk layer exists yet on grid 3413-12.5km" in result.stderr and "risk.fuse" in result.stderr
    assert "Traceback" not in result.output


def test_all_zero_risk_weights_are_a_config_error(roots, tmp_path):
    from .conftest import config_copy

    config = config_copy(tmp_path / "cfg", {name: name.split(":")[0] + ": 0"
                                            for name in ("ice: 0.55", "wave: 0.25", "traffic: 0.0", "incidents: 0.2")})
    pulled = run_command("ingest.nrt.pull", "--config-dir", str(config), "--ym", "202609", "--since", "2026-09-30",
                         "--what", "ice")
    assert pulled.exit_code == 0
    result = run_command("risk.fuse", "--config-dir", str(config), "--ym", "202609")
    assert result.exit_code == 2 and "risk.weights" in result.stderr and "--method max" in result.stderr
    assert not (roots.data / "risk").exists()


@pytest.mark.parametrize("ym, since, first, count", [
    ((2026, 11), "2026-10-30T05:30:00Z", date(2026, 10, 30), 32),  # the look-back on the 2nd reaches October
    ((2027, 1), "2026-12-31", date(2026, 12, 31), 32),              # and across a year's end
    ((2026, 11), "2026-11-20", date(2026, 11, 20), 11),
    ((2026, 11), "2020-01-01", date(2026, 10, 1), 61),              # never further than the month before
    ((2026, 11), None, date(2026, 11, 1), 30),
])
def test_since_may_reach_back_into_the_month_before(ym, since, first, count):
    from arcticroute.ingest import select_days
    from arcticroute.timeutil import parse_since

    days = select_days(*ym, parse_since(since) if since else None)
    assert days[0] == first and len(days) == count and days == sorted(set(days))
