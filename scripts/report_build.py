#!/usr/bin/env python3
"""report.build: build the monthly HTML report of routes, risk, data freshness and provenance."""

from __future__ import annotations

import click

from arcticroute.cli import common_options, execute, load_or_exit, ym_option
from arcticroute.provenance import DEMO_NOTICE
from arcticroute.report.build import SECTIONS, build_report


def _sections(ctx, param, value):
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise click.BadParameter(f"{value!r}: expected a comma-separated list of {', '.join(SECTIONS)}")
    return tuple(names)


@click.command(name="report.build")
@ym_option
@click.option("--include", default=",".join(SECTIONS), show_default=True, callback=_sections,
              metavar="SECTION[,SECTION...]",
              help="Sections of the page: routes (table and explanation), layers (the map), calibration "
                   "(reliability of the stacking risk against the month's incidents), freshness, runs; "
                   "provenance is always there.")
@click.option("--force", is_flag=True, help="Build the report again even when its inputs are unchanged.")
@common_options
def main(ym, include, force, config_dir, profile, grid_km):
    """Build one self-contained HTML report for a month (map, routes, calibration, freshness, provenance, runs).

    Needs the month's risk summary (risk.fuse). A report whose inputs and sections are
    unchanged is not written again. Writes reports/<grid>/<YYYYMM>/report_<YYYYMM>.html with its
    sidecar (which also holds the calibration numbers).
    """
    settings = load_or_exit(config_dir, profile, grid_km)

    def body(run):
        result = build_report(settings, *ym, run, force=force, include=include)
        run.summary = {"outcome": result.outcome, "path": str(result.path), "version": result.meta["version"]}
        return result

    def render(result, run):
        click.echo(f"report: {result.path}")
        click.echo(f"{result.outcome}: version {result.meta['version']} from {len(result.meta['inputs'])} inputs "
                   f"(run {run.run_id})")
        if result.meta.get("synthetic"):
            click.echo(f"NOTE: made from synthetic data: {DEMO_NOTICE}")

    execute(settings, "report.build", "report", body, render, writes=True)


if __name__ == "__main__":
    main()
