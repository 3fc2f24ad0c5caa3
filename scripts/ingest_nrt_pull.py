#!/usr/bin/env python3
"""ingest.nrt.pull: pull daily Arctic layers for a month onto the run's polar grid."""

from __future__ import annotations

import json
import sys

import click

from arcticroute import ingest
from arcticroute.cli import (
    SINCE,
    call_or_exit,
    common_options,
    execute,
    layers_callback,
    load_or_exit,
    ym_option,
)
from arcticroute.parallel import jobs_option, resolve_jobs
from arcticroute.sources import parse_overrides
from arcticroute.timeutil import utc_now


def _overrides(ctx, param, value):
    from arcticroute.errors import BadInputError

    try:
        return parse_overrides(value)
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(name="ingest.nrt.pull")
@ym_option
@click.option("--what", default="ice,wave,incidents,ais", show_default=True, callback=layers_callback,
              help="Comma-separated layers: ice, wave, incidents, ais.")
@click.option("--since", type=SINCE, default=None,
              help="Only days from this moment: ISO 8601 (2026-11-20) or a duration back from now (-P1D); it may "
                   "reach back into the month before --ym.")
@click.option("--dry-run", is_flag=True,
              help="Print each planned item (layer, day, source URL, destination, new/update/unchanged) and "
                   "change nothing; only lists the sources (HEAD requests, searches).")
@click.option("--force", is_flag=True, help="Fetch every published day again, even when already pulled and intact.")
@jobs_option("fetch, regrid, write; also the number of sources asked at once while planning")
@click.option("--source", "sources", multiple=True, callback=_overrides, metavar="LAYER=NAME",
              help="Use another of the profile's available sources for a layer (repeatable), e.g. ice=osisaf-conc.")
@click.option("--forecast", is_flag=True,
              help="Also pull the profile's ice forecast (sources.ice.forecast) issued on the newest day pulled "
                   "(never after today), for the days after it.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (dry run) or the summary as JSON on stdout.")
@common_options
def main(ym, what, since, dry_run, force, jobs, executor, scheduler, sources, forecast, as_json, config_dir, profile,
         grid_km):
    """Pull sea ice, waves, incidents and AIS traffic for the days of a month.

    Days already pulled from an unchanged source are skipped (a conditional request, no
    download), unless their current version is missing or fails verification (then they are
    fetched again); days not yet published are reported, not failed; a run with nothing new
    ends with status no_new_data (exit 0). Raw downloads are cached under
    data_processed/cache/<source>/. Writes data_processed/env/<layer>/<grid>/YYYY/MM/*.nc with
    sidecars. Exit 1 when an item could not be pulled (the others are kept).
    """
    settings = load_or_exit(config_dir, profile, grid_km)
    days = ingest.select_days(*ym, since)
    today = utc_now().date()
    call_or_exit(ingest.check_sources, settings, what, sources)
    ice_forecast = None
    if forecast:
        from arcticroute.sources.forecast import forecast_source

        ice_forecast = call_or_exit(forecast_source, settings, today)

    if dry_run:
        plan, _sources = call_or_exit(ingest.build_plan, settings, what, days, today, force, overrides=sources,
                                      dry_run=True, jobs=resolve_jobs(jobs))
        if as_json:
            click.echo(json.dumps({"dry_run": True, "profile": settings.profile, "grid": settings.grid.name,
                                   "items": [_item_json(i) for i in plan], "summary": _plan_summary(plan)}, indent=2))
            return
        for item in plan:
            click.echo(f"{item.action:8} {item.layer:12} {item.day}  {item.reason}  [{item.change}] "
                       f"{item.url or '(' + _sources[item.layer].kind + ')'} -> {item.destination}")
        if ice_forecast is not None and days:
            from arcticroute.forecast import issue_day, relpath

            issued = issue_day(days, today)
            click.echo(f"{'forecast':8} {'ice.forecast':12} {issued}  issued that day, {ice_forecast.name} "
                       f"({ice_forecast.kind}) {ice_forecast.describe(issued).get('url') or ''} -> "
                       f"{relpath(issued, settings.grid.name)}")
        click.echo(_plan_summary(plan) + " (dry run: nothing written)")
        return

    def body(run):
        counts = pull(run)
        if forecast and days:
            from arcticroute.forecast import issue_day
            from arcticroute.sources.forecast import pull_forecast

            counts["forecast"] = pull_forecast(settings, issue_day(days, today), today, run, force=force)
        return counts

    def pull(run):
        plan, built = ingest.build_plan(settings, what, days, today, force, overrides=sources, jobs=resolve_jobs(jobs),
                                        log=run.log)
        run.log.info("plan: %s", _plan_summary(plan))
        todo = sum(item.action == "fetch" for item in plan)
        if todo and sys.stderr.isatty():
            with click.progressbar(length=todo, label="pulling", file=sys.stderr,
                                   item_show_func=lambda text: text) as bar:
                return ingest.execute_pull(settings, plan, built, run, jobs=jobs, overrides=sources, executor=executor,
                                           scheduler=scheduler,
                                           progress=lambda item, outcome: bar.update(1, f"{item.layer} {item.day} {outcome}"))
        return ingest.execute_pull(settings, plan, built, run, jobs=jobs, overrides=sources, executor=executor,
                                   scheduler=scheduler)

    def render(counts, run):
        if as_json:
            click.echo(json.dumps({"run_id": run.run_id, "profile": settings.profile, "synthetic": settings.synthetic,
                                   "grid": settings.grid.name, **counts}, indent=2))
            return
        click.echo(
            f"pulled {counts['written']} new, {counts['skipped']} already there, "
            f"{counts['not_yet']} not yet available, {counts['unchanged']} unchanged"
            f"{', ' + str(counts['missing']) + ' missing upstream' if counts['missing'] else ''}, "
            f"{counts['bytes_transferred']} bytes downloaded: {counts['status']} "
            f"(profile {settings.profile}{', synthetic data' if settings.synthetic else ''}, grid {settings.grid.name}, "
            f"run {run.run_id})"
        )
        if "forecast" in counts:
            told = counts["forecast"]
            valid = told.get("valid_days") or []
            click.echo(f"ice forecast issued {told['issued']}: {told['status']}"
                       + (f", valid {valid[0]}..{valid[-1]}" if valid else f" ({told.get('reason', '')})"))

    execute(settings, "ingest.nrt.pull", "pull", body, render, writes=True)


def _item_json(item) -> dict:
    return {"layer": item.layer, "date": item.day.isoformat(), "action": item.action, "change": item.change,
            "reason": item.reason, "url": item.url, "destination": item.destination}


def _plan_summary(plan) -> str:
    counts = {}
    for item in plan:
        counts[item.action] = counts.get(item.action, 0) + 1
    return ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing to do"


if __name__ == "__main__":
    main()
