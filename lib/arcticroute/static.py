"""Static per-grid layers (lon, lat, land, map scale), built once and kept as an artifact."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .grid import Grid


@dataclass(frozen=True)
class StaticGrid:
    """A grid with its per-cell static layers, all shaped ``grid.shape``."""

    grid: Grid
    lon: np.ndarray
    lat: np.ndarray
    land: np.ndarray  # bool, True on land
    scale: np.ndarray  # map scale factor k (true distance = projected / k)
    depth_m: np.ndarray | None = None  # minimum water depth in the cell, metres (None: from the embedded relief)
    relief: object = None  # the bathymetry.ReliefSource depth_m came from (None: the embedded ETOPO1 cut)

    @property
    def depth(self) -> np.ndarray:
        """Minimum depth within each cell, metres (``bathymetry``)."""
        if self.depth_m is not None:
            return self.depth_m
        from .bathymetry import embedded_min_depth

        return embedded_min_depth(self.grid)

    @property
    def relief_source(self):
        from .bathymetry import embedded_source

        return self.relief if self.relief is not None else embedded_source()

    @cached_property
    def ocean(self) -> np.ndarray:
        """Sea cells of the largest 8-connected water body: lakes and cut-off bays excluded."""
        from scipy import ndimage

        labels, count = ndimage.label(~self.land, structure=np.ones((3, 3), dtype=bool))
        if count == 0:
            return np.zeros(self.land.shape, dtype=bool)
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        return labels == int(np.argmax(sizes))

    @cached_property
    def nearest_sea(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the nearest open-ocean cell for every cell (itself when in it)."""
        from scipy import ndimage

        _distance, (rows, cols) = ndimage.distance_transform_edt(~self.ocean, return_indices=True)
        return rows.astype(np.int32), cols.astype(np.int32)

    @classmethod
    def compute(cls, grid: Grid, relief=None) -> StaticGrid:
        from .bathymetry import min_depth_from
        from .grid import scale_factor
        from .landmask import land_mask

        lon, lat = grid.lonlat()
        return cls(
            grid=grid,
            lon=lon.astype(np.float32),
            lat=lat.astype(np.float32),
            land=land_mask(grid),
            scale=scale_factor(grid),
            depth_m=None if relief is None else min_depth_from(grid, relief),
            relief=relief,
        )


STATIC_KIND = "static-grid"


def static_relpath(grid: Grid) -> str:
    return f"static/grid_{grid.name}.nc"


def static_logical_id(grid: Grid) -> str:
    return f"ar://static/grid@{grid.name}"


def _land_mask_source() -> dict:
    from importlib.metadata import version

    return {
        "logical_id": f"pypi://global-land-mask@{version('global-land-mask')}",
        "sha256": None,
        "source_url": "https://pypi.org/project/global-land-mask/",
    }


def _write_static(static: StaticGrid, path, command: str, created: str) -> None:
    from . import cf
    from .layers import grid_dataset, write_netcdf

    grid = static.grid
    attrs = cf.discovery_attrs(
        title=f"ArcticRoute static grid layers {grid.name}",
        summary=(f"Time-invariant layers of the {grid.name} grid (EPSG:3413 polar stereographic, "
                 f"{grid.resolution_m / 1000:g} km cells): land mask, minimum water depth, map scale factor, "
                 "cell-centre latitude and longitude."),
        keywords="land mask, bathymetry, map scale factor, polar stereographic grid, Arctic",
        logical_id=static_logical_id(grid), grid=grid, command=command,
        source="land: global-land-mask (GLOBE 1 km), probed at the cell centre, edge midpoints and corners; "
               f"depth: {static.relief_source.description}; scale: pyproj",
        license="global-land-mask: MIT licence (its PyPI classifier); its GLOBE 1 km data: NOAA NGDC terms of use; "
                f"depth: {static.relief_source.licence}",
        synthetic=False, coverage=None, created=created, lonlat=(static.lon, static.lat), processing_level="derived: grid constants",
        acknowledgement="global-land-mask (PyPI) and the GLOBE project (NOAA NGDC)")
    dataset = grid_dataset(
        grid,
        {
            "land": (static.land.astype(np.int8), {"standard_name": "land_binary_mask", "long_name": "land mask",
                                                   "flag_values": [0, 1], "flag_meanings": "sea land",
                                                   "coverage_content_type": "auxiliaryInformation",
                                                   "source": "global-land-mask (GLOBE 1 km)"}),
            "depth": (static.depth.astype(np.float32), {
                "standard_name": "sea_floor_depth_below_mean_sea_level", "units": "m", "positive": "down",
                "long_name": "minimum water depth within the cell (shallowest seabed node or probe of the relief; "
                             "missing where the relief has no seabed in the cell: land, or water it does not resolve)",
                "coverage_content_type": "auxiliaryInformation", "source": static.relief_source.description,
                "source_url": static.relief_source.url, "license": static.relief_source.licence}),
            "scale": (static.scale, {"units": "1", "coverage_content_type": "auxiliaryInformation", "long_name": "map scale factor k of EPSG:3413 at the cell centre "
                                     "(true distance = projected distance / k)"}),
        },
        attrs,
        lonlat=(static.lon, static.lat),
    )
    write_netcdf(dataset, path)


def _configured_relief(run):
    """The relief source of the run's configuration (runtime.yaml route.bathymetry), else embedded."""
    from .bathymetry import embedded_source, source_from_config

    if run is None or getattr(run, "settings", None) is None:
        return embedded_source()
    settings = run.settings
    return source_from_config(settings.runtime.get("route", {}).get("bathymetry"), settings.project_root,
                              settings.config_dir / "runtime.yaml")


def _relief_input(relief) -> dict:
    from .bathymetry import file_sha256

    return {"logical_id": f"relief://{relief.kind}/{relief.path.name}", "sha256": file_sha256(relief.path),
            "source_url": relief.url}


_CACHE: dict[tuple, StaticGrid] = {}


def load_static(roots: dict, grid: Grid, *, run=None) -> StaticGrid:
    """The grid's static layers, verified on read; built and stored as an artifact the first
    time they are needed, and again (with a ``run``) when the current version is missing,
    corrupt or another artifact's."""
    from .layers import read_variables
    from .store.artifacts import previous_meta
    from .store.integrity import IntegrityError

    meta = previous_meta(roots, "data", static_relpath(grid))
    if meta is not None and (meta["sha256"], grid) in _CACHE:
        return _CACHE[(meta["sha256"], grid)]
    relief = _configured_relief(run)
    stale_depth = (run is not None and meta is not None
                   and meta.get("params", {}).get("depth_source") != relief.key)
    try:
        if meta is None:
            raise IntegrityError(f"static layers for grid {grid.name} are missing or another artifact's "
                                 f"({static_relpath(grid)})",
                                 hint="run ingest.nrt.pull on this grid (it builds them again)")
        names = ("lon", "lat", "land", "scale") + (("depth",) if "depth_source" in meta.get("params", {}) else ())
        values = None if stale_depth else read_variables(roots, meta, names)
    except IntegrityError:
        if run is None:
            raise
        return _build_static(roots, grid, run)
    if values is None:  # built from another relief than the one configured now
        return _build_static(roots, grid, run)
    static = StaticGrid(grid=grid, lon=values["lon"], lat=values["lat"], land=values["land"].astype(bool),
                        scale=values["scale"], depth_m=values.get("depth"),
                        relief=relief if meta.get("params", {}).get("depth_source") == relief.key else None)
    _CACHE[(meta["sha256"], grid)] = static
    return static


def ensure_static(roots: dict, grid: Grid, run) -> None:
    """Build the static layers again if their current version is missing or corrupt."""
    from .store.artifacts import previous_meta
    from .store.integrity import is_intact

    if not is_intact(roots, previous_meta(roots, "data", static_relpath(grid))):
        _build_static(roots, grid, run)


def _build_static(roots: dict, grid: Grid, run) -> StaticGrid:
    from . import cf
    from .store.artifacts import ArtifactSpec, write_artifact

    run.log.info("building static layers (land mask, depth, lat/lon, scale) for grid %s", grid.name)
    relief = _configured_relief(run)
    static = StaticGrid.compute(grid, relief)
    spec = ArtifactSpec(
        logical_id=static_logical_id(grid),
        root="data",
        relpath=static_relpath(grid),
        kind=STATIC_KIND,
        synthetic=False,
        time_coverage={"start": None, "end": None},
        grid=grid.describe(),
        tags=["static", "land", "depth"],
        inputs=[_land_mask_source(), _relief_input(relief)],
        params={"land_rule": "centre, edge midpoints and corners probed with a 0.01 deg margin",
                "depth_rule": "shallowest source node in the cell and relief interpolated at the land-mask probes",
                "depth_source": relief.key},
    )
    meta = write_artifact(roots, spec, lambda p: _write_static(static, p, run.command, cf.date_created(run.settings.env)), run_id=run.run_id,
                          command=run.command)
    run.artifact(meta)
    _CACHE[(meta["sha256"], grid)] = static
    return static
