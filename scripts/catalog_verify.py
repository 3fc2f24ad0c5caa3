#!/usr/bin/env python3
"""catalog.verify: check every artifact version against its sidecar, and every canonical link."""

from __future__ import annotations

import click

from arcticroute import catalog
from arcticroute.cli import common_options, execute, load_or_exit
from arcticroute.errors import ArcticRouteError


@click.command(name="catalog.verify")
@click.option("--prefix", help="Only logical ids starting with this.")
@common_options
def main(prefix, config_dir, profile, grid_km):
    """Verify existence, size and sha256 of each version and the canonical links; exit 1 on any problem."""
    settings = load_or_exit(config_dir, profile, grid_km)

    def body(run):
        entries, unreadable = catalog.build_index(settings.roots)
        entries = [e for e in entries if catalog.matches(e, prefix=prefix)]
        problems = [str(p) for p in catalog.verify(settings.roots, entries)] + unreadable
        versions = sum(len(e.versions) for e in entries)
        run.summary = {"logical_ids": len(entries), "versions": versions, "problems": len(problems)}
        for problem in problems:
            click.echo(f"FAIL {problem}")
        if problems:
            raise ArcticRouteError(
                f"{len(problems)} problem(s) in {len(entries)} logical ids: " + "; ".join(problems[:5])
                + (" …" if len(problems) > 5 else ""),
                hint="re-run the producing command to write a fresh version (e.g. just pull / just fuse)",
            )
        return run.summary

    def render(summary, run):
        click.echo(f"ok: {summary['logical_ids']} logical ids, {summary['versions']} versions verified")

    execute(settings, "catalog.verify", "catalog", body, render)


if __name__ == "__main__":
    main()
