"""The netCDF artifacts as other tools read them: CF-1.8 clean (IOOS compliance-checker), ACDD
discovery attributes, EPSG:3413 and the exact geotransform in GDAL and rioxarray, a month of
daily files concatenating along time in xarray, and files written before format 3 still read."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from arcticroute.grid import X_MIN, Y_MAX, Grid

from .conftest import config_copy, make_roots, run_command
from .replicas.helpers import loopback_only  # noqa: F401 - a fixture: the live test dials loopback only
from .test_deploy_tools import need, problem

GRID = "3413-25km"
DAY = date(2026, 9, 29)
# one file of every artifact kind, and the variable GDAL opens in it
KINDS = {
    "static-grid": (f"static/grid_{GRID}.nc", "land"),
    "ice.sic": (f"env/ice.sic/{GRID}/2026/09/ice_sic_{DAY:%Y%m%d}.nc", "sic"),
    "ice.type": (f"env/ice.type/{GRID}/2026/09/ice_type_{DAY:%Y%m%d}.nc", "stage"),
    "wave.hs": (f"env/wave.hs/{GRID}/2026/09/wave_hs_{DAY:%Y%m%d}.nc", "hs"),
    "ais.density": (f"env/ais.density/{GRID}/2026/09/ais_density_{DAY:%Y%m%d}.nc", "density"),
    "incidents": (f"env/incidents/{GRID}/2026/09/incidents_{DAY:%Y%m%d}.nc", "count"),
    "risk-daily": (f"risk/{GRID}/2026/09/risk_{DAY:%Y%m%d}.nc", "risk"),
    "risk-monthly": (f"risk/{GRID}/2026/09/risk_202609.nc", "risk_mean"),
}
ACDD_DISCOVERY = ("title", "summary", "keywords", "id", "naming_authority", "date_created", "history", "source",
                  "institution", "license", "time_coverage_start", "time_coverage_end", "geospatial_lat_min",
                  "geospatial_lat_max", "geospatial_lon_min", "geospatial_lon_max", "creator_name", "project")
# variables no CF standard name fits (docs/artifacts.md, "What the checkers still say")
NO_STANDARD_NAME = {"risk", "risk_mean", "risk_max", "probability", "scale", "density", "count",
                    "incident_severity", "incident_type", "incident_source"}


def compliance(path: Path, test: str, tmp_path: Path) -> dict:
    """The IOOS compliance-checker's JSON result of ``test`` (e.g. ``cf:1.8``) on ``path``."""
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    out = tmp_path / f"{path.stem}-{test.replace(':', '-')}.json"
    ComplianceChecker.run_checker(str(path), [test], verbose=0, criteria="normal", output_filename=str(out),
                                  output_format="json")
    return json.loads(out.read_text())[test]


def failures(result: dict) -> list[str]:
    return [f"{c['name']}: {m}" for level in ("high_priorities", "medium_priorities", "low_priorities")
            for c in result[level] for m in c["msgs"]]


@pytest.mark.parametrize("kind", KINDS)
def test_every_artifact_kind_passes_every_cf_1_8_check(summer_month, kind, tmp_path):
    result = compliance(summer_month.data / KINDS[kind][0], "cf:1.8", tmp_path)
    assert failures(result) == [] and result["scored_points"] == result["possible_points"] > 100, failures(result)


@pytest.mark.parametrize("kind", KINDS)
def test_every_artifact_kind_carries_the_acdd_discovery_attributes(summer_month, kind, tmp_path):
    import xarray as xr

    path = summer_month.data / KINDS[kind][0]
    with xr.open_dataset(path) as ds:
        attrs = ds.attrs
    missing = [key for key in ACDD_DISCOVERY if key not in attrs or str(attrs[key]).strip() == ""]
    if kind == "static-grid":  # time-invariant: no time coverage
        missing = [key for key in missing if not key.startswith("time_coverage")]
    assert not missing
    assert attrs["Conventions"] == "CF-1.8, ACDD-1.3"
    assert attrs["synthetic"] == ("false" if kind == "static-grid" else "true")  # land data is real
    if kind != "static-grid":  # demo data says so where a person reads it first
        assert "SYNTHETIC DEMO DATA, not for navigation" in attrs["title"] and attrs["summary"].startswith("SYNTHETIC")
        assert attrs["license"].startswith("no third-party data")
    assert attrs["history"].endswith(")") and attrs["date_created"] in attrs["history"]
    # what the ACDD checker still reports is only what docs/artifacts.md explains
    result = compliance(path, "acdd:1.3", tmp_path)
    assert result["high_count"] == len(_explained_missing_standard_names(result)), result["high_priorities"]
    for check in result["medium_priorities"] + result["low_priorities"]:
        if check["name"] == "Global Attributes":
            absent = {m.removesuffix(" not present") for m in check["msgs"]}
            allowed = NOT_OURS_TO_SAY | ({a for a in ACDD_DISCOVERY if a.startswith("time_coverage")}
                                         | {"time_coverage_duration", "time_coverage_resolution"}
                                         if kind == "static-grid" else set())
            assert absent <= allowed, absent - allowed
        else:
            assert check["name"] == "time_coverage_extents_match" or not check["msgs"], check


# ACDD attributes only the operator can fill (who publishes, how to reach them), and vertical
# coverage, which a sea-surface field has none of (docs/artifacts.md, "What the checkers still say")
NOT_OURS_TO_SAY = {"creator_url", "creator_email", "publisher_name", "publisher_url", "publisher_email",
                   "geospatial_vertical_min", "geospatial_vertical_max", "geospatial_vertical_positive",
                   "geospatial_bounds_vertical_crs"}


def _explained_missing_standard_names(result: dict) -> list[str]:
    explained = []
    for check in result["high_priorities"]:  # name: 'variable "risk" missing the following attributes:'
        variable = check["name"].split('"')[1] if check["name"].startswith("variable") else None
        if check["msgs"] == ["standard_name"] and variable in NO_STANDARD_NAME:
            explained.append(variable)
        elif check["msgs"]:
            raise AssertionError(f"unexplained ACDD finding: {check['name']} {check['msgs']}")
    return explained


@pytest.mark.parametrize("kind", KINDS)
def test_gdal_and_rioxarray_identify_epsg_3413_and_the_exact_geotransform(summer_month, kind):
    import rasterio
    import rioxarray  # noqa: F401 - registers the .rio accessor
    import xarray as xr
    from affine import Affine

    relpath, variable = KINDS[kind]
    path = summer_month.data / relpath
    grid = Grid.from_km(25)
    expected = Affine(grid.resolution_m, 0.0, X_MIN, 0.0, -grid.resolution_m, Y_MAX)
    with rasterio.open(f'NETCDF:"{path}":{variable}') as raster:
        assert raster.crs.to_epsg(confidence_threshold=100) == 3413  # full confidence, not a 70 % guess
        assert raster.transform == expected and raster.shape == grid.shape and raster.count == 1
    with xr.open_dataset(path) as ds:
        assert ds.rio.crs.to_epsg() == 3413 and ds[variable].rio.crs.to_epsg() == 3413
        assert ds[variable].rio.transform() == expected
    import pyproj

    with xr.open_dataset(path) as ds:
        assert pyproj.CRS.from_cf(ds["crs"].attrs).to_epsg() == 3413


@pytest.mark.parametrize("kind", ["ice.sic", "risk-daily", "static-grid"])
def test_gdalsrsinfo_matches_epsg_3413_at_full_confidence(summer_month, kind):
    need("gdal", problem("gdal"))
    relpath, variable = KINDS[kind]
    found = subprocess.run(["gdalsrsinfo", "-e", f'NETCDF:"{summer_month.data / relpath}":{variable}'],
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert "EPSG:3413" in found.stdout and "Confidence" not in found.stdout, found.stdout


def test_a_month_of_daily_files_opens_as_one_time_series(summer_month):
    import xarray as xr

    folder = summer_month.data / "env" / "ice.sic" / GRID / "2026" / "09"
    files = sorted(folder.glob("ice_sic_????????.nc"))  # the canonical names, one per day
    with xr.open_mfdataset(files) as ds:
        days = [str(t)[:10] for t in ds["time"].values]
        assert days == [f.stem[-8:-4] + "-" + f.stem[-4:-2] + "-" + f.stem[-2:] for f in files] and len(days) >= 3
        assert ds["sic"].dims == ("time", "y", "x") and ds["sic"].attrs["standard_name"] == "sea_ice_area_fraction"
        bounds = ds["time_bnds"].values
        assert (bounds[:, 1] - bounds[:, 0] == np.timedelta64(1, "D")).all()
        assert ds["time"].values[0] == bounds[0, 0] + np.timedelta64(12, "h")
        assert ds["lat"].dims == ("y", "x") and ds["lat"].attrs["units"] == "degrees_north"


def test_variables_carry_standard_names_units_flags_and_cell_methods(summer_month):
    import netCDF4

    def variables(kind):
        return netCDF4.Dataset(summer_month.data / KINDS[kind][0])

    with variables("ice.sic") as ds:
        assert ds["sic"].standard_name == "sea_ice_area_fraction" and ds["sic"].units == "1"
        # packed (CF 8.1): the valid range in the packed type, integers of 2^-10 (3 decimal digits)
        sic = ds["sic"]
        assert sic.dtype == sic.valid_range.dtype == sic._FillValue.dtype == np.int16
        assert list(sic.valid_range) == [0, 1024] and sic.scale_factor == np.float32(2.0 ** -10)
        assert "_FillValue" not in ds["x"].ncattrs() and "_FillValue" not in ds["lat"].ncattrs()
        assert (ds["lat"].dtype, ds["lon"].dtype) == (np.int16, np.int32)
        assert ds["lat"].scale_factor == ds["lon"].scale_factor == 1 / 1024 and ds["lat"].add_offset == 60.0
        assert ds["time"].units == "days since 1970-01-01 00:00:00" and ds["time"].calendar == "standard"
    with variables("ice.type") as ds:
        stage = ds["stage"]
        assert stage.standard_name == "sea_ice_classification" and stage.flag_values.dtype == np.int8
        assert len(stage.flag_meanings.split()) == len(stage.flag_values) == 13  # 0..11 and -1 unknown
    with variables("wave.hs") as ds:
        assert ds["hs"].standard_name == "sea_surface_wave_significant_height" and ds["hs"].units == "m"
    with variables("ais.density") as ds:
        assert ds["density"].units == "h d-1"
    with variables("static-grid") as ds:
        land = ds["land"]
        assert land.dtype == np.int8 and land.standard_name == "land_binary_mask"
        assert list(land.flag_values) == [0, 1] and land.flag_meanings == "sea land"
        assert ds["scale"].units == "1" and "comment" not in ds["lat"].ncattrs()  # the static grid's are exact
    with variables("risk-monthly") as ds:
        assert ds["risk_mean"].cell_methods.startswith("time: mean (interval: 1 day")
        assert ds["risk_max"].cell_methods.startswith("time: maximum")
        days = netCDF4.num2date(ds["day"][:], ds["day"].units)
        assert [d.day for d in days] == [28, 29, 30]
        low, high = ds["time_bnds"][0]
        assert high - low == 3 and ds["time"][0] == (low + high) / 2


def test_incident_points_are_cf_point_data_beside_the_count(summer_month):
    import xarray as xr

    day = date(2026, 9, 28)  # the demo has three incidents that day (none on DAY)
    path = summer_month.data / f"env/incidents/{GRID}/2026/09/incidents_{day:%Y%m%d}.nc"
    with xr.open_dataset(path) as ds:
        assert int(ds["count"].sum()) == ds.sizes.get("incident", 0)
        assert ds.sizes["incident"] == 3  # the demo's incidents of that day
        times = ds["incident_time"].values
        assert np.issubdtype(times.dtype, np.datetime64)  # numeric, decoded by any CF reader
        assert all(str(t)[:10] == day.isoformat() for t in times)
        assert (times.astype("datetime64[s]") == times).all()  # whole seconds, as the source gave them
        assert ds["incident_type"].encoding["coordinates"] == "incident_time incident_lat incident_lon"
        assert ds["incident_lat"].attrs["standard_name"] == "latitude"


def test_the_latlon_of_every_file_can_be_left_to_the_static_grid(tmp_path):
    made = make_roots(tmp_path)
    config = config_copy(tmp_path / "config", {"latlon_in_every_file: true": "latlon_in_every_file: false"})
    env = {**made.env, "ARCTICROUTE_CONFIG_DIR": str(config)}
    result = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", "--what", "ice", env=env)
    assert result.exit_code == 0, result.output
    import xarray as xr

    sic = next((made.data / "env" / "ice.sic").rglob("ice_sic_20260930.nc"))
    with xr.open_dataset(sic) as ds:
        assert "lat" not in ds.variables and ds.rio.crs.to_epsg() == 3413
    assert failures(compliance(sic, "cf:1.8", tmp_path)) == []
    with xr.open_dataset(made.data / "static" / f"grid_{GRID}.nc") as ds:
        assert ds["lat"].dims == ("y", "x")


def test_files_written_before_format_3_are_still_read(tmp_path):
    """Format 2 files: no time axis, a crs data variable without WKT, land as uint8."""
    import hashlib

    import xarray as xr

    from arcticroute.layers import grid_dataset, read_variables, write_netcdf

    grid = Grid.from_km(25)
    values = np.linspace(0, 1, grid.ny * grid.nx, dtype=np.float32).reshape(grid.shape)
    land = (values > 0.9).astype(np.uint8)
    old = tmp_path / "old.nc"
    xr.Dataset({"sic": (("y", "x"), values, {"units": "1", "grid_mapping": "crs"}),
                "land": (("y", "x"), land), "crs": ((), np.int32(0), {"grid_mapping_name": "polar_stereographic"})},
               coords={"x": grid.x, "y": grid.y}, attrs={"Conventions": "CF-1.8", "date": "2026-09-29"}
               ).to_netcdf(old, engine="netcdf4")
    new = tmp_path / "new.nc"
    write_netcdf(grid_dataset(grid, {"sic": (values, {}), "land": (land.astype(np.int8), {})}, {},
                              coverage=(DAY, DAY)), new)

    def meta(path):
        return {"logical_id": f"ar://env/ice.sic@{DAY:%Y%m%d}?grid={GRID}", "version": 1, "root": "data",
                "path": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "size_bytes": path.stat().st_size}

    read_old = read_variables({"data": tmp_path}, meta(old), ("sic", "land"))
    read_new = read_variables({"data": tmp_path}, meta(new), ("sic", "land"))
    for read in (read_old, read_new):
        assert read["sic"].shape == grid.shape and np.array_equal(read["sic"], values)
        assert np.array_equal(read["land"].astype(bool), land.astype(bool))


def test_other_grids_and_stored_hazards_stay_cf_clean_with_their_own_geotransform(tmp_path):
    import rasterio
    from affine import Affine

    made = make_roots(tmp_path)
    config = config_copy(tmp_path / "config", {"store_hazards: []": "store_hazards: [ice, wave, incidents]"})
    env = {**made.env, "ARCTICROUTE_CONFIG_DIR": str(config), "ARCTICROUTE_GRID_KM": "12.5"}
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30"), ("risk.fuse", "--ym", "202609")):
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, result.output
    grid = Grid.from_km(12.5)
    risk = made.data / "risk" / grid.name / "2026" / "09" / "risk_20260930.nc"
    assert failures(compliance(risk, "cf:1.8", tmp_path)) == []
    with rasterio.open(f'NETCDF:"{risk}":hazard_ice') as raster:
        assert raster.crs.to_epsg(confidence_threshold=100) == 3413 and raster.shape == (896, 608)
        assert raster.transform == Affine(12500.0, 0.0, X_MIN, 0.0, -12500.0, Y_MAX)


def test_a_day_without_incidents_and_an_old_input_without_a_licence(tmp_path):
    from arcticroute.layers import layer_dataset, write_netcdf
    from arcticroute.risk.fuse import inputs_licence
    from arcticroute.sources.base import FetchResult
    from arcticroute.sources.synthetic import SyntheticSource

    grid = Grid.from_km(25)
    empty = FetchResult({}, None, points=[], attrs={"source": "a table with no incident that day"})
    dataset = layer_dataset("incidents", grid, DAY, empty, SyntheticSource("incidents", {}), command="test",
                            created="2026-11-29T00:00:00Z")
    path = tmp_path / "incidents.nc"
    write_netcdf(dataset, path)
    assert failures(compliance(path, "cf:1.8", tmp_path)) == []
    old = {"logical_id": "ar://env/ice.sic@20260901?grid=3413-25km", "params": {}}
    new = {"logical_id": "ar://env/wave.hs@20260901?grid=3413-25km", "params": {"license": "CC0"}}
    assert inputs_licence([new, new, old]) == (
        "CC0; unknown for inputs written before artifacts recorded their licence")


@pytest.mark.usefixtures("loopback_only")
def test_live_layers_state_their_source_and_licence(roots, tmp_path):
    import xarray as xr
    import yaml

    from .replicas.config import live_config
    from .replicas.helpers import DAYS, ReplicaSite, bremen_file, env_for, pull

    site = ReplicaSite(tmp_path / "site").start()
    try:
        for day in DAYS:
            bremen_file(site, day)
        config = live_config(tmp_path / "stated", site.url())
        licence = yaml.safe_load((config / "env.yaml").read_text())[
            "profiles"]["live"]["sources"]["available"]["bremen-asi-amsr2"]["license"]
        assert pull(env_for(roots, config)).exit_code == 0
        unstated = make_roots(tmp_path / "unstated")
        config = live_config(tmp_path / "unstated", site.url(),
                             edit=lambda available: available["bremen-asi-amsr2"].pop("license"))
        assert pull(env_for(unstated, config)).exit_code == 0
        fused = run_command("risk.fuse", "--ym", f"{DAYS[0]:%Y%m}", env=env_for(roots, live_config(
            tmp_path / "fuse", site.url())))
        assert fused.exit_code == 0, fused.output
    finally:
        site.stop()

    def attrs(made, relpath):
        with xr.open_dataset(next(made.data.rglob(relpath))) as ds:
            return ds.attrs

    sic = attrs(roots, f"ice_sic_{DAYS[0]:%Y%m%d}.nc")
    assert sic["license"] == licence and "Spreen" in licence
    assert sic["source"].startswith("http://127.0.0.1:") and sic["synthetic"] == "false"
    assert "SYNTHETIC" not in sic["title"] + sic["summary"] and "bremen-asi-amsr2" in sic["summary"]
    assert sic["source_title"]  # the provider file's own attributes are kept beside ours
    assert attrs(unstated, f"ice_sic_{DAYS[0]:%Y%m%d}.nc")["license"].startswith("not stated")
    risk = attrs(roots, f"risk_{DAYS[0]:%Y%m%d}.nc")
    assert risk["license"] == licence and f"ar://env/ice.sic@{DAYS[0]:%Y%m%d}" in risk["source"]
    meta = json.loads(next(roots.data.rglob(f"risk_{DAYS[0]:%Y%m%d}.nc.meta.json")).read_text())
    assert meta["params"]["license"] == licence


def test_the_source_attribute_never_carries_credentials():
    from arcticroute.layers import layer_dataset
    from arcticroute.redact import MASK
    from arcticroute.sources.base import FetchResult
    from arcticroute.sources.synthetic import SyntheticSource

    grid = Grid.from_km(25)
    signed = "https://user:pw@host.example/ice/a.nc?token=abc123&day=1"
    result = FetchResult({"sic": (np.zeros(grid.shape, np.float32), {})}, signed, attrs={"source": signed})
    attrs = layer_dataset("ice.sic", grid, DAY, result, SyntheticSource("ice.sic", {}), command="test",
                          created="2026-11-29T00:00:00Z").attrs
    assert "pw@" not in attrs["source"] and "abc123" not in attrs["source"]
    assert attrs["source"] == f"https://{MASK}@host.example/ice/a.nc?token={MASK}&day=1"
