#!/usr/bin/env python3
"""catalog.verify: check every artifact version against its sidecar and its place, and every canonical link."""

from __future__ import annotations

import json

import click

from arcticroute.cli import common_options, execute, load_or_exit
from arcticroute.errors import ArcticRouteError
from arcticroute.ops.runs import FAMILIES
from arcticroute.store import catalog, repair, stac


@click.command(name="catalog.verify")
@click.option("--prefix", help="Only logical ids starting with this.")
@click.option("--repair", "do_repair", is_flag=True,
              help="First repair what faults left: relink canonicals to their newest intact version, quarantine "
                   "corrupt versions, rebuild the sidecar of a version that lost it (or quarantine it), remove "
                   "temporary files, move a 0.1.0 tree to the current layout; then list what only a producer "
                   "can restore.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of lines.")
@click.option("--stac", "publish", is_flag=True,
              help="Also write the verified logical ids (all of them, whatever --prefix) as static STAC to "
                   "stac.folder (default outputs/stac/catalog.json; served at /api/stac/); one that fails "
                   "verification is left out.")
@common_options
def main(prefix, do_repair, as_json, publish, config_dir, profile, grid_km):
    """Verify each version (its sidecar against its place, size and sha256 of its bytes, what the file
    says it is) and the canonical links, and name logical ids whose place another artifact took;
    exit 1 on any problem.

    With --repair (just repair), every command family's lock is taken first, so no run writes
    meanwhile; after it, `just daily` restores what it lists.
    """
    settings = load_or_exit(config_dir, profile, grid_km)

    def body(run):
        outcome = {}
        if do_repair:
            report = repair.repair(settings.roots, run.run_id)
            catalog.write_index(settings.roots, settings.outputs_root)
            outcome["repair"] = report.as_dict()
            for action in report.actions:
                run.log.info("repair: %s", action)
        everything, unreadable = catalog.build_index(settings.roots)
        if publish:
            failing = {p.logical_id for p in catalog.verify(settings.roots, everything)}
            outcome["stac"] = str(stac.write_stac(settings.roots, settings.stac_folder,
                                                  [e for e in everything if e.logical_id not in failing]))
        entries = [e for e in everything if catalog.matches(e, prefix=prefix)]
        problems = [str(p) for p in catalog.verify(settings.roots, entries)
                    + catalog.missing_logical_ids(settings.roots, everything, prefix)] + unreadable
        outcome.update(ok=not problems, logical_ids=len(entries), versions=sum(len(e.versions) for e in entries),
                       problems=problems, leftovers=repair.leftovers(settings.roots))
        run.summary = {k: outcome[k] for k in ("ok", "logical_ids", "versions")} | {"problems": len(problems)}
        _show(outcome, as_json)
        if problems:
            raise ArcticRouteError(
                f"{len(problems)} problem(s) in {len(entries)} logical ids: " + "; ".join(problems[:5])
                + (" …" if len(problems) > 5 else ""),
                hint="run catalog.verify --repair (just repair), then the producing commands it lists (just daily)",
            )
        return outcome

    def render(outcome, run):
        if not as_json:
            click.echo(f"ok: {outcome['logical_ids']} logical ids, {outcome['versions']} versions verified")
            if "stac" in outcome:
                click.echo(f"STAC catalog: {outcome['stac']}")

    also = tuple(f for f in FAMILIES if f != "catalog") if do_repair else ()
    execute(settings, "catalog.verify", "catalog", body, render, also_lock=also)


def _show(outcome: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(outcome, indent=2))
        return
    for action in outcome.get("repair", {}).get("actions", []):
        click.echo(f"REPAIRED {action}")
    for item in outcome.get("repair", {}).get("to_restore", []):
        click.echo(f"RESTORE {item['logical_id']}: run {item['command']}")
    for problem in outcome["problems"]:
        click.echo(f"FAIL {problem}")
    for leftover in outcome["leftovers"]:
        click.echo(f"WARN {leftover} (catalog.verify --repair handles it)")


if __name__ == "__main__":
    main()
