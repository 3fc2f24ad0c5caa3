"""Land mask on the polar grid from ``global-land-mask`` (1 km GLOBE data in the wheel).

A cell counts as land when land lies at its centre, at any edge midpoint or at
any corner, each probed with a margin of about 1 km. Routes step between cell
centres, so every vertex and every segment midpoint of a planned route (the
shared edge midpoint or corner of two neighbouring cells) is then at sea.
Islands much smaller than a cell can still fall between these probes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .grid import X_MIN, Y_MAX, Grid, to_lonlat

_MARGIN_DEG = 0.01  # about 1.1 km of latitude
_BAND_ROWS = 256


def _probe_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    from global_land_mask import globe  # imported late: it unpacks a ~1 GB array

    land = np.zeros(lat.shape, dtype=bool)
    coslat = np.clip(np.cos(np.radians(lat)), 0.05, 1.0)
    for dlat in (-_MARGIN_DEG, 0.0, _MARGIN_DEG):
        for dlon_unit in (-1.0, 0.0, 1.0):
            plat = np.clip(lat + dlat, -90.0, 90.0)
            plon = lon + dlon_unit * _MARGIN_DEG / coslat
            plon = (plon + 180.0) % 360.0 - 180.0
            land |= globe.is_land(plat, plon)
    return land


@lru_cache(maxsize=4)
def land_mask(grid: Grid) -> np.ndarray:
    """Boolean ``(ny, nx)`` array, True where a cell is land (see module doc); cached per grid."""
    half = grid.resolution_m / 2.0
    lattice_x = X_MIN + np.arange(2 * grid.nx + 1) * half
    lattice_y = Y_MAX - np.arange(2 * grid.ny + 1) * half
    lattice = np.zeros((lattice_y.size, lattice_x.size), dtype=bool)
    for start in range(0, lattice_y.size, _BAND_ROWS):
        band_y = lattice_y[start : start + _BAND_ROWS]
        xx, yy = np.meshgrid(lattice_x, band_y)
        lon, lat = to_lonlat(xx, yy)
        lattice[start : start + band_y.size] = _probe_land(lat, lon)
    windows = np.lib.stride_tricks.sliding_window_view(lattice, (3, 3))[::2, ::2]
    mask = windows.any(axis=(-2, -1))
    mask.flags.writeable = False  # shared by the cache
    return mask
