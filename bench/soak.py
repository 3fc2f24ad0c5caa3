"""A 30-day soak of the scheduled jobs with faults (tests/soak.py): prints the faults injected and
their outcomes, the invariants and the days, as Markdown for bench/README.md.

    .venv/bin/python bench/soak.py [--days 30] [--seed 22] [--start 2026-10-20] [--disk-mb 400] [--json out.json]

Needs Debian's faketime (libfaketime); as root the roots live on a tmpfs of --disk-mb (the
full-disk fault and the watermark then refer to it), else on the current filesystem and the
full-disk fault is left out. Exit 1 when an invariant does not hold. No figure here is a
timing: the wall time per simulated day is printed for information only.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import click
from _harness import REPO, import_project, progress

import_project()
sys.path.insert(0, str(REPO))

from tests.soak import FAKETIME_LIB, Soak, table  # noqa: E402


@click.command()
@click.option("--days", type=click.IntRange(2, 366), default=30, show_default=True, help="Simulated days.")
@click.option("--seed", type=int, default=22, show_default=True, help="Seed of the fault schedule.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default="2026-10-20", show_default=True,
              help="First simulated day.")
@click.option("--disk-mb", type=click.IntRange(64), default=400, show_default=True,
              help="Size of the tmpfs holding the roots (as root).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the verdict, the days, the faults and the steps as JSON here.")
def main(days, seed, start, disk_mb, json_out):
    """Run the soak and print its tables."""
    if not FAKETIME_LIB.exists():
        raise click.ClickException(f"{FAKETIME_LIB} is missing: apt-get install faketime")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-") as base:
        soak = Soak(Path(base), days, seed, start.date() if hasattr(start, "date") else date.fromisoformat(start),
                    disk_mb=disk_mb, log=progress)
        try:
            soak.run()
            verdict = soak.check()
        finally:
            soak.close()
    wall = time.monotonic() - began
    click.echo(f"soak: {days} days from {soak.days[0]}, seed {seed}, roots on "
               f"{'a tmpfs of ' + str(disk_mb) + ' MB' if soak.mounted else 'the current filesystem'}; "
               f"{len(soak.steps)} command runs, {wall / 60:.1f} min wall ({wall / days:.0f} s per day)\n")
    click.echo(table(soak, verdict))
    click.echo("\n| day | data day | verdict | missing | failures (alerted) |\n|---|---|---|---|---|")
    for day in verdict["days"]:
        click.echo(f"| {day['day']} | {day['data_day']} | {day['verdict']} | {', '.join(day['missing']) or '-'} | "
                   f"{', '.join(day['failures']) or '-'} ({day['alerted']}) |")
    if json_out:
        json_out.write_text(json.dumps({
            "verdict": {k: v for k, v in verdict.items() if k != "days"}, "days": verdict["days"],
            "faults": [{"day": str(f.day), "kind": f.kind, "detail": f.detail, "outcome": f.outcome}
                       for f in soak.faults],
            "steps": [{"day": str(s.day), "job": s.job, "argv": s.argv, "started": s.started.isoformat(),
                       "exit_code": s.exit_code, "seconds": s.seconds, "note": s.note} for s in soak.steps]},
            indent=1))
    if not all(v[0] for k, v in verdict.items() if k != "days"):
        sys.exit(1)


if __name__ == "__main__":
    main()
