"""Route geometry: grid paths to RFC 7946 lon/lat lines, split at the antimeridian."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from ..grid import to_lonlat

GEOD = Geod(ellps="WGS84")
METRES_PER_NM = 1852.0
_MAX_DLON_DEG = 2.0
_MAX_HALVINGS = 12


def path_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of projected vertices, with points added along any step whose longitude jumps."""
    lon, lat, _position = path_points(x, y)
    return lon, lat


def path_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lon/lat of projected vertices, with points added along any step whose longitude jumps,
    and each point's position on the path: ``k + t`` lies the fraction ``t`` of the way from
    vertex ``k`` to vertex ``k + 1`` (in the projection, where the steps are straight).

    Near the pole neighbouring cells differ much in longitude, and a lon/lat straight line
    between them would not follow the step on the map. Such steps are halved (on the
    projected straight line itself) until no step spans more than a couple of degrees.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    position = np.arange(x.size, dtype=float)
    for _round in range(_MAX_HALVINGS):
        lon, lat = to_lonlat(x, y)
        dlon = np.abs((np.diff(lon) + 180.0) % 360.0 - 180.0)
        wide = np.nonzero(dlon > _MAX_DLON_DEG)[0]
        if wide.size == 0:
            break
        x = np.insert(x, wide + 1, (x[wide] + x[wide + 1]) / 2.0)
        y = np.insert(y, wide + 1, (y[wide] + y[wide + 1]) / 2.0)
        position = np.insert(position, wide + 1, (position[wide] + position[wide + 1]) / 2.0)
    else:
        lon, lat = to_lonlat(x, y)  # a step right through the pole keeps its jump there
    return np.asarray(lon), np.asarray(lat), position


def split_antimeridian(lon: np.ndarray, lat: np.ndarray) -> list[list[list[float]]]:
    """Lines of ``[lon, lat]`` that never cross ±180° (RFC 7946 §3.1.9)."""
    return split_with_positions(lon, lat, np.arange(len(lon), dtype=float))[0]


def split_with_positions(lon: np.ndarray, lat: np.ndarray, position: np.ndarray
                         ) -> tuple[list[list[list[float]]], list[list[float]]]:
    """``split_antimeridian``, and beside each part the path position of each of its points (a
    point added on the antimeridian gets the position interpolated where the line crosses it)."""
    parts: list[list[list[float]]] = [[[float(lon[0]), float(lat[0])]]]
    positions: list[list[float]] = [[float(position[0])]]
    for i in range(1, len(lon)):
        lon0, lat0, lon1, lat1 = float(lon[i - 1]), float(lat[i - 1]), float(lon[i]), float(lat[i])
        if abs(lon1 - lon0) > 180.0:
            edge = 180.0 if lon0 > 0 else -180.0
            lon1_unwrapped = lon1 + (360.0 if lon0 > 0 else -360.0)
            t = (edge - lon0) / (lon1_unwrapped - lon0)
            lat_cross = lat0 + t * (lat1 - lat0)
            at = float(position[i - 1] + t * (position[i] - position[i - 1]))
            parts[-1].append([edge, lat_cross])
            positions[-1].append(at)
            parts.append([[-edge, lat_cross]])
            positions.append([at])
        parts[-1].append([lon1, lat1])
        positions[-1].append(float(position[i]))
    kept = [k for k, part in enumerate(parts) if len(part) >= 2]
    return ([[[round(a, 6), round(b, 6)] for a, b in parts[k]] for k in kept], [positions[k] for k in kept])


def line_geometry(lon: np.ndarray, lat: np.ndarray) -> dict:
    return nest(split_antimeridian(lon, lat))


def nest(parts: list) -> dict:
    """A LineString for one part, a MultiLineString for several."""
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def segment_metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Geodesic length of each consecutive segment."""
    _fwd, _back, dist = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(dist, dtype=np.float64)


def great_circle_points(waypoints: list[tuple[float, float]], spacing_km: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic legs through ``(lat, lon)`` waypoints, sampled every ``spacing_km``."""
    lons, lats = [waypoints[0][1]], [waypoints[0][0]]
    for (lat0, lon0), (lat1, lon1) in zip(waypoints[:-1], waypoints[1:], strict=True):
        length = GEOD.inv(lon0, lat0, lon1, lat1)[2]
        extra = max(int(length / (spacing_km * 1000.0)) - 1, 0)
        if extra:
            for lon, lat in GEOD.npts(lon0, lat0, lon1, lat1, extra):
                lons.append(lon)
                lats.append(lat)
        lons.append(lon1)
        lats.append(lat1)
    return np.asarray(lons), np.asarray(lats)


def great_circle_nm(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    return float(GEOD.inv(lon0, lat0, lon1, lat1)[2]) / METRES_PER_NM
