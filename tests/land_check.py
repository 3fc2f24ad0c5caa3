"""The acceptance check for routes: no point of any segment on land (global-land-mask), sampled
at most 1 km apart along each segment (vertices included), as RFC 7946 draws it (straight in
lon/lat)."""

from __future__ import annotations

import numpy as np
from global_land_mask import globe

SAMPLE_KM = 1.0


def line_parts(geometry: dict) -> list[np.ndarray]:
    if geometry["type"] == "LineString":
        return [np.asarray(geometry["coordinates"], dtype=float)]
    return [np.asarray(part, dtype=float) for part in geometry["coordinates"]]


def sample_line(coords: np.ndarray, spacing_km: float = SAMPLE_KM) -> np.ndarray:
    """``[lon, lat]`` points along each segment, at most ``spacing_km`` apart, vertices included."""
    a, b = coords[:-1], coords[1:]
    mid_lat = np.radians((a[:, 1] + b[:, 1]) / 2.0)
    km = 111.2 * np.hypot((b[:, 0] - a[:, 0]) * np.cos(mid_lat), b[:, 1] - a[:, 1])
    n = np.maximum(np.ceil(km / spacing_km).astype(int), 1)
    seg = np.repeat(np.arange(a.shape[0]), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
    points = a[seg] + t[:, None] * (b[seg] - a[seg])
    return np.concatenate([points, coords[-1:]])


def land_points(geometry: dict, spacing_km: float = SAMPLE_KM) -> list[tuple[float, float]]:
    """``(lat, lon)`` of the sampled points of the line that fall on land."""
    hits = []
    for coords in line_parts(geometry):
        points = sample_line(coords, spacing_km)
        on_land = globe.is_land(points[:, 1].copy(), points[:, 0].copy())
        hits += [(float(p[1]), float(p[0])) for p in points[on_land]]
    return hits
