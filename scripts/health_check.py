#!/usr/bin/env python3
"""health.check: one JSON verdict on the stack's health, with a hint for every warning."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from arcticroute.cli import common_options, execute, fail, settings_from_options
from arcticroute.errors import EXIT_FAILURE, ArcticRouteError, HealthFailedError
from arcticroute.ops import health
from arcticroute.store import atomic


@click.command(name="health.check")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the JSON (atomically); default reports/health/health_<UTC YYYYMMDD>.json.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON on stdout instead of a summary.")
@click.option("--strict", is_flag=True, help="Exit 1 on warn too, not only on fail.")
@common_options
def main(out, as_json, strict, config_dir, profile, grid_km):
    """Check folders, disk, packages, config, data freshness, last runs, a sample of the catalog,
    logs, GPU and timers. Exit 0 on pass or warn, 1 on fail (--strict: on warn too).

    A change of the overall status to warn or fail writes one alert file (and posts it to
    ARCTICROUTE_ALERT_WEBHOOK when set); the same result is served at /api/health.
    """
    try:
        settings = settings_from_options(config_dir, profile, grid_km)
    except ArcticRouteError as exc:  # an unusable config is a failed health check, not bad usage
        result = health.health_check(config_dir, profile=profile, grid_km=grid_km)
        if out:
            _write_if_possible(out, result)
        _show(result, out or Path("(not written: no usable config)"), as_json)
        fail(str(exc), exc.hint, EXIT_FAILURE)
    target = out or health.default_out(settings)
    if not _outputs_writable(settings):  # no run record, log or lock possible: check and say so anyway
        result = health.health_check(settings=settings)
        _write_if_possible(target, result)
        _show(result, target, as_json)
        fail(f"health is {result['status']}; the outputs folder {settings.outputs_root} is not writable, "
             "so this check has no run record or log", result["warnings"][0]["hint"] if result["warnings"] else None,
             EXIT_FAILURE)

    def body(run):
        result = health.health_check(settings=settings)
        atomic.write_json(target, result)
        alert = health.record_transition(settings, result)
        run.summary = {"status": result["status"], "warnings": len(result["warnings"]), "out": str(target)}
        if alert:
            run.log.info("health changed to %s: alert %s", result["status"], alert)
        _show(result, target, as_json)
        if result["status"] == "fail" or (strict and result["status"] == "warn"):
            raise HealthFailedError(
                f"health is {result['status']}: " + "; ".join(f"{w['check']}: {w['message']}"
                                                               for w in result["warnings"][:3]),
                hint=result["warnings"][0]["hint"] if result["warnings"] else None,
            )
        return result

    execute(settings, "health.check", "health", body, lambda result, run: None)


def _outputs_writable(settings) -> bool:
    try:
        (settings.outputs_root / "locks").mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(settings.outputs_root / "locks", os.W_OK)


def _write_if_possible(target: Path, result: dict) -> None:
    try:
        atomic.write_json(target, result)
    except OSError as exc:
        click.echo(f"Warning: {target} not written ({exc})", err=True)


def _show(result: dict, target: Path, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"health: {result['status'].upper()} ({len(result['checks'])} checks, "
               f"{len(result['warnings'])} not passing, {result['disk_free_gb']} GB free) -> {target}")
    for warning in result["warnings"]:
        click.echo(f"  {warning['status'].upper():4} {warning['check']}: {warning['message']}")
        click.echo(f"       hint: {warning['hint']}")


if __name__ == "__main__":
    main()
