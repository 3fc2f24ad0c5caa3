"""A latitude/longitude graticule for maps drawn in the grid's projection (EPSG:3413): parallels
and meridians as projected lines, each with the place its label goes, clipped to the grid's
extent. The UI's plotly maps and the report's matplotlib map draw the same lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import X_MAX, X_MIN, Y_MAX, Y_MIN, to_lonlat, to_xy

PARALLELS = (50, 55, 60, 65, 70, 75, 80, 85)
MERIDIANS = tuple(range(-180, 180, 30))
PARALLEL_LABEL_LON = -15.0  # the parallels are labelled where they cross this meridian (Greenland Sea)
MERIDIAN_END_LAT = 88.0  # meridians stop short of the pole, where they would all meet


@dataclass(frozen=True)
class GraticuleLine:
    kind: str  # "parallel" or "meridian"
    value: float  # degrees
    x: np.ndarray  # metres, NaN where the line leaves the extent
    y: np.ndarray
    label: str
    label_xy: tuple[float, float] | None  # where the label goes, None if it falls outside


def _inside(x, y) -> np.ndarray:
    return (x >= X_MIN) & (x <= X_MAX) & (y >= Y_MIN) & (y <= Y_MAX)


def lat_label(lat: float) -> str:
    return f"{abs(lat):g}°{'N' if lat >= 0 else 'S'}"


def lon_label(lon: float) -> str:
    lon = (lon + 180.0) % 360.0 - 180.0
    if lon in (0.0, -180.0):
        return "0°" if lon == 0.0 else "180°"
    return f"{abs(lon):g}°{'E' if lon > 0 else 'W'}"


def graticule() -> list[GraticuleLine]:
    lines = []
    for lat in PARALLELS:
        lon = np.linspace(-180.0, 180.0, 721)
        x, y = (np.asarray(v, dtype=float) for v in to_xy(lon, np.full(lon.size, float(lat))))
        keep = _inside(x, y)
        if not keep.any():
            continue
        lx, ly = (float(v) for v in to_xy(PARALLEL_LABEL_LON, float(lat)))
        where = (lx, ly) if _inside(np.array(lx), np.array(ly)) else None
        lines.append(GraticuleLine("parallel", lat, np.where(keep, x, np.nan), np.where(keep, y, np.nan),
                                   lat_label(lat), where))
    lowest = min(PARALLELS)
    for lon in MERIDIANS:
        lat = np.linspace(float(lowest) - 20.0, MERIDIAN_END_LAT, 400)
        x, y = (np.asarray(v, dtype=float) for v in to_xy(np.full(lat.size, float(lon)), lat))
        keep = _inside(x, y)
        if not keep.any():
            continue
        first = int(np.argmax(keep))  # the southernmost point inside the extent: the label's place
        lines.append(GraticuleLine("meridian", lon, np.where(keep, x, np.nan), np.where(keep, y, np.nan),
                                   lon_label(lon), (float(x[first]), float(y[first]))))
    return lines


def cell_lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon and lat of every cell centre of a grid given by its x and y coordinates (metres)."""
    xx, yy = np.meshgrid(np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float))
    lon, lat = to_lonlat(xx, yy)
    return np.asarray(lon), np.asarray(lat)
