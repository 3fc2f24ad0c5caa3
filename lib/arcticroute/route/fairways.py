"""Fairways: the narrow waters ships use, kept passable on any routing grid.

A 25 km cell that touches land counts as land (``landmask``), which closes every strait narrower
than about two cells. Each fairway here is a polyline through such waters, from open sea to
open sea (straits) or from a port to open sea (approaches), derived on a 250 m raster of the
same land data (global-land-mask, GLOBE 1 km) as the least-cost water path that keeps clear of
the shore, then simplified while every leg stays clear of land at 50 m sampling
(``derive``; ``tests/test_fairways.py`` checks the stored points again).

On a grid, the land cells a fairway passes through are opened for routing (``FairwayIndex``);
a route through them follows the fairway polyline itself, so every segment still avoids land.

Matochkin Shar (about 0.6 km wide at its narrowest) is closed in the land data itself, so no
fairway through it can be checked clear of land: it is not listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grid import X_MIN, Y_MAX, Grid, to_xy

# name: (kind, description, [(lat, lon), ...]) — straits west to east, then port approaches.
FAIRWAYS: dict[str, tuple[str, str, list[tuple[float, float]]]] = {
    "kara_gate": ("strait", "Kara Gate (Karskiye Vorota), Vaygach - Novaya Zemlya",
                  [(70.0001, 56.5009), (70.9, 59.6)]),
    "yugorsky_shar": ("strait", "Yugorsky Shar, mainland - Vaygach",
                      [(69.7501, 58.6056), (69.6276, 59.5868), (69.6578, 60.2354), (69.6804, 60.4602),
                       (69.9989, 60.7995), (69.95, 61.8)]),
    "vilkitsky": ("strait", "Vilkitsky Strait, Taymyr - Bolshevik Island",
                  [(77.2987, 100.0094), (77.9242, 104.7371), (77.6, 108.5)]),
    "shokalsky": ("strait", "Shokalsky Strait, Bolshevik - October Revolution Island",
                  [(79.701, 88.0089), (78.8154, 93.5372), (78.6647, 97.4805), (78.6916, 99.006),
                   (78.8648, 100.4054), (79.3068, 100.8432), (79.6026, 104.9976), (78.8, 107.5)]),
    "sannikov": ("strait", "Sannikov Strait, Kotelny - Maly Lyakhovsky",
                 [(74.6, 135.5009), (74.5106, 141.2132), (74.5999, 145.9999)]),
    "dmitry_laptev": ("strait", "Dmitry Laptev Strait, mainland - Bolshoy Lyakhovsky",
                      [(73.0, 137.5024), (72.8999, 144.9999)]),
    "long": ("strait", "Long Strait, Chukotka - Wrangel Island", [(70.299, 175.0037), (69.9997, -175.001)]),
    "bering": ("strait", "Bering Strait, east of the Diomedes",
               [(66.4992, -169.0012), (65.7966, -168.4602), (65.2, -169.2)]),
    # the Northwest Passage's deep-draught way (Headland's route 2: Lancaster Sound, Barrow Strait,
    # Viscount Melville Sound, Prince of Wales Strait, Amundsen Gulf), closed at 25 km without them;
    # derived with approach.water_polyline (shore-keeping water path on the GLOBE pixels, legs clear
    # of land with the land mask's ~1 km margin)
    "barrow": ("strait", "Barrow Strait (Parry Channel), Lancaster Sound - Viscount Melville Sound",
               [(74.3042, -84.0042), (74.4208, -98.1875), (74.5042, -105.0042)]),
    "prince_of_wales": ("strait", "Prince of Wales Strait, Banks Island - Victoria Island",
                        [(74.0042, -112.0042), (72.7708, -118.2708), (70.5042, -122.0375), (70.5042, -123.0042)]),
    "kola_bay": ("approach", "Kola Bay, from off Severomorsk to the Barents Sea",
                 [(69.1009, 33.4228), (69.1558, 33.5194), (69.2931, 33.5244), (69.6, 34.0)]),
    # on past the Gulf of Ob's mouth bar (ETOPO1 reads 7-14 m there) to 15+ m water of the Kara Sea
    "ob_bay": ("approach", "Ob Bay, from Sabetta to the Kara Sea", [(71.2818, 72.0978), (73.299, 74.3059),
                                                                    (74.0, 74.0)]),
    "maas": ("approach", "Maasvlakte (Rotterdam) to the North Sea", [(51.9565, 4.0129), (52.0512, 3.6021)]),
}
_SAMPLE_M = 500.0


@dataclass(frozen=True)
class Fairway:
    name: str
    x: np.ndarray  # polyline vertices, EPSG:3413 metres
    y: np.ndarray
    sx: np.ndarray  # samples every _SAMPLE_M along it
    sy: np.ndarray
    s_seg: np.ndarray  # index of the polyline leg each sample lies on
    s_cell: np.ndarray  # flat grid index of each sample


@dataclass(frozen=True)
class FairwayIndex:
    """The fairways on one grid: the land cells they open and, per cell, the fairways through it."""

    fairways: tuple[Fairway, ...]
    opened: np.ndarray  # bool grid: land cells a fairway passes through
    members: dict[int, tuple[int, ...]]  # flat cell -> fairway numbers

    def vertices_between(self, number: int, cell_a: int, cell_b: int) -> tuple[np.ndarray, np.ndarray]:
        """The fairway's own points from where it enters ``cell_a`` to where it leaves ``cell_b``
        (in that order): the entry sample, the polyline vertices between, the exit sample."""
        f = self.fairways[number]
        ia = np.flatnonzero(f.s_cell == cell_a)
        ib = np.flatnonzero(f.s_cell == cell_b)
        forward = ia.mean() <= ib.mean()
        a = int(ia.min() if forward else ia.max())
        b = int(ib.max() if forward else ib.min())
        lo, hi = sorted((f.s_seg[a], f.s_seg[b]))
        inner = np.arange(lo + 1, hi + 1)  # vertices strictly between the two samples' legs
        if not forward:
            inner = inner[::-1]
        xs = np.concatenate([[f.sx[a]], f.x[inner], [f.sx[b]]])
        ys = np.concatenate([[f.sy[a]], f.y[inner], [f.sy[b]]])
        return xs, ys


def _sample(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, segs = [], [], []
    for k in range(len(x) - 1):
        n = max(2, int(np.ceil(np.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) / _SAMPLE_M)) + 1)
        t = np.linspace(0.0, 1.0, n)[:-1] if k < len(x) - 2 else np.linspace(0.0, 1.0, n)
        xs.append(x[k] + t * (x[k + 1] - x[k]))
        ys.append(y[k] + t * (y[k + 1] - y[k]))
        segs.append(np.full(t.size, k))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(segs)


def fairway_index(grid: Grid, land: np.ndarray) -> FairwayIndex:
    """Open the land cells of ``land`` (the grid's mask) that a fairway passes through."""
    opened = np.zeros(grid.shape, dtype=bool)
    members: dict[int, list[int]] = {}
    fairways = []
    for number, (name, (_kind, _text, points)) in enumerate(FAIRWAYS.items()):
        lat, lon = np.array(points, dtype=float).T
        x, y = (np.asarray(v, dtype=float) for v in to_xy(lon, lat))
        sx, sy, seg = _sample(x, y)
        cols = np.floor((sx - X_MIN) / grid.resolution_m).astype(np.int64)
        rows = np.floor((Y_MAX - sy) / grid.resolution_m).astype(np.int64)
        inside = (rows >= 0) & (rows < grid.ny) & (cols >= 0) & (cols < grid.nx)
        flat = np.where(inside, rows * grid.nx + cols, -1)
        fairways.append(Fairway(name, x, y, sx, sy, seg, flat))
        for cell in np.unique(flat[inside]):
            members.setdefault(int(cell), []).append(number)
            if land.flat[cell]:
                opened.flat[cell] = True
    opened.flags.writeable = False
    return FairwayIndex(tuple(fairways), opened, {k: tuple(v) for k, v in members.items()})


_CACHE: dict[int, tuple[np.ndarray, Grid, FairwayIndex]] = {}


def index_for(static) -> FairwayIndex:
    """The fairway index of a static grid, kept per land-mask array."""
    hit = _CACHE.get(id(static.land))
    if hit is None or hit[0] is not static.land or hit[1] != static.grid:
        if len(_CACHE) > 8:
            _CACHE.clear()
        hit = _CACHE[id(static.land)] = (static.land, static.grid, fairway_index(static.grid, static.land))
    return hit[2]
