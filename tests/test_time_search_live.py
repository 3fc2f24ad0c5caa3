# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""Held-out scenarios in the providers' real formats through the live adapters (loopback replicas):
open water, the southern Kara straits closed by 10/10 ice on one day. A strait closed on the
departure day and open by the ship's arrival is used; one open at departure and closed by
arrival is avoided from the start, with an ETA no later than the plan-then-re-plan voyage."""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import yaml

from arcticroute.grid import to_lonlat

from .conftest import run_command
from .replicas.config import live_config
from .replicas.helpers import (  # noqa: F401 - fixtures
    DAYS,
    YM,
    bremen_file,
    env_for,
    loopback_only,
    site,
)
from .test_live_chain import _serve_every_source
from .test_sources_kinds import toolbox  # noqa: F401 - fixture

FROM, TO = "69.10,33.42", "71.00,66.00"  # Murmansk (Kola Bay) -> the Kara Sea off Yamal


def in_straits(lon, lat):
    return (lat > 69.0) & (lat < 71.5) & (lon > 55.0) & (lon < 63.0)


def open_water_but_straits(path: Path, closed: bool) -> None:
    """The Bremen ASI replica made open water south of 80N (the replica's pack kept north of it),
    the straits at 100 % when ``closed``; land and the pole hole stay NaN, as the provider's file
    has them."""
    with netCDF4.Dataset(path, "r+") as ds:
        xx, yy = np.meshgrid(ds["x"][:], ds["y"][:])
        lon, lat = (np.asarray(v) for v in to_lonlat(xx, yy))
        z = ds["z"][:].filled(np.nan)
        z = np.where(np.isnan(z) | (lat >= 80.0), z, 0.0)
        if closed:
            z[in_straits(lon, lat)] = 100.0
        ds["z"][:] = z.astype(np.float32)


def plan(env: dict, config: Path, *, time_dependent: bool) -> dict:
    runtime = yaml.safe_load((config / "runtime.yaml").read_text())
    runtime["route"]["time_dependent"] = time_dependent
    (config / "runtime.yaml").write_text(yaml.safe_dump(runtime, sort_keys=False))
    result = run_command("route.plan", "--from", FROM, "--to", TO, "--vessel", "open_water_container",
                         "--date", DAYS[0].isoformat(), "--ignore-rules", env=env)
    assert result.exit_code == 0, result.output
    [path] = [p for p in (Path(env["ARCTICROUTE_OUTPUTS"]) / "routes").rglob(f"adhoc_*_{DAYS[0]:%Y%m%d}.geojson")]
    return json.loads(path.read_text())["features"][0]["properties"] | {
        "coordinates": json.loads(path.read_text())["features"][0]["geometry"]["coordinates"]}


def through(route: dict) -> bool:
    points = np.asarray(route["coordinates"], dtype=float).reshape(-1, 2)
    return bool(in_straits(points[:, 0], points[:, 1]).any())


@pytest.fixture
def chain(roots, site, tmp_path, toolbox):
    """Pull and fuse both days from the replicas; returns (environment, config folder) for
    ``closed_on`` set by each test through ``serve``."""
    _serve_every_source(site, roots)
    config = live_config(tmp_path, site.url())
    env = env_for(roots, config, COPERNICUSMARINE_SERVICE_USERNAME="someone",
                  COPERNICUSMARINE_SERVICE_PASSWORD="pw")

    def serve(closed_on: int) -> tuple[dict, Path]:
        for i, day in enumerate(DAYS):
            open_water_but_straits(bremen_file(site, day), closed=i == closed_on)
        for name, *args in (("ingest.nrt.pull", "--ym", YM, "--since", DAYS[0].isoformat(), "--jobs", "1"),
                            ("risk.fuse", "--ym", YM)):
            result = run_command(name, *args, env=env)
            assert result.exit_code == 0, f"{name}: {result.output}"
        return env, config

    return serve


@pytest.mark.slow
def test_straits_closed_on_the_departure_day_only_are_used(chain):
    env, config = chain(closed_on=0)
    on_departure_day = plan(env, config, time_dependent=False)
    assert not through(on_departure_day)  # round Cape Zhelaniya
    timed = plan(env, config, time_dependent=True)
    assert timed["search"]["method"] == "time-dependent" and through(timed)
    assert timed["replans"] == 0 and timed["eta"] < on_departure_day["eta"]


@pytest.mark.slow
def test_straits_that_close_before_the_ship_arrives_are_avoided_from_the_start(chain):
    env, config = chain(closed_on=1)  # open on the departure day, closed from the next (persisted after)
    on_departure_day = plan(env, config, time_dependent=False)
    assert on_departure_day["replans"] >= 1  # it sails for the straits and is turned round
    timed = plan(env, config, time_dependent=True)
    assert not through(timed) and timed["replans"] == 0
    assert timed["eta"] <= on_departure_day["eta"]
