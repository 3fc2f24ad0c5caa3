#!/usr/bin/env python3
"""route.export: a planned route as RTZ (ECDIS), GPX or a CSV passage plan."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arcticroute.cli import common_options, day_or_latest, execute, load_or_exit
from arcticroute.route import documents, export, passage
from arcticroute.store import atomic

FORMAT_HELP = "rtz: RTZ 1.1 (IEC 61174); rtz10: RTZ 1.0; gpx: GPX 1.1 route; csv: the passage plan."


@click.command(name="route.export")
@click.option("--scenario", help="Scenario whose route document to export (from config/scenarios.yaml).")
@click.option("--route", "route_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A route GeoJSON file written by route.plan, instead of --scenario.")
@click.option("--date", "day", default="latest", show_default=True, metavar="latest|YYYY-MM-DD", callback=day_or_latest,
              help="With --scenario: the day the route was planned for.")
@click.option("--format", "fmt", type=click.Choice(export.FORMATS), default="rtz", show_default=True,
              help=FORMAT_HELP)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
              help="File to write ('-' for standard output); default <scenario>_<YYYYMMDD>.<ext> here.")
@click.option("--max-deviation-nm", type=click.FloatRange(0.001, 5.0), default=passage.MAX_DEVIATION_NM,
              show_default=True, help="How far a great-circle leg may stray from the planned line.")
@common_options
def main(scenario, route_file, day, fmt, out, max_deviation_nm, config_dir, profile, grid_km):
    """Export a planned route for the bridge: RTZ for an ECDIS, GPX for chart plotters and GIS,
    or the CSV passage plan (per leg: positions in degrees and minutes, true course, distance,
    ETA, speed, ice, POLARIS RIO and operation level, minimum depth, escort, persisted conditions).

    Waypoints are the route document's own positions; every leg is a great circle that stays
    within --max-deviation-nm of the planned line. A route made from synthetic data says so in
    its name. Exit 1 when the route cannot be read or does not fit an ECDIS import (400 kB).
    """
    settings = load_or_exit(config_dir, profile, grid_km)
    if bool(scenario) == bool(route_file):
        raise click.UsageError("give either --scenario NAME or --route FILE")

    def body(run):
        if route_file:
            document, verified = documents.file_document(route_file)
            if not verified:
                run.warn(f"{route_file} has no sidecar beside it: exported as it is, not verified")
        else:
            document, _meta = documents.scenario_document(settings, scenario, day)
        plan = passage.passage_plan(document, max_deviation_nm)
        data = export.render(plan, fmt)
        target = out or Path(f"{plan.scenario}_{plan.date.replace('-', '')}{export.SUFFIXES[fmt]}")
        if str(target) == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            atomic.write_bytes(target, data)
        run.summary = {"format": fmt, "waypoints": len(plan.waypoints), "bytes": len(data),
                       "out": str(target), "synthetic": plan.synthetic}
        return plan, target, len(data)

    def render(result, run):
        plan, target, size = result
        if str(target) != "-":
            click.echo(f"{plan.scenario} {plan.date}: {len(plan.waypoints)} waypoints, {size / 1000:.1f} kB "
                       f"{fmt} -> {target}", err=True)
        if plan.synthetic:
            click.echo(f"NOTE: made from synthetic data: {plan.notice}", err=True)

    execute(settings, "route.export", "route", body, render)


if __name__ == "__main__":
    main()
