"""The acceptance check for routes: no vertex and no segment midpoint on land (global-land-mask)."""

from __future__ import annotations

import numpy as np
from global_land_mask import globe


def line_parts(geometry: dict) -> list[np.ndarray]:
    if geometry["type"] == "LineString":
        return [np.asarray(geometry["coordinates"], dtype=float)]
    return [np.asarray(part, dtype=float) for part in geometry["coordinates"]]


def land_points(geometry: dict) -> list[tuple[float, float]]:
    """``(lat, lon)`` of vertices and lon/lat segment midpoints that fall on land."""
    hits = []
    for coords in line_parts(geometry):
        mids = (coords[1:] + coords[:-1]) / 2.0
        for points in (coords, mids):
            on_land = globe.is_land(points[:, 1].copy(), points[:, 0].copy())
            hits += [(float(p[1]), float(p[0])) for p in points[on_land]]
    return hits
