# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""The whole chain on the live profile, every source pointed at loopback replicas by config:
pull -> fuse -> route -> report; and a secret canary that must appear nowhere."""

from __future__ import annotations

import json

import pytest

from arcticroute.layers import resolve_layers

from .conftest import run_command
from .replicas.config import live_config
from .replicas.files import ais_tracks, incidents_csv, noaa_ais_zip, osisaf_type
from .replicas.helpers import (  # noqa: F401 - fixtures
    DAYS,
    SINCE,
    YM,
    bremen_file,
    env_for,
    loopback_only,
    site,
)
from .test_sources_kinds import AIS_NOAA, _incidents, toolbox  # noqa: F401 - fixture

CANARY = "canary-7f3c1e9a-do-not-leak"


def _serve_every_source(site, roots) -> None:
    for day in DAYS:
        bremen_file(site, day)
        kind = site.root / f"thredds.met.no/thredds/fileServer/osisaf/met.no/ice/type/{day:%Y/%m}" / \
            f"ice_type_nh_polstere-100_multi_{day:%Y%m%d}1200.nc"
        kind.parent.mkdir(parents=True, exist_ok=True)
        osisaf_type(kind, day)
        ais = site.root / AIS_NOAA / f"{day:%Y}" / f"AIS_{day:%Y_%m_%d}.zip"
        ais.parent.mkdir(parents=True, exist_ok=True)
        noaa_ais_zip(ais, day, ais_tracks(day))
    table = roots.data / "incoming" / "incidents.csv"
    table.parent.mkdir(parents=True)
    incidents_csv(table, _incidents(DAYS))


@pytest.mark.slow
def test_the_live_chain_runs_on_replicas_and_says_where_its_data_came_from(roots, site, tmp_path, toolbox):
    _serve_every_source(site, roots)
    env = env_for(roots, live_config(tmp_path, site.url()), COPERNICUSMARINE_SERVICE_USERNAME="someone",
                  COPERNICUSMARINE_SERVICE_PASSWORD=CANARY)
    steps = [("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--jobs", "2"), ("risk.fuse", "--ym", YM),
             ("route.plan", "--scenario", "all", "--date", "latest"), ("report.build", "--ym", YM)]
    outputs = []
    for name, *args in steps:
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, f"{name}: {result.output}"
        outputs.append(result.output)
    layers = {}
    for path in (roots.data / "env").rglob("*_adv_v*.nc.meta.json"):
        meta = json.loads(path.read_text())
        assert meta["synthetic"] is False, path
        assert meta["inputs"][0]["source_url"] and meta["inputs"][0]["sha256"], path
        layers[meta["params"]["layer"]] = meta["inputs"][0]["source_url"]
    assert set(layers) == set(resolve_layers("ice,wave,incidents,ais"))  # ice.type too, where the tree has it
    assert layers["ice.sic"].startswith("http://127.0.0.1:") and "asi-AMSR2-n6250" in layers["ice.sic"]
    assert layers["wave.hs"].startswith("copernicusmarine://") and layers["incidents"].startswith("file://")
    risk = [json.loads(p.read_text()) for p in (roots.data / "risk").rglob("risk_*_adv_v*.nc.meta.json")]
    assert risk and all(m["synthetic"] is False for m in risk)
    assert any(i["source_url"] and "127.0.0.1" in i["source_url"] for m in risk for i in m["inputs"])
    report = roots.reports / "3413-25km" / YM / f"report_{YM}.html"
    html = report.read_text()
    assert "not for navigation" not in html and "synthetic (generated, not observed" not in html
    assert "127.0.0.1" in html  # the provenance table names the source URLs
    everything = "".join(p.read_text(errors="replace") for p in roots.files()
                         if p.suffix in (".json", ".log", ".html", ".geojson"))
    assert CANARY not in everything + "".join(outputs)


def test_a_secret_canary_appears_in_no_log_sidecar_record_alert_or_message(roots, site, tmp_path, toolbox):
    """A bearer token for the HTTP source and the CMEMS password, with one item failing so that
    an error message and an alert are written too: the canary is in none of them."""
    for day in DAYS:
        bremen_file(site, day)
    site.fail(f"data.seaice.uni-bremen.de/amsr2/asi_daygrid_swath/n6250/netcdf/{DAYS[1]:%Y}/"
              f"asi-AMSR2-n6250-{DAYS[1]:%Y%m%d}-v5.4.nc", *["500"] * 10)

    def edit(available):
        available["bremen-asi-amsr2"]["token_env"] = "SEAICE_API_TOKEN"

    env = env_for(roots, live_config(tmp_path, site.url(), edit=edit), SEAICE_API_TOKEN=CANARY,
                  COPERNICUSMARINE_SERVICE_USERNAME="someone", COPERNICUSMARINE_SERVICE_PASSWORD=CANARY + "-pw")
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.sic,wave", "--jobs", "2",
                         env=env)
    assert result.exit_code == 1 and "HTTP 500" in result.stderr
    assert any(h.headers.get("Authorization") == f"Bearer {CANARY}" for h in site.hits)  # it was used
    written = [p for p in roots.files() if p.is_file()]
    assert any(p.name.endswith("_error_ingest.nrt.pull.json") for p in written)
    assert any(p.suffix == ".log" for p in written) and any(p.name.endswith(".meta.json") for p in written)
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path
    assert CANARY not in result.output
