"""A real STAC API on loopback: ``rustac serve`` (PyPI rustac) loaded with a collection and items."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


def rustac_binary() -> str | None:
    beside = Path(sys.executable).with_name("rustac")
    return str(beside) if beside.is_file() else shutil.which("rustac")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def item(item_id: str, collection: str, day, href: str, updated: str = "2026-01-01T00:00:00Z") -> dict:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "collection": collection,
        "geometry": {"type": "Polygon", "coordinates": [[[-180, 30], [180, 30], [180, 90], [-180, 90], [-180, 30]]]},
        "bbox": [-180, 30, 180, 90],
        "properties": {"datetime": f"{day.isoformat()}T12:00:00Z", "updated": updated},
        "assets": {"data": {"href": href, "type": "application/x-netcdf", "roles": ["data"]}},
        "links": [],
    }


class StacApi:
    """``rustac serve --addr 127.0.0.1:PORT collection.json items.json`` in a child process."""

    def __init__(self, folder: Path, collection: str, items: list[dict]):
        binary = rustac_binary()
        if binary is None:
            pytest.skip("rustac is not installed (it is in requirements-dev: run just setup)")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "collection.json").write_text(json.dumps({
            "type": "Collection", "stac_version": "1.0.0", "id": collection, "description": "replica",
            "license": "proprietary", "links": [],
            "extent": {"spatial": {"bbox": [[-180, 30, 180, 90]]},
                       "temporal": {"interval": [["2012-07-02T00:00:00Z", None]]}}}))
        (folder / "items.json").write_text(json.dumps({"type": "FeatureCollection", "features": items}))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            [binary, "serve", "--addr", f"127.0.0.1:{self.port}", "collection.json", "items.json"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url, timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("rustac serve did not answer within 20 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
