"""Throughput and scale (issue 9): per-day work in worker processes, bytes as a serial run's."""

from __future__ import annotations

import hashlib
import json

import pytest

from arcticroute.parallel import TaskResult, call_task, default_jobs, resolve_jobs, run_tasks

from .conftest import make_roots, run_command

YM, SINCE = "202609", "2026-09-25"
# Files carry their date_created; with SOURCE_DATE_EPOCH set (the reproducible-builds convention)
# every run writes the same one, so runs of the same inputs compare byte for byte.
REPRODUCIBLE = {"SOURCE_DATE_EPOCH": "1790000000"}


def data_digests(root) -> dict[str, str]:
    """sha256 of every data file (versions and the static grid), by path; sidecars and links left
    out (they carry run ids and times)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.nc")) if not p.is_symlink()}


def chain(made, *extra: str) -> None:
    for name, *args in (("ingest.nrt.pull", "--ym", YM, "--since", SINCE), ("risk.fuse", "--ym", YM)):
        result = run_command(name, *args, *extra, env={**made.env, **REPRODUCIBLE})
        assert result.exit_code == 0, f"{name} {extra}: {result.output}"


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory):
    runs = {}
    for label, extra in (("serial", ("--jobs", "1")), ("jobs2", ("--jobs", "2")),
                         ("dask", ("--executor", "dask", "--jobs", "2"))):
        made = make_roots(tmp_path_factory.mktemp(label))
        chain(made, *extra)
        runs[label] = made
    return runs


def test_serial_jobs_2_and_a_dask_cluster_write_the_same_bytes(serial_and_parallel):
    """--executor dask runs on a real distributed.LocalCluster of 2 worker processes."""
    serial, parallel, dask = (data_digests(serial_and_parallel[k].data) for k in ("serial", "jobs2", "dask"))
    assert len(serial) > 20 and serial == parallel == dask
    assert any("risk_202609" in p for p in serial) and any("incidents" in p for p in serial)
    for made in serial_and_parallel.values():
        assert run_command("catalog.verify", env=made.env).exit_code == 0
    log = (serial_and_parallel["dask"].outputs / "logs" / "risk.fuse.log").read_text()
    assert "dask: 6 task(s) on tcp://" in log


def test_the_parent_alone_records_the_run_and_verify_passes(serial_and_parallel):
    made = serial_and_parallel["jobs2"]
    assert run_command("catalog.verify", env=made.env).exit_code == 0
    records = [json.loads(p.read_text()) for p in sorted((made.outputs / "runs").glob("*.json"))]
    fuse = next(r for r in records if r["command"] == "risk.fuse")
    assert fuse["status"] == "ok" and len([a for a in fuse["artifacts"] if "daily" in a["logical_id"]]) == 6
    log = (made.outputs / "logs" / "risk.fuse.log").read_text()
    assert log.count("written") >= 6
    assert not list(made.data.rglob(".tmp-*"))


def test_a_second_parallel_run_does_nothing(serial_and_parallel):
    made = serial_and_parallel["jobs2"]
    before = data_digests(made.data)
    result = run_command("risk.fuse", "--ym", YM, "--jobs", "2", env=made.env)
    assert result.exit_code == 0 and "0 days written" in result.stdout, result.output
    assert data_digests(made.data) == before


def test_a_refused_input_in_a_worker_is_named_and_the_other_days_are_fused(tmp_path):
    made = make_roots(tmp_path)
    run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice", env=made.env)
    victim = next(p for p in (made.data / "env" / "ice.sic").rglob("*_20260927_adv_v1.nc"))
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    result = run_command("risk.fuse", "--ym", YM, "--jobs", "2", env=made.env)
    assert result.exit_code == 1 and "ar://env/ice.sic@20260927" in result.stderr, result.output
    assert "just repair" in result.stderr
    fused = sorted(p.name for p in (made.data / "risk").rglob("risk_202609??_adv_v1.nc"))
    assert len(fused) == 5 and not any("20260927" in name for name in fused)
    assert not list(made.data.rglob(".tmp-*"))


def _square(value):
    if value == 3:
        raise ValueError("three")
    return value * value


def test_run_tasks_returns_every_result_and_error_in_either_mode():
    for jobs in (1, 2):
        results = dict(run_tasks(_square, [1, 2, 3, 4], jobs=jobs))
        assert {k: v.value for k, v in results.items() if k != 3} == {1: 1, 2: 4, 4: 16}
        with pytest.raises(RuntimeError, match="ValueError: three"):
            results[3].reraise()


def test_a_domain_error_crosses_the_process_boundary_with_its_hint():
    from arcticroute.errors import DiskFullError

    def boom(_):
        raise DiskFullError("no space", hint="just gc")

    result = call_task(boom, None)
    assert isinstance(result, TaskResult)
    with pytest.raises(DiskFullError) as caught:
        result.reraise()
    assert caught.value.hint == "just gc"


def test_jobs_default_to_the_cores():
    assert resolve_jobs(None) == default_jobs() >= 1
    assert resolve_jobs(3) == 3


@pytest.mark.parametrize("case", ["none", "one", "scattered", "clustered", "at_the_edges"])
def test_the_incident_kernel_equals_the_whole_grid_filter_bit_for_bit(case):
    import numpy as np
    from scipy.ndimage import gaussian_filter

    from arcticroute.risk.fuse import incident_density

    rng = np.random.default_rng(7)
    counts = np.zeros((448, 304), dtype=np.float32)
    if case == "one":
        counts[200, 150] = 1
    elif case == "scattered":
        counts[rng.integers(0, 448, 40), rng.integers(0, 304, 40)] = rng.integers(1, 3, 40)
    elif case == "clustered":
        counts[200:210, 100:104] = 1
        counts[20, 20] = 2
    elif case == "at_the_edges":
        counts[0, 0] = counts[447, 303] = counts[0, 303] = counts[447, 150] = 1
    for sigma_km, resolution_m in ((100.0, 25_000.0), (100.0, 6_250.0), (30.0, 25_000.0)):
        sigma = sigma_km * 1000.0 / resolution_m
        expected = gaussian_filter(counts.astype(np.float64), sigma=sigma, mode="constant")
        got = incident_density(counts, sigma_km, resolution_m)
        assert got.dtype == np.float64 and np.array_equal(got, expected), (case, sigma_km, resolution_m)


def test_the_streaming_monthly_summary_equals_nanmean_and_nanmax_bit_for_bit():
    import warnings

    import numpy as np

    from arcticroute.risk.fuse import monthly_mean_max

    rng = np.random.default_rng(3)
    days = rng.random((31, 60, 40)).astype(np.float32)
    days[:, :5, :] = np.nan  # land: NaN every day
    days[rng.random(days.shape) < 0.05] = np.nan  # and some missing values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected_mean, expected_max = np.nanmean(days, axis=0), np.nanmax(days, axis=0)
    mean, peak = monthly_mean_max(iter(days))
    assert mean.dtype == expected_mean.dtype
    assert np.array_equal(mean, expected_mean, equal_nan=True) and np.array_equal(peak, expected_max, equal_nan=True)


def test_the_land_mask_built_in_blocks_equals_global_land_mask(monkeypatch):
    import numpy as np
    from global_land_mask import globe

    from arcticroute import landmask
    from arcticroute.grid import Grid

    grid = Grid.from_km(25)
    landmask.land_mask.cache_clear()
    blocks = landmask.land_mask(grid)

    class WholeGlobe:
        def __init__(self, lat_min):
            pass

        @staticmethod
        def is_land(lat, lon):
            return globe.is_land(lat, lon)

    landmask.land_mask.cache_clear()
    monkeypatch.setattr(landmask, "_ArcticMask", WholeGlobe)
    whole = landmask.land_mask(grid)
    landmask.land_mask.cache_clear()
    assert np.array_equal(blocks, whole) and 0 < blocks.sum() < blocks.size


def test_daily_risk_stores_the_risk_in_tiles_with_its_precision(serial_and_parallel):
    import netCDF4
    import numpy as np

    made = serial_and_parallel["serial"]
    daily = sorted((made.data / "risk").rglob("risk_202609??_adv_v1.nc"))[-1]
    with netCDF4.Dataset(daily) as ds:
        assert not [name for name in ds.variables if name.startswith("hazard_")]  # risk.store_hazards: [] by default
        risk = ds["risk"]
        assert risk.chunking() == [1, 256, 256] and risk.filters()["shuffle"] and risk.filters()["complevel"] == 1
        # 4 decimal digits: packed integers of 2^-14 (CF 8.1), NaN as the fill value
        assert risk.dtype == np.int16 and risk.scale_factor == np.float32(2.0 ** -14) and risk._FillValue == -32768
        values = risk[:].filled(np.nan)
    finite = values[np.isfinite(values)]
    assert finite.size and finite.min() >= 0 and finite.max() <= 1
    sic = sorted((made.data / "env" / "ice.sic").rglob("ice_sic_202609??_adv_v1.nc"))[-1]
    with netCDF4.Dataset(sic) as ds:
        assert ds["sic"].scale_factor == np.float32(2.0 ** -10) and ds["sic"].chunking() == [1, 256, 256]


def test_configured_hazards_are_stored_and_an_older_layout_is_still_read(tmp_path):
    import numpy as np
    import xarray as xr

    from arcticroute.grid import Grid
    from arcticroute.layers import grid_dataset, read_variables, write_netcdf

    grid = Grid.from_km(25)
    values = np.linspace(0, 1, grid.ny * grid.nx, dtype=np.float32).reshape(grid.shape)
    old = tmp_path / "old.nc"  # as format 1 wrote it: one whole-grid chunk, zlib 4, full precision, hazards beside
    grid_dataset(grid, {"risk": (values, {}), "hazard_ice": (values, {})}, {}).to_netcdf(
        old, engine="netcdf4", encoding={"risk": {"zlib": True, "complevel": 4}, "hazard_ice": {"zlib": True, "complevel": 4}})
    new = tmp_path / "new.nc"
    write_netcdf(grid_dataset(grid, {"risk": (values, {})}, {}), new, digits={"risk": 4})
    for path in (old, new):
        with xr.open_dataset(path) as ds:
            assert ds["risk"].dtype == np.float32 and np.nanmax(np.abs(ds["risk"].values - values)) <= 1e-4

    meta = {"logical_id": "ar://risk/daily@20260901?grid=3413-25km", "version": 1, "root": "data", "path": "old.nc",
            "sha256": hashlib.sha256(old.read_bytes()).hexdigest(), "size_bytes": old.stat().st_size}
    read = read_variables({"data": tmp_path}, meta, ("risk", "hazard_ice"))
    assert np.array_equal(read["risk"], values) and np.array_equal(read["hazard_ice"], values)


def test_the_risk_digest_names_the_storage_format():
    from arcticroute.layers import FORMAT_VERSION
    from arcticroute.risk.fuse import _digest

    assert FORMAT_VERSION >= 2
    inputs = [{"logical_id": "ar://env/ice.sic@20260901?grid=3413-25km", "sha256": "0" * 64}]
    legacy = json.dumps({"inputs": [[i["logical_id"], i["sha256"]] for i in inputs], "params": {}, "grid": "g"},
                        sort_keys=True)
    assert _digest(inputs, {}, "g") != hashlib.sha256(legacy.encode()).hexdigest()


# -- backfill -----------------------------------------------------------------------------------

def test_months_between_and_progress_are_pure():
    from arcticroute.backfill import Progress, months_between
    from arcticroute.errors import BadInputError

    assert months_between((2025, 11), (2026, 2)) == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    with pytest.raises(BadInputError):
        months_between((2026, 2), (2026, 1))
    now = [100.0]
    progress = Progress(60, clock=lambda: now[0])
    assert progress.line("x").startswith("backfill 0/60 days, 0.0 days/min, ETA ?")
    now[0] += 60
    progress.advance(20)
    assert progress.line("2026-01 fuse") == "backfill 20/60 days, 20.0 days/min, ETA 00:02:00  2026-01 fuse"


def test_backfill_serial_jobs_and_dask_give_the_same_bytes(tmp_path):
    digests = {}
    for label, extra in (("serial", ("--jobs", "1")), ("jobs2", ("--jobs", "2")),
                         ("dask", ("--executor", "dask", "--jobs", "2"))):
        made = make_roots(tmp_path / label)
        result = run_command("ingest.backfill", "--from", "2026-08", "--to", "2026-09", "--what", "ice,incidents",
                             *extra, env={**made.env, **REPRODUCIBLE})
        assert result.exit_code == 0, result.output
        assert "backfill 2026-08..2026-09: 2 months, 61 days; pulled 183 new" in result.stdout, result.stdout
        assert "fused 61 days" in result.stdout
        assert run_command("catalog.verify", env=made.env).exit_code == 0
        digests[label] = data_digests(made.data)
    assert len(digests["serial"]) > 180 and digests["serial"] == digests["jobs2"] == digests["dask"]
    again = run_command("ingest.backfill", "--from", "202608", "--to", "202609", "--what", "ice,incidents",
                        "--json", env=made.env)
    summary = json.loads(again.stdout)
    assert summary["pulled"] == 0 and summary["fused"] == 0 and summary["status"] == "no_new_data"


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_killed_backfill_resumes_and_does_only_what_is_missing(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    made = make_roots(tmp_path / "killed")
    args = ["--from", "2026-08", "--to", "2026-09", "--what", "ice,incidents", "--jobs", "2"]
    script = Path(__file__).resolve().parents[1] / "scripts" / "ingest_backfill.py"
    process = subprocess.Popen([sys.executable, str(script), *args], env={**__import__("os").environ, **made.env, **REPRODUCIBLE},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(made.data.glob("risk/*/2026/08/risk_202608??_adv_v1.nc"))) < 10:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the backfill finished before it could be killed"
    # done = published: a canonical link points at the version (one whose sidecar or link was not
    # written yet when the process died is not done; the resumed run publishes it under its number)
    done = {os.readlink(p) for p in made.data.rglob("*.nc") if p.is_symlink()}

    again = run_command("ingest.backfill", *args, "--json", env={**made.env, **REPRODUCIBLE})
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    fused_before = len([n for n in done if n.startswith("risk_2026") and len(n) == len("risk_20260801_adv_v1.nc")])
    assert summary["fused"] == 61 - fused_before and summary["fuse_unchanged"] == fused_before
    assert summary["pulled"] + summary["pull_skipped"] == 183
    assert not any(p.name.endswith("_adv_v2.nc") for p in made.data.rglob("*.nc"))  # nothing done twice
    assert not list(made.data.rglob(".tmp-*"))
    assert run_command("catalog.verify", env=made.env).exit_code == 0
    records = [json.loads(p.read_text()) for p in (made.outputs / "runs").glob("*.json")]
    assert sorted(r["status"] for r in records if r["command"] == "ingest.backfill") == ["interrupted", "ok"]

    fresh = make_roots(tmp_path / "fresh")
    assert run_command("ingest.backfill", *args, env={**fresh.env, **REPRODUCIBLE}).exit_code == 0
    assert data_digests(fresh.data) == data_digests(made.data)
