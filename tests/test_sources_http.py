# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""ingest.nrt.pull on the live profile against loopback replicas of the providers' files:
Uni Bremen AMSR2 ASI and OSI SAF over HTTP (ETag, 304, HEAD), flaky servers, refusals."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import numpy as np
import pytest
import xarray as xr

from arcticroute.grid import Grid, to_xy
from arcticroute.timeutil import utc_now

from .conftest import run_command
from .replicas.config import live_config
from .replicas.files import osisaf_conc, osisaf_type
from .replicas.helpers import (  # noqa: F401 - fixtures
    BREMEN,
    DAYS,
    SINCE,
    YM,
    bremen_file,
    env_for,
    loopback_only,
    pull,
    sic,
    sidecar,
    site,
    tree_digest,
)

OSISAF = "thredds.met.no/thredds/fileServer/osisaf/met.no/ice/conc"


def test_bremen_is_pulled_regridded_and_described(roots, site, tmp_path):
    for day in DAYS:
        bremen_file(site, day)
    config = live_config(tmp_path, site.url())
    result = pull(env_for(roots, config))
    assert result.exit_code == 0, result.output
    assert "pulled 2 new" in result.stdout and ": ok" in result.stdout and "not yet available" in result.stdout

    meta = sidecar(roots, DAYS[0])
    assert meta["synthetic"] is False and "live" in meta["tags"] and "http" in meta["tags"]
    (source,) = meta["inputs"]
    assert source["source_url"].startswith("http://127.0.0.1:") and source["source_url"].endswith(f"-{DAYS[0]:%Y%m%d}-v5.4.nc")
    assert source["etag"] and source["last_modified"] and source["size_bytes"] > 100_000
    cached = roots.data / "cache" / "bremen-asi-amsr2" / f"{DAYS[0]:%Y/%m}" / f"asi-AMSR2-n6250-{DAYS[0]:%Y%m%d}-v5.4.nc"
    assert cached.is_file() and hashlib.sha256(cached.read_bytes()).hexdigest() == source["sha256"]
    assert json.loads(cached.with_name(cached.name + ".http.json").read_text())["etag"] == source["etag"]

    values = sic(roots, DAYS[0])
    grid = Grid.from_km(25)
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    # The replica's field is a function of the distance from the pole: check the regridded
    # value at a few cells against it (the file's y axis is ascending; ours descends).
    for lat, lon in ((88.0, 0.0), (75.0, 170.0), (72.0, -150.0), (80.0, 40.0)):
        row, col = grid.index_of(lat, lon)
        x, y = to_xy(lon, lat)
        r = np.hypot(grid.x[col], grid.y[row])
        edge = 2.0e6 + 4.0e5 * np.cos(2 * np.pi * (DAYS[0].timetuple().tm_yday - 60) / 365.25)
        expected = np.clip((edge + 5.0e5 - r) / 1.0e6, 0, 1)
        assert values[row, col] == pytest.approx(expected, abs=0.03), (lat, lon)
    row, col = grid.index_of(89.99, 0.0)  # the pole hole is filled from its surroundings
    assert np.isfinite(values[row, col]) and values[row, col] > 0.9
    assert any("pole hole" in w for w in meta["warnings"])


def test_a_second_run_transfers_nothing_and_says_no_new_data(roots, site, tmp_path):
    for day in DAYS:
        bremen_file(site, day)
    env = env_for(roots, live_config(tmp_path, site.url()))
    assert pull(env).exit_code == 0
    site.hits.clear()
    before = tree_digest(roots.data)
    again = pull(env, "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["status"] == "no_new_data" and summary["bytes_transferred"] == 0 and summary["skipped"] == 2
    # a HEAD per pulled day; the days not yet published are asked again (404, no body)
    assert site.body_bytes() == 0 and all(h.method == "HEAD" or h.status == 404 for h in site.hits)
    assert tree_digest(roots.data) == before


def test_a_changed_upstream_file_is_pulled_again_and_only_that_one(roots, site, tmp_path):
    for day in DAYS:
        bremen_file(site, day)
    env = env_for(roots, live_config(tmp_path, site.url()))
    assert pull(env).exit_code == 0
    changed = bremen_file(site, DAYS[1], z_attrs={"comment": "reprocessed"})
    import os

    os.utime(changed, (changed.stat().st_atime + 10, changed.stat().st_mtime + 10))
    site.hits.clear()
    result = pull(env, "--json")
    summary = json.loads(result.stdout)
    assert summary["written"] + summary["unchanged"] == 1 and summary["skipped"] == 1
    gets = [h for h in site.hits if h.method == "GET" and h.status != 404]  # 404s: the days not published yet
    assert len(gets) == 1 and gets[0].path.endswith(f"{DAYS[1]:%Y%m%d}-v5.4.nc") and "If-None-Match" in gets[0].headers


def test_flaky_server_500s_truncated_and_slow_bodies_are_retried(roots, site, tmp_path):
    for day in DAYS:
        bremen_file(site, day)
    site.fail(f"{BREMEN}/{DAYS[0]:%Y}/asi-AMSR2-n6250-{DAYS[0]:%Y%m%d}-v5.4.nc", "500", "truncate", "503")
    site.fail(f"{BREMEN}/{DAYS[1]:%Y}/asi-AMSR2-n6250-{DAYS[1]:%Y%m%d}-v5.4.nc", "slow")
    site.slow_s = 1.5
    env = env_for(roots, live_config(tmp_path, site.url(), http={"timeout_s": 0.5}))
    result = pull(env)
    assert result.exit_code == 0, result.output
    assert "pulled 2 new" in result.stdout
    log = (roots.outputs / "logs" / "ingest.nrt.pull.log").read_text()
    assert "HTTP 500" in log and "truncated body" in log and "HTTP 503" in log and "Timeout" in log
    assert not list(roots.data.rglob(".tmp-*"))


def test_a_dead_server_fails_the_item_keeps_the_rest_and_alerts(roots, site, tmp_path):
    for day in DAYS:
        bremen_file(site, day)
    site.fail(f"{BREMEN}/{DAYS[1]:%Y}/asi-AMSR2-n6250-{DAYS[1]:%Y%m%d}-v5.4.nc", *["500"] * 10)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = pull(env)
    assert result.exit_code == 1
    assert f"ice.sic {DAYS[1]} from bremen-asi-amsr2" in result.stderr and "HTTP 500" in result.stderr
    assert "1 written and kept" in result.stderr and "Traceback" not in result.output
    assert sidecar(roots, DAYS[0])["synthetic"] is False
    (alert,) = (roots.outputs / "alerts").glob("*_error_ingest.nrt.pull.json")
    assert "bremen-asi-amsr2" in json.loads(alert.read_text())["why"]


def test_today_not_published_is_not_yet_available_and_a_gap_upstream_is_a_warning(roots, site, tmp_path):
    today = utc_now().date()
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run_command("ingest.nrt.pull", "--ym", f"{today:%Y%m}", "--since", today.isoformat(), "--what", "ice.sic",
                         env=env)
    assert result.exit_code == 0, result.output
    assert "pulled 0 new" in result.stdout and "not yet available" in result.stdout and "no_new_data" in result.stdout
    assert not list((roots.outputs / "alerts").glob("*.json"))

    # A day long published that the provider never had (Bremen lacks e.g. 2013-05-11..13): a
    # warning, the run goes on and succeeds.
    bremen_file(site, DAYS[1])

    def edit(available):
        available["bremen-asi-amsr2"]["available_after_days"] = 0  # only today may be unpublished

    env = env_for(roots, live_config(tmp_path / "gap", site.url(), edit=edit))
    result = pull(env)
    assert result.exit_code == 0, result.output
    assert "pulled 1 new" in result.stdout and "missing upstream" in result.stdout
    record = json.loads(max((roots.outputs / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns).read_text())
    assert any(f"ice.sic {DAYS[0]}: bremen-asi-amsr2 does not have it" in w for w in record["warnings"])


@pytest.mark.parametrize("variant, message", [
    ({"variable": "ice"}, "found variables ice, polar_stereographic; expected a variable 'z'"),
    ({"z_attrs": {"units": "1"}}, "in units '1'"),
    ({"z_attrs": {"actual_range": np.array([0.0, 1.0], dtype=np.float32)}}, "declaring a range 0..1"),
    ({"shape_step": 2}, "of shape (896, 608)"),
])
def test_an_unexpected_file_is_refused_saying_what_was_found_and_expected(roots, site, tmp_path, variant, message):
    bremen_file(site, DAYS[0], **variant)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.sic", env=env)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "refused and nothing was written" in result.stderr
    assert not (roots.data / "env" / "ice.sic").exists()
    assert not list((roots.data / "cache").rglob("*.nc"))


def test_an_older_bremen_file_on_epsg_3411_is_accepted(roots, site, tmp_path):
    bremen_file(site, DAYS[0], ellipsoid="hughes")
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.sic", env=env)
    assert result.exit_code == 0, result.output
    assert "6378273" in str(xr.open_dataset(next((roots.data / "env").rglob(f"ice_sic_{DAYS[0]:%Y%m%d}.nc")))["sic"].attrs)


def test_osi_saf_through_the_source_override(roots, site, tmp_path):
    for day in DAYS:
        path = site.root / OSISAF / f"{day:%Y}" / f"{day:%m}" / f"ice_conc_nh_polstere-100_multi_{day:%Y%m%d}1200.nc"
        path.parent.mkdir(parents=True, exist_ok=True)
        osisaf_conc(path, day)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = pull(env, "--source", "ice=osisaf-ice-conc")
    assert result.exit_code == 0, result.output
    meta = sidecar(roots, DAYS[0])
    assert meta["params"]["source_name"] == "osisaf-ice-conc" and "ice_conc_nh_polstere" in meta["inputs"][0]["source_url"]
    values = sic(roots, DAYS[0])
    row, col = Grid.from_km(25).index_of(88.0, 0.0)
    assert values[row, col] == pytest.approx(1.0, abs=0.02)


def test_dry_run_lists_every_item_and_touches_no_disk(roots, site, tmp_path):
    bremen_file(site, DAYS[0])
    env = env_for(roots, live_config(tmp_path, site.url()))
    assert pull(env).exit_code == 0
    bremen_file(site, DAYS[1])
    before = tree_digest(roots.data) + tree_digest(roots.outputs)
    site.hits.clear()
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.sic", "--dry-run",
                         env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(str(DAYS[0]) in line and "[unchanged]" in line for line in lines)
    assert any(str(DAYS[1]) in line and "[new]" in line and f"asi-AMSR2-n6250-{DAYS[1]:%Y%m%d}-v5.4.nc" in line
               and f"env/ice.sic/3413-25km/{DAYS[1]:%Y/%m}/ice_sic_{DAYS[1]:%Y%m%d}.nc" in line for line in lines)
    assert any("[not-yet]" in line for line in lines)
    assert tree_digest(roots.data) + tree_digest(roots.outputs) == before
    assert {h.method for h in site.hits} == {"HEAD"} and site.body_bytes() == 0
    as_json = json.loads(run_command("ingest.nrt.pull", "--ym", "202611", "--since", "2026-11-29", "--what", "ice.sic",
                                     "--dry-run", "--json", env=env).stdout)
    assert as_json["dry_run"] is True and as_json["items"][0]["change"] in ("new", "not-yet")


def test_parallel_jobs_write_the_same_bytes_as_a_serial_run(site, tmp_path):
    from .conftest import make_roots

    days = [DAYS[0] - timedelta(days=n) for n in range(min(4, DAYS[0].day))] + [DAYS[1]]
    for day in days:
        bremen_file(site, day)
    config = live_config(tmp_path, site.url())
    digests = []
    for jobs in ("1", "4"):
        made = make_roots(tmp_path / f"jobs{jobs}")
        result = run_command("ingest.nrt.pull", "--ym", YM, "--since", min(days).isoformat(), "--what", "ice.sic",
                             "--jobs", jobs, env=env_for(made, config, SOURCE_DATE_EPOCH="1790000000"))
        assert result.exit_code == 0, result.output
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in (made.data / "env").rglob("*_adv_v1.nc")})
    assert digests[0] == digests[1] and len(digests[0]) == len(days)


@pytest.mark.parametrize("args, expected", [
    (["--source", "ice=nowhere"], "unknown source 'nowhere'"),
    (["--source", "snow=bremen-asi-amsr2"], "unknown layer 'snow'"),
    (["--source", "ice"], "expected LAYER=NAME"),
    (["--source", "ice=cmems-arctic-wave"], "serves wave.hs, not ice.sic"),
    (["--jobs", "0"], "0 is not in the range"),
])
def test_bad_source_options_exit_2_and_write_nothing(roots, site, tmp_path, args, expected):
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = pull(env, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert roots.files() == []


def test_a_source_config_with_a_missing_key_exits_2_naming_it(roots, site, tmp_path):
    def edit(available):
        del available["bremen-asi-amsr2"]["url"]

    env = env_for(roots, live_config(tmp_path, site.url(), edit=edit))
    result = pull(env)
    assert result.exit_code == 2
    assert "available.bremen-asi-amsr2: 'url' is a required property" in result.stderr
    assert roots.files() == []


def test_osi_saf_ice_type_becomes_polaris_stages_by_majority(roots, site, tmp_path):
    day = DAYS[0]
    path = site.root / f"thredds.met.no/thredds/fileServer/osisaf/met.no/ice/type/{day:%Y/%m}" / \
        f"ice_type_nh_polstere-100_multi_{day:%Y%m%d}1200.nc"
    path.parent.mkdir(parents=True)
    osisaf_type(path, day)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.type", env=env)
    if "unknown layer 'ice.type'" in result.output:
        pytest.skip("the ice.type layer is not in this tree yet")
    assert result.exit_code == 0, result.output
    file = next((roots.data / "env" / "ice.type").rglob(f"ice_type_{day:%Y%m%d}.nc"))
    with xr.open_dataset(file) as ds:
        stage = ds["stage"].squeeze("time").values
    grid = Grid.from_km(25)
    assert stage.dtype == np.int8
    assert stage[grid.index_of(89.0, 0.0)] == 11  # multi-year -> heavy multi-year (the product does not tell light)
    assert stage[grid.index_of(80.0, 150.0)] == 8  # first-year -> thick first-year (conservative)
    assert stage[grid.index_of(60.0, -30.0)] == 0  # open water -> ice free
