"""What the live-source tests share: the loopback guard, the replica site, the days, paths."""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from arcticroute.timeutil import utc_now

from ..conftest import run_command
from .files import bremen_asi
from .server import ReplicaSite

BREMEN = "data.seaice.uni-bremen.de/amsr2/asi_daygrid_swath/n6250/netcdf"

def _days() -> list[date]:
    """Two published days whose month holds no later published day: the days after them are
    yesterday and today (not yet available), whatever the date the tests run on."""
    today = utc_now().date()
    if today.day >= 4:
        return [today - timedelta(days=3), today - timedelta(days=2)]
    last = today.replace(day=1) - timedelta(days=1)
    return [last - timedelta(days=1), last]


DAYS = _days()
YM = f"{DAYS[0]:%Y%m}"
SINCE = DAYS[0].isoformat()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Tests never reach past 127.0.0.1: any other address is refused before it is dialled."""
    real = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
            raise OSError(f"test tried to reach {host}: only loopback is allowed")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def site(tmp_path):
    served = ReplicaSite(tmp_path / "site").start()
    yield served
    served.stop()


def bremen_file(site, day: date, **kwargs) -> Path:
    path = site.root / BREMEN / f"{day:%Y}" / f"asi-AMSR2-n6250-{day:%Y%m%d}-v5.4.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    return bremen_asi(path, day, **kwargs)


def env_for(roots, config: Path, **extra) -> dict:
    return {**roots.env, "ARCTICROUTE_PROFILE": "live", "ARCTICROUTE_CONFIG_DIR": str(config), **extra}


def pull(env, *args):
    return run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.sic", *args, env=env)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")) if root.exists() else []:
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def sidecar(roots, day: date, layer: str = "ice.sic") -> dict:
    canonical = roots.data / "env" / layer / "3413-25km" / f"{day:%Y}" / f"{day:%m}" / \
        f"{layer.replace('.', '_')}_{day:%Y%m%d}.nc.meta.json"
    return json.loads(canonical.read_text())


def sic(roots, day: date) -> np.ndarray:
    path = roots.data / "env" / "ice.sic" / "3413-25km" / f"{day:%Y}" / f"{day:%m}" / f"ice_sic_{day:%Y%m%d}.nc"
    with xr.open_dataset(path) as ds:
        return ds["sic"].squeeze("time").values


