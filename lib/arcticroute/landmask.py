"""Land mask on the polar grid from ``global-land-mask`` (1 km GLOBE data in the wheel).

A cell counts as land when land lies at its centre, at any edge midpoint or at
any corner, each probed with a margin of about 1 km. Routes step between cell
centres, so every vertex and every segment midpoint of a planned route (the
shared edge midpoint or corner of two neighbouring cells) is then at sea.
Islands much smaller than a cell can still fall between these probes.

The package's own ``globe.is_land`` unpacks its whole 21600 x 43200 mask (about 1 GB) on
import. ``_ArcticMask`` reads the same mask from the package's ``.npz`` as a stream, a block of
rows at a time, keeps only the rows the grid can reach (north of its southernmost probe), packed
eight cells a byte, and looks points up with the package's own index arithmetic: the same
answers as ``globe.is_land`` for about 40 MB instead of 1 GB.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .grid import X_MIN, Y_MAX, Grid, to_lonlat

_MARGIN_DEG = 0.01  # about 1.1 km of latitude
_BAND_ROWS = 256


_ROWS_PER_BLOCK = 256


class _ArcticMask:
    """The rows of global-land-mask's ocean mask from ``lat_max`` down to ``lat_min``, bit-packed."""

    def __init__(self, lat_min: float):
        import importlib.util
        import zipfile
        from pathlib import Path

        spec = importlib.util.find_spec("global_land_mask")
        archive = Path(spec.origin).with_name("globe_combined_mask_compressed.npz")
        with zipfile.ZipFile(archive) as zipped:
            with zipped.open("lat.npy") as handle:
                self._lat = np.lib.format.read_array(handle)
            with zipped.open("lon.npy") as handle:
                self._lon = np.lib.format.read_array(handle)
            rows_needed = sorted({int(self._lat_index(np.array([v]))[0]) for v in (lat_min, 90.0)})
            self.first, last = rows_needed[0], rows_needed[1]
            with zipped.open("mask.npy") as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(handle)
                if fortran or dtype != np.bool_ or len(shape) != 2:
                    raise RuntimeError(f"global-land-mask: unexpected mask layout {shape} {dtype} fortran={fortran}")
                ny, nx = shape
                self.packed = np.zeros((last - self.first + 1, (nx + 7) // 8), dtype=np.uint8)
                row = 0
                while row <= last:
                    count = min(_ROWS_PER_BLOCK, ny - row)
                    block = np.frombuffer(handle.read(count * nx), dtype=np.bool_).reshape(count, nx)
                    lo, hi = max(row, self.first), min(row + count, last + 1)
                    if lo < hi:
                        self.packed[lo - self.first: hi - self.first] = np.packbits(block[lo - row: hi - row], axis=1)
                    row += count

    def _lat_index(self, lat: np.ndarray) -> np.ndarray:
        lat = np.array(lat)  # as globe.lat_to_index computes it
        lat[lat > self._lat.max()] = self._lat.max()
        lat[lat < self._lat.min()] = self._lat.min()
        return ((lat - self._lat[0]) / (self._lat[1] - self._lat[0])).astype("int")

    def _lon_index(self, lon: np.ndarray) -> np.ndarray:
        lon = np.array(lon)  # as globe.lon_to_index computes it
        lon[lon > self._lon.max()] = self._lon.max()
        lon[lon < self._lon.min()] = self._lon.min()
        return ((lon - self._lon[0]) / (self._lon[1] - self._lon[0])).astype("int")

    def is_land(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """``globe.is_land(lat, lon)`` for points at or north of ``lat_min``."""
        rows = self._lat_index(lat) - self.first
        if rows.size and (rows.min() < 0 or rows.max() >= self.packed.shape[0]):
            raise ValueError("land mask asked south of the rows it holds")
        cols = self._lon_index(lon)
        ocean = (self.packed[rows, cols >> 3] >> (7 - (cols & 7))) & 1
        return ocean == 0


def _probe_land(lat: np.ndarray, lon: np.ndarray, mask: _ArcticMask) -> np.ndarray:
    land = np.zeros(lat.shape, dtype=bool)
    coslat = np.clip(np.cos(np.radians(lat)), 0.05, 1.0)
    for dlat in (-_MARGIN_DEG, 0.0, _MARGIN_DEG):
        for dlon_unit in (-1.0, 0.0, 1.0):
            plat = np.clip(lat + dlat, -90.0, 90.0)
            plon = lon + dlon_unit * _MARGIN_DEG / coslat
            plon = (plon + 180.0) % 360.0 - 180.0
            land |= mask.is_land(plat, plon)
    return land


def _southernmost(grid_lattice_x: np.ndarray, grid_lattice_y: np.ndarray) -> float:
    """The lowest latitude of the lattice: on its outline (the pole lies inside the extent)."""
    edges = [to_lonlat(grid_lattice_x, np.full(grid_lattice_x.size, y)) for y in (grid_lattice_y[0], grid_lattice_y[-1])]
    edges += [to_lonlat(np.full(grid_lattice_y.size, x), grid_lattice_y) for x in (grid_lattice_x[0], grid_lattice_x[-1])]
    return float(min(np.min(lat) for _lon, lat in edges))


@lru_cache(maxsize=4)
def land_mask(grid: Grid) -> np.ndarray:
    """Boolean ``(ny, nx)`` array, True where a cell is land (see module doc); cached per grid."""
    half = grid.resolution_m / 2.0
    lattice_x = X_MIN + np.arange(2 * grid.nx + 1) * half
    lattice_y = Y_MAX - np.arange(2 * grid.ny + 1) * half
    globe = _ArcticMask(lat_min=_southernmost(lattice_x, lattice_y) - 2 * _MARGIN_DEG)
    lattice = np.zeros((lattice_y.size, lattice_x.size), dtype=bool)
    for start in range(0, lattice_y.size, _BAND_ROWS):
        band_y = lattice_y[start : start + _BAND_ROWS]
        xx, yy = np.meshgrid(lattice_x, band_y)
        lon, lat = to_lonlat(xx, yy)
        lattice[start : start + band_y.size] = _probe_land(lat, lon, globe)
    del globe
    windows = np.lib.stride_tricks.sliding_window_view(lattice, (3, 3))[::2, ::2]
    mask = windows.any(axis=(-2, -1))
    mask.flags.writeable = False  # shared by the cache
    return mask
