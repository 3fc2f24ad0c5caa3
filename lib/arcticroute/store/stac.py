"""The catalog as a static STAC catalog (STAC 1.1, written with pystac), for STAC clients and QGIS.

``write_stac(roots, folder)`` turns the catalog (the sidecars) into ``<folder>/catalog.json``,
one collection per layer (environmental layers) or kind (risk, routes, reports, the static grid)
and grid, and one item per logical id whose asset is its current version. Each item carries the
projection extension (the grid: EPSG code, shape, transform, bbox in metres), the file
extension (size and sha256 as a multihash) on its assets, the processing extension (the
producing command and run, its software) and the version extension (the artifact's version);
its inputs are ``derived_from`` links to their items (and ``via`` links to the providers' URLs).
Synthetic data say so in every item and collection. Links are relative (a self-contained
catalog), so the folder can be served under any prefix (``/api/stac/`` on the UI's port) or
copied; asset hrefs are the absolute paths of the artifact files on this host.

The folder is rebuilt beside the old one and swapped in, so a reader sees the old catalog or the
new one; a rebuild left half-done by a dead run is removed by the next.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pystac
from pyproj import Transformer

from ..errors import StacWriteError
from . import atomic
from .artifacts import meta_path_for
from .catalog import Entry, build_index

STAC_EXTENSIONS = {
    "projection": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "file": "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    "processing": "https://stac-extensions.github.io/processing/v1.2.0/schema.json",
    "version": "https://stac-extensions.github.io/version/v1.2.0/schema.json",
}
CATALOG_ID = "arcticroute"
MEDIA_TYPES = {".nc": "application/netcdf", ".geojson": pystac.MediaType.GEOJSON, ".html": pystac.MediaType.HTML,
               ".json": pystac.MediaType.JSON}
SYNTHETIC_NOTE = "SYNTHETIC demo data — not for navigation"
_OLD_SUFFIX = ".old"


def collection_key(meta: dict) -> str:
    """Environmental layers get a collection each (``ice.sic``); other kinds one per kind."""
    if meta.get("kind") == "env-layer":
        return str((meta.get("params") or {}).get("layer") or meta["logical_id"].split("/")[3].split("@")[0])
    return str(meta.get("kind"))


def _grid_name(meta: dict) -> str:
    return str((meta.get("grid") or {}).get("name") or "nogrid")


def safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def item_id(logical_id: str) -> str:
    """``ar://env/ice.sic@20260929?grid=3413-25km`` -> ``env_ice.sic_20260929_3413-25km``."""
    return safe_id(logical_id.removeprefix("ar://").replace("?grid=", "_"))


@lru_cache(maxsize=8)
def _footprint(crs: str, extent: tuple[float, float, float, float]) -> tuple[list[float], dict]:
    """bbox and polygon in lon/lat of a polar grid's extent (it holds the pole: all longitudes)."""
    xmin, ymin, xmax, ymax = extent
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    steps = 64
    edge = ([(xmin + (xmax - xmin) * i / steps, ymin) for i in range(steps + 1)]
            + [(xmin + (xmax - xmin) * i / steps, ymax) for i in range(steps + 1)]
            + [(xmin, ymin + (ymax - ymin) * i / steps) for i in range(steps + 1)]
            + [(xmax, ymin + (ymax - ymin) * i / steps) for i in range(steps + 1)])
    _lons, lats = to_lonlat.transform([p[0] for p in edge], [p[1] for p in edge])
    south = float(min(lats))
    ring = [[-180.0, south], [180.0, south], [180.0, 90.0], [-180.0, 90.0], [-180.0, south]]
    return [-180.0, south, 180.0, 90.0], {"type": "Polygon", "coordinates": [ring]}


def _geometry(meta: dict) -> tuple[list[float] | None, dict | None]:
    grid = meta.get("grid") or {}
    if grid.get("crs") and grid.get("extent_m"):
        return _footprint(grid["crs"], tuple(float(v) for v in grid["extent_m"]))
    return None, None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _projection(meta: dict) -> dict:
    grid = meta.get("grid") or {}
    if meta.get("kind") == "route":
        return {"proj:code": "EPSG:4326"}  # RFC 7946 GeoJSON in lon/lat
    if not grid.get("crs") or meta.get("kind") == "report":
        return {}
    xmin, ymin, xmax, ymax = (float(v) for v in grid["extent_m"])
    size = float(grid["resolution_m"])
    fields = {"proj:code": grid["crs"], "proj:bbox": [xmin, ymin, xmax, ymax], "proj:shape": list(grid["shape"])}
    if grid.get("row_order", "north_to_south") == "north_to_south":
        fields["proj:transform"] = [size, 0.0, xmin, 0.0, -size, ymax]
    else:
        fields["proj:transform"] = [size, 0.0, xmin, 0.0, size, ymin]
    return fields


def _file_fields(size: int | None, sha256: str | None) -> dict:
    fields = {}
    if size is not None:
        fields["file:size"] = int(size)
    if sha256:
        fields["file:checksum"] = "1220" + sha256  # multihash: sha2-256, 32 bytes
    return fields


def _item(meta: dict, roots: dict[str, Path]) -> pystac.Item:
    bbox, geometry = _geometry(meta)
    coverage = meta.get("time_coverage") or {}
    start, end = _when(coverage.get("start")), _when(coverage.get("end"))
    created = meta.get("created_at")
    producer = meta.get("producer") or {}
    synthetic = bool(meta.get("synthetic"))
    title = meta["logical_id"] + (f" ({SYNTHETIC_NOTE})" if synthetic else "")
    properties = {
        "title": title,
        "created": created,
        "arcticroute:logical_id": meta["logical_id"],
        "arcticroute:kind": meta.get("kind"),
        "arcticroute:synthetic": synthetic,
        "arcticroute:tags": list(meta.get("tags") or []),
        "version": str(meta.get("version")),
        "deprecated": False,
        "processing:software": {"arcticroute": producer.get("version") or "unknown"},
        "processing:lineage": (f"{producer.get('command', 'unknown command')} run {meta.get('run_id')} "
                               f"(commit {producer.get('git_sha', 'unknown')}) from {len(meta.get('inputs') or [])} "
                               "input(s), see the derived_from links"),
        "processing:datetime": created,
        **_projection(meta),
    }
    if (meta.get("params") or {}).get("license"):
        properties["arcticroute:license"] = meta["params"]["license"]
    item = pystac.Item(
        id=item_id(meta["logical_id"]), geometry=geometry, bbox=bbox,
        datetime=None if start and end else _when(created), start_datetime=start if start and end else None,
        end_datetime=end if start and end else None, properties=properties,
        stac_extensions=[STAC_EXTENSIONS[name] for name in ("projection", "file", "processing", "version")],
    )
    root = roots[meta["root"]]
    data = root / meta["path"]
    item.add_asset("data", pystac.Asset(
        href=str(data.absolute()), title=f"version {meta.get('version')} of {meta['logical_id']}",
        media_type=MEDIA_TYPES.get(data.suffix, "application/octet-stream"), roles=["data"],
        extra_fields=_file_fields(meta.get("size_bytes"), meta.get("sha256"))))
    sidecar = meta_path_for(data)
    item.add_asset("metadata", pystac.Asset(
        href=str(sidecar.absolute()), title="sidecar: provenance, inputs, parameters",
        media_type=pystac.MediaType.JSON, roles=["metadata"],
        extra_fields=_file_fields(sidecar.stat().st_size if sidecar.exists() else None, None)))
    return item


def _link_lineage(items: dict[str, pystac.Item], metas: dict[str, dict]) -> None:
    for logical_id, item in items.items():
        for source in metas[logical_id].get("inputs") or []:
            upstream = items.get(source.get("logical_id") or "")
            if upstream is not None:
                item.add_link(pystac.Link("derived_from", upstream, media_type=pystac.MediaType.GEOJSON,
                                          title=source["logical_id"]))
            url = source.get("source_url") or ""
            if url.startswith(("http://", "https://")):
                item.add_link(pystac.Link("via", url, title="the provider's file this was made from"))


def build_catalog(entries: list[Entry], roots: dict[str, Path]) -> pystac.Catalog:
    """The STAC tree (not yet written) of the newest version of every logical id."""
    catalog = pystac.Catalog(CATALOG_ID, "ArcticRoute artifacts: environmental layers, risk, routes and reports on "
                                         "EPSG:3413 grids, rebuilt from the catalog's sidecars",
                             title="ArcticRoute catalog")
    metas = {e.logical_id: e.newest for e in entries}
    groups: dict[tuple[str, str], list[dict]] = {}
    for meta in metas.values():
        groups.setdefault((collection_key(meta), _grid_name(meta)), []).append(meta)
    items: dict[str, pystac.Item] = {}
    for (key, grid), members in sorted(groups.items()):
        members.sort(key=lambda m: m["logical_id"])
        made = [_item(m, roots) for m in members]
        items.update({m["logical_id"]: i for m, i in zip(members, made, strict=True)})
        synthetic = any(m.get("synthetic") for m in members)
        description = f"{key} on grid {grid}: {len(members)} artifact(s)" + (
            f". Holds {SYNTHETIC_NOTE}" if synthetic else "")
        collection = pystac.Collection(
            id=safe_id(f"{key}_{grid}"), description=description, title=f"{key} ({grid})", license="other",
            extent=pystac.Extent.from_items(made), stac_extensions=[STAC_EXTENSIONS["projection"]],
            extra_fields={"arcticroute:synthetic": synthetic})
        collection.add_items(made)
        catalog.add_child(collection)
    _link_lineage(items, metas)
    return catalog


def remove_leftovers(folder: Path) -> list[Path]:
    """Half-written rebuilds of dead runs beside ``folder`` (the caller holds the catalog lock)."""
    found = [p for p in folder.parent.glob(f"{atomic.TMP_PREFIX}*-{folder.name}*") if p.is_dir()]
    old = folder.with_name(folder.name + _OLD_SUFFIX)
    found += [old] if old.is_dir() else []
    for path in found:
        shutil.rmtree(path)
    return found


def write_stac(roots: dict[str, Path], folder: Path, entries: list[Entry] | None = None) -> Path:
    """Write the static catalog to ``folder`` (replacing the previous one); returns catalog.json.

    A folder that cannot be written is a StacWriteError naming it (the old catalog stays)."""
    if entries is None:
        entries, _problems = build_index(roots)
    catalog = build_catalog(entries, roots)
    building = atomic.temp_path_for(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(folder)
        catalog.normalize_hrefs(str(building))
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
        old = folder.with_name(folder.name + _OLD_SUFFIX)
        if folder.exists():
            os.replace(folder, old)
        os.replace(building, folder)
        if old.exists():
            shutil.rmtree(old)
    except OSError as exc:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
        if atomic.is_disk_full(exc, folder.parent if folder.parent.exists() else Path.cwd()):
            raise
        raise StacWriteError(f"cannot write the STAC catalog to {folder}: {exc}",
                             hint="point stac.folder (config/runtime.yaml) at a folder this user can write, "
                                  "or fix its permissions") from None
    return folder / "catalog.json"
