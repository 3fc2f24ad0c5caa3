"""ncread: the netCDF4-only reader gives what xarray.open_dataset gives, on the artifacts and on
files with the CF encodings other writers use (packed integers, fill and missing values)."""

from __future__ import annotations

import subprocess
import sys

import netCDF4
import numpy as np
import pytest
import xarray as xr

from arcticroute.ncread import decode, read_grids


def xarray_values(path, name) -> np.ndarray:
    with xr.open_dataset(path, engine="netcdf4", cache=False, decode_times=False) as ds:
        var = ds[name]
        return (var.isel(time=0) if "time" in var.dims else var).values


def same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # NaN equals NaN here


def test_every_variable_of_a_demo_month_reads_as_xarray_reads_it(summer_month):
    files = sorted(p for p in summer_month.data.rglob("*.nc") if not p.is_symlink())
    kinds = {p.relative_to(summer_month.data).parts[1 if p.relative_to(summer_month.data).parts[0] == "env" else 0]
             for p in files}
    assert kinds == {"ice.sic", "ice.type", "wave.hs", "ais.density", "incidents", "risk", "static"}
    compared = 0
    for path in files:
        with netCDF4.Dataset(path) as ds:
            names = [n for n, v in ds.variables.items() if v.dtype != str and v.dimensions]
        values = read_grids(path, tuple(names))
        for name in names:
            same(values[name], xarray_values(path, name))
            compared += 1
    assert compared > 50


@pytest.mark.parametrize("dtype, attrs, stored", [
    ("i2", {"scale_factor": np.float32(0.01), "add_offset": np.float32(1.5), "_FillValue": np.int16(-32767)},
     [[-32767, 0, 100], [200, 32000, -5]]),
    ("i4", {"scale_factor": 1.0 / 1024, "add_offset": 45.0}, [[0, 1, 2], [-1024, 1024, 92160]]),
    ("i4", {"scale_factor": np.float32(0.25), "add_offset": np.float32(1.0)}, [[0, 1, 2], [-4, 4, 70000]]),
    ("i4", {"scale_factor": np.float32(2.0 ** -10), "_FillValue": np.int32(-2 ** 31)}, [[-2 ** 31, 1, 2], [3, 4, 5]]),
    ("i2", {"scale_factor": np.float32(0.5)}, [[1, 2, 3], [4, 5, 6]]),
    ("i2", {"add_offset": np.float32(10.0)}, [[1, 2, 3], [4, 5, 6]]),
    ("i1", {"_FillValue": np.int8(-1)}, [[-1, 0, 1], [2, 3, -1]]),
    ("i4", {"_FillValue": np.int32(-999)}, [[-999, 0, 1], [2, 3, 4]]),
    ("i1", {}, [[-1, 0, 1], [2, 3, 4]]),
    ("f4", {"_FillValue": np.float32(-9999.0), "missing_value": np.float32(-1.0)},
     [[-9999.0, -1.0, 0.5], [np.nan, 2.0, 3.0]]),
    ("f8", {"_FillValue": np.nan}, [[np.nan, 1.0, 2.0], [3.0, 4.0, 5.0]]),
    (">f4", {}, [[0.25, 1.0, 2.0], [3.0, 4.0, 5.0]]),
    ("u2", {"_FillValue": np.uint16(65535), "scale_factor": 0.001, "add_offset": 0.0}, [[65535, 0, 1], [2, 3, 4]]),
])
def test_cf_encodings_decode_as_in_xarray(tmp_path, dtype, attrs, stored):
    path = tmp_path / "encoded.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", 1)
        ds.createDimension("y", 2)
        ds.createDimension("x", 3)
        fill = attrs.get("_FillValue")
        var = ds.createVariable("v", np.dtype(dtype), ("time", "y", "x"), fill_value=fill, endian=(
            "big" if dtype.startswith(">") else "native"))
        var.set_auto_maskandscale(False)
        var.setncatts({k: v for k, v in attrs.items() if k != "_FillValue"})
        var[0] = np.asarray(stored, dtype=np.dtype(dtype))
        flat = ds.createVariable("flat", np.dtype(dtype), ("y", "x"), fill_value=fill)
        flat.set_auto_maskandscale(False)
        flat.setncatts({k: v for k, v in attrs.items() if k != "_FillValue"})
        flat[:] = np.asarray(stored, dtype=np.dtype(dtype))
    values = read_grids(path, ("v", "flat"))
    same(values["v"], xarray_values(path, "v"))
    same(values["flat"], xarray_values(path, "flat"))


def test_a_missing_variable_is_named(tmp_path):
    path = tmp_path / "one.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 2)
        ds.createVariable("a", "f4", ("x",))[:] = [1.0, 2.0]
    with pytest.raises(KeyError, match="one.nc has no variable 'b'"):
        read_grids(path, ("a", "b"))


def test_values_without_an_encoding_are_returned_as_stored():
    raw = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert decode(raw, {"long_name": "plain"}) is raw
    assert decode(raw, {"_FillValue": np.float32(np.nan)}) is raw


def test_reading_a_layer_does_not_load_xarray(summer_month):
    """The point of the module: a command that reads grids starts without xarray, pandas, dask."""
    path = next(p for p in summer_month.data.rglob("ice_sic_*.nc") if not p.is_symlink())
    probe = ("import sys; from pathlib import Path; from arcticroute.ncread import read_grids; "
             f"read_grids(Path({str(path)!r}), ('sic',)); "
             "print(sorted(m for m in ('xarray', 'pandas', 'dask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_threads_reading_at_once_get_the_same_values(summer_month):
    """The UI reads from several sessions' threads; netCDF-C and HDF5 are not thread-safe."""
    from concurrent.futures import ThreadPoolExecutor

    paths = sorted(p for p in summer_month.data.rglob("*.nc") if not p.is_symlink() and "static" not in p.parts)
    names = {}
    for path in paths:
        with netCDF4.Dataset(path) as ds:
            names[path] = tuple(n for n, v in ds.variables.items() if v.dimensions[-2:] == ("y", "x"))
    expected = {p: read_grids(p, names[p]) for p in paths}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda p: (p, read_grids(p, names[p])), paths * 4))
    for path, values in results:
        for name, array in values.items():
            np.testing.assert_array_equal(array, expected[path][name])
