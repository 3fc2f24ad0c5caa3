"""Regridding a provider's field onto the run's EPSG:3413 grid.

Method (one for every continuous field): every source pixel centre is projected to EPSG:3413 with
pyproj; a target cell takes the **mean of the finite source pixels whose centres fall in
it** (a box average: area-weighted when the source pixels are of equal area, as on a polar
stereographic grid); a target cell no source centre falls in (the target finer than the
source) takes the **nearest source pixel** within one source spacing of its centre (scipy
cKDTree). Cells farther from any source pixel stay NaN. The mapping from source pixels to
target cells depends only on the two grids, so it is built once per process and reused for
every day of a source. Categorical fields (ice type) take the most frequent category of the
source pixels in a cell instead of their mean (``apply_mode``), a tie going to the more severe
category (for ice types: the older, thicker ice), so a regridded cell never reads milder than
half its pixels.

``fill_sea`` then closes small gaps at sea (the pole hole, coastal pixels the provider
masks but our land mask calls sea) from the nearest valid cell within ``max_km``, and says
how many cells it filled.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pyproj
from scipy import ndimage
from scipy.spatial import cKDTree

from ..grid import CRS_EPSG, X_MIN, Y_MAX, Grid

METHOD = "box-mean of source pixels per target cell; nearest source pixel within one spacing where none falls in"

_CACHE: dict[tuple, Regridder] = {}
_LOCK = threading.Lock()


class Regridder:
    """The fixed mapping from one source grid (pixel centres in EPSG:3413) to a target grid."""

    def __init__(self, x: np.ndarray, y: np.ndarray, grid: Grid):
        """``x``, ``y``: EPSG:3413 metres of every source pixel centre (any shape, same shape)."""
        self.source_shape = x.shape
        self.grid = grid
        xf, yf = x.ravel(), y.ravel()
        finite = np.isfinite(xf) & np.isfinite(yf)
        cols = np.floor((xf - X_MIN) / grid.resolution_m)
        rows = np.floor((Y_MAX - yf) / grid.resolution_m)
        inside = finite & (cols >= 0) & (cols < grid.nx) & (rows >= 0) & (rows < grid.ny)
        self.source_index = np.flatnonzero(inside)
        self.target_index = (rows[inside] * grid.nx + cols[inside]).astype(np.int64)
        size = grid.ny * grid.nx
        self.count = np.bincount(self.target_index, minlength=size)
        self.nearest_target = np.empty(0, dtype=np.int64)
        self.nearest_source = np.empty(0, dtype=np.int64)
        empty = np.flatnonzero(self.count == 0)
        if empty.size and finite.any():
            points = np.column_stack([xf[finite], yf[finite]])
            tree = cKDTree(points)
            spacing = _spacing(tree, points)
            tx = grid.x[empty % grid.nx]
            ty = grid.y[empty // grid.nx]
            distance, nearest = tree.query(np.column_stack([tx, ty]), distance_upper_bound=spacing)
            hit = np.isfinite(distance)
            self.nearest_target = empty[hit]
            self.nearest_source = np.flatnonzero(finite)[nearest[hit]]

    def apply(self, values: np.ndarray) -> np.ndarray:
        """``values`` (shaped like the source) on the target grid, float32, NaN where no data."""
        if values.shape != self.source_shape:
            raise ValueError(f"field shape {values.shape} differs from the grid's {self.source_shape}")
        flat = np.asarray(values, dtype=np.float64).ravel()
        picked = flat[self.source_index]
        ok = np.isfinite(picked)
        size = self.grid.ny * self.grid.nx
        sums = np.bincount(self.target_index[ok], weights=picked[ok], minlength=size)
        counts = np.bincount(self.target_index[ok], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        if self.nearest_target.size:
            out[self.nearest_target] = flat[self.nearest_source]
        return out.reshape(self.grid.shape).astype(np.float32)


    def apply_mode(self, codes: np.ndarray, categories: list[int]) -> np.ndarray:
        """Categorical ``codes`` (NaN = none) on the target grid: the most frequent category of the
        source pixels in each cell, ``categories`` listed from the least to the most severe and a
        tie going to the more severe; nearest pixel where none falls in."""
        flat = np.asarray(codes, dtype=np.float64).ravel()
        picked = flat[self.source_index]
        size = self.grid.ny * self.grid.nx
        counts = np.zeros((len(categories), size), dtype=np.int64)
        for k, code in enumerate(categories):
            hit = picked == code
            counts[k] = np.bincount(self.target_index[hit], minlength=size)
        # argmax returns the first maximum: search the categories from the most severe down
        most = len(categories) - 1 - np.argmax(counts[::-1], axis=0)
        best = np.asarray(categories, dtype=np.float64)[most]
        out = np.where(counts.sum(axis=0) > 0, best, np.nan)
        if self.nearest_target.size:
            out[self.nearest_target] = flat[self.nearest_source]
        return out.reshape(self.grid.shape).astype(np.float32)


def _spacing(tree: cKDTree, points: np.ndarray) -> float:
    """Typical distance between neighbouring source pixels (m), from a sample."""
    sample = points[:: max(1, len(points) // 2000)]
    distance, _ = tree.query(sample, k=2)
    return float(np.median(distance[:, 1])) * 1.01


def _key(*arrays, extra: str, grid: Grid) -> tuple:
    digest = hashlib.sha256(extra.encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(str(array.shape).encode())
    return digest.hexdigest(), grid


def for_projected(x: np.ndarray, y: np.ndarray, crs: pyproj.CRS, grid: Grid) -> Regridder:
    """Regridder for a regular grid with 1-D axes ``x``, ``y`` (metres) in ``crs``."""
    key = _key(x, y, extra=crs.to_wkt(), grid=grid)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    xx, yy = np.meshgrid(x, y)
    if crs.equals(pyproj.CRS.from_epsg(CRS_EPSG)):
        tx, ty = xx, yy
    else:
        transformer = pyproj.Transformer.from_crs(crs, CRS_EPSG, always_xy=True)
        tx, ty = transformer.transform(xx, yy)
    regridder = Regridder(np.asarray(tx), np.asarray(ty), grid)
    with _LOCK:
        _CACHE[key] = regridder
    return regridder


def for_lonlat(lon: np.ndarray, lat: np.ndarray, grid: Grid) -> Regridder:
    """Regridder for a curvilinear grid given by 2-D (or 1-D axes of) longitude and latitude."""
    if lon.ndim == 1 and lat.ndim == 1:
        lon, lat = np.meshgrid(lon, lat)
    key = _key(lon, lat, extra="lonlat", grid=grid)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    transformer = pyproj.Transformer.from_crs(4326, CRS_EPSG, always_xy=True)
    tx, ty = transformer.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    regridder = Regridder(np.asarray(tx), np.asarray(ty), grid)
    with _LOCK:
        _CACHE[key] = regridder
    return regridder


def fill_sea(values: np.ndarray, land: np.ndarray, resolution_m: float, max_km: float) -> tuple[np.ndarray, int, int]:
    """Fill NaN sea cells from the nearest finite cell within ``max_km``; land becomes NaN.

    Returns the field, the number of sea cells filled, and the number of sea cells left NaN.
    """
    out = values.astype(np.float32, copy=True)
    out[land] = np.nan
    missing = ~np.isfinite(out) & ~land
    if not missing.any() or not np.isfinite(out).any():
        return out, 0, int(missing.sum())
    distance, (rows, cols) = ndimage.distance_transform_edt(~np.isfinite(out), return_indices=True)
    fill = missing & (distance * resolution_m <= max_km * 1000.0)
    out[fill] = out[rows[fill], cols[fill]]
    return out, int(fill.sum()), int((missing & ~fill).sum())
