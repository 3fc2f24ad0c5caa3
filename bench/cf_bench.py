#!/usr/bin/env python3
"""The CF-1.8 form of the artifacts: what lat/lon in every file costs, side by side without them.

Format 3 files carry a time axis, the EPSG:3413 grid mapping with its WKT, the ACDD attributes
and, by default, lat/lon of every cell centre as auxiliary coordinates (runtime.yaml
``storage.latlon_in_every_file``). The attributes are a few kB; lat/lon are two grids. Two
data roots are filled from the same demo days, one with lat/lon in every file and one with
them in the static grid file only (the baseline: byte for byte the grids format 2 stored).
Then, the cases taking turns:

- ``ingest.nrt.pull --force`` of the days (all five layers written again);
- ``risk.fuse --force`` of the days.

Printed: the median seconds of each and the ratio, and the bytes one day's layers and risk
take on disk in each root.
"""

from __future__ import annotations

import dataclasses
import json
import os
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

from arcticroute.config import load_settings  # noqa: E402
from arcticroute.ingest import build_plan, execute_pull, select_days  # noqa: E402
from arcticroute.ops.runs import Run  # noqa: E402
from arcticroute.risk.fuse import fuse_month  # noqa: E402
from arcticroute.timeutil import utc_now  # noqa: E402

YEAR, MONTH = 2026, 9
LAYERS = ["ice.sic", "ice.type", "wave.hs", "ais.density", "incidents"]


def settings_for(base: Path, km: float, latlon: bool):
    settings = load_settings(profile="demo", grid_km=km, environ=roots_env(base))
    runtime = {**settings.runtime, "storage": {"latlon_in_every_file": latlon}}
    return dataclasses.replace(settings, runtime=runtime)


def pull_case(settings, days, force: bool):
    def call():
        with Run(settings, "ingest.nrt.pull", family="pull", argv=["bench"]) as run:
            plan, sources = build_plan(settings, LAYERS, days, utc_now().date(), force=force)
            summary = execute_pull(settings, plan, sources, run, jobs=1)
        assert not summary.get("failed"), summary
    return call


def fuse_case(settings):
    def call():
        with Run(settings, "risk.fuse", family="fuse", argv=["bench"]) as run:
            counts = fuse_month(settings, YEAR, MONTH, None, run, force=True, jobs=1)
        assert counts["refused"] == 0
    return call


def day_bytes(settings, day) -> int:
    """Bytes of the current versions of one day's layers and risk."""
    stamp = f"{day:%Y%m%d}"
    total = 0
    for path in settings.data_root.rglob(f"*_{stamp}.nc"):
        total += os.path.getsize(path.resolve())
    return total


@click.command()
@click.option("--km", type=click.Choice(["25", "12.5", "6.25"]), default="6.25", show_default=True,
              help="Grid cell size.")
@click.option("--days", type=click.IntRange(1, 30), default=3, show_default=True, help="Days pulled and fused.")
@click.option("--repeat", type=click.IntRange(1, 50), default=3, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(km, days, repeat, json_path):
    """Time pull and fuse with lat/lon in every file against lat/lon in the static grid only."""
    wanted = select_days(YEAR, MONTH, None)[:days]
    with tempfile.TemporaryDirectory(prefix="cf-bench-") as tmp:
        roots = {"static only": settings_for(Path(tmp) / "static-only", float(km), False),
                 "every file": settings_for(Path(tmp) / "every-file", float(km), True)}
        for label, settings in roots.items():
            progress(f"{label}: pulling {days} days of demo layers on {settings.grid.name}")
            pull_case(settings, wanted, force=False)()
        sizes = {label: median([day_bytes(s, d) for d in wanted]) for label, s in roots.items()}
        pulls = interleaved({label: pull_case(s, wanted, force=True) for label, s in roots.items()},
                            repeat=repeat, warmup=0, label="pull ")
        fuses = interleaved({label: fuse_case(s) for label, s in roots.items()}, repeat=repeat, warmup=1,
                            label="fuse ")
    grid = roots["every file"].grid.name
    rows = []
    for what, times in (("pull --force", pulls), ("fuse --force", fuses)):
        base = median(times["static only"])
        rows += [[what, label, f"{median(t):.2f}", f"{median(t) / base:.2f}"] for label, t in times.items()]
    print(f"{days} days on {grid}, median of {repeat} rounds; lat/lon in every file against the static grid only")
    print(table(["step", "lat/lon", "median s", "ratio"], rows, right=[False, False, True, True]))
    base = sizes["static only"]
    print(table(["lat/lon", "MB per day (5 layers + risk)", "ratio"],
                [[label, f"{size / MB:.2f}", f"{size / base:.2f}"] for label, size in sizes.items()],
                right=[False, True, True]))
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "km": km, "days": days, "repeat": repeat,
                                         "pull_seconds": pulls, "fuse_seconds": fuses, "day_bytes": sizes},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
