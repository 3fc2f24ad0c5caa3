"""CF-1.8 and ACDD-1.3 metadata of the netCDF artifacts (docs/artifacts.md, "netCDF form").

What every reader needs to place and date a layer without our code: a grid mapping that names
EPSG:3413 (the CF projection attributes, WKT for GDAL and pyproj, the EPSG code), a numeric
time coordinate with bounds, lat/lon auxiliary coordinates, standard names with UDUNITS units,
and the ACDD discovery attributes (title, summary, coverage, creation, licence of the inputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from . import __version__
from .grid import CRS_EPSG, X_MAX, X_MIN, Y_MAX, Y_MIN, Grid

CONVENTIONS = "CF-1.8, ACDD-1.3"
EPOCH = date(1970, 1, 1)
TIME_UNITS = "days since 1970-01-01 00:00:00"
CALENDAR = "standard"
# lat/lon beside every layer are auxiliary (x/y in EPSG:3413 are the exact positions): rounded
# to 1/1024 degree (<= 55 m) as netCDF4's least_significant_digit=3 would round them, and stored
# packed (CF-1.8 section 8.1) as integers of that step: int16 latitude (the NSIDC extent reaches
# down to 30.98 N, inside 60 +- 32 degrees), int32 longitude. Readers unpack them to float64 with
# exactly the rounded values; the integers (deflate 6) take 18 % fewer bytes than the floats and
# read twice as fast (bench/README.md, "Storage of a day"). The static grid keeps them exact.
LATLON_STEP = 1.0 / 1024.0
LATLON_PACKING = {  # CF wants both attributes of one float type: double, so readers unpack to float64
    "lat": {"dtype": np.dtype(np.int16), "scale_factor": LATLON_STEP, "add_offset": 60.0},
    "lon": {"dtype": np.dtype(np.int32), "scale_factor": LATLON_STEP, "add_offset": 0.0},
}
# Coordinates never have missing values; xarray would otherwise add _FillValue = NaN to them.
NO_FILL = ("x", "y", "time", "time_bnds", "lat", "lon", "day")


@lru_cache(maxsize=1)
def grid_mapping_attrs() -> dict:
    """The ``crs`` variable's attributes: pyproj's CF form of EPSG:3413 (``crs_wkt`` in WKT2 and
    the ellipsoid), merged with the CF projection attributes pyproj leaves out
    (``latitude_of_projection_origin``), ``spatial_ref`` in GDAL's WKT1 (read by GDAL before 3.0
    and ArcGIS) and the EPSG code; every reader then finds EPSG:3413 at full confidence."""
    import pyproj  # here, not at the top: a command that writes no file need not load it

    crs = pyproj.CRS.from_epsg(CRS_EPSG)
    attrs = {key: value for key, value in crs.to_cf().items() if value is not None}
    attrs.update({
        "grid_mapping_name": "polar_stereographic",
        "latitude_of_projection_origin": 90.0,
        "standard_parallel": 70.0,
        "straight_vertical_longitude_from_pole": -45.0,
        "false_easting": 0.0,
        "false_northing": 0.0,
        "semi_major_axis": 6378137.0,
        "inverse_flattening": 298.257223563,
        "spatial_ref": crs.to_wkt(pyproj.enums.WktVersion.WKT1_GDAL),
        "epsg_code": f"EPSG:{CRS_EPSG}",
        "long_name": f"NSIDC Sea Ice Polar Stereographic North (EPSG:{CRS_EPSG})",
    })
    return attrs


X_ATTRS = {"standard_name": "projection_x_coordinate", "long_name": f"x coordinate of projection (EPSG:{CRS_EPSG})",
           "units": "m", "axis": "X"}
Y_ATTRS = {"standard_name": "projection_y_coordinate", "long_name": f"y coordinate of projection (EPSG:{CRS_EPSG})",
           "units": "m", "axis": "Y"}
LAT_ATTRS = {"standard_name": "latitude", "long_name": "latitude of the cell centre", "units": "degrees_north",
             "coverage_content_type": "coordinate"}
LON_ATTRS = {"standard_name": "longitude", "long_name": "longitude of the cell centre", "units": "degrees_east",
             "coverage_content_type": "coordinate"}
ROUNDED = {"comment": "rounded to 1/1024 degree (packed as integers of that step); x and y in EPSG:3413 give the "
                      "exact position"}


@lru_cache(maxsize=2)
def cell_lonlat(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """float32 longitude and latitude of every cell centre, rounded to ``LATLON_STEP`` (cached:
    the same for every day)."""
    lon, lat = (np.asarray(np.around(v / LATLON_STEP) * LATLON_STEP, dtype=np.float32) for v in grid.lonlat())
    lon.flags.writeable = lat.flags.writeable = False
    return lon, lat


@lru_cache(maxsize=2)
def packed_lonlat(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """``cell_lonlat`` as the packed integers ``LATLON_PACKING`` stores (cached: packing them for
    every file would cost more than writing them)."""
    packed = []
    for name, values in zip(("lon", "lat"), cell_lonlat(grid), strict=True):
        spec = LATLON_PACKING[name]
        ints = np.around((values.astype(np.float64) - spec["add_offset"]) / spec["scale_factor"])
        info = np.iinfo(spec["dtype"])
        if ints.min() < info.min or ints.max() > info.max:  # a grid reaching below 28 N would need int32
            raise ValueError(f"{name} of {grid.name} does not fit {spec['dtype']} packed as {spec}")
        array = ints.astype(spec["dtype"])
        array.flags.writeable = False
        packed.append(array)
    return packed[0], packed[1]


def day_number(day: date) -> float:
    """Days since 1970-01-01 00:00 UTC (the time coordinate's units) of a day's start."""
    return float((day - EPOCH).days)


def time_coords(start: date, end: date) -> dict:
    """A CF time coordinate of one step covering the days ``start``..``end`` (inclusive): the
    value at the middle of the interval, ``time_bnds`` its edges (00:00 UTC of start, 00:00 UTC
    of the day after end)."""
    low, high = day_number(start), day_number(end) + 1.0
    time_attrs = {"standard_name": "time", "long_name": "time", "units": TIME_UNITS, "calendar": CALENDAR,
                  "axis": "T", "bounds": "time_bnds"}
    return {
        "time": ("time", np.array([(low + high) / 2.0]), time_attrs),
        "time_bnds": (("time", "nv"), np.array([[low, high]])),
    }


def coerce_to_dtype(attrs: dict, dtype) -> dict:
    """Range and flag attributes in the variable's own type, as CF requires (a float64
    ``valid_range`` on a float32 variable is an error for CF checkers)."""
    fixed = dict(attrs)
    for key in ("valid_range", "valid_min", "valid_max", "actual_range", "flag_values", "flag_masks"):
        if key in fixed:
            fixed[key] = np.asarray(fixed[key]).astype(dtype)
    return fixed


def date_created(env: Mapping[str, str]) -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) when the run's
    environment (``Settings.env``, which worker processes receive with the settings) sets it, so
    the same inputs can give byte-identical files. ``load_settings`` has refused any other value
    than whole seconds, so a set value is always used."""
    epoch = env.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def geospatial_attrs(grid: Grid, lonlat: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """ACDD geospatial coverage: the extremes of the cell-centre lat/lon the file holds
    (``lonlat``, by default ``cell_lonlat``); the pole lies inside the grid."""
    if lonlat is None:
        return _cell_geospatial_attrs(grid)
    lon, lat = lonlat
    return {
        "geospatial_lat_min": float(np.min(lat)),
        "geospatial_lat_max": float(np.max(lat)),
        "geospatial_lon_min": float(np.min(lon)),
        "geospatial_lon_max": float(np.max(lon)),
        "geospatial_lat_units": "degrees_north",
        "geospatial_lon_units": "degrees_east",
        "geospatial_bounds_crs": f"EPSG:{CRS_EPSG}",
        "geospatial_bounds": (f"POLYGON(({X_MIN:.0f} {Y_MIN:.0f}, {X_MAX:.0f} {Y_MIN:.0f}, {X_MAX:.0f} {Y_MAX:.0f}, "
                              f"{X_MIN:.0f} {Y_MAX:.0f}, {X_MIN:.0f} {Y_MIN:.0f}))"),
        "geospatial_x_resolution": f"{grid.resolution_m:g} m",  # not ACDD; GIS readers show it
        "geospatial_y_resolution": f"{grid.resolution_m:g} m",
    }


@lru_cache(maxsize=4)
def _cell_geospatial_attrs(grid: Grid) -> dict:
    return geospatial_attrs(grid, cell_lonlat(grid))


STANDARD_NAMES = "CF Standard Name Table v93"  # every standard name used is in it (tests/test_cf.py)
SYNTHETIC_NOTICE = "SYNTHETIC DEMO DATA, not for navigation"


def discovery_attrs(*, title: str, summary: str, keywords: str, logical_id: str, grid: Grid, command: str,
                    source: str, license: str, synthetic: bool, coverage: tuple[date, date] | None, created: str,
                    institution: str = "ArcticRoute", acknowledgement: str | None = None,
                    processing_level: str = "regridded to the ArcticRoute grid",
                    lonlat: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """The ACDD-1.3 global attributes of an artifact. Synthetic data says so in its title and
    summary, not only in the ``synthetic`` attribute."""
    attrs = {
        "Conventions": CONVENTIONS,
        "title": f"{title} ({SYNTHETIC_NOTICE})" if synthetic else title,
        "summary": (f"{SYNTHETIC_NOTICE}: generated by ArcticRoute's demo profile, not observed. " if synthetic
                    else "") + summary,
        "keywords": keywords,
        "standard_name_vocabulary": STANDARD_NAMES,
        "id": logical_id,
        "naming_authority": "arcticroute",  # the ar:// logical ids
        "source": source,
        "institution": institution,
        "license": license,
        "date_created": created,
        "history": f"{created} {command} (ArcticRoute {__version__})",
        "acknowledgement": acknowledgement or f"Input data: {institution}; see source and license.",
        "comment": "Layout and attributes: ArcticRoute docs/artifacts.md; provenance in the .meta.json sidecar.",
        "project": "ArcticRoute",
        "creator_name": "ArcticRoute",
        "creator_type": "group",
        "product_version": __version__,
        "processing_level": f"synthetic, {processing_level}" if synthetic else processing_level,
        "synthetic": str(bool(synthetic)).lower(),
        **geospatial_attrs(grid, lonlat),
    }
    if coverage is not None:
        start, end = coverage
        days = (end - start).days + 1
        attrs.update({
            "time_coverage_start": f"{start.isoformat()}T00:00:00Z",
            "time_coverage_end": f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z",
            "time_coverage_duration": f"P{days}D",
            "time_coverage_resolution": "P1D",
        })
    return attrs


def licence_of(licences) -> str:
    """The licences of several inputs as one attribute: each distinct one once, in order."""
    distinct = list(dict.fromkeys(text for text in licences if text))
    return "; ".join(distinct) if distinct else "unknown: the inputs do not state their licence"
