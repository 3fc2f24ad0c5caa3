#!/usr/bin/env python3
"""Storage of a day: format 3's encoding against format 4's, side by side on the same values.

One demo day is pulled and fused (all five layers and the risk) on the chosen grid. Every file
of the day is then written again from the same decoded values, two ways, in both forms (lat/lon
in every file, the default, and in the static grid only, ``storage.latlon_in_every_file:
false``):

- **format 3** (the baseline): quantized float32 grids (netCDF4's ``least_significant_digit``)
  and lat/lon as float32 rounded to 1/1024 degree, deflate 1 with shuffle in 256 x 256 tiles;
- **format 4** (``layers.write_netcdf`` as it stands): the quantized grids as CF packed integers
  and lat/lon packed as integers of 1/1024 degree at deflate 6.

Printed per case: bytes of the day's six files, the median seconds to write and to read them
(every grid, through ``ncread.read_grids``, as the commands read), the largest difference of a
layer from format 3's values (0: the same values) and of lat/lon from the exact cell centres.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import click
from _harness import (
    MB,
    environment,
    import_project,
    interleaved,
    median,
    progress,
    roots_env,
    table,
)

import_project()

import numpy as np  # noqa: E402

from arcticroute import cf  # noqa: E402
from arcticroute.config import load_settings  # noqa: E402
from arcticroute.ingest import build_plan, execute_pull  # noqa: E402
from arcticroute.layers import LAYERS, write_netcdf  # noqa: E402
from arcticroute.ncread import read_grids  # noqa: E402
from arcticroute.ops.runs import Run  # noqa: E402
from arcticroute.risk.fuse import RISK_DIGITS, fuse_month  # noqa: E402
from arcticroute.timeutil import utc_now  # noqa: E402

DAY = "2026-09-15"
DIGITS = {**{info.variable: info.digits for info in LAYERS.values() if info.digits is not None},
          "risk": RISK_DIGITS}


def demo_day(base: Path, km: float) -> tuple[list[Path], object]:
    """Pull and fuse one demo day; the day's six files (current versions) and the grid."""
    from datetime import date

    settings = load_settings(profile="demo", grid_km=km, environ=roots_env(base))
    settings = dataclasses.replace(settings, runtime={**settings.runtime, "storage": {"latlon_in_every_file": True}})
    day = date.fromisoformat(DAY)
    with Run(settings, "ingest.nrt.pull", family="pull", argv=["bench"]) as run:
        plan, sources = build_plan(settings, list(LAYERS), [day], utc_now().date(), force=False)
        execute_pull(settings, plan, sources, run, jobs=1)
    with Run(settings, "risk.fuse", family="fuse", argv=["bench"]) as run:
        fuse_month(settings, day.year, day.month, None, run, force=True, jobs=1)
    files = sorted(p.resolve() for p in settings.data_root.rglob(f"*_{day:%Y%m%d}.nc"))
    assert len(files) == 6, files
    return files, settings.grid


def decoded(path: Path, latlon: bool):
    """The file's dataset as readers see it, with no encoding left from the file."""
    import xarray as xr

    with xr.open_dataset(path, engine="netcdf4", decode_times=False) as ds:
        ds = ds.load()
    if not latlon:
        ds = ds.drop_vars(["lat", "lon"])
    for var in ds.variables.values():
        var.encoding = {}
    return ds


def write_format3(ds, path: Path, grid) -> None:
    """Format 3's encoding, as layers.write_netcdf wrote it before format 4."""
    encoding = {}
    for name, var in ds.variables.items():
        enc = {"_FillValue": None} if name in cf.NO_FILL else {}
        if {"y", "x"} <= set(var.dims):
            enc.update({"zlib": True, "complevel": 1, "shuffle": True,
                        "chunksizes": tuple(1 if d == "time" else min(256, n) for d, n in zip(var.dims, var.shape, strict=True))})
            if name in ("lat", "lon"):
                enc["dtype"] = "float32"
            elif name in DIGITS:
                enc["least_significant_digit"] = DIGITS[name]
        if enc:
            encoding[name] = enc
    ds.to_netcdf(path, engine="netcdf4", encoding=encoding)


def write_format4(ds, path: Path, grid) -> None:
    """layers.write_netcdf, lat/lon packed as layers.grid_dataset packs them."""
    if "lat" in ds.variables:
        packed = dict(zip(("lon", "lat"), cf.packed_lonlat(grid), strict=True))
        ds = ds.assign_coords({name: (("y", "x"), packed[name], {
            **ds[name].attrs, **{k: float(v) for k, v in cf.LATLON_PACKING[name].items() if k != "dtype"}})
            for name in ("lat", "lon")})
    write_netcdf(ds, path, digits={k: v for k, v in DIGITS.items() if k in ds.variables})


def grids_of(path: Path) -> tuple[str, ...]:
    import netCDF4

    with netCDF4.Dataset(path) as ds:
        return tuple(n for n, v in ds.variables.items() if v.dimensions[-2:] == ("y", "x"))


@click.command()
@click.option("--km", type=click.Choice(["25", "12.5", "6.25"]), default="6.25", show_default=True)
@click.option("--repeat", type=click.IntRange(1, 50), default=5, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(km, repeat, json_path):
    """Bytes, write and read time, precision of a day: format 3 against format 4, in both forms."""
    with tempfile.TemporaryDirectory(prefix="storage-bench-") as tmp:
        tmp = Path(tmp)
        progress(f"pulling and fusing {DAY} on the {km} km grid")
        files, grid = demo_day(tmp / "roots", float(km))
        exact_lon, exact_lat = (np.asarray(v, dtype=np.float64) for v in grid.lonlat())
        cases, outputs, inputs = {}, {}, {}
        for form, latlon in (("every file", True), ("static only", False)):
            inputs[form] = [(path.name, decoded(path, latlon)) for path in files]
            for fmt, writer in (("format 3", write_format3), ("format 4", write_format4)):
                folder = tmp / f"{fmt}-{form}".replace(" ", "-")
                folder.mkdir()
                outputs[(form, fmt)] = [folder / name for name, _ds in inputs[form]]

                def write(form=form, writer=writer, folder=folder):
                    for name, ds in inputs[form]:
                        writer(ds.copy(), folder / name, grid)
                cases[(form, fmt, "write")] = write
        progress("writing")
        times = interleaved({" ".join(k): v for k, v in cases.items()}, repeat=repeat, warmup=1, label="write ")
        reads = {}
        for key, paths in outputs.items():
            def read(paths=paths):
                return [read_grids(p, grids_of(p)) for p in paths]
            reads[" ".join(key) + " read"] = read
        progress("reading")
        times.update(interleaved(reads, repeat=repeat, warmup=1, label="read "))
        rows, results = [], {}
        for (form, fmt), paths in outputs.items():
            size = sum(p.stat().st_size for p in paths)
            values = [read_grids(p, grids_of(p)) for p in paths]
            baseline = [read_grids(p, grids_of(p)) for p in outputs[(form, "format 3")]]
            layer_error = max(float(np.nanmax(np.abs(v[n].astype(np.float64) - b[n].astype(np.float64)), initial=0))
                              for v, b in zip(values, baseline, strict=True) for n in v if n not in ("lat", "lon"))
            latlon_error = max((max(float(np.max(np.abs(v["lat"] - exact_lat))),
                                    float(np.max(np.abs(((v["lon"] - exact_lon + 180) % 360) - 180))))
                                for v in values if "lat" in v), default=None)
            write_s = median(times[f"{form} {fmt} write"])
            read_s = median(times[f"{form} {fmt} read"])
            results[f"{form}, {fmt}"] = {"bytes": size, "write_s": write_s, "read_s": read_s,
                                         "layer_error": layer_error, "latlon_error_deg": latlon_error}
            base = results.get(f"{form}, format 3", results[f"{form}, {fmt}"])
            rows.append([form, fmt, f"{size / MB:.2f}", f"{size / base['bytes']:.2f}", f"{write_s:.2f}",
                         f"{read_s:.2f}", f"{layer_error:g}",
                         "-" if latlon_error is None else f"{latlon_error * 1024:.3f}"])
    print(f"one demo day ({DAY}, 5 layers + risk) on {grid.name}, median of {repeat} rounds")
    print(table(["lat/lon", "encoding", "MB per day", "ratio", "write s", "read s", "layer diff",
                 "lat/lon error (1/1024 deg)"], rows, right=[False, False, True, True, True, True, True, True]))
    compact = results["static only, format 4"]["bytes"]
    print(f"{'PASS' if compact <= 2 * MB else 'MISS'} static-only form: {compact / MB:.2f} MB a day (target <= 2 MB)")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "km": km, "repeat": repeat, "day": DAY,
                                         "results": results, "seconds": times}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
