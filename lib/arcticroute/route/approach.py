"""Approaches: the legs from a given end point to the routing network, clear of land.

The network is the grid path: cell centres (and fairway points), all at sea. A given end point
lies anywhere: in a fjord, behind a spit, in a lagoon. The straight leg from it to the first
network vertex is checked against the land data itself (GLOBE 1 km, ``global-land-mask``: the
data of the land mask, the fairways and the acceptance check) every ``SAMPLE_M``, both as
sailed (straight in EPSG:3413) and as drawn (straight in lon/lat, RFC 7946). Where it crosses
land, the approach is the shortest water path on the land data's own pixels (1/120 degree,
4-connected so no step cuts a corner of land) from the point to that vertex, found with
``skimage.graph.MCP_Geometric`` in a window around the two that grows up to
``MAX_MARGIN_DEG``, and then cut into the fewest straight legs that stay clear (greedy, farthest
clear vertex first). An end point on land, or with no water path to the network in the window,
is bad input naming the point.
"""

from __future__ import annotations

import numpy as np

from ..errors import BadInputError
from ..grid import to_lonlat, to_xy
from .smoothing import FINE_LAND

SAMPLE_M = 100.0
PIXEL_DEG = 1.0 / 120.0
MARGINS_DEG = (0.25, 0.75, 1.5)
MAX_MARGIN_DEG = MARGINS_DEG[-1]
_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _samples(n_metres: float) -> np.ndarray:
    return np.linspace(0.0, 1.0, max(int(np.ceil(n_metres / SAMPLE_M)) + 1, 2))


def _land_near(lat: np.ndarray, lon: np.ndarray, metres: float) -> bool:
    """Any land pixel at the points or ``metres`` north, south, east or west of them: with samples
    ``SAMPLE_M`` apart and ``metres`` >= half that, a leg that clips the corner of a land pixel
    between two samples is caught (the acceptance check may sample just there)."""
    dlat = metres / 111_195.0
    dlon = dlat / np.clip(np.cos(np.radians(lat)), 0.05, 1.0)
    plat = np.concatenate([lat, lat + dlat, lat - dlat, lat, lat])
    plon = np.concatenate([lon, lon, lon, lon + dlon, lon - dlon])
    return bool(FINE_LAND.is_land(np.clip(plat, -90, 90), (plon + 180.0) % 360.0 - 180.0).any())


def leg_clear(x0: float, y0: float, x1: float, y1: float) -> bool:
    """No land (GLOBE pixels) on the leg or within ``SAMPLE_M`` / 2 of it, the leg straight in
    EPSG:3413 (as sailed) and straight in lon/lat (as drawn)."""
    t = _samples(float(np.hypot(x1 - x0, y1 - y0)))
    lon, lat = (np.asarray(v) for v in to_lonlat(x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    if _land_near(lat, lon, SAMPLE_M / 2):
        return False
    (lon0, lon1), (lat0, lat1) = (np.asarray(v, dtype=float) for v in to_lonlat(np.array([x0, x1]), np.array([y0, y1])))
    dlon = (lon1 - lon0 + 180.0) % 360.0 - 180.0
    lon = (lon0 + t * dlon + 180.0) % 360.0 - 180.0
    lat = lat0 + t * (lat1 - lat0)
    return not _land_near(lat, lon, SAMPLE_M / 2)


def on_land(lat: float, lon: float) -> bool:
    """On a land pixel, or on the edge of one (the pixel edges are ties between lookups)."""
    return _land_near(np.array([lat], dtype=float), np.array([lon], dtype=float), 0.05)


def check_end(place) -> None:
    """BadInputError when an end point lies on land in the land data."""
    if on_land(place.lat, place.lon):
        raise BadInputError(
            f"{place.name} ({place.lat:.4f},{place.lon:.4f}) lies on land in the land data (GLOBE 1 km, "
            "global-land-mask): a route cannot start or end there; nothing was written",
            hint="give a point at sea, e.g. off the port's breakwater or in its fairway")


def _water_path(lat0: float, lon0: float, lat1: float, lon1: float, margin: float) -> np.ndarray | None:
    """(lat, lon) of pixel centres of the shortest 4-connected water path, or None."""
    from skimage.graph import MCP_Geometric

    dlon = (lon1 - lon0 + 180.0) % 360.0 - 180.0
    lon1u = lon0 + dlon  # unwrapped across the antimeridian
    coslat = max(np.cos(np.radians(max(abs(lat0), abs(lat1)) + margin)), 0.05)
    south, north = min(lat0, lat1) - margin, min(max(lat0, lat1) + margin, 89.99)
    west, east = min(lon0, lon1u) - margin / coslat, max(lon0, lon1u) + margin / coslat
    lat_edges = np.arange(np.floor(north / PIXEL_DEG) * PIXEL_DEG, south - PIXEL_DEG, -PIXEL_DEG)
    lon_edges = np.arange(np.floor(west / PIXEL_DEG) * PIXEL_DEG, east + PIXEL_DEG, PIXEL_DEG)
    lat_c = lat_edges - PIXEL_DEG / 2
    lon_c = lon_edges + PIXEL_DEG / 2
    grid_lat, grid_lon = np.meshgrid(lat_c, lon_c, indexing="ij")
    land = FINE_LAND.is_land(grid_lat.ravel(), (grid_lon.ravel() + 180.0) % 360.0 - 180.0).reshape(grid_lat.shape)
    cost = np.where(land, -1.0, 1.0)

    def pixel(lat, lon):
        return (int(np.clip((lat_edges[0] - lat) // PIXEL_DEG, 0, lat_c.size - 1)),
                int(np.clip((lon - lon_edges[0]) // PIXEL_DEG, 0, lon_c.size - 1)))

    start, end = pixel(lat0, lon0), pixel(lat1, lon1u)
    if land[start] or land[end]:
        return None
    mcp = MCP_Geometric(cost, fully_connected=False, sampling=(1.0, coslat))
    cumulative, _ = mcp.find_costs([start], [end])
    if not np.isfinite(cumulative[end]):
        return None
    cells = np.asarray(mcp.traceback(end))
    return np.stack([lat_c[cells[:, 0]], (lon_c[cells[:, 1]] + 180.0) % 360.0 - 180.0], axis=1)


def _simplify(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Indices of the vertices kept: from each, the farthest later vertex with a clear leg."""
    kept, a, n = [0], 0, x.size
    while a < n - 1:
        stride = max(1, (n - 1 - a) // 48)
        candidates = list(range(n - 1, a + 1, -stride)) + [a + 1]
        best = a + 1
        for j in candidates:
            if leg_clear(x[a], y[a], x[j], y[j]):
                best = j
                for k in range(min(n - 1, j + stride - 1), j, -1):  # the stride may have skipped farther ones
                    if leg_clear(x[a], y[a], x[k], y[k]):
                        best = k
                        break
                break
        kept.append(best)
        a = best
    return kept


def approach_xy(place, vx: float, vy: float) -> tuple[np.ndarray, np.ndarray]:
    """The approach from ``place`` to the network vertex (vx, vy): its vertices from the point,
    the vertex itself excluded; just the point when the straight leg is clear of land."""
    key = (round(place.lat, 6), round(place.lon, 6), round(float(vx), 1), round(float(vy), 1))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    px, py = (float(v) for v in to_xy(place.lon, place.lat))
    if leg_clear(px, py, vx, vy):
        result = (np.array([px]), np.array([py]))
    else:
        check_end(place)
        vlon, vlat = (float(v) for v in to_lonlat(vx, vy))
        path = None
        for margin in MARGINS_DEG:
            path = _water_path(place.lat, place.lon, vlat, vlon, margin)
            if path is not None:
                break
        if path is None:
            raise BadInputError(
                f"{place.name} ({place.lat:.4f},{place.lon:.4f}): no water path in the land data (GLOBE 1 km) "
                f"from the point to the routing network ({vlat:.3f},{vlon:.3f}) within {MAX_MARGIN_DEG:g} degrees; "
                "its approach cannot be made clear of land; nothing was written",
                hint="give a point in open water connected to the sea, or a finer grid (--grid-km 6.25)")
        xs, ys = (np.asarray(v, dtype=float) for v in to_xy(path[:, 1], path[:, 0]))
        xs = np.concatenate([[px], xs, [vx]])
        ys = np.concatenate([[py], ys, [vy]])
        kept = _simplify(xs, ys)
        result = (xs[kept][:-1], ys[kept][:-1])
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[key] = result
    return result


def water_polyline(lat0: float, lon0: float, lat1: float, lon1: float, margin_deg: float = 0.5,
                   shore_weight: float = 30.0) -> np.ndarray:
    """A fairway through narrow waters, (lat, lon) vertices: the least-cost 4-connected water path on
    the land data's pixels, each pixel costing 1 + ``shore_weight`` / (1 + its distance from land in
    pixels) so the path keeps mid-channel, cut into straight legs clear of land with the land
    mask's ~1 km margin (``smoothing.leg_clear_of_land``) where possible, else with ``leg_clear``.
    How the fairways of ``fairways.FAIRWAYS`` through the Northwest Passage were derived."""
    from scipy import ndimage
    from skimage.graph import MCP_Geometric

    from .smoothing import leg_clear_of_land

    coslat = max(np.cos(np.radians(max(abs(lat0), abs(lat1)) + margin_deg)), 0.05)
    south, north = min(lat0, lat1) - margin_deg, max(lat0, lat1) + margin_deg
    west, east = min(lon0, lon1) - margin_deg / coslat, max(lon0, lon1) + margin_deg / coslat
    lat_c = np.arange(np.floor(north / PIXEL_DEG) * PIXEL_DEG, south - PIXEL_DEG, -PIXEL_DEG) - PIXEL_DEG / 2
    lon_c = np.arange(np.floor(west / PIXEL_DEG) * PIXEL_DEG, east + PIXEL_DEG, PIXEL_DEG) + PIXEL_DEG / 2
    grid_lat, grid_lon = np.meshgrid(lat_c, lon_c, indexing="ij")
    land = FINE_LAND.is_land(grid_lat.ravel(), grid_lon.ravel()).reshape(grid_lat.shape)
    distance = ndimage.distance_transform_edt(~land, sampling=(1.0, coslat))
    cost = np.where(land, -1.0, 1.0 + shore_weight / (1.0 + distance))

    def pixel(lat, lon):
        return int(np.argmin(np.abs(lat_c - lat))), int(np.argmin(np.abs(lon_c - lon)))

    start, end = pixel(lat0, lon0), pixel(lat1, lon1)
    mcp = MCP_Geometric(cost, fully_connected=False, sampling=(1.0, coslat))
    cumulative, _ = mcp.find_costs([start], [end])
    if not np.isfinite(cumulative[end]):
        raise ValueError(f"no water path from {lat0},{lon0} to {lat1},{lon1} within {margin_deg} degrees")
    cells = np.asarray(mcp.traceback(end))
    lat, lon = lat_c[cells[:, 0]], lon_c[cells[:, 1]]
    x, y = (np.asarray(v, dtype=float) for v in to_xy(lon, lat))
    kept, a = [0], 0
    while a < x.size - 1:
        best = a + 1
        for j in range(x.size - 1, a + 1, -max(1, (x.size - 1 - a) // 200)):
            if leg_clear_of_land(x[a], y[a], x[j], y[j]) and leg_clear(x[a], y[a], x[j], y[j]):
                best = j
                break
        kept.append(best)
        a = best
    return np.stack([lat[kept], lon[kept]], axis=1)
