#!/usr/bin/env python3
"""Verify on read: what it costs risk.fuse, side by side with verification switched off.

A month of demo layers is pulled once at the chosen resolution (6.25 km by default) into a
temporary folder. Then ``risk.fuse --force`` of that month is timed, the cases taking turns:

- ``no verification`` (baseline): the readers skip the sha256 check (``integrity.set_enabled``);
- ``verify, warm cache``: every input is checked against its sidecar; the sha256 cache already
  knows the files (the everyday case: the pull that wrote them, or an earlier run, hashed them);
- ``verify, cold cache``: the cache is emptied before the run, so every input is hashed.

``--force`` makes each run fuse and write every day, so all cases do the same work. The
ratio of medians is printed; the target is <= 1.10 for the warm cache.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click
from _harness import environment, import_project, interleaved, median, progress, roots_env, table

import_project()

from arcticroute.config import load_settings  # noqa: E402
from arcticroute.ingest import build_plan, execute_pull, select_days  # noqa: E402
from arcticroute.ops.runs import Run  # noqa: E402
from arcticroute.risk.fuse import fuse_month  # noqa: E402
from arcticroute.store import integrity  # noqa: E402
from arcticroute.timeutil import utc_now  # noqa: E402

YEAR, MONTH = 2026, 9
TARGET = 1.10


def settings_for(base: Path, km: float):
    return load_settings(profile="demo", grid_km=km, environ=roots_env(base))


def pull_month(settings, days: int) -> None:
    wanted = select_days(YEAR, MONTH, None)[:days]
    with Run(settings, "ingest.nrt.pull", family="pull", argv=["bench"]) as run:
        plan, sources = build_plan(settings, ["ice.sic", "wave.hs", "ais.density", "incidents"], wanted,
                                   utc_now().date())
        execute_pull(settings, plan, sources, run)


def fuse_case(settings, *, verify: bool, cold: bool):
    def call():
        integrity.set_enabled(verify)
        if cold:
            integrity.clear_memory()
            (settings.outputs_root / integrity.CACHE_RELPATH).unlink(missing_ok=True)
        try:
            with Run(settings, "risk.fuse", family="fuse", argv=["bench"]) as run:
                counts = fuse_month(settings, YEAR, MONTH, None, run, force=True)
        finally:
            integrity.set_enabled(True)
        assert counts["refused"] == 0
    return call


@click.command()
@click.option("--km", type=click.Choice(["25", "12.5", "6.25"]), default="6.25", show_default=True,
              help="Grid cell size.")
@click.option("--days", type=click.IntRange(1, 30), default=30, show_default=True, help="Days of the month pulled.")
@click.option("--repeat", type=click.IntRange(1, 50), default=3, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(km, days, repeat, json_path):
    """Time risk.fuse of a month with and without verify on read; print the ratios."""
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        settings = settings_for(Path(tmp), float(km))
        progress(f"pulling {days} days of demo layers on {settings.grid.name}")
        pull_month(settings, days)
        cases = {
            "no verification": fuse_case(settings, verify=False, cold=False),
            "verify, warm cache": fuse_case(settings, verify=True, cold=False),
            "verify, cold cache": fuse_case(settings, verify=True, cold=True),
        }
        progress(f"timing risk.fuse --force, {repeat} rounds of {len(cases)} cases")
        times = interleaved(cases, repeat=repeat, warmup=1, label="fuse")
    base = median(times["no verification"])
    rows = [[name, f"{median(t):.2f}", f"{median(t) / base:.3f}"] for name, t in times.items()]
    print(f"risk.fuse of {days} days on {settings.grid.name}, median of {repeat} rounds")
    print(table(["case", "median s", "ratio"], rows, right=[False, True, True]))
    warm = median(times["verify, warm cache"]) / base
    print(f"{'PASS' if warm <= TARGET else 'MISS'} warm-cache ratio {warm:.3f} (target <= {TARGET:.2f})")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "km": km, "days": days, "repeat": repeat,
                                         "seconds": times}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
