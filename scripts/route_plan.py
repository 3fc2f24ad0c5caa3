#!/usr/bin/env python3
"""route.plan: plan ship routes through the ice for scenarios or ad-hoc end points."""

from __future__ import annotations

import click

from arcticroute.cli import call_or_exit, common_options, day_or_latest, execute, load_or_exit
from arcticroute.errors import NoRouteError, RouteRefusedError
from arcticroute.provenance import DEMO_NOTICE
from arcticroute.route import planner


@click.command(name="route.plan")
@click.option("--scenario", "scenarios", multiple=True,
              help="Scenario from config/scenarios.yaml (repeatable), or 'all'.")
@click.option("--from", "origin", metavar="LAT,LON", help="Ad-hoc start, decimal degrees (with --to and --vessel).")
@click.option("--to", "destination", metavar="LAT,LON", help="Ad-hoc end, decimal degrees.")
@click.option("--vessel", help="Vessel profile from config/scenarios.yaml for --from/--to.")
@click.option("--date", "day", default="latest", show_default=True, metavar="latest|YYYY-MM-DD",
              callback=day_or_latest, help="Day whose ice, waves and risk the route is planned on.")
@click.option("--force", is_flag=True, help="Plan again even when the inputs are unchanged.")
@click.option("--ignore-rules", is_flag=True,
              help="For studies: write routes the sea-area rules (config/sea_area_rules.yaml) do not permit; "
                   "each such route says the rules were ignored.")
@click.option("--assume-escort", is_flag=True,
              help="Assume icebreaker escort: a route slower than route.min_speed_kn (beset risk) is kept, not refused.")
@common_options
def main(scenarios, origin, destination, vessel, day, force, ignore_rules, assume_escort, config_dir, profile,
         grid_km):
    """Plan minimum-cost routes within each vessel's ice, wave and depth limits and the sea-area rules.

    Writes outputs/routes/<scenario>_<YYYYMMDD>.geojson (RFC 7946, lon/lat) holding the
    risk-aware route and the distance-only baseline. A single route that cannot be planned, or
    that the sea-area rules (NSR admission criteria and seasons) do not permit, exits 1 naming
    the blocking limit or rule; with 'all' such scenarios are reported and skipped.
    """
    settings = load_or_exit(config_dir, profile, grid_km)
    adhoc = any(v is not None for v in (origin, destination, vessel))
    if adhoc == bool(scenarios):
        raise click.UsageError("give either --scenario NAME (or 'all'), or --from LAT,LON --to LAT,LON --vessel NAME")
    if adhoc:
        if not (origin and destination and vessel):
            raise click.UsageError("--from, --to and --vessel go together")
        requests = call_or_exit(
            lambda: [planner.adhoc_request(settings, planner.parse_position(origin, "--from"),
                                           planner.parse_position(destination, "--to"), vessel)])
    else:
        requests = call_or_exit(planner.scenario_requests, settings, list(scenarios))
    plan_all = list(scenarios) == ["all"]
    target = {}

    def body(run):
        results = []
        target_day = target["day"] = planner.resolve_day(settings, day)
        loaded = planner.load_conditions(settings, target_day)
        for request in requests:
            outcome, summary = planner.plan_request(settings, request, target_day, loaded, run, force=force,
                                                    ignore_rules=ignore_rules, assume_escort=assume_escort)
            results.append((request, outcome, summary))
            if outcome in ("no-route", "refused"):
                run.warn(summary["reason"])
        run.summary = {r.name: {"outcome": o, **s} for r, o, s in results}
        blocked = [s["reason"] for _r, o, s in results if o == "no-route"]
        refused = [s["reason"] for _r, o, s in results if o == "refused"]
        if refused and not plan_all:
            raise RouteRefusedError("; ".join(refused), hint="choose a vessel with a higher ice class or another "
                                                             "date; for a study, --ignore-rules plans it anyway")
        if blocked and not plan_all:
            raise NoRouteError("; ".join(blocked), hint="choose a vessel with a higher ice class, another date, "
                                                          "or other end points")
        return results

    def render(results, run):
        target_day = target["day"]
        for request, outcome, summary in results:
            if outcome in ("no-route", "refused"):
                label = "NO ROUTE" if outcome == "no-route" else "REFUSED"
                click.echo(f"{request.name}: {label} on {target_day}: {summary['reason']}")
                continue
            extra = (f", {summary['total_distance_nm']:.0f} nm in all to {summary['final_destination']}"
                     if "total_distance_nm" in summary else "")
            click.echo(f"{request.name}: {summary['distance_nm']:.0f} nm ({summary['distance_ratio']:.2f}x great circle), "
                       f"ETA {summary['eta']}, max ice {summary['max_sic']:.2f}, mean risk {summary['mean_risk']:.3f}"
                       f"{extra}{_depth_and_escort(summary)} [{outcome}]")
            click.echo(f"  sea-area rules: {planner.rules_line(summary)}")
        click.echo(f"routes for {target_day} in {settings.outputs_root / 'routes' / settings.grid.name} "
                   f"(run {run.run_id})")
        if any(summary.get("synthetic") for _request, _outcome, summary in results):
            click.echo(f"NOTE: planned on synthetic data: {DEMO_NOTICE}")

    execute(settings, "route.plan", "route", body, render, writes=True)


def _depth_and_escort(summary: dict) -> str:
    text = f", min depth {summary['min_depth_m']:.0f} m" if summary.get("min_depth_m") is not None else ""
    return text + (", BESET RISK (escort assumed)" if summary.get("beset_risk") else "")


if __name__ == "__main__":
    main()
