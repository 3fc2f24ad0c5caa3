#!/usr/bin/env python3
"""ingest.nrt.pull: pull daily Arctic layers for a month onto the run's polar grid."""

from __future__ import annotations

import click

from arcticroute import ingest
from arcticroute.cli import SINCE, call_or_exit, common_options, execute, load_or_exit, ym_option
from arcticroute.layers import resolve_layers
from arcticroute.timeutil import utc_now


def _layers(ctx, param, value):
    try:
        return resolve_layers(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(name="ingest.nrt.pull")
@ym_option
@click.option("--what", default="ice,wave,incidents,ais", show_default=True, callback=_layers,
              help="Comma-separated layers: ice, wave, incidents, ais.")
@click.option("--since", type=SINCE, default=None,
              help="Only days from this moment: ISO 8601 (2026-11-20) or a duration back from now (-P1D).")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--force", is_flag=True, help="Fetch every published day again, even when already pulled and intact.")
@common_options
def main(ym, what, since, dry_run, force, config_dir, profile, grid_km):
    """Pull sea ice, waves, incidents and AIS traffic for the days of a month.

    Days already pulled from an unchanged source are skipped, unless their current version
    is missing or fails verification (then they are fetched again); days not yet published
    are reported, not failed. Writes data_processed/env/<layer>/<grid>/YYYY/MM/*.nc with sidecars.
    """
    settings = load_or_exit(config_dir, profile, grid_km)
    days = ingest.select_days(*ym, since)
    today = utc_now().date()

    if dry_run:
        plan, _sources = call_or_exit(ingest.build_plan, settings, what, days, today, force)
        for item in plan:
            click.echo(f"{item.action:8} {item.layer:12} {item.day}  {item.reason}")
        click.echo(_plan_summary(plan) + " (dry run: nothing written)")
        return

    def body(run):
        plan, sources = ingest.build_plan(settings, what, days, today, force)
        run.log.info("plan: %s", _plan_summary(plan))
        counts = ingest.execute_pull(settings, plan, sources, run)
        run.summary = counts
        return counts

    def render(counts, run):
        click.echo(
            f"pulled {counts['written']} new, {counts['skipped']} already there, "
            f"{counts['not_yet']} not yet available, {counts['unchanged']} unchanged "
            f"(profile {settings.profile}{', synthetic data' if settings.synthetic else ''}, grid {settings.grid.name}, "
            f"run {run.run_id})"
        )

    execute(settings, "ingest.nrt.pull", "pull", body, render, writes=True)


def _plan_summary(plan) -> str:
    counts = {}
    for item in plan:
        counts[item.action] = counts.get(item.action, 0) + 1
    return ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing to do"


if __name__ == "__main__":
    main()
