#!/usr/bin/env python3
"""ingest.backfill: pull and fuse a range of months in dependency order, resuming after a kill."""

from __future__ import annotations

import json
import sys

import click

from arcticroute import backfill
from arcticroute.cli import common_options, execute, layers_callback, load_or_exit
from arcticroute.errors import BadInputError
from arcticroute.parallel import jobs_option
from arcticroute.risk.fuse import METHODS
from arcticroute.timeutil import utc_now


def _month(ctx, param, value):
    if value is None:
        return None
    try:
        return backfill.parse_month(value, option=param.opts[0])
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(name="ingest.backfill")
@click.option("--from", "start", required=True, callback=_month, metavar="YYYY-MM",
              help="First month (YYYY-MM or YYYYMM).")
@click.option("--to", "end", default="current", show_default=True, callback=_month, metavar="YYYY-MM",
              help="Last month, included (YYYY-MM, YYYYMM or 'current').")
@click.option("--what", default="ice,wave,incidents,ais", show_default=True, callback=layers_callback,
              help="Comma-separated layers to pull: ice, wave, incidents, ais.")
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="How hazards combine; default from config/runtime.yaml (risk.method).")
@jobs_option("a month's days pulled, then fused, in parallel")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@common_options
def main(start, end, what, method, jobs, executor, scheduler, as_json, config_dir, profile, grid_km):
    """Pull and fuse every month from --from to --to, oldest first.

    Each month is pulled, then fused, so every input of a day's incident window exists before
    the day is fused. Work already done is skipped by the producers themselves (days pulled
    from an unchanged source, days fused from unchanged inputs with an intact file), so a
    backfill that was killed resumes where it stopped when run again. On a terminal it shows
    days done, the rate and an ETA; at the end it prints a summary. Holds the pull and fuse
    locks for the whole run (exit 75 if either is taken).
    """
    settings = load_or_exit(config_dir, profile, grid_km)
    today = utc_now().date()
    tty = sys.stderr.isatty()

    def show(line: str) -> None:
        click.echo(f"\r\x1b[2K{line}", err=True, nl=False)

    def body(run):
        result = backfill.backfill(settings, start, end, run, layers=what, today=today, method=method, jobs=jobs,
                                   executor=executor, scheduler=scheduler, show=show if tty else None)
        if tty:
            click.echo("", err=True)
        return result

    def render(summary, run):
        if as_json:
            click.echo(json.dumps({"run_id": run.run_id, "grid": settings.grid.name, **summary}, indent=2))
            return
        click.echo(
            f"backfill {start[0]:04d}-{start[1]:02d}..{end[0]:04d}-{end[1]:02d}: {summary['months']} months, "
            f"{summary['days']} days; pulled {summary['pulled']} new ({summary['pull_skipped']} already there, "
            f"{summary['not_yet']} not yet available); fused {summary['fused']} days ({summary['fuse_unchanged']} "
            f"unchanged, {summary['no_inputs']} without inputs) in {summary['elapsed_s']:.0f} s: {summary['status']} "
            f"(grid {settings.grid.name}, run {run.run_id})"
        )

    execute(settings, "ingest.backfill", "pull", body, render, writes=True, also_lock=("fuse",))


if __name__ == "__main__":
    main()
