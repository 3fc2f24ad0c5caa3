#!/usr/bin/env python3
"""catalog.gc: remove artifact versions a retention policy no longer keeps, by logical id and month."""

from __future__ import annotations

import json

import click

from arcticroute.cli import call_or_exit, common_options, execute, load_or_exit
from arcticroute.errors import ArcticRouteError
from arcticroute.gc import fs, policy, versions


def _tags(ctx, param, value):
    if value is None:
        return ()
    tags = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if not tags:
        raise click.BadParameter(f"{value!r} names no tag: expected comma-separated tags, e.g. risk,route")
    return tags


@click.command(name="catalog.gc")
@click.option("--keep-months", type=click.IntRange(min=0), default=None,
              help="Keep every version that was current during the last N months (default: gc.keep_months "
                   "in config/runtime.yaml); 0 needs --allow-remove-all.")
@click.option("--tags", callback=_tags, metavar="TAG[,TAG...]",
              help="Only logical ids whose newest version carries any of these tags (e.g. risk,route).")
@click.option("--allow-remove-all", is_flag=True,
              help="Allow --keep-months 0, or a run that would leave no superseded version at all (both refused "
                   "otherwise, as a wrong clock or policy would look like that).")
@click.option("--dry-run", is_flag=True,
              help="List what would be removed and why; change nothing (no lock taken, no run record).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (every version to remove and to keep, with its reason).")
@common_options
def main(keep_months, tags, allow_remove_all, dry_run, as_json, config_dir, profile, grid_km):
    """Remove superseded artifact versions that were not current during the last N months.

    Always kept: the newest version of every logical id, every version a canonical link points
    to, the gc.versions.<kind>.keep_versions newest, and every version of a logical id whose
    newest version fails verification. A version goes with its sidecar (the sidecar first) and
    the catalog index is rebuilt; version files left without a sidecar by a killed run are
    removed too. Covers every grid.
    """
    if keep_months == 0 and not allow_remove_all:
        raise click.UsageError("--keep-months 0 would keep no history at all; keep at least one month, "
                               "or add --allow-remove-all if that is really meant")
    settings = load_or_exit(config_dir, profile, grid_km)
    rules = call_or_exit(policy.load_policy, settings, keep_months=keep_months)
    roots = fs.resolve_roots(settings.roots)
    options = {"tags": tags, "allow_remove_all": allow_remove_all, "now": policy.now()}

    if dry_run:
        _show(call_or_exit(versions.catalog_gc, roots, rules, dry_run=True, **options), roots, as_json)
        return

    def body(run):
        report = versions.catalog_gc(roots, rules, dry_run=False, **options)
        run.summary = report.summary()  # the run record lists what went (the first 1000 one by one)
        run.log.info("%s", report.headline())
        for warning in report.plan.problems + report.warnings + report.outcome.errors:
            run.warn(warning)
        _show(report, roots, as_json)
        if report.outcome.errors:
            raise ArcticRouteError(f"{len(report.outcome.errors)} problem(s): " + "; ".join(report.outcome.errors[:3]),
                                   hint="run catalog.verify --repair (just repair), then catalog.gc again")
        return report

    execute(settings, "catalog.gc", "gc", body, lambda report, run: None, writes=True)


def _show(report: versions.RetentionReport, roots, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(roots), indent=2))
        return
    for line in report.lines(roots):
        click.echo(line)


if __name__ == "__main__":
    main()
