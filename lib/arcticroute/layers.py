"""The environmental layers: names, file locations, logical ids and their netCDF form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ArcticRouteError
from .grid import Grid
from .polaris import STAGES, UNKNOWN_CODE
from .store.identity import stated_by_netcdf
from .store.integrity import check_content, read_verified, unreadable_artifact

if TYPE_CHECKING:  # xarray (0.25 s with pandas) is imported where files are read or written, not by every command
    import xarray as xr


@dataclass(frozen=True)
class LayerInfo:
    layer: str  # logical layer id, e.g. "ice.sic"
    variable: str  # netCDF variable holding the grid
    units: str | None  # UDUNITS; None for flag variables (codes with flag_values)
    long_name: str
    digits: int | None = None  # decimal digits kept when stored (least_significant_digit); None: exact
    standard_name: str | None = None  # CF standard name, where the table has one
    title: str = ""  # what the layer is, in an artifact's title and summary
    keywords: str = ""
    cell_methods: str | None = None
    valid_range: tuple[float, float] | None = None
    content: str = "physicalMeasurement"  # ACDD coverage_content_type
    flags: tuple[tuple[int, str], ...] = ()  # (code, meaning) of a coded variable: CF flag_values/flag_meanings
    comment: str | None = None

    def cf_attrs(self) -> dict:
        """The variable's CF attributes; they override what an adapter wrote, so every source of
        the layer gives the same form."""
        attrs = {"long_name": self.long_name, "units": self.units, "standard_name": self.standard_name,
                 "cell_methods": self.cell_methods, "coverage_content_type": self.content,
                 "valid_range": list(self.valid_range) if self.valid_range else None, "comment": self.comment}
        if self.flags:
            attrs["flag_values"] = [code for code, _meaning in self.flags]
            attrs["flag_meanings"] = " ".join(meaning for _code, meaning in self.flags)
        return {key: value for key, value in attrs.items() if value is not None}


LAYERS = {
    "ice.sic": LayerInfo("ice.sic", "sic", "1", "sea-ice concentration (fraction 0..1)", 3,
                         standard_name="sea_ice_area_fraction", title="sea-ice concentration",
                         keywords="sea ice, sea ice concentration, Arctic", valid_range=(0.0, 1.0)),
    "ice.type": LayerInfo("ice.type", "stage", None, "sea-ice stage of development (POLARIS ice type code 0..11)",
                          standard_name="sea_ice_classification", title="sea-ice stage of development",
                          keywords="sea ice, ice types, stage of development, POLARIS, Arctic",
                          content="thematicClassification",
                          flags=((UNKNOWN_CODE, "unknown"), *((code, key) for code, key, *_ in STAGES)),
                          comment="ice types of IMO MSC.1/Circ.1519 (POLARIS) Table 1.3, WMO sea-ice nomenclature; "
                                  "unknown: ice present without a valid classification (planning assumes the most "
                                  "severe plausible type there and reports the miles)"),
    "wave.hs": LayerInfo("wave.hs", "hs", "m", "significant wave height", 2,
                         standard_name="sea_surface_wave_significant_height", title="significant wave height",
                         keywords="ocean waves, significant wave height, Arctic", valid_range=(0.0, 30.0)),
    "ais.density": LayerInfo("ais.density", "density", "h d-1",
                             "AIS traffic density: vessel-hours in the cell per day", 3,
                             title="AIS traffic density", keywords="AIS, ship traffic, vessel density, Arctic"),
    "incidents": LayerInfo("incidents", "count", "1", "maritime incidents in the cell during the day",
                           cell_methods="time: sum", title="maritime incidents",
                           keywords="maritime incidents, ship accidents, Arctic"),
}
ALIASES = {"ice": "ice.sic", "wave": "wave.hs", "ais": "ais.density", "incidents": "incidents"}
# "ice" means sea ice as routing needs it: its concentration and its stage of development.
ALIAS_EXTRA = {"ice": ("ice.type",)}


def resolve_layers(what: str) -> list[str]:
    """``ice,wave`` (aliases or full ids) to layer ids, in registry order; ValueError names the bad one."""
    wanted = []
    for token in (t.strip() for t in what.split(",")):
        if not token:
            continue
        layer = ALIASES.get(token, token)
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {token!r}; expected any of {', '.join(ALIASES)}")
        wanted += [layer, *ALIAS_EXTRA.get(token, ())]
    if not wanted:
        raise ValueError("no layer given; expected any of " + ", ".join(ALIASES))
    return [layer for layer in LAYERS if layer in wanted]


def layer_relpath(layer: str, day: date, grid_name: str) -> str:
    """Where a day's layer lives; the grid is a folder level, so grids coexist."""
    return f"env/{layer}/{grid_name}/{day:%Y}/{day:%m}/{layer.replace('.', '_')}_{day:%Y%m%d}.nc"


def layer_logical_id(layer: str, day: date, grid: Grid) -> str:
    return f"ar://env/{layer}@{day:%Y%m%d}?grid={grid.name}"


def incident_count(grid: Grid, points: list[dict]) -> np.ndarray:
    """Incidents per cell from point records with ``lat`` and ``lon``."""
    count = np.zeros(grid.shape, dtype=np.float32)
    for point in points:
        count[grid.index_of(point["lat"], point["lon"])] += 1
    return count


def incident_points(points: list[dict]) -> dict:
    """The incident records as CF point data (CF-1.8 section 9, the "point" form) on dimension
    ``incident``, beside the gridded count: time, lat and lon are the auxiliary coordinates of
    the other per-incident variables (docs/artifacts.md, "Incidents")."""
    from datetime import datetime

    from . import cf

    where = {"coordinates": "incident_time incident_lat incident_lon"}
    times = [round(datetime.fromisoformat(p["time_utc"].replace("Z", "+00:00")).timestamp()) for p in points]
    return {
        "incident_time": ("incident", np.array(times, dtype=np.float64),  # CF-1.8 has no int64
                          {"standard_name": "time", "long_name": "time of the incident",
                           "units": "seconds since 1970-01-01 00:00:00", "calendar": cf.CALENDAR}),
        "incident_lat": ("incident", np.array([p["lat"] for p in points], dtype=np.float64),
                         {"standard_name": "latitude", "long_name": "latitude of the incident",
                          "units": "degrees_north"}),
        "incident_lon": ("incident", np.array([p["lon"] for p in points], dtype=np.float64),
                         {"standard_name": "longitude", "long_name": "longitude of the incident",
                          "units": "degrees_east"}),
        "incident_type": ("incident", np.array([p["type"] for p in points], dtype=str),
                          {"long_name": "kind of incident, as the source names it",
                           "coverage_content_type": "referenceInformation", **where}),
        "incident_severity": ("incident", np.array([p["severity"] for p in points], dtype=np.int16),
                              {"long_name": "severity of the incident, as the source grades it", "units": "1",
                               "coverage_content_type": "referenceInformation", **where}),
        "incident_source": ("incident", np.array([p["source"] for p in points], dtype=str),
                            {"long_name": "where the incident record comes from",
                             "coverage_content_type": "referenceInformation", **where}),
    }


def layer_dataset(layer: str, grid: Grid, day: date, result, source, *, command: str, created: str,
                  latlon: bool = True) -> xr.Dataset:
    """A day's layer as its CF-1.8 netCDF dataset: the adapter's variables with the layer's CF
    attributes, the incident points beside their count, and the ACDD discovery attributes
    (where the data came from, under which licence, synthetic or not)."""
    from . import cf

    info = LAYERS[layer]
    variables = {name: (values, {**attrs, **(info.cf_attrs() if name == info.variable else {})})
                 for name, (values, attrs) in result.variables.items()}
    points = result.points or []
    if layer == "incidents":
        variables["count"] = (incident_count(grid, points), info.cf_attrs())
    provided = {key: value for key, value in result.attrs.items() if key not in ("source", "synthetic")}
    licence = source.license or provided.pop("source_license", None) or (
        f"not stated by the source's configuration or files: see the terms of use of {source.name}")
    attrs = {
        **provided,
        **cf.discovery_attrs(
            title=f"ArcticRoute {info.title} {day.isoformat()} on {grid.name}",
            summary=(f"{info.title[0].upper()}{info.title[1:]} for {day.isoformat()} on the {grid.name} grid "
                     f"(EPSG:3413 polar stereographic, {grid.resolution_m / 1000:g} km cells), from the source "
                     f"{source.name} ({source.kind}), regridded by ArcticRoute's ingest.nrt.pull."),
            keywords=info.keywords, logical_id=layer_logical_id(layer, day, grid), grid=grid, command=command,
            source=_where_from(result, source), license=licence,
            synthetic=source.synthetic, coverage=(day, day), created=created,
            institution=source.config.get("institution") or provided.get("source_institution") or "ArcticRoute"),
        "layer": layer,
    }
    dataset = grid_dataset(grid, variables, attrs, coverage=(day, day), latlon=latlon)
    if layer == "incidents":
        dataset = dataset.assign(incident_points(points))
    return dataset


def _where_from(result, source) -> str:
    """The ``source`` attribute: the provider's URL without credentials (a signed asset href keeps
    its path, not its token), or the adapter's own description."""
    from .redact import redact_known, redact_url

    where = str(result.attrs.get("source") or result.source_url or source.name)
    return redact_known(redact_url(where) if "://" in where else where)


def grid_dataset(grid: Grid, variables: dict[str, tuple[np.ndarray, dict]], attrs: dict, *,
                 coverage: tuple[date, date] | None = None,
                 lonlat: tuple[np.ndarray, np.ndarray] | None = None, latlon: bool = True) -> xr.Dataset:
    """A CF-1.8 dataset on ``grid``; ``variables`` maps name to ``(array, attrs)`` of shape
    ``grid.shape``. With ``coverage`` (first and last day) the variables get a time axis of one
    step with its bounds, so a month of daily files concatenates along time. lat/lon of the cell
    centres are auxiliary coordinates (``lonlat`` gives them as floats; by default they are the
    grid's, rounded and packed: integers with ``scale_factor``/``add_offset``, as stored) unless
    ``latlon`` is false (runtime.yaml storage.latlon_in_every_file)."""
    import xarray as xr

    from . import cf

    dims = ("time", "y", "x") if coverage else ("y", "x")
    data_vars = {}
    for name, (values, var_attrs) in variables.items():
        values = np.asarray(values)
        var_attrs = {key: value for key, value in var_attrs.items() if value is not None}
        data_vars[name] = xr.DataArray(values[np.newaxis] if coverage else values, dims=dims,
                                       attrs={**cf.coerce_to_dtype(var_attrs, values.dtype), "grid_mapping": "crs"})
    coords = {
        # a scalar coordinate (listed in the variables' coordinates attribute), so xarray opens it
        # as one and rioxarray finds the CRS in a plain open_dataset
        "crs": ((), np.int32(0), cf.grid_mapping_attrs()),
        "x": ("x", grid.x, cf.X_ATTRS),
        "y": ("y", grid.y, cf.Y_ATTRS),
    }
    if latlon:
        if lonlat is None:  # rounded, and already packed (cf.LATLON_PACKING): written as they are
            lon, lat = cf.packed_lonlat(grid)
            coords["lat"] = (("y", "x"), lat, {**cf.LAT_ATTRS, **cf.ROUNDED, **_packing_attrs("lat")})
            coords["lon"] = (("y", "x"), lon, {**cf.LON_ATTRS, **cf.ROUNDED, **_packing_attrs("lon")})
        else:
            coords["lat"] = (("y", "x"), lonlat[1], cf.LAT_ATTRS)
            coords["lon"] = (("y", "x"), lonlat[0], cf.LON_ATTRS)
    if coverage:
        time = cf.time_coords(*coverage)
        coords["time"] = time.pop("time")
        data_vars.update(time)
    return xr.Dataset(data_vars, coords=coords, attrs={"Conventions": cf.CONVENTIONS, **attrs})


def _packing_attrs(name: str) -> dict:
    from . import cf

    spec = cf.LATLON_PACKING[name]
    return {"scale_factor": float(spec["scale_factor"]), "add_offset": float(spec["add_offset"])}


# Storage (bench/README.md, "Storage"): deflate level 1 with the shuffle filter over 256 x 256
# tiles. A reader of a region or a downsampled view decompresses only the tiles it touches, and
# level 1 costs a fraction of level 4's time for nearly the same size once the values are
# quantized. Quantized grids are stored as CF packed integers (section 8.1): 29 % fewer bytes
# than the quantized floats, written and read faster, the same values read back. lat/lon, the
# same every day, take deflate level 6 (10 % smaller than level 1, 3 % smaller than level 4, for
# about 0.1 s more per 6.25 km file, written once and kept for years). Changing any of these
# changes the bytes written: FORMAT_VERSION goes up.
FORMAT_VERSION = 4  # 1: zlib 4, one whole-grid chunk, full float precision; 2: CF-1.7-ish, no time axis;
# 3: CF-1.8, quantized floats (least_significant_digit), lat/lon rounded floats
CHUNK = 256
COMPLEVEL = 1
LATLON_COMPLEVEL = 6


def packing(values: np.ndarray, digits: int) -> dict | None:
    """The CF packing of a float grid kept to ``digits`` decimal digits: integers of 2^-bits,
    the power of two finer than 10^-digits (the step netCDF4's ``least_significant_digit``
    rounds to, so the values read back are those format 3 stored), in int16 where they fit, else
    int32, with the type's minimum as the fill value of NaN. None where int32 cannot hold them
    (or a value is infinite): the grid is then stored as quantized floats."""
    bits = int(np.ceil(np.log2(10.0 ** digits)))
    finite = np.isfinite(values)
    if np.isinf(values).any():
        return None
    top = float(np.max(np.abs(values[finite]))) * 2.0 ** bits if finite.any() else 0.0
    for dtype in (np.dtype(np.int16), np.dtype(np.int32)):
        if top < np.iinfo(dtype).max:
            return {"dtype": dtype, "scale_factor": np.float32(2.0 ** -bits), "_FillValue": np.iinfo(dtype).min}
    return None


def _packed_attrs(attrs: dict, scale: float, dtype: np.dtype) -> dict:
    """CF wants the valid range of packed data in the packed type."""
    fixed = dict(attrs)
    for key in ("valid_range", "valid_min", "valid_max"):
        if key in fixed:
            fixed[key] = np.round(np.asarray(fixed[key], dtype=np.float64) / scale).astype(dtype)
    return fixed


def write_netcdf(dataset: xr.Dataset, path: Path, *, digits: dict[str, int] | None = None) -> None:
    """Write ``dataset`` compressed and tiled; ``digits`` maps a float variable to the decimal
    digits it keeps: values are rounded to a power of two finer than 10^-digits and stored as
    packed integers of that step (``packing``). lat/lon that ``grid_dataset`` packed (as
    ``cf.LATLON_PACKING`` says) take deflate level ``LATLON_COMPLEVEL``."""
    from . import cf

    digits = digits or {}
    dataset = dataset.copy(deep=False)  # attributes of packed variables change below, not the caller's
    encoding = {}
    for name, var in dataset.variables.items():
        enc = {"_FillValue": None} if name in cf.NO_FILL else {}
        if {"y", "x"} <= set(var.dims) and var.dtype.kind in "fiub":  # the grids: tiled, one time step a chunk
            enc.update({"zlib": True, "complevel": COMPLEVEL, "shuffle": True,
                        "chunksizes": tuple(1 if dim == "time" else min(CHUNK, n)
                                            for dim, n in zip(var.dims, var.shape, strict=True))})
            if name in ("lat", "lon") and "scale_factor" in var.attrs:  # packed by grid_dataset
                enc["complevel"] = LATLON_COMPLEVEL
            elif digits.get(name) is not None and var.dtype.kind == "f":
                pack = packing(np.asarray(var.values), int(digits[name]))
                if pack is None:
                    enc["least_significant_digit"] = int(digits[name])
                else:
                    enc.update(pack)
                    var.attrs = _packed_attrs(var.attrs, float(pack["scale_factor"]), pack["dtype"])
        if enc:
            encoding[name] = enc
    dataset.to_netcdf(path, engine="netcdf4", encoding=encoding)


def read_variables(roots: dict[str, Path], meta: dict, variables: tuple[str, ...],
                   step: int = 0) -> dict[str, np.ndarray]:
    """Variables of the artifact version a sidecar describes: its bytes are read once, verified
    against the sidecar (size, sha256) and parsed from memory, and the file's own ``id`` and time
    axis must be those its sidecar states (a right file of another day is refused); of a variable
    with a time axis (format 3 on) its step ``step`` (daily artifacts have one, a forecast one per
    valid day); packed values unpacked."""
    return parse_variables(roots, meta, read_verified(roots, meta), variables, step)


def parse_variables(roots: dict[str, Path], meta: dict, data: bytes, variables: tuple[str, ...],
                    step: int = 0) -> dict[str, np.ndarray]:
    """``read_variables`` of bytes already read and verified against ``meta`` (``read_verified``):
    a reader that needs several steps of one file reads and hashes it once."""
    import netCDF4

    from .ncread import LOCK, dataset_grids

    path = roots[meta["root"]] / meta["path"]
    with LOCK:
        try:
            dataset = netCDF4.Dataset(path.name, mode="r", memory=data)
        except OSError as exc:
            raise unreadable_artifact(meta, path, f"cannot be read as netCDF ({type(exc).__name__}: {exc})") from None
        try:
            check_content(roots, meta, stated_by_netcdf(dataset))
            values = dataset_grids(dataset, variables, path.name, step)
        except (OSError, RuntimeError, ValueError, KeyError, IndexError) as exc:  # HDF5 errors: OSError/RuntimeError
            raise unreadable_artifact(meta, path, f"cannot be read as netCDF ({type(exc).__name__}: {exc})") from None
        finally:
            dataset.close()
    _check_shapes(meta, path, values)
    return values


def _check_shapes(meta: dict, path: Path, values: dict[str, np.ndarray]) -> None:
    """Every variable read is a field of the grid its sidecar names (after its one time step):
    one of another shape would fail to combine later, with an error naming no file."""
    shape = tuple((meta.get("grid") or {}).get("shape") or ())
    for name, array in values.items():
        if len(shape) == 2 and array.shape != shape:
            raise unreadable_artifact(meta, path, f"variable {name!r} has shape {' x '.join(map(str, array.shape))}, "
                                                  f"its sidecar's grid {(meta.get('grid') or {}).get('name')} is "
                                                  f"{shape[0]} x {shape[1]}")


def read_artifact(roots: dict[str, Path], meta: dict, variable: str) -> np.ndarray:
    """A variable of the artifact version a sidecar describes, verified against the sidecar."""
    return read_variables(roots, meta, (variable,))[variable]


def require_grid(metas: list[dict], grid: Grid) -> None:
    """Refuse to combine artifacts made on another grid than this run's (same file names!)."""
    other = [f"{m['logical_id']} is on {(m.get('grid') or {}).get('name')}" for m in metas
             if (m.get("grid") or {}).get("name") != grid.name]
    if other:
        raise ArcticRouteError(
            f"inputs on another grid than this run's {grid.name}: " + "; ".join(other[:3])
            + (f" (and {len(other) - 3} more)" if len(other) > 3 else ""),
            hint=f"pass --grid-km matching the data, or pull and fuse again on {grid.name}",
        )
