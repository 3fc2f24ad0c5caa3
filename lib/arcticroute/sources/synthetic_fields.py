"""Deterministic synthetic Arctic fields for the demo profile.

Everything here is made up: plausible-looking sea ice, waves, ship traffic and
incidents for exercising the stack without real data. Nothing in this module
may be presented as an observation.

Each field is a pure function of the static grid and the date: the random parts
draw from ``numpy.random.default_rng`` seeded with the date (``YYYYMMDD``) and a
per-layer constant, so the same inputs always give bit-identical outputs and no
global random state is touched.

Arrays are shaped ``grid.shape`` (rows north to south) and are float32.
"""

from __future__ import annotations

import datetime
from functools import lru_cache

import numpy as np

from ..grid import X_MIN, Y_MAX, Grid, to_xy
from ..static import StaticGrid

# Per-layer seed constants, combined with the date so layers are independent.
_SEED_ICE = 1
_SEED_STORMS = 2
_SEED_INCIDENTS = 3
_SEED_ICE_TYPE = 4

_DAY_S = 86_400
_DENSIFY_M = 5_000.0

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _rng(day: datetime.date, layer: int) -> np.random.Generator:
    """A generator seeded from the date and a layer constant (stable across runs)."""
    return np.random.default_rng([layer, int(day.strftime("%Y%m%d"))])


def _ramp(values, start, end):
    """Smoothstep from 0 at ``start`` to 1 at ``end`` (exactly 0/1 outside)."""
    t = np.clip((values - start) / (end - start), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _periodic_interp(x, table: list[tuple[float, float]], period: float):
    """Piecewise-linear periodic interpolation of ``(x, value)`` control points."""
    xp, fp = zip(*table, strict=True)
    return np.interp(x, xp, fp, period=period)


def _lowfreq_noise(grid: Grid, rng: np.random.Generator, n_waves: int = 5) -> np.ndarray:
    """Smooth field in [-1, 1]: the mean of a few random plane waves in x/y.

    Wavelengths are 1500-4000 km, so the field varies on basin scales only.
    ``cos(a + b) = cos a cos b - sin a sin b`` keeps it to outer products of 1-D
    arrays, which is much cheaper than evaluating the 2-D argument.
    """
    wavelength = rng.uniform(1.5e6, 4.0e6, n_waves)
    angle = rng.uniform(0.0, 2.0 * np.pi, n_waves)
    phase = rng.uniform(0.0, 2.0 * np.pi, n_waves)
    k = 2.0 * np.pi / wavelength
    field = np.zeros(grid.shape)
    for kx, ky, ph in zip(k * np.cos(angle), k * np.sin(angle), phase, strict=True):
        a = kx * grid.x
        b = ky * grid.y + ph
        field += np.outer(np.cos(b), np.cos(a)) - np.outer(np.sin(b), np.sin(a))
    return field / n_waves


def _gaussian_bump(grid: Grid, x0: float, y0: float, sigma_m: float) -> np.ndarray:
    """Isotropic Gaussian (peak 1) centred at projected ``(x0, y0)``; separable in x/y."""
    gx = np.exp(-0.5 * ((grid.x - x0) / sigma_m) ** 2)
    gy = np.exp(-0.5 * ((grid.y - y0) / sigma_m) ** 2)
    return np.outer(gy, gx)


def _polyline_cells(grid: Grid, waypoints: list[tuple[float, float]]) -> tuple:
    """Rows and columns of the cells a ``(lat, lon)`` polyline passes through.

    Segments are straight in projected x/y and sampled every ~5 km; samples
    outside the grid are dropped.
    """
    lat, lon = np.array(waypoints, dtype=float).T
    x, y = to_xy(lon, lat)
    xs, ys = [], []
    for x0, y0, x1, y1 in zip(x[:-1], y[:-1], x[1:], y[1:], strict=True):
        n = max(2, int(np.ceil(np.hypot(x1 - x0, y1 - y0) / _DENSIFY_M)) + 1)
        xs.append(np.linspace(x0, x1, n))
        ys.append(np.linspace(y0, y1, n))
    x, y = np.concatenate(xs), np.concatenate(ys)
    cols = np.floor((x - X_MIN) / grid.resolution_m).astype(int)
    rows = np.floor((Y_MAX - y) / grid.resolution_m).astype(int)
    inside = (rows >= 0) & (rows < grid.ny) & (cols >= 0) & (cols < grid.nx)
    return rows[inside], cols[inside]


def _cells_near_polyline(grid: Grid, waypoints, cutoff_m: float) -> tuple:
    """Flat indices of cells within ``cutoff_m`` of a polyline, and their distance (m).

    Distances are Euclidean in projected metres (the map scale is within a few
    per cent of 1 at Arctic latitudes). The distance transform runs on the
    polyline's bounding box padded by the cutoff, not the whole grid.
    """
    rows, cols = _polyline_cells(grid, waypoints)
    pad = int(np.ceil(cutoff_m / grid.resolution_m)) + 1
    r0, r1 = max(rows.min() - pad, 0), min(rows.max() + pad + 1, grid.ny)
    c0, c1 = max(cols.min() - pad, 0), min(cols.max() + pad + 1, grid.nx)
    off_line = np.ones((r1 - r0, c1 - c0), dtype=bool)
    off_line[rows - r0, cols - c0] = False
    from scipy import ndimage  # 0.3 s to import: only when a day's fields are made

    dist = ndimage.distance_transform_edt(off_line, sampling=grid.resolution_m)
    near_r, near_c = np.nonzero(dist <= cutoff_m)
    flat = np.ravel_multi_index((near_r + r0, near_c + c0), grid.shape)
    return flat, dist[near_r, near_c]


def _day_of_year(day: datetime.date) -> int:
    return day.timetuple().tm_yday


def _check_shape(static: StaticGrid, **arrays: np.ndarray) -> None:
    for name, arr in arrays.items():
        if np.shape(arr) != static.grid.shape:
            raise ValueError(f"{name} has shape {np.shape(arr)}, expected {static.grid.shape}")


# ---------------------------------------------------------------------------
# Sea ice
# ---------------------------------------------------------------------------

# Ice season factor: 1 at maximum extent (mid-March), 0 at minimum (mid-September).
# Not a sinusoid: the minimum is a plateau from late August, freeze-up is fast
# in October-November and the winter pack holds into May.
_SEASON = [
    (1, 0.93),
    (32, 0.97),
    (74, 1.00),  # 15 March
    (121, 0.94),
    (152, 0.80),
    (182, 0.55),
    (213, 0.20),
    (232, 0.04),
    (244, 0.01),
    (258, 0.00),  # 15 September
    (274, 0.06),
    (305, 0.40),
    (335, 0.78),
]

# Ice-edge latitude (deg N) by longitude at maximum and at minimum extent.
# Between control points the edge is interpolated linearly and periodically.
_WINTER_EDGE = [
    (-180, 60.5), (-170, 59.5), (-160, 58.5),  # Bering Sea
    (-150, 60.5), (-140, 61.0),  # Gulf of Alaska stays open
    (-120, 55.0), (-95, 51.0), (-80, 51.0), (-65, 53.0), (-60, 54.0),  # Canada, Hudson, Labrador
    (-55, 59.0), (-50, 64.0),  # open central Labrador Sea and West Greenland coast
    (-45, 63.0), (-35, 65.5), (-25, 67.0), (-15, 70.0),  # Irminger Sea to Jan Mayen
    (-5, 73.5), (5, 77.5), (12, 79.5),  # Greenland Sea, warm West Spitsbergen Current
    (20, 76.0), (30, 75.5), (40, 73.5), (50, 70.5),  # Barents: Norway and Murmansk open
    (60, 62.0), (90, 62.0), (120, 55.0),  # Kara, Laptev: frozen to the coast
    (140, 50.0), (155, 57.0), (165, 59.0), (175, 61.0),  # Okhotsk, Anadyr
]  # fmt: skip
_SUMMER_EDGE = [
    (-180, 75.5), (-170, 74.5), (-160, 74.0), (-150, 74.0), (-140, 73.5),  # Chukchi, Beaufort
    (-125, 73.0), (-110, 74.0), (-95, 75.0), (-80, 76.0), (-70, 77.5),  # Archipelago, Baffin
    (-55, 80.0), (-40, 81.0), (-25, 80.0), (-10, 79.0), (0, 79.5),  # north Greenland, Fram
    (10, 80.5), (20, 80.5), (30, 81.0), (40, 81.5), (60, 81.5),  # Svalbard, Barents
    (80, 81.0), (100, 81.0), (120, 80.5), (140, 79.0), (160, 77.0), (175, 76.0),  # NSR seas
]  # fmt: skip

# Edges never lie north of this, which keeps the central Arctic (> 85N) ice-covered.
_MAX_EDGE_LAT = 82.0
_EDGE_HALF_WIDTH_DEG = 1.2  # the marginal ice zone spans twice this
_EDGE_NOISE_DEG = 0.5
_CONC_NOISE = 0.02

# East Greenland Current: a band of drift ice hugging the coast, reaching Cape
# Farewell in spring and only Scoresby Sund (~70N) at the minimum.
_EAST_GREENLAND_COAST = [
    (81.5, -12.0), (79.0, -17.5), (76.5, -18.5), (74.0, -19.5), (72.0, -22.0),
    (70.0, -22.0), (68.5, -26.5), (67.0, -32.0), (65.5, -37.5), (63.5, -40.5),
    (61.5, -42.5), (60.0, -44.0),
]  # fmt: skip
_EGC_WIDTH_M = (120_000.0, 320_000.0)  # summer, winter
_EGC_SOUTH_LAT = (70.0, 60.5)  # summer, winter


def season_factor(day: datetime.date) -> float:
    """Ice season factor in [0, 1]: 1 at maximum extent (mid-March), 0 at minimum."""
    return float(_periodic_interp(_day_of_year(day), _SEASON, period=365.0))


def _pack_concentration(season: float) -> float:
    """Concentration inside the pack: ~0.96 in winter, 0.82 at the minimum."""
    return 0.96 - 0.14 * (1.0 - season) ** 2


def _ice_edge_lat(lon: np.ndarray, season: float) -> np.ndarray:
    summer = _periodic_interp(lon, _SUMMER_EDGE, period=360.0)
    winter = _periodic_interp(lon, _WINTER_EDGE, period=360.0)
    return np.minimum(summer + season * (winter - summer), _MAX_EDGE_LAT)


@lru_cache(maxsize=8)
def _east_greenland_cells(grid: Grid) -> tuple:
    return _cells_near_polyline(grid, _EAST_GREENLAND_COAST, _EGC_WIDTH_M[1])


def _east_greenland_ice(static: StaticGrid, season: float) -> np.ndarray:
    """Ice fraction (before pack concentration) of the East Greenland coastal band."""
    flat, dist = _east_greenland_cells(static.grid)
    width = _EGC_WIDTH_M[0] + season * (_EGC_WIDTH_M[1] - _EGC_WIDTH_M[0])
    south = _EGC_SOUTH_LAT[0] + season * (_EGC_SOUTH_LAT[1] - _EGC_SOUTH_LAT[0])
    lat = static.lat.ravel()[flat]
    band = np.zeros(static.grid.shape)
    band.flat[flat] = (1.0 - _ramp(dist, 0.5 * width, width)) * _ramp(lat, south - 1.5, south)
    return band


def sea_ice_concentration(static: StaticGrid, day: datetime.date) -> np.ndarray:
    """Synthetic sea-ice concentration (fraction 0..1), exactly 0 on land.

    The ice edge moves between a winter and a summer latitude that depend on the
    longitude sector; a smooth marginal ice zone about 2.4 degrees wide separates
    open water from the pack. Seeded low-frequency noise shifts the edge by up to
    half a degree and the pack concentration by up to 0.02.
    """
    grid = static.grid
    rng = _rng(day, _SEED_ICE)
    season = season_factor(day)
    edge = _ice_edge_lat(static.lon, season) + _EDGE_NOISE_DEG * _lowfreq_noise(grid, rng)
    cover = _ramp(static.lat, edge - _EDGE_HALF_WIDTH_DEG, edge + _EDGE_HALF_WIDTH_DEG)
    cover = np.maximum(cover, _east_greenland_ice(static, season))
    pack = _pack_concentration(season) + _CONC_NOISE * _lowfreq_noise(grid, rng)
    sic = np.clip(cover * pack, 0.0, 1.0)
    sic[static.land] = 0.0
    return sic.astype(np.float32)


# ---------------------------------------------------------------------------
# Ice type (stage of development)
# ---------------------------------------------------------------------------

# First-year ice thickness (m) deep inside the seasonal pack by day of year: growth from
# freeze-up in October to about 1.8 m in May, then melt; ice that survives the minimum counts as
# second-year from 1 October (WMO), so first-year ice starts again as new ice then.
_FY_THICKNESS = [
    (1, 1.05), (32, 1.30), (60, 1.50), (91, 1.65), (121, 1.80), (152, 1.70), (182, 1.35),
    (213, 0.95), (244, 0.75), (273, 0.70), (274, 0.05), (290, 0.25), (305, 0.45), (335, 0.80),
]  # fmt: skip
# Old-ice index: where multi-year ice lives. North of Greenland and the Canadian Arctic
# Archipelago (the thickest ice of the Arctic), the Beaufort gyre, and the transpolar drift.
# (lat, lon, sigma_m, peak)
_OLD_ICE = [
    (84.5, -70.0, 800_000.0, 1.0),
    (77.0, -145.0, 450_000.0, 0.8),
    (87.5, 20.0, 700_000.0, 0.65),
]
_PERENNIAL_MARGIN_DEG = 0.5  # ice this far inside the summer edge survives the summer
_LIGHT_MY, _HEAVY_MY = 0.6, 0.8  # old-ice index thresholds
# Upper thickness (m) of each first-year stage, codes 1..7; thicker is code 8 (thick first-year).
_FY_STAGE_TOPS = [0.10, 0.15, 0.30, 0.50, 0.70, 1.00, 1.20]


@lru_cache(maxsize=8)
def _old_ice_index(grid: Grid) -> np.ndarray:
    index = np.zeros(grid.shape)
    for lat, lon, sigma, peak in _OLD_ICE:
        x0, y0 = to_xy(lon, lat)
        index = np.maximum(index, peak * _gaussian_bump(grid, x0, y0, sigma))
    return index


def first_year_thickness(day: datetime.date) -> float:
    """Thickness (m) of first-year ice deep inside the seasonal pack on ``day``."""
    return float(_periodic_interp(_day_of_year(day), _FY_THICKNESS, period=365.0))


def ice_stage(static: StaticGrid, day: datetime.date, sic: np.ndarray) -> np.ndarray:
    """Synthetic stage of development (``arcticroute.polaris`` codes 0..11) per cell, int8.

    Ice poleward of the summer ice edge survives the summer: second-year ice, and multi-year
    ice (light, heavy) where the old-ice index is high: north of Greenland and the Canadian
    Arctic Archipelago, in the Beaufort gyre and along the transpolar drift. Elsewhere the ice
    is first-year, its thickness growing with the season and with the distance inside the ice
    edge, so young ice (new, grey, grey-white) fringes the advancing edge at freeze-up and the
    Siberian shelves carry thick first-year ice by late winter. 0 (ice free) where sic < 0.05.
    """
    _check_shape(static, sic=sic)
    grid = static.grid
    rng = _rng(day, _SEED_ICE_TYPE)
    season = season_factor(day)
    summer_edge = np.minimum(_periodic_interp(static.lon, _SUMMER_EDGE, period=360.0), _MAX_EDGE_LAT)
    edge_now = _ice_edge_lat(static.lon, season)
    perennial = static.lat >= summer_edge + _PERENNIAL_MARGIN_DEG
    depth = _ramp(static.lat, edge_now - _EDGE_HALF_WIDTH_DEG, edge_now + 3.0)
    thickness = first_year_thickness(day) * (0.15 + 0.85 * depth) * (1.0 + 0.1 * _lowfreq_noise(grid, rng))
    stage = (1 + np.searchsorted(np.asarray(_FY_STAGE_TOPS), thickness.ravel())).reshape(grid.shape)
    old = _old_ice_index(grid) + 0.05 * _lowfreq_noise(grid, rng)
    old_stage = np.where(old >= _HEAVY_MY, 11, np.where(old >= _LIGHT_MY, 10, 9))
    stage = np.where(perennial, np.maximum(old_stage, stage), stage)
    stage[(sic < 0.05) | static.land] = 0
    return stage.astype(np.int8)


# ---------------------------------------------------------------------------
# Waves
# ---------------------------------------------------------------------------

_HS_BACKGROUND_M = 0.9
# (lat, lon, sigma_m, summer amplitude m, winter amplitude m) of the wave climate.
_WAVE_CLIMATE = [
    (67.0, 0.0, 1_100_000.0, 1.6, 2.8),  # Norwegian, Greenland and Barents seas
    (58.0, -25.0, 900_000.0, 1.4, 2.4),  # North Atlantic south of Iceland
    (55.0, -175.0, 900_000.0, 1.2, 1.9),  # Bering Sea and North Pacific
]
# Storm-track genesis regions: (probability, lat range, lon range).
_STORM_BASINS = [
    (0.6, (55.0, 65.0), (-40.0, -10.0)),  # Icelandic low
    (0.4, (48.0, 56.0), (160.0, 190.0)),  # Aleutian low
]
_STORM_LIFETIME_DAYS = 3
_HS_MAX_M = 7.5  # safety cap for overlapping storms
_HS_ICE_CUTOFF = 0.8


def winter_factor(day: datetime.date) -> float:
    """Storminess in [0, 1]: 1 in mid-January, 0 in mid-July."""
    return 0.5 * (1.0 + np.cos(2.0 * np.pi * (_day_of_year(day) - 15) / 365.0))


def _wave_climate(grid: Grid, winter: float) -> np.ndarray:
    hs = np.full(grid.shape, _HS_BACKGROUND_M * (1.0 + 0.3 * winter))
    for lat, lon, sigma, summer_amp, winter_amp in _WAVE_CLIMATE:
        x0, y0 = to_xy(lon, lat)
        amplitude = summer_amp + winter * (winter_amp - summer_amp)
        hs += amplitude * _gaussian_bump(grid, x0, y0, sigma)
    return hs


def _storm_track(birth: datetime.date) -> tuple:
    """Genesis point, daily drift (deg lat, deg lon), peak height and radius of one storm."""
    rng = _rng(birth, _SEED_STORMS)
    weights = [basin[0] for basin in _STORM_BASINS]
    _, lat_range, lon_range = _STORM_BASINS[rng.choice(len(_STORM_BASINS), p=weights)]
    start = (rng.uniform(*lat_range), rng.uniform(*lon_range))
    drift = (rng.uniform(1.0, 3.0), rng.uniform(8.0, 18.0))  # north-eastward
    return start, drift, rng.uniform(1.5, 3.0), rng.uniform(250_000.0, 450_000.0)


def _storms(grid: Grid, day: datetime.date) -> np.ndarray:
    """Wave-height bumps of the storms alive on ``day``.

    One storm is born each day and lives three days, drifting north-east and
    peaking on its middle day, so storms move coherently from day to day.
    """
    hs = np.zeros(grid.shape)
    for age in range(_STORM_LIFETIME_DAYS):
        (lat0, lon0), (dlat, dlon), peak, sigma = _storm_track(day - datetime.timedelta(age))
        x0, y0 = to_xy(lon0 + age * dlon, lat0 + age * dlat)
        strength = np.sin(np.pi * (age + 0.5) / _STORM_LIFETIME_DAYS)
        hs += peak * strength * _gaussian_bump(grid, x0, y0, sigma)
    return hs


def wave_height(static: StaticGrid, day: datetime.date, sic: np.ndarray) -> np.ndarray:
    """Synthetic significant wave height (m): climatology plus moving storms.

    Damped by open-water fraction ``1 - sic``, zero where ``sic >= 0.8`` and on land.
    """
    _check_shape(static, sic=sic)
    grid = static.grid
    hs = _wave_climate(grid, winter_factor(day)) + _storms(grid, day)
    hs = np.minimum(hs, _HS_MAX_M) * (1.0 - sic)
    hs[(sic >= _HS_ICE_CUTOFF) | static.land] = 0.0
    return np.maximum(hs, 0.0).astype(np.float32)


# ---------------------------------------------------------------------------
# Ship traffic (AIS density)
# ---------------------------------------------------------------------------

CORRIDORS: dict[str, list[tuple[float, float]]] = {
    "northern_sea_route": [
        (69.3, 33.6), (70.0, 37.0), (70.3, 42.0), (70.0, 50.0),  # Murmansk, Barents
        (70.4, 57.8), (71.0, 62.0), (73.0, 70.0), (73.8, 76.0),  # Kara Gate, Kara Sea
        (74.0, 80.0), (75.5, 87.0), (76.6, 96.0), (77.3, 100.5),  # Dikson, Taymyr coast
        (77.9, 104.0), (77.8, 106.5), (76.0, 118.0), (73.5, 129.0),  # Vilkitsky, off Tiksi
        (74.6, 139.5), (72.5, 152.0), (71.0, 163.0), (70.0, 170.5),  # Sannikov, Pevek
        (69.9, 176.0), (69.5, -179.0), (68.0, -173.0), (66.5, -169.8),  # Long Strait
        (65.8, -169.0), (64.5, -170.0),  # Bering Strait
    ],
    "norwegian_coast": [
        (58.0, 5.0), (60.4, 4.6), (62.5, 5.5), (64.0, 8.5), (66.0, 11.5),  # North Sea, Bergen
        (67.5, 12.5), (68.8, 14.5), (69.8, 17.5), (70.2, 18.8),  # Lofoten, Tromsø
        (71.4, 25.5), (70.6, 31.0), (69.8, 33.5), (69.2, 33.4),  # North Cape, Vardø, Murmansk
    ],
    "sabetta_ob_bay": [
        (71.25, 72.2), (72.5, 73.6), (73.5, 71.5), (72.5, 65.0), (70.5, 58.0),
    ],
    "bering_dutch_harbor": [
        (65.8, -168.8), (64.3, -165.6), (62.5, -167.5), (59.5, -168.0), (56.5, -167.5),
        (54.0, -166.6),
    ],
    "iceland_denmark_strait": [
        (62.0, -6.8), (63.3, -18.5), (63.6, -22.5), (64.2, -22.4), (64.5, -24.0),  # Reykjavik
        (65.5, -25.2), (66.4, -25.0), (67.5, -22.5),  # Denmark Strait
    ],
    "northwest_passage": [
        (63.0, -55.0), (67.0, -58.0), (70.5, -62.5), (73.5, -70.0),  # Davis Strait, Baffin
        (74.2, -80.0), (74.3, -91.0), (72.0, -96.0), (69.5, -98.5),  # Lancaster, Peel Sound
        (68.5, -102.0), (69.0, -105.0), (68.7, -108.0), (68.2, -112.0),  # Cambridge Bay
        (69.0, -115.0), (70.5, -123.0), (71.5, -130.0), (71.0, -140.0),  # Amundsen Gulf
        (71.5, -152.0), (71.8, -157.5), (69.0, -166.5), (66.5, -169.0),  # Point Barrow
    ],
    "svalbard": [
        (70.2, 18.8), (72.0, 19.0), (74.3, 19.5), (76.5, 14.0), (78.1, 13.5), (78.23, 15.6),
    ],
}  # fmt: skip

# Vessel-hours per day in a 25 km x 25 km cell on the corridor centreline, and
# the share of that traffic by ice-class ships that sail whatever the ice does.
_TRAFFIC = {
    "northern_sea_route": (6.0, 0.05),
    "norwegian_coast": (12.0, 0.0),
    "sabetta_ob_bay": (5.0, 0.6),  # Arc7 LNG carriers run year-round
    "bering_dutch_harbor": (4.0, 0.0),
    "iceland_denmark_strait": (5.0, 0.0),
    "northwest_passage": (1.5, 0.0),
    "svalbard": (2.5, 0.0),
}
_CORRIDOR_SIGMA_M = 40_000.0
_REFERENCE_CELL_M = 25_000.0


@lru_cache(maxsize=8)
def _corridor_kernels(grid: Grid) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per corridor: flat indices of nearby cells and Gaussian weights exp(-d^2/2 sigma^2)."""
    kernels = {}
    for name, waypoints in CORRIDORS.items():
        flat, dist = _cells_near_polyline(grid, waypoints, 4.0 * _CORRIDOR_SIGMA_M)
        kernels[name] = (flat, np.exp(-0.5 * (dist / _CORRIDOR_SIGMA_M) ** 2))
    return kernels


def ais_density(static: StaticGrid, day: datetime.date, sic: np.ndarray) -> np.ndarray:
    """Synthetic AIS density (vessel-hours per cell per day) along ``CORRIDORS``.

    Each corridor spreads its traffic as a Gaussian (sigma 40 km) around its
    route; the non-ice-class share is scaled by the local open-water fraction
    ``1 - sic``. ``day`` is unused: the seasonal signal comes from ``sic``.
    """
    _check_shape(static, sic=sic)
    grid = static.grid
    open_water = 1.0 - sic.ravel()
    density = np.zeros(grid.shape)
    for name, (flat, kernel) in _corridor_kernels(grid).items():
        vessel_hours, ice_class = _TRAFFIC[name]
        seasonal = ice_class + (1.0 - ice_class) * open_water[flat]
        density.flat[flat] += vessel_hours * kernel * seasonal
    density *= (grid.resolution_m / _REFERENCE_CELL_M) ** 2
    density[static.land] = 0.0
    return np.maximum(density, 0.0).astype(np.float32)


# ---------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------

INCIDENT_TYPES = ["ice damage", "machinery failure", "grounding", "collision", "fire", "flooding"]

# The known risk function the synthetic incidents are drawn from: incidents happen to ships, so
# each sea cell's incidents on a day are Poisson with mean (exposure) x (rate per vessel-hour),
# the exposure being the cell's AIS vessel-hours plus ``BACKGROUND_EXPOSURE`` (craft that AIS
# does not see), and the rate INCIDENT_RATE x exp(sum of KNOWN_WEIGHTS x hazard), the hazards
# normalised exactly as risk.fuse does it (ice: concentration x stage severity; wave: Hs / 6 m).
# Traffic is exposure, not a hazard: a busy lane has more incidents than the water beside it but
# not more per ship. Past incidents play no part, so a learned model should give them no weight.
# Stacking is tested for recovering these weights.
KNOWN_WEIGHTS = {"ice": 2.5, "wave": 2.0}
INCIDENT_RATE = 6.0e-5  # per vessel-hour in calm open water: about 1.5 incidents a day, four in five near shipping
BACKGROUND_EXPOSURE = 0.05  # vessel-hours per 1000 km2 per day that AIS does not see
_ICE_SEVERITY = np.array([0.0, 0.1, 0.1, 0.1, 0.15, 0.2, 0.25, 0.3, 0.45, 0.6, 0.75, 1.0])
_WAVE_REFERENCE_M = 6.0


def known_hazards(static: StaticGrid, sic, hs, stage) -> dict[str, np.ndarray]:
    """The hazards of the known risk function (as ``risk.normalised_hazards`` computes them)."""
    return {
        "ice": np.clip(sic, 0, 1) * _ICE_SEVERITY[np.asarray(stage, dtype=np.int16)],
        "wave": np.clip(hs / _WAVE_REFERENCE_M, 0, 1),
    }


def exposure(static: StaticGrid, ais) -> np.ndarray:
    """Vessel-hours in each cell on a day: the AIS density plus the background AIS does not see."""
    cell_area_km2 = (static.grid.resolution_m / 1000.0) ** 2
    return np.asarray(ais, dtype=float) + BACKGROUND_EXPOSURE * cell_area_km2 / 1000.0


def incident_rate(static: StaticGrid, sic, hs, stage) -> np.ndarray:
    """Incidents per vessel-hour in each cell under the known risk function."""
    hazards = known_hazards(static, sic, hs, stage)
    return INCIDENT_RATE * np.exp(sum(KNOWN_WEIGHTS[name] * hazards[name] for name in KNOWN_WEIGHTS))


def expected_incidents(static: StaticGrid, sic, hs, ais, stage) -> np.ndarray:
    """Mean number of incidents in each cell on a day (exposure x rate; 0 on land)."""
    mean = exposure(static, ais) * incident_rate(static, sic, hs, stage)
    mean[static.land] = 0.0
    return mean


def _incident_type_weights(sic: float, hs: float, ais: float) -> np.ndarray:
    """Relative likelihood of each of ``INCIDENT_TYPES`` under the given conditions."""
    return np.array(
        [
            3.0 * sic,  # ice damage
            1.0 + 0.5 * sic,  # machinery failure, worse in the cold
            0.4,  # grounding
            0.2 + 0.6 * min(ais / 10.0, 1.0),  # collision, with traffic
            0.3,  # fire
            0.15 + 0.15 * hs,  # flooding, with heavy seas
        ]
    )


def incidents(static: StaticGrid, day: datetime.date, sic, hs, ais, stage=None) -> list[dict]:
    """Synthetic incident reports for ``day`` at sea-cell centres, sorted by time.

    Each sea cell has Poisson(``expected_incidents``) incidents: its exposure (AIS vessel-hours
    and a background) times the known rate per vessel-hour (ice of its stage of development,
    waves), about 1.5 a day over the Arctic.
    """
    _check_shape(static, sic=sic, hs=hs, ais=ais)
    rng = _rng(day, _SEED_INCIDENTS)
    stage = ice_stage(static, day, sic) if stage is None else stage
    mean = expected_incidents(static, np.asarray(sic, float), np.asarray(hs, float), np.asarray(ais, float), stage)
    sea = np.flatnonzero(~static.land.ravel())
    hits = np.repeat(sea, rng.poisson(mean.ravel()[sea]))
    count = hits.size
    seconds = np.sort(rng.integers(0, _DAY_S, size=count))
    start = datetime.datetime.combine(day, datetime.time())
    sic, hs, ais = (np.asarray(a).ravel() for a in (sic, hs, ais))
    reports = []
    for cell, second in zip(hits, seconds, strict=True):
        type_weights = _incident_type_weights(float(sic[cell]), float(hs[cell]), float(ais[cell]))
        kind = INCIDENT_TYPES[rng.choice(len(INCIDENT_TYPES), p=type_weights / type_weights.sum())]
        p_severe = min(0.15 + 0.06 * float(hs[cell]) + 0.25 * float(sic[cell]), 0.7)
        reports.append(
            {
                "time_utc": (start + datetime.timedelta(seconds=int(second))).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "lat": round(float(static.lat.flat[cell]), 4),
                "lon": round(float(static.lon.flat[cell]), 4),
                "type": kind,
                "severity": 1 + int(rng.binomial(2, p_severe)),
                "source": "synthetic",
            }
        )
    return reports
