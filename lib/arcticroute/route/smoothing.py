"""Any-angle smoothing of grid paths: straight legs within the hard limits that cost no more.

The 8-connected grid path zig-zags (up to 8 % longer than the line it approximates). After the
grid search, runs of its vertices are replaced by single legs, greedily from the start: from each
leg's start the farthest later vertex is taken whose leg

- enters no cell the vessel may not enter (land not opened by a fairway, POLARIS, ``max_sic``,
  ``max_wave_m``, water cut off from the ocean): the leg is traversed exactly, cell edge by cell
  edge, in the grid's own plane (``traverse``) — a leg that only touches a corner of a blocked
  cell (zero length in it) passes, as the grid path's own diagonal steps do;
- keeps clear of land in the land data itself (``FineLand``: GLOBE 1 km, the data of the land
  mask and the fairways), sampled every 500 m with the same ~1 km margin as the land mask, so
  no island smaller than a cell is crossed;
- does not cost more than the stretch of path it replaces: cost = the integral along the line of
  the routing cost per metre (time plus risk penalty, ``routing.cost_surface`` divided by the
  step length; for the distance-only baseline, metres), each cell's value times the true length
  of the piece of line in it (projected length over the map scale factor). The grid path is
  integrated the same way, so the smoothed route's cost is never above the grid path's.

Candidates are all vertices up to 48 ahead, farther ones (while the farthest is still valid the
window doubles) every few vertices and then each vertex just past the farthest valid one.

**Legs are straight lines in EPSG:3413, not great circles.** The limits and the cost are cells of
that plane, and a straight line in it crosses them exactly as ``traverse`` computes; a great
circle is a curve there and could only be sampled. On this grid the difference is negligible:
measured on legs of 1,100-2,000 km between 60 and 78 N, a straight projected line is 0.002-0.008 %
longer than the geodesic and lies 3-11 km from it. The straight line also has no antimeridian:
a leg across 180 degrees is one line in the plane, split for GeoJSON only when written
(``geometry.split_antimeridian``); lengths are geodesic sums over points every half cell along
it. See docs/route-model.md.
"""

from __future__ import annotations

import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..grid import X_MIN, Y_MAX, Grid, to_lonlat

FINE_SPACING_M = 500.0  # land-data check along a leg
_MARGIN_DEG = 0.01  # as landmask: about 1.1 km of latitude
_COST_RTOL = 1e-9
_MIN_PIECE_M = 1e-3  # a leg that only touches a blocked cell's corner does not enter it
_FIRST_WINDOW = 48


# ---------------------------------------------------------------------------
# Exact traversal of straight segments through the grid's cells
# ---------------------------------------------------------------------------


def traverse(grid: Grid, x0, y0, x1, y1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pieces of straight segments ``(x0, y0) -> (x1, y1)`` (arrays, EPSG:3413 metres) in each
    grid cell they cross: segment number, row, column and projected length of every piece."""
    x0, y0, x1, y1 = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (x0, y0, x1, y1))
    res = grid.resolution_m
    u0, u1 = (x0 - X_MIN) / res, (x1 - X_MIN) / res
    v0, v1 = (Y_MAX - y0) / res, (Y_MAX - y1) / res
    m = u0.size
    ts, segs = [np.zeros(m), np.ones(m)], [np.arange(m), np.arange(m)]
    for a0, a1 in ((u0, u1), (v0, v1)):
        lo = np.floor(np.minimum(a0, a1)) + 1
        hi = np.ceil(np.maximum(a0, a1)) - 1
        count = np.maximum(hi - lo + 1, 0).astype(np.int64)
        total = int(count.sum())
        if total:
            seg = np.repeat(np.arange(m), count)
            offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
            k = lo[seg] + offset
            ts.append((k - a0[seg]) / (a1[seg] - a0[seg]))
            segs.append(seg)
    t = np.concatenate(ts)
    seg = np.concatenate(segs)
    order = np.argsort(seg + t * 0.5)  # by segment, then along it (one float key sorts faster than lexsort)
    t, seg = t[order], seg[order]
    same = seg[1:] == seg[:-1]
    ta, tb, seg = t[:-1][same], t[1:][same], seg[:-1][same]
    mid = (ta + tb) / 2.0
    cols = np.clip(np.floor(u0[seg] + mid * (u1[seg] - u0[seg])), 0, grid.nx - 1).astype(np.int64)
    rows = np.clip(np.floor(v0[seg] + mid * (v1[seg] - v0[seg])), 0, grid.ny - 1).astype(np.int64)
    length = (tb - ta) * np.hypot(x1 - x0, y1 - y0)[seg]
    return seg, rows, cols, length


def segment_costs(grid: Grid, per_step: np.ndarray, passable: np.ndarray | None, x0, y0, x1, y1,
                  fill: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cost of each straight segment and whether it enters a cell that is not ``passable``.

    ``per_step`` is the routing cost of one axial step through each cell (``routing.cost_surface``:
    the step's true length, resolution over the map scale factor, times the cost per metre; <= 0
    where impassable), so a piece of projected length l in a cell costs ``per_step x l /
    resolution``: the cell's cost per metre times the piece's true length. ``fill``: the cost per
    step counted for pieces in impassable cells (for the grid path's own true end legs).
    """
    m = np.atleast_1d(x0).size
    seg, rows, cols, proj = traverse(grid, x0, y0, x1, y1)
    step = per_step[rows, cols]
    ok = step > 0
    if passable is not None:
        ok &= passable[rows, cols]
    if fill is not None:
        step = np.where(ok, step, fill)
    cost = np.bincount(seg, weights=step * proj, minlength=m) / grid.resolution_m
    if passable is None:
        return cost, np.zeros(m, dtype=bool)
    enters = ~ok & (proj > _MIN_PIECE_M)
    return cost, np.bincount(seg, weights=enters, minlength=m) > 0


# ---------------------------------------------------------------------------
# The land data itself (GLOBE 1 km, as packed in global-land-mask), north of a latitude
# ---------------------------------------------------------------------------


class FineLand:
    """GLOBE pixels (1/120 degree) from global-land-mask (which stores True for ocean), read row band by row band from the
    north as far south as asked and kept bit-packed (about 5 MB per 10 degrees of latitude):
    the package's own loader unpacks the whole globe, about 1 GB."""

    ROWS, COLS = 21600, 43200
    _CHUNK = 240

    def __init__(self):
        self._lock = threading.Lock()
        self._stream = None
        self._bands: list[np.ndarray] = []
        self._rows = 0
        self.load_seconds = 0.0

    def _open(self):
        import importlib.util

        # found, not imported: importing the package unpacks the whole globe
        spec = importlib.util.find_spec("global_land_mask")
        path = Path(next(iter(spec.submodule_search_locations))) / "globe_combined_mask_compressed.npz"
        stream = zipfile.ZipFile(path).open("mask.npy")
        version = np.lib.format.read_magic(stream)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = header(stream)
        if shape != (self.ROWS, self.COLS) or fortran or dtype != np.bool_:
            raise RuntimeError(f"unexpected global-land-mask layout {shape} {dtype} (fortran={fortran})")
        return stream

    def _ensure(self, rows: int) -> None:
        with self._lock:
            if rows <= self._rows:
                return
            started = time.perf_counter()
            if self._stream is None:
                self._stream = self._open()
            while self._rows < rows:
                take = min(self._CHUNK, self.ROWS - self._rows)
                raw = self._stream.read(take * self.COLS)
                self._bands.append(np.packbits(np.frombuffer(raw, dtype=np.uint8).reshape(take, self.COLS), axis=1))
                self._rows += take
            self._packed = np.concatenate(self._bands) if len(self._bands) > 1 else self._bands[0]
            self._bands = [self._packed]
            self.load_seconds += time.perf_counter() - started

    def is_land(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """As ``global_land_mask.globe.is_land`` (the same pixel for every point)."""
        lat = np.clip(np.asarray(lat, dtype=np.float64), -90.0, 90.0)
        lon = np.clip(np.asarray(lon, dtype=np.float64), -180.0, 180.0 - 1e-9)
        rows = np.clip(((90.0 - lat) * 120.0).astype(np.int64), 0, self.ROWS - 1)
        cols = np.clip(((lon + 180.0) * 120.0).astype(np.int64), 0, self.COLS - 1)
        if rows.size == 0:
            return np.zeros(rows.shape, dtype=bool)
        self._ensure(int(rows.max()) + 1)
        return ((self._packed[rows, cols >> 3] >> (7 - (cols & 7))) & 1) == 0  # the package stores ocean

    def near_land(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Land at the point or about 1 km from it (the land mask's probes: 3 x 3 offsets)."""
        lat, lon = np.asarray(lat, dtype=np.float64).ravel(), np.asarray(lon, dtype=np.float64).ravel()
        step = _MARGIN_DEG / np.clip(np.cos(np.radians(lat)), 0.05, 1.0)
        offsets = np.array([-1.0, 0.0, 1.0])
        dlat, dlon = np.repeat(offsets, 3)[:, None], np.tile(offsets, 3)[:, None]  # the 9 probes
        plat = lat[None, :] + _MARGIN_DEG * dlat
        plon = (lon[None, :] + step[None, :] * dlon + 180.0) % 360.0 - 180.0
        return self.is_land(plat.ravel(), plon.ravel()).reshape(9, -1).any(axis=0)


FINE_LAND = FineLand()


def leg_clear_of_land(x0: float, y0: float, x1: float, y1: float, scale: float = 1.0) -> bool:
    """No land (GLOBE, with the ~1 km margin) within a straight projected leg, every 500 m."""
    n = int(np.ceil(np.hypot(x1 - x0, y1 - y0) / scale / FINE_SPACING_M)) + 1
    t = np.linspace(0.0, 1.0, max(n, 2))
    lon, lat = to_lonlat(x0 + t * (x1 - x0), y0 + t * (y1 - y0))
    return not FINE_LAND.near_land(np.asarray(lat), np.asarray(lon)).any()


# ---------------------------------------------------------------------------
# Smoothing
# ---------------------------------------------------------------------------


@dataclass
class Smoothed:
    x: np.ndarray  # leg end points (EPSG:3413), first and last the path's own
    y: np.ndarray
    kept: np.ndarray  # index into the grid path's vertices of each leg end point
    grid_cost: float  # the grid path's cost, integrated as the legs' are
    cost: float
    seconds: float  # time the smoothing took


def smooth(grid: Grid, scale: np.ndarray, per_step: np.ndarray, passable: np.ndarray, x: np.ndarray, y: np.ndarray,
           *, land_clear=leg_clear_of_land) -> Smoothed:
    """Replace runs of the path ``x, y`` (projected vertices) by straight legs (see module doc).

    ``per_step``: the routing cost surface (cost of an axial step through each cell, <= 0 where a
    hard limit forbids it); ``passable``: cells routing may use at all (the open ocean, fairways
    included); ``land_clear(x0, y0, x1, y1, scale)``: the land-data check of a leg.
    """
    started = time.perf_counter()
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = x.size
    res = grid.resolution_m
    # the grid path's own steps; pieces in cells routing does not use (a true end point's leg on
    # land, zero-length corner touches) at the dearest cost along the path
    _seg, rows, cols, _proj = traverse(grid, x[:-1], y[:-1], x[1:], y[1:])
    along = per_step[rows, cols]
    worst = float(along.max()) if along.size and along.max() > 0 else 1.0
    steps, _ = segment_costs(grid, per_step, passable, x[:-1], y[:-1], x[1:], y[1:], fill=worst)
    cumulative = np.concatenate([[0.0], np.cumsum(steps)])
    kept, costs = [0], []
    a = 0
    while a < n - 1:
        best, best_cost = a + 1, float(steps[a])
        window = _FIRST_WINDOW
        while True:
            hi = min(n - 1, a + window)
            js = np.arange(a + 2, hi + 1)
            if window > _FIRST_WINDOW:  # far candidates every few vertices, then the ones next to the best
                js = np.unique(np.concatenate([js[:_FIRST_WINDOW], js[_FIRST_WINDOW::window // _FIRST_WINDOW],
                                               [hi]]))
            if js.size == 0:
                break
            cost, enters = segment_costs(grid, per_step, passable, np.full(js.size, x[a]), np.full(js.size, y[a]),
                                         x[js], y[js])
            ok = ~enters & (cost <= (cumulative[js] - cumulative[a]) * (1 + _COST_RTOL))
            if ok[-1] and hi < n - 1:
                window *= 2
                continue
            order = list(np.flatnonzero(ok)[::-1])
            if order and window > _FIRST_WINDOW:  # the stride may have skipped a farther valid vertex
                j0 = int(js[order[0]])
                near = np.arange(j0 + 1, min(j0 + window // _FIRST_WINDOW, n))
                if near.size:
                    c2, e2 = segment_costs(grid, per_step, passable, np.full(near.size, x[a]),
                                           np.full(near.size, y[a]), x[near], y[near])
                    ok2 = ~e2 & (c2 <= (cumulative[near] - cumulative[a]) * (1 + _COST_RTOL))
                    js, cost = np.concatenate([js, near]), np.concatenate([cost, c2])
                    order = [js.size - near.size + i for i in np.flatnonzero(ok2)[::-1]] + order
            k = float(scale[min(max(int((Y_MAX - y[a]) // res), 0), grid.ny - 1),
                            min(max(int((x[a] - X_MIN) // res), 0), grid.nx - 1)])
            for i in order:
                j = int(js[i])
                if land_clear(x[a], y[a], x[j], y[j], k):
                    best, best_cost = j, float(cost[i])
                    break
            break
        kept.append(best)
        costs.append(best_cost)
        a = best
    idx = np.asarray(kept, dtype=np.int64)
    return Smoothed(x[idx], y[idx], idx, float(cumulative[-1]), float(sum(costs)), time.perf_counter() - started)


def densify(x: np.ndarray, y: np.ndarray, spacing_m: float, only: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` (projected) along straight legs (those ``only`` marks, if given),
    the leg ends kept exactly."""
    xs, ys = [x[:1]], [y[:1]]
    for k in range(x.size - 1):
        n = max(int(np.ceil(np.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) / spacing_m)), 1)
        if only is not None and not only[k]:
            n = 1
        t = np.arange(1, n + 1) / n
        px, py = x[k] + t * (x[k + 1] - x[k]), y[k] + t * (y[k + 1] - y[k])
        px[-1], py[-1] = x[k + 1], y[k + 1]
        xs.append(px)
        ys.append(py)
    return np.concatenate(xs), np.concatenate(ys)
