#!/usr/bin/env python3
"""catalog.show: list the artifacts the sidecars describe (the catalog is rebuilt from them)."""

from __future__ import annotations

import json

import click

from arcticroute.cli import common_options, execute, load_or_exit
from arcticroute.errors import ArcticRouteError
from arcticroute.store import catalog, stac
from arcticroute.store.artifacts import KINDS


def _month(ctx, param, value):
    if value is not None and not (len(value) == 6 and value.isdigit() and 1 <= int(value[4:]) <= 12):
        raise click.BadParameter(f"{value!r} is not a month: expected YYYYMM, e.g. 202611")
    return value


@click.command(name="catalog.show")
@click.option("--prefix", help="Only logical ids starting with this, e.g. ar://env/ice.sic")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind of artifact.")
@click.option("--month", callback=_month, metavar="YYYYMM", help="Only artifacts whose time coverage includes this month.")
@click.option("--tag", help="Only artifacts with this tag (e.g. synthetic).")
@click.option("--verify", "check", is_flag=True,
              help="Also verify each shown artifact (files, sizes, sha256, links); exit 1 on any problem.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@click.option("--stac", "publish", is_flag=True,
              help="Also write the whole catalog (whatever the filters) as static STAC to stac.folder "
                   "(default outputs/stac/catalog.json; served at /api/stac/).")
@common_options
def main(prefix, kind, month, tag, check, as_json, publish, config_dir, profile, grid_km):
    """Show the catalog, rebuilt from the sidecars, and refresh outputs/catalog/index.json."""
    settings = load_or_exit(config_dir, profile, grid_km)

    def body(run):
        entries, problems = catalog.build_index(settings.roots)
        catalog.write_index(settings.roots, settings.outputs_root)
        for problem in problems:
            run.warn(problem)
        shown = [e for e in entries if catalog.matches(e, prefix=prefix, kind=kind, month=month, tag=tag)]
        rows = []
        for entry in shown:
            row = entry.summary()
            if check:
                row["problems"] = [p.message for p in catalog.verify_entry(settings.roots, entry)]
            rows.append(row)
        run.summary = {"entries": len(entries), "shown": len(shown)}
        if publish:
            written = stac.write_stac(settings.roots, settings.stac_folder, entries)
            run.summary["stac"] = str(written)
            click.echo(f"STAC catalog: {written}", err=True)
        _render(rows, as_json, check)
        failed = [r for r in rows if r.get("problems")]
        if check and (failed or problems):
            raise ArcticRouteError(
                f"{len(failed)} of {len(rows)} artifacts shown fail verification"
                + (f", {len(problems)} sidecars unreadable" if problems else ""),
                hint="run catalog.verify --repair (just repair), then the producing commands it lists (just daily)",
            )
        return rows

    execute(settings, "catalog.show", "catalog", body, lambda rows, run: None)


def _render(rows: list[dict], as_json: bool, check: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no artifacts match")
        return
    width = max(len(r["logical_id"]) for r in rows)
    status = "  CHECK" if check else ""
    click.echo(f"{'LOGICAL ID':{width}}  {'KIND':12}  VER  SYNTH  {'SIZE':>9}  CREATED{' ' * 14}{status}")
    for row in rows:
        verdict = ("  ok" if not row["problems"] else "  FAIL: " + "; ".join(row["problems"])) if check else ""
        click.echo(f"{row['logical_id']:{width}}  {row['kind']:12}  {row['newest_version']:>3}  "
                   f"{'yes' if row['synthetic'] else 'no':5}  {row['size_bytes']:>9}  {row['created_at']}{verdict}")
    click.echo(f"{len(rows)} artifacts")


if __name__ == "__main__":
    main()
