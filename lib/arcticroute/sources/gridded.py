"""Open a provider's gridded netCDF file, check it is what the source promises, regrid it.

A source's config says what to expect (all optional but ``variable``)::

    variable: z               # the data variable
    x: x / y: y               # 1-D projected axes (units m or km), with a CF grid mapping ...
    lon: longitude / lat: latitude   # ... or 2-D (or 1-D) longitude/latitude instead
    units: ["%"]              # accepted values of the variable's units attribute
    units_required: false     # whether a missing units attribute is refused
    scale: 0.01               # multiply to get the layer's units (percent -> fraction)
    valid_range: [0, 100]     # in the file's units, before scale; checked on values and actual_range
    shape: [1792, 1216]       # expected (y, x) size
    projection: {proj: stere, lat_0: 90, lat_ts: 70, lon_0: -45}   # expected PROJ parameters
    crs: "+proj=stere ..."    # use this CRS when the file has no usable grid mapping
    reduce: max               # how to reduce a time dimension longer than 1 (max or mean)
    max_at_least: 1.5         # refuse a field whose maximum is lower (percent turned fraction)
    categories: {1: 0, 2: 8}  # a categorical field: source code -> our code, regridded by majority

Every refusal says what was found and what was expected, and nothing is written. Beyond the
config's expectations every file is checked for what no source may send: +inf/-inf values
(NaN and the fill value mean "no data"; infinity is a broken file) and a date of its own
(time coordinate, ACDD time_coverage_start/end, a ``date`` attribute) other than the day asked.
netCDF-4/HDF5 reads are not thread-safe: every open holds ``NETCDF_LOCK``.
"""

from __future__ import annotations

import functools
import json
import threading
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyproj
import xarray as xr

from ..grid import Grid
from . import file_dates, regrid
from .http_client import CorruptDownloadError, validation_error

NETCDF_LOCK = threading.RLock()
_XY_UNITS = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "km": 1000.0, "kilometers": 1000.0,
             "kilometres": 1000.0}


@dataclass
class Field:
    """A source's field on the run's grid, in the layer's units."""

    values: np.ndarray
    crs: str  # what the file declared, for the sidecar
    attrs: dict


def _open(path: Path) -> xr.Dataset:
    try:
        return xr.open_dataset(path, engine="netcdf4", cache=False)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CorruptDownloadError(f"not a readable netCDF file ({type(exc).__name__}: {str(exc)[:120]})") from None


def _projected_crs(ds: xr.Dataset, var: xr.DataArray, spec: dict, name: str) -> pyproj.CRS:
    if spec.get("crs"):
        return _crs_from_text(str(spec["crs"]))
    mapping_name = var.attrs.get("grid_mapping")
    if not mapping_name or mapping_name not in ds.variables:
        raise validation_error(f"variable {spec['variable']!r} without a grid_mapping variable",
                               "a CF grid mapping (or crs: in the source's config)", name)
    attrs = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in ds[mapping_name].attrs.items()}
    crs = _crs_from_cf(json.dumps(attrs, sort_keys=True, default=str))
    if crs is None:
        raise validation_error(f"grid mapping {mapping_name!r} pyproj cannot read ({attrs})"[:300],
                               "a CF polar_stereographic grid mapping", name)
    return crs


# Building a CRS costs ~0.2 s in pyproj; every day of a source has the same grid mapping.
@functools.lru_cache(maxsize=64)
def _crs_from_cf(attrs_json: str) -> pyproj.CRS | None:
    attrs = json.loads(attrs_json)
    try:
        return pyproj.CRS.from_cf(attrs)
    except pyproj.exceptions.CRSError:
        text = attrs.get("proj4_string") or attrs.get("proj4text") or attrs.get("crs_wkt") or attrs.get("spatial_ref")
        return pyproj.CRS.from_user_input(text) if text else None


@functools.lru_cache(maxsize=64)
def _crs_from_text(text: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input(text)


@functools.lru_cache(maxsize=64)
def _crs_facts(crs: pyproj.CRS) -> tuple[str, dict]:
    """How the CRS is recorded in a sidecar, and its PROJ parameters (both cached)."""
    with warnings.catch_warnings():  # a PROJ string loses nothing that matters for a record
        warnings.simplefilter("ignore", UserWarning)
        epsg = crs.to_epsg()
        return (crs.to_proj4() if epsg is None else f"EPSG:{epsg}"), crs.to_dict()


def _check_projection(crs: pyproj.CRS, expected: dict, name: str) -> None:
    params = _crs_facts(crs)[1]
    wrong = {k: params.get(k) for k, v in expected.items()
             if not (params.get(k) == v or (isinstance(v, int | float) and isinstance(params.get(k), int | float)
                                            and abs(params[k] - v) < 1e-6))}
    if wrong:
        found = " ".join(f"{k}={params.get(k)}" for k in expected)
        want = " ".join(f"{k}={v}" for k, v in expected.items())
        raise validation_error(f"projection {found}", f"{want} (the NSIDC polar stereographic north)", name)


def _axis(ds: xr.Dataset, coord: str, name: str) -> np.ndarray:
    if coord not in ds.variables:
        raise validation_error(f"no coordinate {coord!r} (variables: {', '.join(map(str, ds.variables))})"[:300],
                               f"a coordinate {coord!r}", name)
    units = str(ds[coord].attrs.get("units", "m")).strip().lower()
    if units not in _XY_UNITS:
        raise validation_error(f"coordinate {coord!r} in units {units!r}", "m or km", name)
    values = np.asarray(ds[coord].values, dtype=np.float64) * _XY_UNITS[units]
    steps = np.diff(values)
    if values.ndim != 1 or values.size < 2 or not np.allclose(steps, steps[0], rtol=1e-4):
        raise validation_error(f"coordinate {coord!r} that is not a regular 1-D axis", "evenly spaced x/y centres", name)
    return values


def _values(var: xr.DataArray, spec: dict, name: str) -> np.ndarray:
    extra = [d for d in var.dims if d not in _spatial_dims(var, spec)]
    for dim in extra:
        if var.sizes[dim] == 1:
            var = var.isel({dim: 0})
        elif spec.get("reduce") in ("max", "mean"):
            var = getattr(var, spec["reduce"])(dim=dim, skipna=True)
        else:
            raise validation_error(f"dimension {dim!r} of length {var.sizes[dim]} on {spec['variable']!r}",
                                   "a single time step (or reduce: max|mean in the config)", name)
    try:
        return np.asarray(var.values, dtype=np.float64)
    except (OSError, RuntimeError, ValueError) as exc:
        raise CorruptDownloadError(f"variable {spec['variable']!r} cannot be read ({type(exc).__name__})") from None


def _spatial_dims(var: xr.DataArray, spec: dict) -> tuple:
    return tuple(var.dims[-2:])


def read_field(path: Path, spec: dict, name: str, grid: Grid, day: date | None = None) -> Field:
    """Open, check and regrid; CorruptDownloadError (retry) or DataValidationError (refuse).
    ``day``: the date asked for, which the file's own dates must agree with.

    Only the read holds the netCDF lock; regridding (numpy) runs outside it, in parallel.
    """
    with NETCDF_LOCK:
        ds = _open(path)
        try:
            if day is not None:
                file_dates.check(ds, spec["variable"], day, name)
            values, regridder, crs_text, attrs = _read(ds, spec, name, grid)
        finally:
            ds.close()
    categories = spec.get("categories")
    if categories:
        mapping = {float(k): float(v) for k, v in categories.items()}
        codes = np.full(values.shape, np.nan)
        for source_code, stage in mapping.items():
            codes[values == source_code] = stage
        on_grid = regridder.apply_mode(codes, sorted(set(mapping.values()), key=_severity(spec)))
    else:
        on_grid = regridder.apply(values) * float(spec.get("scale", 1.0))
    return Field(on_grid.astype(np.float32), crs_text, attrs)


def _severity(spec: dict):
    """Order of a categorical source's target codes from the least to the most severe: ice types
    by ``polaris.severity_rank`` (unknown ranks with thick first-year ice), other codes by value."""
    from ..polaris import severity_rank

    return severity_rank if spec.get("layer") == "ice.type" else float


def check_file(spec: dict, name: str, grid: Grid, day: date | None = None):
    """A download ``check`` for this spec: the whole read, result discarded."""
    def check(path: Path) -> None:
        read_field(path, spec, name, grid, day)
    return check


def _read(ds: xr.Dataset, spec: dict, name: str, grid: Grid) -> Field:
    variable = spec["variable"]
    if variable not in ds.data_vars:
        raise validation_error(f"variables {', '.join(map(str, ds.data_vars))}"[:300], f"a variable {variable!r}", name)
    var = ds[variable]
    if var.ndim < 2:
        raise validation_error(f"{variable!r} with dimensions {var.dims}", "a 2-D field", name)
    units = var.attrs.get("units")
    accepted = spec.get("units")
    if accepted is not None:
        accepted = [accepted] if isinstance(accepted, str) else list(accepted)
        if units is None and spec.get("units_required", False):
            raise validation_error(f"{variable!r} without a units attribute", f"units in {accepted}", name)
        if units is not None and str(units).strip() not in accepted:
            raise validation_error(f"{variable!r} in units {units!r}", f"units in {accepted}", name)
    low, high = spec.get("valid_range", (-np.inf, np.inf))
    declared = var.attrs.get("actual_range", var.attrs.get("valid_range"))
    if declared is not None and np.size(declared) == 2 and "valid_range" in spec:
        d_low, d_high = (float(v) for v in np.asarray(declared).ravel())
        if d_high > high * 1.0001 or d_low < low - 1e-9 or (high > 1.5 and d_high <= 1.0):
            raise validation_error(f"{variable!r} declaring a range {d_low:g}..{d_high:g}",
                                   f"values within {low:g}..{high:g}", name)
    expected_shape = spec.get("shape")
    if expected_shape and list(var.shape[-2:]) != list(expected_shape):
        raise validation_error(f"{variable!r} of shape {tuple(var.shape[-2:])}", f"shape {tuple(expected_shape)}", name)
    values = _values(var, spec, name)
    infinite = np.isinf(values)
    if infinite.any():
        plus = int(np.count_nonzero(values[infinite] > 0))
        raise validation_error(f"{variable!r} with {int(infinite.sum())} infinite cells ({plus} +inf, "
                               f"{int(infinite.sum()) - plus} -inf)", "finite values (NaN or the fill value where "
                               "there is no data)", name)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise validation_error(f"{variable!r} without a single finite value", "data", name)
    if finite.min() < low - 1e-6 or finite.max() > high + 1e-6:
        raise validation_error(f"{variable!r} values {finite.min():.4g}..{finite.max():.4g}",
                               f"values within {low:g}..{high:g}", name)
    if "max_at_least" in spec and finite.max() < float(spec["max_at_least"]):
        raise validation_error(f"{variable!r} values {finite.min():.4g}..{finite.max():.4g}",
                               f"a maximum of at least {spec['max_at_least']:g} (a fraction where percent is due?)", name)
    if "lon" in spec:
        lon = np.asarray(ds[spec["lon"]].values, dtype=np.float64)
        lat = np.asarray(ds[spec["lat"]].values, dtype=np.float64)
        if lon.ndim == 2 and lon.shape != values.shape:
            raise validation_error(f"longitude of shape {lon.shape}", f"the field's shape {values.shape}", name)
        regridder = regrid.for_lonlat(lon, lat, grid)
        crs_text = "EPSG:4326 (2-D longitude/latitude)"
    else:
        x = _axis(ds, spec.get("x", "x"), name)
        y = _axis(ds, spec.get("y", "y"), name)
        if values.shape != (y.size, x.size):
            raise validation_error(f"{variable!r} of shape {values.shape}", f"(y, x) = ({y.size}, {x.size})", name)
        crs = _projected_crs(ds, var, spec, name)
        if spec.get("projection"):
            _check_projection(crs, spec["projection"], name)
        regridder = regrid.for_projected(x, y, crs, grid)
        crs_text = _crs_facts(crs)[0]
    attrs = {k: str(ds.attrs[k]) for k in ("title", "institution", "source", "references", "product_version", "license")
             if k in ds.attrs}
    return values, regridder, crs_text, attrs
