"""Names of the Arctic seas and straits, to say which a route passes and to label the maps.

Seas: the limits of the International Hydrographic Organization's *Limits of Oceans and Seas*
(IHO S-23, 3rd edition, 1953, sections 9 and 2), each reduced to a polygon of a few points
through the corners the publication names (capes, island ends, meridians and parallels). The
channels of the Northwest Passage are boxes around the water the Canadian Hydrographic Service's
charts name. They are for labels and for naming where a route runs, not for navigation: a route
is "in" a sea when its points fall inside the simplified polygon. Straits: the fairways the
router keeps open (``route.fairways``), named where a route comes within ``STRAIT_RADIUS_KM``.
Containment is tested in the polar stereographic projection, so polygons may cross the
antimeridian or reach the pole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grid import to_lonlat, to_xy
from .fairways import FAIRWAYS

STRAIT_RADIUS_KM = 15.0

# name: [(lat, lon), ...] (the polygon closes itself)
SEAS: dict[str, list[tuple[float, float]]] = {
    "North Sea": [(51.0, 1.5), (53.5, 8.8), (57.1, 8.6), (58.0, 7.0), (61.0, 5.0), (61.0, -0.9), (58.6, -3.0),
                  (56.0, -2.6), (53.0, 0.3)],
    "Norwegian Sea": [(61.0, -0.9), (61.0, 5.0), (62.5, 5.5), (67.0, 12.0), (70.5, 19.5), (74.5, 19.0),
                      (76.5, 16.5), (74.0, 5.0), (70.9, -8.0), (65.0, -13.6), (62.0, -7.0)],
    "Greenland Sea": [(70.9, -8.0), (74.0, 5.0), (76.5, 16.5), (80.0, 10.0), (81.5, -12.0), (76.0, -18.5),
                      (70.2, -22.0), (67.5, -22.5), (65.0, -13.6)],
    "Barents Sea": [(70.5, 19.5), (71.1, 25.8), (69.9, 30.0), (69.0, 33.0), (68.3, 39.0), (66.5, 44.5), (68.5, 53.0),
                    (69.0, 58.0), (70.4, 58.0), (76.9, 68.5), (80.8, 58.0), (80.5, 30.0), (77.0, 25.0),
                    (76.5, 16.5), (74.5, 19.0)],
    "White Sea": [(66.5, 44.5), (68.3, 39.0), (66.2, 32.5), (64.0, 34.5), (64.5, 40.0), (65.8, 42.0)],
    "Kara Sea": [(70.4, 58.0), (69.0, 58.0), (68.3, 66.0), (68.3, 72.0), (71.5, 80.0), (74.0, 86.0), (76.0, 96.0),
                 (77.7, 104.3), (78.0, 100.0), (81.2, 95.5), (81.2, 65.0), (76.9, 68.5)],
    "Laptev Sea": [(77.7, 104.3), (81.2, 95.5), (79.0, 139.0), (76.2, 139.0), (73.5, 140.0), (73.0, 137.5),
                   (71.5, 131.0), (72.5, 116.0), (73.8, 107.0), (75.5, 112.0), (76.5, 105.0)],
    "East Siberian Sea": [(73.5, 140.0), (76.2, 139.0), (79.0, 139.0), (77.0, 180.0), (71.0, 180.0),
                          (70.0, 176.7), (69.7, 167.0), (69.6, 161.0), (71.0, 152.0), (72.0, 146.0),
                          (73.0, 141.0)],
    "Chukchi Sea": [(70.0, 176.7), (71.0, 180.0), (77.0, 180.0), (72.0, -156.5), (71.3, -156.8), (70.0, -162.0),
                    (68.3, -166.8), (66.6, -164.0), (65.7, -168.0), (66.1, -169.8), (67.0, -173.5),
                    (68.5, -178.5)],
    "Bering Sea": [(65.7, -168.0), (64.5, -165.0), (60.0, -162.0), (58.5, -157.0), (55.0, -162.5), (52.0, -170.0),
                   (52.5, 175.0), (55.0, 162.5), (60.0, 163.5), (62.0, 177.0), (64.5, -172.5), (66.1, -169.8)],
    "Beaufort Sea": [(71.3, -156.8), (72.0, -156.5), (76.3, -124.0), (74.2, -124.5), (71.5, -125.5),
                     (70.0, -129.0), (69.4, -133.5), (69.6, -141.0), (70.5, -150.0)],
    "Amundsen Gulf": [(71.5, -125.5), (71.4, -117.0), (69.4, -115.5), (69.3, -120.0), (69.5, -124.0), (70.0, -129.0)],
    "Coronation Gulf and Dease Strait": [(69.4, -115.5), (68.9, -105.0), (67.7, -105.0), (67.6, -115.5)],
    "Queen Maud Gulf": [(68.9, -105.0), (69.4, -97.5), (67.5, -97.5), (67.7, -105.0)],
    "Victoria and Franklin Straits": [(69.4, -97.5), (69.4, -103.0), (72.5, -100.5), (72.5, -95.0), (69.5, -94.5)],
    "M'Clure Strait": [(76.3, -124.0), (76.0, -112.5), (74.3, -112.5), (74.2, -124.5)],
    "Viscount Melville Sound": [(76.0, -112.5), (75.6, -103.5), (73.8, -103.5), (74.3, -112.5)],
    "Barrow Strait and Lancaster Sound": [(75.6, -103.5), (74.9, -80.0), (73.7, -80.0), (73.8, -103.5)],
    "Baffin Bay": [(66.5, -53.5), (70.5, -54.5), (76.0, -60.0), (78.0, -73.0), (76.0, -78.0), (74.9, -80.0),
                   (73.7, -80.0), (70.0, -68.0), (66.5, -61.5)],
    "Davis Strait": [(60.0, -48.0), (66.5, -53.5), (66.5, -61.5), (61.0, -64.5)],
    "Hudson Bay": [(51.5, -80.0), (55.0, -77.5), (60.0, -77.5), (64.0, -80.5), (63.5, -87.0), (60.0, -94.5),
                   (57.0, -92.5), (55.0, -82.5)],
}
ARCTIC_OCEAN = "Arctic Ocean"  # north of 78° and in none of the seas above


@dataclass(frozen=True)
class Passed:
    """A sea or strait a route passes: its name, kind, and the first point of the route in it."""

    name: str
    kind: str  # "sea" or "strait"
    lat: float
    lon: float


def _inside(px: np.ndarray, py: np.ndarray, vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    """Ray casting: which points lie inside the polygon (vertices vx, vy)."""
    inside = np.zeros(px.shape, dtype=bool)
    j = vx.size - 1
    for i in range(vx.size):
        crosses = (vy[i] > py) != (vy[j] > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (vx[j] - vx[i]) * (py - vy[i]) / (vy[j] - vy[i]) + vx[i]
        inside ^= crosses & (px < at)
        j = i
    return inside


def _polygon_xy(name: str) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.asarray(SEAS[name], dtype=float).T
    x, y = to_xy(lon, lat)
    return np.asarray(x), np.asarray(y)


def sea_of(lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """The sea each point lies in (``ARCTIC_OCEAN`` north of 78° outside them; None elsewhere)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = (np.asarray(v) for v in to_xy(lon, lat))
    found: list[str | None] = [None] * lon.size
    for name in SEAS:
        vx, vy = _polygon_xy(name)
        for i in np.flatnonzero(_inside(x, y, vx, vy)):
            found[i] = found[i] or name
    return [f or (ARCTIC_OCEAN if lat[i] >= 78.0 else None) for i, f in enumerate(found)]


def label_point(name: str) -> tuple[float, float]:
    """(lat, lon) where a sea's name is written: the centre of its polygon in the projection."""
    vx, vy = _polygon_xy(name)
    lon, lat = to_lonlat(float(vx.mean()), float(vy.mean()))
    return float(lat), float(lon)


def _densify(lon: np.ndarray, lat: np.ndarray, step_km: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Points along the polyline (straight in the projection) at most ``step_km`` apart."""
    x, y = (np.asarray(v, dtype=float) for v in to_xy(lon, lat))
    xs, ys = [x[:1]], [y[:1]]
    for k in range(x.size - 1):
        n = max(int(np.hypot(x[k + 1] - x[k], y[k + 1] - y[k]) / (step_km * 1000.0)), 1)
        t = np.arange(1, n + 1) / n
        xs.append(x[k] + t * (x[k + 1] - x[k]))
        ys.append(y[k] + t * (y[k + 1] - y[k]))
    return np.concatenate(xs), np.concatenate(ys)


def passed_by(lon: np.ndarray, lat: np.ndarray) -> list[Passed]:
    """The seas and straits a route line (its vertices in order) passes, in the order it meets them."""
    x, y = _densify(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    plon, plat = (np.asarray(v) for v in to_lonlat(x, y))
    events: list[tuple[int, Passed]] = []
    seen: set[str] = set()
    for i, sea in enumerate(sea_of(plon, plat)):
        if sea and sea not in seen:
            seen.add(sea)
            events.append((i, Passed(sea, "sea", float(plat[i]), float(plon[i]))))
    for kind, description, points in FAIRWAYS.values():
        if kind != "strait":
            continue
        flat, flon = np.asarray(points, dtype=float).T
        fx, fy = _densify(flon, flat)
        near = np.hypot(x[:, None] - fx[None, :], y[:, None] - fy[None, :]).min(axis=1) <= STRAIT_RADIUS_KM * 1000
        if near.any():
            i = int(np.argmax(near))
            events.append((i, Passed(description.split(",")[0], "strait", float(plat[i]), float(plon[i]))))
    return [p for _i, p in sorted(events, key=lambda e: e[0])]


def route_places(document: dict) -> list[Passed]:
    """The seas and straits a route document's route line passes, in order (none without one)."""
    feature = next((f for f in document.get("features", []) if f.get("properties", {}).get("role") == "route"), None)
    if feature is None or not feature.get("geometry"):
        return []
    geom = feature["geometry"]
    parts = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
    lon, lat = np.asarray([p for part in parts for p in part], dtype=float).T
    return passed_by(lon, lat)
