#!/usr/bin/env python3
"""cache.gc: remove old cache files and dead runs' temporary files; evict down to the disk watermark."""

from __future__ import annotations

import json
import sys

import click

from arcticroute.cli import call_or_exit, common_options, execute, load_or_exit
from arcticroute.errors import ArcticRouteError
from arcticroute.gc import cache, disk, fs, policy


@click.command(name="cache.gc")
@click.option("--ttl-days", type=click.FloatRange(min=0), default=None,
              help="Remove cache files unused for longer than this many days, in every cache folder "
                   "(default: gc.ttl_days and each folder's own ttl_days in config/runtime.yaml).")
@click.option("--watermark-disk", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Fraction of the data root's filesystem in use (as df shows it) at or above which the oldest "
                   "cache files, then superseded versions gc.versions lets go, are evicted until usage is below "
                   "it (default: gc.watermark_disk).")
@click.option("--dry-run", is_flag=True,
              help="List what would be removed and the usage that would result; change nothing (no lock taken, "
                   "no run record).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of lines.")
@common_options
def main(ttl_days, watermark_disk, dry_run, as_json, config_dir, profile, grid_km):
    """Clean the cache folders (gc.cache_folders) by age, then evict down to the disk watermark.

    Never follows a symbolic link, never leaves the data roots, never removes a file younger than
    gc.safety_age_minutes, a lock file, a file whose <name>.lock is held, or a temporary file of a
    run in progress; the cache folders of a family whose run is in progress are skipped. Exit 1,
    with an alert, when usage stays at or above the watermark (the message says what is left).
    """
    settings = load_or_exit(config_dir, profile, grid_km)
    rules = call_or_exit(policy.load_policy, settings, ttl_days=ttl_days, watermark=watermark_disk)
    roots = fs.resolve_roots(settings.roots)

    if dry_run:
        _show(call_or_exit(cache.collect_garbage, roots, rules, dry_run=True), as_json)
        return

    freed = disk.release_reserve(roots["outputs"])  # a full disk could not take this run's record

    def body(run):
        if freed:
            run.log.info("gave back the %d bytes set aside for this moment: the disk is full", disk.RESERVE_BYTES)
        report = cache.collect_garbage(roots, rules, dry_run=False)
        if report.below_watermark:
            disk.keep_reserve(roots["outputs"], rules.watermark)
        run.summary = report.summary()  # the run record lists what went (the first 1000 one by one)
        run.log.info("%s", report.headline())
        for warning in report.warnings + report.outcome.errors:
            run.warn(warning)
        _show(report, as_json)
        if report.error:
            raise ArcticRouteError(report.error, hint=report.hint)
        if report.outcome.errors:
            raise ArcticRouteError(f"{len(report.outcome.errors)} files could not be removed: "
                                   + "; ".join(report.outcome.errors[:3]),
                                   hint="check their owner and permissions, then run cache.gc again")
        return report

    execute(settings, "cache.gc", "gc", body, lambda report, run: None, writes=True)


def _show(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
