"""The catalog as static STAC (store/stac.py): written by catalog.show/verify --stac, valid against
the STAC 1.1 JSON schemas offline, browsable with pystac and rustac and, over the UI's port,
pystac-client."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import jsonschema
import pystac
import pytest
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.version import VersionExtension
from pystac.validation.local_validator import get_local_schema_cache
from pystac_client import Client
from referencing import Registry, Resource

from arcticroute.api import Endpoints
from arcticroute.store import stac
from arcticroute.store.catalog import build_index

from .browser import start_server, stop_server
from .conftest import build_month, config_copy, make_roots, run_command
from .replicas.helpers import loopback_only  # noqa: F401 - the fixture keeps every test off the network
from .replicas.stac import rustac_binary

# The STAC 1.1.0 core schemas and the GeoJSON ones they use, as the pystac wheel ships them: the
# registry holds nothing else and `referencing` never fetches, so an unresolvable $ref fails.
SCHEMAS = get_local_schema_cache()
REGISTRY = Registry().with_resources([(uri, Resource.from_contents(s)) for uri, s in SCHEMAS.items()])
SPEC = {"Feature": "item", "Collection": "collection", "Catalog": "catalog"}


def schema_errors(document: dict) -> list[str]:
    kind = SPEC[document["type"]]
    schema = SCHEMAS[f"https://schemas.stacspec.org/v{document['stac_version']}/{kind}-spec/json-schema/{kind}.json"]
    validator = jsonschema.Draft7Validator(schema, registry=REGISTRY)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    made = make_roots(tmp_path_factory.mktemp("stac"))
    build_month(made, "202609", "2026-09-29")
    assert run_command("report.build", "--ym", "202609", env=made.env).exit_code == 0
    shown = run_command("catalog.show", "--kind", "route", "--stac", env=made.env)
    assert shown.exit_code == 0 and "STAC catalog:" in shown.stderr, shown.output
    return made


def test_every_file_validates_against_the_stac_schemas_offline(demo):
    files = sorted((demo.outputs / "stac").rglob("*.json"))
    kinds = {json.loads(p.read_text())["type"] for p in files}
    assert kinds == {"Catalog", "Collection", "Feature"}
    for path in files:
        document = json.loads(path.read_text())
        assert document["stac_version"] == "1.1.0"
        assert schema_errors(document) == [], path
    broken = json.loads(next((demo.outputs / "stac").rglob("env_ice.sic_*.json")).read_text())
    del broken["properties"]["end_datetime"]  # start without end, and no datetime: invalid
    assert schema_errors(broken)


def test_pystac_lists_one_item_per_logical_id_of_the_demo_month(demo):
    catalog = pystac.Catalog.from_file(str(demo.outputs / "stac" / "catalog.json"))
    items = list(catalog.get_items(recursive=True))
    entries, _problems = build_index({"data": demo.data, "reports": demo.reports, "outputs": demo.outputs})
    assert sorted(i.properties["arcticroute:logical_id"] for i in items) == sorted(e.logical_id for e in entries)
    september = [i for i in items if i.common_metadata.start_datetime
                 and i.common_metadata.start_datetime.strftime("%Y%m") == "202609"]
    assert len(september) == len(items) - 1  # all but the static grid, which has no time coverage
    collections = {c.id for c in catalog.get_children()}
    assert {"ice.sic_3413-25km", "wave.hs_3413-25km", "risk-daily_3413-25km", "route_3413-25km",
            "report_3413-25km"} <= collections


def test_rustac_crawls_every_item(demo, tmp_path):
    binary = rustac_binary()
    assert binary, "rustac is in requirements-dev (just setup installs it)"
    crawled = subprocess.run([binary, "crawl", str(demo.outputs / "stac" / "catalog.json"), str(tmp_path / "crawl")],
                             capture_output=True, text=True, timeout=120)
    assert crawled.returncode == 0, crawled.stderr
    features = [f for path in (tmp_path / "crawl").glob("*.json") for f in json.loads(path.read_text())["features"]]
    catalog = pystac.Catalog.from_file(str(demo.outputs / "stac" / "catalog.json"))
    assert sorted(f["id"] for f in features) == sorted(i.id for i in catalog.get_items(recursive=True))


def test_an_item_carries_its_version_file_projection_processing_and_lineage(demo):
    catalog = pystac.Catalog.from_file(str(demo.outputs / "stac" / "catalog.json"))
    items = {i.properties["arcticroute:logical_id"]: i for i in catalog.get_items(recursive=True)}
    lid = "ar://risk/daily@20260930?grid=3413-25km"
    item = items[lid]
    meta = next(e for e in build_index({"data": demo.data})[0] if e.logical_id == lid).newest
    assert set(item.stac_extensions) == set(stac.STAC_EXTENSIONS.values())
    projection = ProjectionExtension.ext(item)
    assert projection.code == "EPSG:3413" and projection.shape == [448, 304]
    assert projection.transform == [25000.0, 0.0, -3850000.0, 0.0, -25000.0, 5850000.0]
    asset = item.assets["data"]
    assert asset.href.endswith(meta["path"].split("/")[-1]) and "_adv_v" in asset.href
    assert FileExtension.ext(asset).size == meta["size_bytes"]
    assert FileExtension.ext(asset).checksum == "1220" + meta["sha256"]
    assert VersionExtension.ext(item).version == str(meta["version"])
    assert item.properties["processing:lineage"].startswith("risk.fuse run " + meta["run_id"])
    assert item.properties["arcticroute:synthetic"] is True and "not for navigation" in item.properties["title"]
    upstream = {link.title for link in item.links if link.rel == "derived_from"}
    assert upstream == {i["logical_id"] for i in meta["inputs"]}
    for link in item.links:
        if link.rel == "derived_from":
            assert link.resolve_stac_object().target.properties["arcticroute:logical_id"] == link.title
    assert item.datetime is None and item.common_metadata.end_datetime == datetime(2026, 9, 30, 23, 59, 59,
                                                                                    tzinfo=UTC)


def test_verify_leaves_a_corrupt_artifact_out_and_the_rewrite_leaves_nothing_behind(demo, tmp_path):
    wave = next((demo.data / "env" / "wave.hs").rglob("wave_hs_20260929_adv_v1.nc"))
    original = wave.read_bytes()
    leftover = demo.outputs / f"{stac.atomic.tmp_prefix_for('20260101T000000Z-dead00')}1234abcd-stac"
    (leftover / "sub").mkdir(parents=True)
    try:
        wave.write_bytes(original[:-10] + b"\x00" * 10)
        result = run_command("catalog.verify", "--stac", env=demo.env)
        assert result.exit_code == 1 and "wave.hs@20260929" in result.stderr
    finally:
        wave.write_bytes(original)
    catalog = pystac.Catalog.from_file(str(demo.outputs / "stac" / "catalog.json"))
    ids = {i.properties["arcticroute:logical_id"] for i in catalog.get_items(recursive=True)}
    assert "ar://env/wave.hs@20260929?grid=3413-25km" not in ids and "ar://env/wave.hs@20260930?grid=3413-25km" in ids
    assert sorted(p.name for p in demo.outputs.iterdir() if "stac" in p.name) == ["stac"]
    assert run_command("catalog.verify", "--stac", env=demo.env).exit_code == 0
    catalog = pystac.Catalog.from_file(str(demo.outputs / "stac" / "catalog.json"))
    assert "ar://env/wave.hs@20260929?grid=3413-25km" in {i.properties["arcticroute:logical_id"]
                                                           for i in catalog.get_items(recursive=True)}


def test_a_folder_that_cannot_be_written_is_named_and_the_old_catalog_stays(demo, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    config = config_copy(tmp_path / "config", {"  folder: stac": f"  folder: {blocked}/stac"})
    result = run_command("catalog.show", "--stac", env={**demo.env, "ARCTICROUTE_CONFIG_DIR": str(config)})
    assert result.exit_code == 1 and f"cannot write the STAC catalog to {blocked}/stac" in result.stderr
    assert "stac.folder" in result.stderr and "Traceback" not in result.output
    assert (demo.outputs / "stac" / "catalog.json").is_file()


def test_the_endpoint_serves_the_files_and_nothing_else(demo, monkeypatch, tmp_path):
    for key, value in demo.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ARCTICROUTE_CONFIG_DIR", raising=False)
    endpoints = Endpoints()
    root = endpoints.stac("")
    assert root.status == 200 and root.media_type == "application/json" and json.loads(root.text())["type"] == "Catalog"
    item = next((demo.outputs / "stac").rglob("route_*_2026*.json")).relative_to(demo.outputs / "stac")
    reply = endpoints.stac(str(item))
    assert reply.status == 200 and reply.media_type == "application/geo+json"
    for outside in ("../catalog/index.json", "../../outputs/runs", "/etc/passwd", "route_3413-25km"):
        refused = endpoints.stac(outside)
        assert refused.status == 404 and "start at /api/stac/catalog.json" in refused.body["hint"], outside
    monkeypatch.setenv("ARCTICROUTE_OUTPUTS", str(tmp_path / "empty"))
    missing = Endpoints().stac("")
    assert missing.status == 404 and "catalog.show --stac" in missing.body["hint"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pystac_client.warnings.NoConformsTo",
                            "ignore::pystac_client.warnings.FallbackToPystac")  # a static catalog, not an API
def test_pystac_client_browses_it_on_the_ui_port(demo, tmp_path):
    proc, base = start_server({**demo.env, "ARCTICROUTE_CONFIG_DIR": str(config_copy(tmp_path / "config"))})
    try:
        client = Client.open(base + "/api/stac/catalog.json")
        collection = client.get_collection("route_3413-25km")
        routes = list(collection.get_items())
        items = list(client.get_items(recursive=True))
    finally:
        stop_server(proc)
    # each planned route twice: its GeoJSON document and the RTZ made from it (both kind route)
    assert sorted(i.id.split("_")[0] for i in routes) == ["route"] * 4 + ["rtz"] * 4
    assert all(i.properties["arcticroute:kind"] == "route" for i in routes)
    assert {r.get_self_href() for r in routes} and all(r.get_self_href().startswith(base + "/api/stac/") for r in routes)
    assert len(items) == len(list(pystac.Catalog.from_file(str(demo.outputs / "stac" / "catalog.json"))
                                  .get_items(recursive=True)))
