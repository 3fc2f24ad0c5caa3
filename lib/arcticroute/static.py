"""Static per-grid layers (lon, lat, land, map scale), built once and kept as an artifact."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .errors import ArcticRouteError
from .grid import Grid


@dataclass(frozen=True)
class StaticGrid:
    """A grid with its per-cell static layers, all shaped ``grid.shape``."""

    grid: Grid
    lon: np.ndarray
    lat: np.ndarray
    land: np.ndarray  # bool, True on land
    scale: np.ndarray  # map scale factor k (true distance = projected / k)

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
    def compute(cls, grid: Grid) -> StaticGrid:
        from .grid import scale_factor
        from .landmask import land_mask

        lon, lat = grid.lonlat()
        return cls(
            grid=grid,
            lon=lon.astype(np.float32),
            lat=lat.astype(np.float32),
            land=land_mask(grid),
            scale=scale_factor(grid),
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


def _write_static(static: StaticGrid, path) -> None:
    from .layers import grid_dataset, write_netcdf

    dataset = grid_dataset(
        static.grid,
        {
            "lon": (static.lon, {"units": "degrees_east", "standard_name": "longitude"}),
            "lat": (static.lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "land": (static.land.astype(np.uint8), {"long_name": "land mask (1 = land)", "source": "global-land-mask (GLOBE 1 km)"}),
            "scale": (static.scale, {"long_name": "map scale factor k of EPSG:3413"}),
        },
        {"title": f"ArcticRoute static grid layers {static.grid.name}"},
    )
    write_netcdf(dataset, path)


_CACHE: dict[tuple, StaticGrid] = {}


def load_static(roots: dict, grid: Grid, *, run=None) -> StaticGrid:
    """The grid's static layers, built and stored as an artifact the first time they are needed."""
    import xarray as xr

    from .artifacts import ArtifactSpec, current_meta, write_artifact

    meta = current_meta(roots, "data", static_relpath(grid))
    if meta is None:
        if run is None:
            raise ArcticRouteError(f"static layers for grid {grid.name} are missing",
                                   hint="run ingest.nrt.pull on this grid first (it builds them)")
        run.log.info("building static layers (land mask, lat/lon, scale) for grid %s", grid.name)
        static = StaticGrid.compute(grid)
        spec = ArtifactSpec(
            logical_id=static_logical_id(grid),
            root="data",
            relpath=static_relpath(grid),
            kind=STATIC_KIND,
            synthetic=False,
            time_coverage={"start": None, "end": None},
            grid=grid.describe(),
            tags=["static", "land"],
            inputs=[_land_mask_source()],
            params={"land_rule": "centre, edge midpoints and corners probed with a 0.01 deg margin"},
        )
        meta = write_artifact(roots, spec, lambda p: _write_static(static, p), run_id=run.run_id, command=run.command)
        run.artifact(meta)
        _CACHE[(meta["sha256"], grid)] = static
        return static
    key = (meta["sha256"], grid)
    if key not in _CACHE:
        with xr.open_dataset(roots["data"] / meta["path"], engine="netcdf4") as ds:
            _CACHE[key] = StaticGrid(
                grid=grid,
                lon=ds["lon"].values,
                lat=ds["lat"].values,
                land=ds["land"].values.astype(bool),
                scale=ds["scale"].values,
            )
    return _CACHE[key]
