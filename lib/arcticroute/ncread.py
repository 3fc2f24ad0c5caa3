"""Gridded variables of a netCDF file read with the netCDF4 library alone, decoded as CF says.

A command that only reads a few grids (route.plan, report.build, risk.fuse) has no use for
xarray, which costs ~0.7 s of imports at every start: pandas, and dask, which xarray loads at
the first indexing whenever it is installed. The decoding is CF's and gives what
``xarray.open_dataset`` gives (tests/test_ncread.py compares them on every variable of the
artifacts): ``_FillValue`` and ``missing_value`` become NaN, packed values
(``scale_factor``/``add_offset``) are unpacked, in the same floating-point type.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

# The netCDF-C and HDF5 libraries are not thread-safe; the UI's sessions read in threads. One
# lock per process, as xarray's netCDF4 backend holds one.
LOCK = threading.Lock()


def read_grids(path: Path, variables: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``variables`` of the file at ``path``, decoded; a variable with a time axis gives its first
    step (the daily and monthly artifacts have one). KeyError names a variable the file lacks."""
    import netCDF4

    with LOCK, netCDF4.Dataset(path, "r") as dataset:
        return dataset_grids(dataset, variables, path.name)


def dataset_grids(dataset, variables: tuple[str, ...], name_of_file: str, step: int = 0) -> dict[str, np.ndarray]:
    """``read_grids`` of an open ``netCDF4.Dataset`` (hold ``LOCK`` while it is open); of a
    variable with a time axis the step ``step`` (a forecast has one per valid day)."""
    stored = {}
    for name in variables:
        if name not in dataset.variables:
            raise KeyError(f"{name_of_file} has no variable {name!r}")
        var = dataset.variables[name]
        var.set_auto_maskandscale(False)  # raw values; decoded below as CF (and xarray) do
        raw = np.asarray(var[step] if var.dimensions[:1] == ("time",) else var[...])
        stored[name] = (raw, {key: var.getncattr(key) for key in var.ncattrs()})
    return {name: decode(raw, attrs) for name, (raw, attrs) in stored.items()}


def decode(raw: np.ndarray, attrs: dict) -> np.ndarray:
    """CF decoding of a variable's stored values: fill and missing values to NaN, then
    ``value * scale_factor + add_offset``. Values without either come back unchanged."""
    if not raw.dtype.isnative:
        raw = raw.astype(raw.dtype.newbyteorder("="))
    if raw.dtype.kind not in "iuf":
        return raw
    missing = [np.asarray(attrs[key], dtype=np.float64).ravel() for key in ("_FillValue", "missing_value")
               if key in attrs]
    missing = np.concatenate(missing) if missing else np.empty(0)
    scale, offset = attrs.get("scale_factor"), attrs.get("add_offset")
    packed = scale is not None or offset is not None
    if not packed and (not missing.size or (raw.dtype.kind == "f" and np.isnan(missing).all())):
        return raw  # nothing to decode (a NaN fill value is NaN already)
    # a float variable keeps its type when only masked
    dtype = raw.dtype if raw.dtype.kind == "f" and not packed else float_type(raw.dtype, scale, offset)
    mask = np.isin(raw, missing[~np.isnan(missing)])
    values = raw.astype(dtype, copy=True)
    values[mask] = np.nan
    if scale is not None:
        values *= np.asarray(scale, dtype=dtype)
    if offset is not None:
        values += np.asarray(offset, dtype=dtype)
    return values


def float_type(stored: np.dtype, scale, offset) -> np.dtype:
    """The floating-point type decoded values get, by xarray's rules: packed data takes the type
    of ``scale_factor`` and ``add_offset`` when CF-conforming (both given, of one float type),
    float64 for 32-bit integers; an offset alone asks for float64 (a large offset would lose
    digits); otherwise float32 holds floats up to 32 bits and integers up to 16 bits exactly, and
    float64 the rest."""
    given = [np.asarray(v).dtype for v in (scale, offset) if v is not None]
    if given:
        if len(given) == 2 and given[0] == given[1] and given[0] in (np.float32, np.float64):
            return np.dtype(np.float64) if stored.kind in "iu" and stored.itemsize == 4 else given[0]
        if offset is not None:
            return np.dtype(np.float64)
        return given[0] if given[0].kind == "f" else np.dtype(np.float64)
    if (stored.kind == "f" and stored.itemsize <= 4) or (stored.kind in "iu" and stored.itemsize <= 2):
        return np.dtype(np.float32)
    return np.dtype(np.float64)
