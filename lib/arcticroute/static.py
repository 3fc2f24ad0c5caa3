"""Static per-grid layers (lon, lat, land, map scale), built once and kept as an artifact."""

from __future__ import annotations

from dataclasses import dataclass

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
