#!/usr/bin/env python3
"""risk.fuse of one month against a plain numpy weighted sum plus a plain float32 netCDF write.

Setup (untimed): a fresh data root with one month of demo layers at the grid asked (6.25 km
by default), pulled once. Then, interleaved, several rounds of:

- ``fuse``: ``risk.fuse_month`` inside a Run, ``--force`` (every day read, verified, fused and
  written, the monthly summary too), with ``--jobs`` as given (default 1: the per-core cost);
- ``baseline``: the same month's arrays, already in memory, combined by a plain numpy
  weighted sum of the normalised hazards (incident density by ``scipy.ndimage.gaussian_filter``
  over the whole grid, as before issue 9) and written as one float32 variable per day with
  ``xarray.to_netcdf`` (no compression), plus the monthly mean and maximum from a stack.

The ratio fuse / baseline is printed (target <= 1.5), and the peak resident memory of one fuse
of the month in a fresh child process (``_harness.peak_memory_of``).

    .venv/bin/python bench/fuse_bench.py [--grid-km 6.25] [--ym 202609] [--repeat 3] [--jobs 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402,E501
    MB,
    child_reply,
    environment,
    import_project,
    interleaved,
    median,
    peak_memory_of,
    progress,
    roots_env,
    run_child,
    table,
)

import_project()

import numpy as np  # noqa: E402


def _settings(base: Path, grid_km: float):
    from arcticroute.config import load_settings

    env = {**os.environ, **roots_env(base, data="data_processed"), "ARCTICROUTE_GRID_KM": f"{grid_km:g}"}
    return load_settings(None, environ=env)


def _pull(settings, ym: tuple[int, int]) -> None:
    from datetime import date

    from arcticroute.ingest import build_plan, execute_pull, select_days
    from arcticroute.layers import resolve_layers
    from arcticroute.ops.runs import Run

    layers = resolve_layers("ice,wave,incidents,ais")
    with Run(settings, "ingest.nrt.pull", family="pull", argv=["fuse_bench"]) as run:
        plan, sources = build_plan(settings, layers, select_days(*ym, None), date(2100, 1, 1))
        execute_pull(settings, plan, sources, run)


def _fuse(settings, ym, jobs: int) -> None:
    from arcticroute.ops.runs import Run
    from arcticroute.risk.fuse import fuse_month

    with Run(settings, "risk.fuse", family="fuse", argv=["fuse_bench"]) as run:
        fuse_month(settings, *ym, None, run, force=True, jobs=jobs)


def _load_month(settings, ym):
    """Every day's input arrays, in memory (what the baseline starts from)."""
    from arcticroute.layers import layer_relpath, read_artifact
    from arcticroute.store.artifacts import current_meta
    from arcticroute.timeutil import month_days

    days = []
    for day in month_days(*ym):
        arrays = {}
        for layer, var in (("ice.sic", "sic"), ("ice.type", "stage"), ("wave.hs", "hs"), ("ais.density", "density"),
                           ("incidents", "count")):
            meta = current_meta(settings.roots, "data", layer_relpath(layer, day, settings.grid.name))
            arrays[var] = read_artifact(settings.roots, meta, var)
        days.append(arrays)
    return days


def _baseline(settings, month, out: Path) -> None:
    import warnings

    import xarray as xr
    from scipy.ndimage import gaussian_filter

    from arcticroute.risk.fuse import ICE_SEVERITY, RiskParams

    params = RiskParams.from_runtime(settings.runtime, None)
    w = params.weights
    sigma = params.incident_sigma_km * 1000.0 / settings.grid.resolution_m
    peak = 1.0 / (2.0 * np.pi * sigma**2)
    area = (settings.grid.resolution_m / 1000.0) ** 2
    window = params.incident_window_days
    risks = []
    for n, a in enumerate(month):
        counts = sum(month[k]["count"] for k in range(max(0, n - window + 1), n + 1))
        codes = np.where(np.isfinite(a["stage"]), a["stage"], 8).astype(np.int16)
        hazards = {"ice": np.nan_to_num(a["sic"]) * ICE_SEVERITY[codes],
                   "wave": np.clip(a["hs"] / params.wave_reference_m, 0, 1),
                   "traffic": np.clip(a["density"] * (1000.0 / area) / params.traffic_reference, 0, 1),
                   "incidents": 1.0 - np.exp(-gaussian_filter(counts.astype(np.float64), sigma, mode="constant") / peak)}
        total = sum(w.get(k, 0.0) for k in hazards)
        risk = (sum(w.get(k, 0.0) * v for k, v in hazards.items()) / total).astype(np.float32)
        xr.Dataset({"risk": (("y", "x"), risk)}).to_netcdf(out / f"risk_{n}.nc", engine="netcdf4")
        risks.append(risk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        stack = np.stack(risks)
        xr.Dataset({"mean": (("y", "x"), np.nanmean(stack, 0)), "max": (("y", "x"), np.nanmax(stack, 0))}).to_netcdf(
            out / "month.nc", engine="netcdf4")


def child(base: Path, grid_km: float, ym, jobs: int) -> None:
    settings = _settings(base, grid_km)
    _fuse(settings, ym, jobs)  # warm: static grid and sha256 cache as in a daily run
    child_reply(peak_memory_of(lambda: _fuse(settings, ym, jobs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid-km", type=float, default=6.25)
    parser.add_argument("--ym", default="202609")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    ym = (int(args.ym[:4]), int(args.ym[4:]))
    if args.child:
        child(args.child, args.grid_km, ym, args.jobs)
        return
    with tempfile.TemporaryDirectory(prefix="fuse-bench-") as tmp:
        base = Path(tmp)
        settings = _settings(base, args.grid_km)
        progress(f"pulling {args.ym} at {args.grid_km:g} km (setup, untimed)")
        _pull(settings, ym)
        month = _load_month(settings, ym)
        out = base / "baseline"
        out.mkdir()
        times = interleaved({"fuse": lambda: _fuse(settings, ym, args.jobs),
                             "baseline": lambda: _baseline(settings, month, out)}, repeat=args.repeat)
        month.clear()
        progress("peak memory of one fuse in a fresh child process")
        memory = run_child(["--child", str(base), "--grid-km", str(args.grid_km), "--ym", args.ym,
                            "--jobs", str(args.jobs)], "fuse peak memory")
        daily = sorted((base / "data_processed" / "risk").rglob("risk_????????_adv_v*.nc"))
        risk_bytes = daily[-1].stat().st_size if daily else 0
        plain_bytes = (out / "risk_0.nc").stat().st_size
    fuse, baseline = median(times["fuse"]), median(times["baseline"])
    print(f"fuse_bench: {args.ym} at {args.grid_km:g} km, --jobs {args.jobs}, {args.repeat} rounds; {environment()}")
    print(table(["case", "median s", "ratio"], [["fuse (risk.fuse_month --force)", f"{fuse:.2f}", f"{fuse / baseline:.2f}"],
                                               ["numpy weighted sum + float32 netCDF", f"{baseline:.2f}", "1.00"]],
                [False, True, True]))
    print(f"daily risk file {risk_bytes / MB:.2f} MB (plain float32 netCDF of risk alone: {plain_bytes / MB:.2f} MB)")
    print(f"peak memory of one fuse of the month: {memory['peak_bytes'] / MB:.0f} MB above "
          f"{memory['rss_before_bytes'] / MB:.0f} MB resident ({memory['method']})")
    print(f"{'PASS' if fuse / baseline <= 1.5 else 'MISS'} ratio {fuse / baseline:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
