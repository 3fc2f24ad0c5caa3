#!/usr/bin/env python3
"""Regenerate (or with --check, verify) docs/cli.md and docs/artifact-meta.schema.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from arcticroute.commands import COMMANDS, help_text, load_command
from arcticroute.store.artifacts import artifact_meta_schema

DOCS = Path(__file__).resolve().parents[1] / "docs"

HEADER = """# Command reference

Generated from each command's `--help` by `just docs` (checked by `just lint`); do not edit by hand.
Every command is a standalone click script over `lib/arcticroute`, run as
`.venv/bin/python scripts/<script>` or through its just recipe.

Exit codes (all commands): 0 ok (including "nothing new to do"), 1 failure, 2 bad usage or
bad input (nothing written), 75 another run of the same family holds the lock.
"""


def render_cli() -> str:
    parts = [HEADER]
    for info in COMMANDS:
        command = load_command(info)
        parts.append(f"\n## {info.name}\n\nScript `scripts/{info.script}`, recipe `{info.recipe}`.\n\n"
                     f"```text\n{help_text(command, info.script).rstrip()}\n```\n")
    return "".join(parts)


def render_schema() -> str:
    return json.dumps(artifact_meta_schema(), indent=2) + "\n"


@click.command(name="docs.gen")
@click.option("--check", is_flag=True, help="Exit 1 if the generated docs differ from the files.")
def main(check):
    """Write docs/cli.md and docs/artifact-meta.schema.json from the code."""
    outputs = {DOCS / "cli.md": render_cli(), DOCS / "artifact-meta.schema.json": render_schema()}
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if check:
        for path in stale:
            click.echo(f"stale: {path.relative_to(DOCS.parent)} (run `just docs`)", err=True)
        sys.exit(1 if stale else 0)
    for path in stale:
        path.write_text(outputs[path], encoding="utf-8")
        click.echo(f"wrote {path.relative_to(DOCS.parent)}")


if __name__ == "__main__":
    main()
