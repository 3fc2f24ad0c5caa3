# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""The other adapter kinds against loopback replicas: stac (a real STAC API, rustac serve),
cmems (the copernicusmarine toolbox as the mocked edge), AIS archives (NOAA, DMA), incidents
tables (CSV, Parquet; path and URL) and the file drop folder."""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from arcticroute.grid import Grid

from .conftest import run_command
from .replicas.config import live_config
from .replicas.files import (
    ais_tracks,
    bremen_asi,
    cmems_wave,
    dma_ais_zip,
    incidents_csv,
    noaa_ais_zip,
)
from .replicas.helpers import (  # noqa: F401 - fixtures
    DAYS,
    SINCE,
    YM,
    env_for,
    loopback_only,
    sidecar,
    site,
)
from .replicas.stac import StacApi, item


def layer_values(roots, layer: str, variable: str, day) -> np.ndarray:
    path = roots.data / "env" / layer / "3413-25km" / f"{day:%Y}" / f"{day:%m}" / \
        f"{layer.replace('.', '_')}_{day:%Y%m%d}.nc"
    with xr.open_dataset(path) as ds:
        values = ds[variable]
        return (values.squeeze("time") if "time" in values.dims else values).values


def run(env, what: str, *args):
    return run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", what, *args, env=env)


# -- stac -------------------------------------------------------------------------------------

def test_stac_search_on_a_real_stac_api_then_the_asset_over_http(roots, site, tmp_path):
    items = []
    for day in DAYS:
        path = site.root / "assets" / f"AMSR2_SIC_{day:%Y%m%d}.nc"
        path.parent.mkdir(parents=True, exist_ok=True)
        bremen_asi(path, day)
        items.append(item(f"NSIDC-0803-{day:%Y%m%d}", "NSIDC-0803_2", day, site.url(f"assets/{path.name}")))
    api = StacApi(tmp_path / "stac", "NSIDC-0803_2", items)
    try:
        def edit(available):  # the replica asset is in the Bremen layout; the adapter is generic
            available["nsidc-0803-stac"].update(url=api.url, variable="z", units=["%", "percent"],
                                                token_env="EARTHDATA_TOKEN")

        env = env_for(roots, live_config(tmp_path, site.url(), edit=edit), EARTHDATA_TOKEN="canary-stac-token-93f1")
        result = run(env, "ice.sic", "--source", "ice=nsidc-0803-stac")
        assert result.exit_code == 0, result.output
        assert "pulled 2 new" in result.stdout
        meta = sidecar(roots, DAYS[0])
        assert meta["params"]["source_identity"]["item"] == f"NSIDC-0803-{DAYS[0]:%Y%m%d}"
        assert meta["inputs"][0]["source_url"].endswith(f"AMSR2_SIC_{DAYS[0]:%Y%m%d}.nc")
        gets = [h for h in site.hits if h.method == "GET"]
        assert gets and all(h.headers.get("Authorization") == "Bearer canary-stac-token-93f1" for h in gets)
        again = run(env, "ice.sic", "--source", "ice=nsidc-0803-stac")
        assert again.exit_code == 0 and "no_new_data" in again.stdout
        everything = "".join(p.read_text(errors="replace") for p in roots.files() if p.suffix in (".json", ".log"))
        assert "canary-stac-token-93f1" not in everything + result.output + again.output
    finally:
        api.stop()


# -- cmems --------------------------------------------------------------------------------------

@pytest.fixture
def toolbox(monkeypatch):
    """The copernicusmarine toolbox as the mocked edge of the outside world: its ``subset`` writes
    the replica file the real one would, and records how it was called."""
    calls = []

    def subset(**kwargs):
        calls.append(kwargs)
        day = np.datetime64(kwargs["start_datetime"][:10]).astype(object)
        cmems_wave(Path(kwargs["output_directory"]) / kwargs["output_filename"], day)

    module = types.ModuleType("copernicusmarine")
    module.__spec__ = importlib.machinery.ModuleSpec("copernicusmarine", None)
    module.subset = subset
    monkeypatch.setitem(sys.modules, "copernicusmarine", module)
    return calls


def test_cmems_waves_through_the_toolbox(roots, site, tmp_path, toolbox):
    env = env_for(roots, live_config(tmp_path, site.url()), COPERNICUSMARINE_SERVICE_USERNAME="someone",
                  COPERNICUSMARINE_SERVICE_PASSWORD="canary-cmems-pw-5521")
    result = run(env, "wave", "--jobs", "1")  # the mocked toolbox records its calls in this process
    assert result.exit_code == 0, result.output
    call = toolbox[0]
    assert call["dataset_id"] == "dataset-wam-arctic-1hr3km-be" and call["variables"] == ["VHM0"]
    assert call["username"] == "someone" and call["start_datetime"].startswith(DAYS[0].isoformat())
    hs = layer_values(roots, "wave.hs", "hs", DAYS[0])
    row, col = Grid.from_km(25).index_of(68.0, -170.0)  # the replica's wave band peaks at 68 N
    assert 3.5 < hs[row, col] <= 4.0 * 1.2 + 1e-3  # the day's maximum of the hourly fields
    meta = sidecar(roots, DAYS[0], "wave.hs")
    assert meta["inputs"][0]["source_url"] == f"copernicusmarine://dataset-wam-arctic-1hr3km-be/VHM0@{DAYS[0]}"
    assert "provisional_as_of" not in meta["params"]["source_identity"]  # old enough: final
    recent = sidecar(roots, DAYS[1], "wave.hs")["params"]["source_identity"]
    assert "provisional_as_of" in recent  # younger than provisional_days: fetched again on the next day's run
    everything = "".join(p.read_text(errors="replace") for p in roots.files() if p.suffix in (".json", ".log"))
    assert "canary-cmems-pw-5521" not in everything + result.output


def test_cmems_without_the_toolbox_says_how_to_install_it(roots, site, tmp_path):
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "wave")
    assert result.exit_code == 2
    assert "copernicusmarine toolbox, which is not installed" in result.stderr
    assert "pip install copernicusmarine" in result.stderr
    assert roots.files() == []


def test_cmems_without_credentials_exits_2_naming_the_variables(roots, site, tmp_path, toolbox, monkeypatch):
    monkeypatch.delenv("COPERNICUSMARINE_SERVICE_USERNAME", raising=False)
    monkeypatch.delenv("COPERNICUSMARINE_SERVICE_PASSWORD", raising=False)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "wave")
    assert result.exit_code == 2 and "COPERNICUSMARINE_SERVICE_USERNAME" in result.stderr


# -- AIS ----------------------------------------------------------------------------------------

AIS_NOAA = "coast.noaa.gov/htdata/CMSP/AISDataHandler"


def _expected_hours(rows) -> float:
    """Vessel-hours of the replica's Arctic vessels: every gap of 30 minutes counts."""
    arctic = {r["mmsi"] for r in rows if r["lat"] >= 60}
    return sum(0.5 * (sum(1 for r in rows if r["mmsi"] == m) - 1) for m in arctic)


@pytest.mark.parametrize("chunk_rows", [200_000, 7])
def test_noaa_ais_archive_becomes_vessel_hours(roots, site, tmp_path, chunk_rows):
    for day in DAYS:
        path = site.root / AIS_NOAA / f"{day:%Y}" / f"AIS_{day:%Y_%m_%d}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        noaa_ais_zip(path, day, ais_tracks(day))

    def edit(available):
        available["noaa-marinecadastre"]["chunk_rows"] = chunk_rows

    env = env_for(roots, live_config(tmp_path, site.url(), edit=edit))
    result = run(env, "ais")
    assert result.exit_code == 0, result.output
    density = layer_values(roots, "ais.density", "density", DAYS[0])
    assert density.sum() == pytest.approx(_expected_hours(ais_tracks(DAYS[0])), rel=1e-4)
    row, col = Grid.from_km(25).index_of(ais_tracks(DAYS[0])[0]["lat"], ais_tracks(DAYS[0])[0]["lon"])
    assert density[row, col] > 0
    assert sidecar(roots, DAYS[0], "ais.density")["synthetic"] is False


def test_dma_ais_archive_reads_the_second_schema(roots, site, tmp_path):
    day = DAYS[0]
    path = site.root / "web.ais.dk/aisdata" / f"aisdk-{day:%Y-%m-%d}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ais_tracks(day)
    dma_ais_zip(path, day, rows)

    def edit(available):
        available["dma-aisdk"]["min_lat"] = 60

    env = env_for(roots, live_config(tmp_path, site.url(), edit=edit))
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ais", "--source", "ais=dma-aisdk",
                         env=env)
    assert "ais.density" in result.output
    density = layer_values(roots, "ais.density", "density", day)
    assert density.sum() == pytest.approx(_expected_hours(rows), rel=1e-4)


def test_an_ais_archive_with_other_columns_is_refused(roots, site, tmp_path):
    day = DAYS[0]
    path = site.root / AIS_NOAA / f"{day:%Y}" / f"AIS_{day:%Y_%m_%d}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("AIS.csv", "mmsi,time,latitude,longitude\n1,2026-01-01T00:00:00,70,10\n")
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "ais")
    assert result.exit_code == 1
    assert "found CSV columns mmsi, time, latitude, longitude; expected columns MMSI, BaseDateTime, LAT, LON" in result.stderr
    assert not (roots.data / "env" / "ais.density").exists()


# -- incidents ----------------------------------------------------------------------------------

def _incidents(days) -> list[dict]:
    return [
        {"time_utc": f"{days[0]}T03:00:00Z", "lat": 70.5, "lon": 20.0, "type": "grounding", "severity": 2,
         "source": "replica"},
        {"time_utc": f"{days[0]}T05:30:00Z", "lat": 10.0, "lon": 20.0, "type": "collision", "severity": 1,
         "source": "replica"},  # south of the grid: left out with a warning
        {"time_utc": f"{days[1]}T12:00:00Z", "lat": 75.0, "lon": -160.0, "type": "ice damage", "severity": 3,
         "source": "replica"},
    ]


def test_incidents_from_a_table_in_the_drop_folder_refresh_incrementally(roots, site, tmp_path):
    table = roots.data / "incoming" / "incidents.csv"
    table.parent.mkdir(parents=True)
    incidents_csv(table, _incidents(DAYS))
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "incidents")
    assert result.exit_code == 0, result.output
    assert layer_values(roots, "incidents", "count", DAYS[0]).sum() == 1
    assert list(layer_values(roots, "incidents", "incident_type", DAYS[1])) == ["ice damage"]
    assert any("outside the polar grid" in w for w in sidecar(roots, DAYS[0], "incidents")["warnings"])
    incidents_csv(table, [*_incidents(DAYS), {"time_utc": f"{DAYS[1]}T18:00:00Z", "lat": 76.0, "lon": -150.0,
                                             "type": "fire", "severity": 1, "source": "replica"}])
    again = run(env, "incidents", "--json")
    summary = json.loads(again.stdout)
    assert summary["written"] == 1 and summary["skipped"] >= 1, again.output  # only the day that changed
    assert layer_values(roots, "incidents", "count", DAYS[1]).sum() == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_incidents_by_url_with_a_column_mapping(roots, site, tmp_path, fmt):
    columns = {"time_utc": "OccDate", "lat": "Latitude", "lon": "Longitude", "type": "OccurrenceType"}
    rows = _incidents(DAYS)
    path = site.root / "tsb" / f"occurrences.{fmt}"
    path.parent.mkdir(parents=True)
    if fmt == "csv":
        incidents_csv(path, rows, columns)
    else:
        import pandas as pd

        pd.DataFrame([{columns.get(k, k): v for k, v in r.items() if k in columns} for r in rows]).to_parquet(path)

    def edit(available):
        available["incidents-table"].update(url=site.url(f"tsb/occurrences.{fmt}"), columns=columns,
                                            source_label="TSB MARSIS (replica)")

    env = env_for(roots, live_config(tmp_path, site.url(), edit=edit))
    result = run(env, "incidents")
    assert result.exit_code == 0, result.output
    # the CSV has a source column; the Parquet file does not, so the configured label stands in
    label = "replica" if fmt == "csv" else "TSB MARSIS (replica)"
    assert list(layer_values(roots, "incidents", "incident_source", DAYS[1])) == [label]
    assert len([h for h in site.hits if h.method == "GET" and h.status == 200]) == 1  # the table once per run
    site.hits.clear()
    again = run(env, "incidents")
    assert again.exit_code == 0 and "no_new_data" in again.stdout and site.body_bytes() == 0


def test_incidents_without_the_mapped_columns_are_refused(roots, site, tmp_path):
    table = roots.data / "incoming" / "incidents.csv"
    table.parent.mkdir(parents=True)
    table.write_text("when,where\n2026-01-01,north\n")
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "incidents")
    assert result.exit_code == 1 and "found columns when, where; expected columns time_utc, lat, lon" in result.stderr


@pytest.mark.parametrize("severity", ["1e40", "inf", "99999", "-3"])
def test_an_incident_severity_out_of_range_names_the_table_line_and_column(roots, site, tmp_path, severity):
    table = roots.data / "incoming" / "incidents.csv"
    table.parent.mkdir(parents=True)
    rows = _incidents(DAYS)
    rows[2]["severity"] = severity  # the third data row: line 4 of the file
    incidents_csv(table, rows)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "incidents")
    assert result.exit_code == 1, result.output
    assert f"{table}" in result.stderr and "line 4 of the CSV, column 'severity'" in result.stderr
    assert "is not a grade between 0 and 32767" in result.stderr
    assert "unexpected" not in result.output and "OverflowError" not in result.output


# -- file drop folder ---------------------------------------------------------------------------

def test_a_drop_folder_feeds_a_layer_and_a_replaced_file_is_pulled_again(roots, site, tmp_path):
    folder = roots.data / "incoming" / "ice"
    folder.mkdir(parents=True)
    for day in DAYS:
        bremen_asi(folder / f"asi-AMSR2-n6250-{day:%Y%m%d}-v5.4.nc", day)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = run(env, "ice.sic", "--source", "ice=ice-drop-folder")
    assert result.exit_code == 0 and "pulled 2 new" in result.stdout, result.output
    assert sidecar(roots, DAYS[0])["inputs"][0]["source_url"].startswith("file://")
    again = run(env, "ice.sic", "--source", "ice=ice-drop-folder")
    assert "no_new_data" in again.stdout
    bremen_asi(folder / f"asi-AMSR2-n6250-{DAYS[1]:%Y%m%d}-v5.4.nc", DAYS[1], z_attrs={"comment": "reprocessed"})
    third = run(env, "ice.sic", "--source", "ice=ice-drop-folder", "--json")
    assert json.loads(third.stdout)["written"] + json.loads(third.stdout)["unchanged"] == 1
