"""Replica files made by the tests: same variables, attributes, grid and compression as the
providers' (../shared/SOURCES.md), filled with a plausible made-up field."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import xarray as xr

# EPSG:3413 / 3411 share the NSIDC north grid's x/y axes.
_WGS84 = {"semi_major_axis": 6378137.0, "inverse_flattening": 298.257223563}
_HUGHES = {"semi_major_axis": 6378273.0, "semi_minor_axis": 6356889.449}


def _polar_field(x: np.ndarray, y: np.ndarray, day: date, peak: float) -> np.ndarray:
    """Ice-like: ``peak`` near the pole, fading out between 1500 and 2500 km (season-shifted)."""
    xx, yy = np.meshgrid(x, y)
    r = np.hypot(xx, yy)
    edge = 2.0e6 + 4.0e5 * np.cos(2 * np.pi * (day.timetuple().tm_yday - 60) / 365.25)
    return np.clip((edge + 5.0e5 - r) / 1.0e6, 0, 1) * peak


def bremen_asi(path: Path, day: date, *, ellipsoid: str = "wgs84", variable: str = "z",
               z_attrs: dict | None = None, shape_step: int = 1, infinite: tuple[int, int] = (0, 0),
               dated: date | None = None) -> Path:
    """Uni Bremen ASI v5.4 AMSR2 6.25 km: ``z`` (y, x) float32 percent, NaN for land and the pole
    hole, y ascending, polar_stereographic grid mapping (Hughes 1980 up to 2018-11-01, then WGS 84).
    Broken on demand: ``infinite`` = (+inf cells, -inf cells) near the pole; ``dated``: the day
    its ``date`` attribute says (default ``day``)."""
    x = -3_846_875.0 + 6250.0 * np.arange(0, 1216, shape_step)
    y = -5_346_875.0 + 6250.0 * np.arange(0, 1792, shape_step)  # ascending: row 0 is the southern edge
    z = _polar_field(x, y, day, 100.0).astype(np.float32)
    xx, yy = np.meshgrid(x, y)
    z[np.hypot(xx, yy) < 90_000] = np.nan  # the pole hole
    z[(xx > 200_000) & (xx < 900_000) & (yy < -700_000) & (yy > -2_800_000)] = np.nan  # "Greenland"
    sea = np.flatnonzero(np.isfinite(z) & (np.hypot(xx, yy) < 1_000_000))
    z.flat[sea[: infinite[0]]] = np.inf
    z.flat[sea[infinite[0]: infinite[0] + infinite[1]]] = -np.inf
    mapping = {"grid_mapping_name": "polar_stereographic", "latitude_of_projection_origin": 90.0,
               "standard_parallel": 70.0, "straight_vertical_longitude_from_pole": -45.0,
               "false_easting": 0.0, "false_northing": 0.0,
               **(_HUGHES if ellipsoid == "hughes" else _WGS84)}
    attrs = {"long_name": "sea ice concentration", "grid_mapping": "polar_stereographic",
             "actual_range": np.array([0.0, 100.0], dtype=np.float32), **(z_attrs or {})}
    ds = xr.Dataset(
        {variable: (("y", "x"), z, attrs), "polar_stereographic": ((), np.int8(0), mapping)},
        coords={"x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate"}),
                "y": ("y", y, {"units": "m", "standard_name": "projection_y_coordinate"})},
        attrs={"title": "ASI sea ice concentration (replica made by the ArcticRoute tests)",
               "institution": "replica", "date": (dated or day).isoformat()},
    )
    ds.to_netcdf(path, engine="netcdf4", encoding={variable: {"zlib": True, "complevel": 4, "_FillValue": np.nan}})
    return path


def osisaf_conc(path: Path, day: date, dated: date | None = None) -> Path:
    """OSI SAF OSI-401-b: ``ice_conc`` (time, yc, xc) short percent ×0.01, 10 km, xc/yc in km,
    Hughes ellipsoid given as CF attributes and a proj4 string; ``dated``: the day its time
    coordinate and time_coverage say (default ``day``)."""
    xc = -3845.0 + 10.0 * np.arange(760)
    yc = 5845.0 - 10.0 * np.arange(1120)
    conc = _polar_field(xc * 1000, yc * 1000, day, 100.0)
    conc[np.hypot(*np.meshgrid(xc, yc)) < 60] = np.nan
    mapping = {"grid_mapping_name": "polar_stereographic", "straight_vertical_longitude_from_pole": -45.0,
               "latitude_of_projection_origin": 90.0, "standard_parallel": 70.0, "false_easting": 0.0,
               "false_northing": 0.0, "semi_major_axis": 6378273.0, "semi_minor_axis": 6356889.44891,
               "proj4_string": "+proj=stere +a=6378273 +b=6356889.44891 +lat_0=90 +lat_ts=70 +lon_0=-45"}
    stamp = dated or day
    time = np.array([np.datetime64(datetime(stamp.year, stamp.month, stamp.day, 12))], dtype="datetime64[ns]")
    ds = xr.Dataset(
        {"ice_conc": (("time", "yc", "xc"), conc[None].astype(np.float32),
                      {"units": "%", "long_name": "fully filtered concentration of sea ice",
                       "standard_name": "sea_ice_area_fraction", "grid_mapping": "Polar_Stereographic_Grid"}),
         "Polar_Stereographic_Grid": ((), np.int32(0), mapping)},
        coords={"time": ("time", time), "xc": ("xc", xc, {"units": "km"}), "yc": ("yc", yc, {"units": "km"})},
        attrs={"title": "Sea Ice Concentration (replica made by the ArcticRoute tests)", "product_id": "OSI-401-b",
               "time_coverage_start": f"{stamp:%Y-%m-%d}T00:00:00Z",
               "time_coverage_end": f"{stamp + timedelta(days=1):%Y-%m-%d}T00:00:00Z"},
    )
    encoding = {"ice_conc": {"dtype": "int16", "scale_factor": 0.01, "_FillValue": np.int16(-32767), "zlib": True}}
    ds.to_netcdf(path, engine="netcdf4", encoding=encoding)
    return path


def cmems_wave(path: Path, day: date, hours: int = 24) -> Path:
    """Copernicus Marine ARCTIC wave (dataset-wam-arctic-1hr3km-be) as ``copernicusmarine subset``
    writes it: ``VHM0`` (time, y, x) metres on a rotated grid with 2-D latitude/longitude (coarse)."""
    ny, nx = 120, 160
    j, i = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    lat = 60.0 + 30.0 * j / ny
    lon = -180.0 + 360.0 * i / nx
    base = 1.0 + 3.0 * np.exp(-((lat - 68) / 6) ** 2)
    times = np.array([np.datetime64(datetime(day.year, day.month, day.day) + timedelta(hours=h)) for h in range(hours)],
                     dtype="datetime64[ns]")
    vhm0 = np.stack([base * (1 + 0.2 * np.sin(h / 4)) for h in range(hours)]).astype(np.float32)
    ds = xr.Dataset(
        {"VHM0": (("time", "y", "x"), vhm0, {"units": "m", "standard_name": "sea_surface_wave_significant_height"}),
         "latitude": (("y", "x"), lat, {"units": "degrees_north"}),
         "longitude": (("y", "x"), lon, {"units": "degrees_east"})},
        coords={"time": ("time", times)},
        attrs={"title": "ARCTIC_ANALYSIS_FORECAST_WAV_002_014 (replica)"},
    )
    ds.to_netcdf(path, engine="netcdf4", encoding={"VHM0": {"zlib": True, "_FillValue": np.float32(np.nan)}})
    return path


NOAA_COLUMNS = ["MMSI", "BaseDateTime", "LAT", "LON", "SOG", "COG", "Heading", "VesselName", "IMO", "CallSign",
                "VesselType", "Status", "Length", "Width", "Draft", "Cargo", "TransceiverClass"]
DMA_COLUMNS = ["# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "Navigational status", "ROT", "SOG",
               "COG", "Heading", "IMO", "Callsign", "Name", "Ship type", "Cargo type", "Width", "Length",
               "Type of position fixing device", "Draught", "Destination", "ETA", "Data source type", "A", "B", "C", "D"]


def ais_tracks(day: date, vessels: int = 5, pings: int = 48) -> list[dict]:
    """Made-up tracks: each vessel sails a straight line, one ping every 30 minutes."""
    rng = np.random.default_rng(int(day.strftime("%Y%m%d")))
    rows = []
    for v in range(vessels):
        lat0, lon0 = 70.0 + rng.uniform(-2, 2), -160.0 + rng.uniform(-5, 5)
        if v == vessels - 1:
            lat0 = 40.0  # far south: outside the Arctic box
        for p in range(pings):
            rows.append({"mmsi": 366000000 + v, "time": datetime(day.year, day.month, day.day) + timedelta(minutes=30 * p),
                         "lat": lat0 + 0.01 * p, "lon": lon0 + 0.02 * p})
    return rows


def _zipped_csv(path: Path, member: str, header: list[str], lines) -> Path:
    """A zip archive holding one CSV file ``member``: the header, then ``lines`` (lists of cells)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(lines)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text.getvalue())
    return path


def noaa_ais_zip(path: Path, day: date, rows: list[dict]) -> Path:
    """NOAA MarineCadastre ``AIS_YYYY_MM_DD.zip``: one CSV, BaseDateTime ``YYYY-MM-DDTHH:MM:SS``."""
    return _zipped_csv(path, f"AIS_{day:%Y_%m_%d}.csv", NOAA_COLUMNS, (
        [r["mmsi"], r["time"].strftime("%Y-%m-%dT%H:%M:%S"), f"{r['lat']:.5f}", f"{r['lon']:.5f}",
         "10.1", "45.0", "44", "REPLICA", "IMO0000000", "CALL", "70", "0", "120", "20", "7.5", "70", "A"]
        for r in rows))


def dma_ais_zip(path: Path, day: date, rows: list[dict]) -> Path:
    """Danish Maritime Authority ``aisdk-YYYY-MM-DD.zip``: CSV, timestamp ``DD/MM/YYYY HH:MM:SS``."""
    return _zipped_csv(path, f"aisdk-{day:%Y-%m-%d}.csv", DMA_COLUMNS, (
        [r["time"].strftime("%d/%m/%Y %H:%M:%S"), "Class A", r["mmsi"], f"{r['lat']:.6f}",
         f"{r['lon']:.6f}", "Under way using engine", "0", "10.1", "45", "44", "Unknown", "CALL",
         "REPLICA", "Cargo", "", "20", "120", "GPS", "7.5", "NUUK", "", "AIS", "", "", "", ""]
        for r in rows))


def incidents_csv(path: Path, rows: list[dict], columns: dict[str, str] | None = None) -> Path:
    """An incidents table: ``time_utc, lat, lon, type, severity, source`` (or renamed by ``columns``)."""
    names = {k: (columns or {}).get(k, k) for k in ("time_utc", "lat", "lon", "type", "severity", "source")}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(names.values()))
        writer.writeheader()
        for row in rows:
            writer.writerow({names[k]: row[k] for k in names})
    return path


def osisaf_type(path: Path, day: date, *, summer: bool = False) -> Path:
    """OSI SAF OSI-403 ice type: ``ice_type`` (time, yc, xc) int flags 1 open water, 2 first-year,
    3 multi-year, 4 ambiguous; -1 missing; same 10 km grid as the concentration. ``summer``: a
    Northern Hemisphere file from mid-May to 30 September, which holds no valid classification
    (OSI SAF, product page of OSI-403-d): the ice is all "ambiguous"."""
    xc = -3845.0 + 10.0 * np.arange(760)
    yc = 5845.0 - 10.0 * np.arange(1120)
    xx, yy = np.meshgrid(xc, yc)
    r = np.hypot(xx, yy)
    codes = np.where(r < 800, 3, np.where(r < 1800, 2, 1)).astype(np.int8)
    codes[(r >= 1700) & (r < 1800)] = 4
    if summer:
        codes[r < 1800] = 4
    mapping = {"grid_mapping_name": "polar_stereographic", "straight_vertical_longitude_from_pole": -45.0,
               "latitude_of_projection_origin": 90.0, "standard_parallel": 70.0, "false_easting": 0.0,
               "false_northing": 0.0, "semi_major_axis": 6378273.0, "semi_minor_axis": 6356889.44891}
    time = np.array([np.datetime64(datetime(day.year, day.month, day.day, 12))], dtype="datetime64[ns]")
    ds = xr.Dataset(
        {"ice_type": (("time", "yc", "xc"), codes[None],
                      {"long_name": "sea ice type classification", "grid_mapping": "Polar_Stereographic_Grid",
                       "flag_values": np.array([1, 2, 3, 4], dtype=np.int8),
                       "flag_meanings": "open_water first_year_ice multi_year_ice ambiguous"}),
         "Polar_Stereographic_Grid": ((), np.int32(0), mapping)},
        coords={"time": ("time", time), "xc": ("xc", xc, {"units": "km"}), "yc": ("yc", yc, {"units": "km"})},
        attrs={"title": "Sea Ice Type (replica made by the ArcticRoute tests)", "product_id": "OSI-403"},
    )
    ds.to_netcdf(path, engine="netcdf4", encoding={"ice_type": {"_FillValue": np.int8(-1), "zlib": True}})
    return path


def cmems_arctic_ice(path: Path, day: date) -> Path:
    """Copernicus Marine ARCTIC_ANALYSISFORECAST_PHY_002_001 daily means as ``copernicusmarine
    subset`` writes one day of them: ``siconc`` (fraction, units "1") and ``sithick`` (m) on (time,
    y, x), NaN on land, with the model grid's 2-D latitude/longitude (coarse here)."""
    ny, nx = 90, 180
    j, i = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    lat = 60.0 + 30.0 * j / ny
    lon = -180.0 + 360.0 * i / nx
    lead = (day - date(day.year, 1, 1)).days % 30
    siconc = np.clip((lat - 70.0 + 0.05 * lead) / 8.0, 0, 1)  # the edge creeps south day by day
    sithick = np.where(siconc > 0, 0.3 + 2.4 * siconc, 0.0)  # thicker towards the pole: up to 2.7 m
    siconc[(lat < 64) & (lon > 0) & (lon < 40)] = np.nan  # "land"
    sithick[np.isnan(siconc)] = np.nan
    time = np.array([np.datetime64(datetime(day.year, day.month, day.day))], dtype="datetime64[ns]")
    ds = xr.Dataset(
        {"siconc": (("time", "y", "x"), siconc[None].astype(np.float32),
                    {"units": "1", "standard_name": "sea_ice_area_fraction"}),
         "sithick": (("time", "y", "x"), sithick[None].astype(np.float32),
                     {"units": "m", "standard_name": "sea_ice_thickness"}),
         "latitude": (("y", "x"), lat, {"units": "degrees_north"}),
         "longitude": (("y", "x"), lon, {"units": "degrees_east"})},
        coords={"time": ("time", time)},
        attrs={"title": "ARCTIC_ANALYSISFORECAST_PHY_002_001 daily mean (replica)"},
    )
    encoding = {name: {"zlib": True, "_FillValue": np.float32(np.nan)} for name in ("siconc", "sithick")}
    ds.to_netcdf(path, engine="netcdf4", encoding=encoding)
    return path
