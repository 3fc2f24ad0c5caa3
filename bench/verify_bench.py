#!/usr/bin/env python3
"""Verify the bytes that are parsed: what it costs risk.fuse against the read of release 0.2.

A month of demo layers is pulled once at the chosen resolution (6.25 km by default) into a
temporary folder. Then ``risk.fuse --force`` of that month is timed, the cases taking turns:

- ``0.2 read: path + sha256 cache`` (baseline): the reader of the previous release, rebuilt
  here: size and the sha256 cache's word for the file's identity (warm: an earlier round hashed
  every file), then netCDF opened by path. It never re-hashed a cache hit, so bit rot below
  the file system went through;
- ``bytes read, hashed, parsed from memory``: this release (``layers.read_variables``): every
  input read once, hashed, checked against its sidecar and what the file says it is, and parsed
  from the very bytes hashed;
- ``no verification``: the same read from memory without hashing (``integrity.set_enabled``), the
  floor: what the reading itself costs.

``--force`` makes each run fuse and write every day, so all cases do the same work; the days
are fused in this process (``jobs=1``) so the baseline's reader is the one used. The ratio of
medians is printed; the target is <= 1.15 for this release against the 0.2 read.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click
from _harness import environment, import_project, interleaved, median, progress, roots_env, table

import_project()

from arcticroute import layers  # noqa: E402
from arcticroute.config import load_settings  # noqa: E402
from arcticroute.ingest import build_plan, execute_pull, select_days  # noqa: E402
from arcticroute.ops.runs import Run  # noqa: E402
from arcticroute.risk.fuse import fuse_month  # noqa: E402
from arcticroute.store import integrity  # noqa: E402
from arcticroute.timeutil import utc_now  # noqa: E402

YEAR, MONTH = 2026, 9
TARGET = 1.15
THIS, BASELINE = "bytes read, hashed, parsed from memory", "0.2 read: path + sha256 cache"


def settings_for(base: Path, km: float):
    return load_settings(profile="demo", grid_km=km, environ=roots_env(base))


def pull_month(settings, days: int) -> None:
    wanted = select_days(YEAR, MONTH, None)[:days]
    with Run(settings, "ingest.nrt.pull", family="pull", argv=["bench"]) as run:
        plan, sources = build_plan(settings, ["ice.sic", "wave.hs", "ais.density", "incidents"], wanted,
                                   utc_now().date())
        execute_pull(settings, plan, sources, run)


def release_0_2_read(roots, meta, variables):
    """``layers.read_variables`` as release 0.2 had it: the cache's word for the sha256, then a
    second read of the file by netCDF (what was hashed is not what is parsed)."""
    import xarray as xr

    path = roots[meta["root"]] / meta["path"]
    if path.stat().st_size != meta["size_bytes"]:
        raise integrity.IntegrityError(f"{meta['logical_id']}: size differs")
    sha, identity = integrity.cached_sha256(path)
    if sha != meta["sha256"]:
        raise integrity.IntegrityError(f"{meta['logical_id']}: sha256 differs")
    with xr.open_dataset(path, engine="netcdf4", cache=False, decode_times=False) as ds:
        values = {name: ds[name].isel(time=0).values if "time" in ds[name].dims else ds[name].values
                  for name in variables}
    if integrity.file_identity(path.stat()) != identity:
        raise integrity.IntegrityError(f"{meta['logical_id']}: changed while read")
    return values


def fuse_case(settings, *, reader=None, verify: bool = True):
    current = layers.read_variables

    def call():
        integrity.set_enabled(verify)
        layers.read_variables = reader or current
        try:
            with Run(settings, "risk.fuse", family="fuse", argv=["bench"]) as run:
                counts = fuse_month(settings, YEAR, MONTH, None, run, force=True, jobs=1)
        finally:
            integrity.set_enabled(True)
            layers.read_variables = current
        assert counts["refused"] == 0
    return call


@click.command()
@click.option("--km", type=click.Choice(["25", "12.5", "6.25"]), default="6.25", show_default=True,
              help="Grid cell size.")
@click.option("--days", type=click.IntRange(1, 30), default=30, show_default=True, help="Days of the month pulled.")
@click.option("--repeat", type=click.IntRange(1, 50), default=3, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(km, days, repeat, json_path):
    """Time risk.fuse of a month with this release's read, 0.2's and none; print the ratios."""
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        settings = settings_for(Path(tmp), float(km))
        progress(f"pulling {days} days of demo layers on {settings.grid.name}")
        pull_month(settings, days)
        cases = {
            BASELINE: fuse_case(settings, reader=release_0_2_read),
            THIS: fuse_case(settings),
            "no verification": fuse_case(settings, verify=False),
        }
        progress(f"timing risk.fuse --force, {repeat} rounds of {len(cases)} cases")
        times = interleaved(cases, repeat=repeat, warmup=1, label="fuse")
    base = median(times[BASELINE])
    rows = [[name, f"{median(t):.2f}", f"{median(t) / base:.3f}"] for name, t in times.items()]
    print(f"risk.fuse of {days} days on {settings.grid.name}, median of {repeat} rounds")
    print(table(["case", "median s", "ratio"], rows, right=[False, True, True]))
    ratio = median(times[THIS]) / base
    print(f"{'PASS' if ratio <= TARGET else 'MISS'} ratio {ratio:.3f} of this release's read to 0.2's "
          f"(target <= {TARGET:.2f})")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "km": km, "days": days, "repeat": repeat,
                                         "seconds": times}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
