#!/usr/bin/env python3
"""catalog.show: list the artifacts the sidecars describe (the catalog is rebuilt from them)."""

from __future__ import annotations

import json

import click

from arcticroute import catalog
from arcticroute.cli import common_options, execute, load_or_exit


def _month(ctx, param, value):
    if value is not None and not (len(value) == 6 and value.isdigit() and 1 <= int(value[4:]) <= 12):
        raise click.BadParameter(f"{value!r} is not a month: expected YYYYMM, e.g. 202611")
    return value


@click.command(name="catalog.show")
@click.option("--prefix", help="Only logical ids starting with this, e.g. ar://env/ice.sic")
@click.option("--kind", help="Only this kind: env-layer, risk-daily, risk-monthly, route, report, static-grid.")
@click.option("--month", callback=_month, metavar="YYYYMM", help="Only artifacts whose time coverage includes this month.")
@click.option("--tag", help="Only artifacts with this tag (e.g. synthetic).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@common_options
def main(prefix, kind, month, tag, as_json, config_dir, profile, grid_km):
    """Show the catalog, rebuilt from the sidecars, and refresh outputs/catalog/index.json."""
    settings = load_or_exit(config_dir, profile, grid_km)

    def body(run):
        entries, problems = catalog.build_index(settings.roots)
        catalog.write_index(settings.roots, settings.outputs_root)
        for problem in problems:
            run.warn(problem)
        shown = [e for e in entries if catalog.matches(e, prefix=prefix, kind=kind, month=month, tag=tag)]
        run.summary = {"entries": len(entries), "shown": len(shown)}
        return shown

    def render(shown, run):
        if as_json:
            click.echo(json.dumps([e.summary() for e in shown], indent=2))
            return
        if not shown:
            click.echo("no artifacts match")
            return
        width = max(len(e.logical_id) for e in shown)
        click.echo(f"{'LOGICAL ID':{width}}  {'KIND':12}  VER  SYNTH  {'SIZE':>9}  CREATED")
        for entry in shown:
            s = entry.summary()
            click.echo(f"{s['logical_id']:{width}}  {s['kind']:12}  {s['newest_version']:>3}  "
                       f"{'yes' if s['synthetic'] else 'no':5}  {s['size_bytes']:>9}  {s['created_at']}")
        click.echo(f"{len(shown)} artifacts")

    execute(settings, "catalog.show", "catalog", body, render)


if __name__ == "__main__":
    main()
