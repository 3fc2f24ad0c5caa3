"""The registry of ops commands: dotted name, script file, just recipe (DESIGN.md §2)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import click

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "scripts"


@dataclass(frozen=True)
class CommandInfo:
    name: str
    script: str
    recipe: str


COMMANDS = [
    CommandInfo("ingest.nrt.pull", "ingest_nrt_pull.py", "just pull"),
    CommandInfo("risk.fuse", "risk_fuse.py", "just fuse"),
    CommandInfo("ingest.backfill", "ingest_backfill.py", "just backfill"),
    CommandInfo("route.plan", "route_plan.py", "just route"),
    CommandInfo("route.export", "route_export.py", "just export"),
    CommandInfo("report.build", "report_build.py", "just report"),
    CommandInfo("catalog.show", "catalog_show.py", "just catalog"),
    CommandInfo("catalog.verify", "catalog_verify.py", "just repair"),
    CommandInfo("cache.gc", "cache_gc.py", "just gc"),
    CommandInfo("catalog.gc", "catalog_gc.py", "just gc"),
    CommandInfo("health.check", "health_check.py", "just health"),
    CommandInfo("serve", "serve.py", "just serve"),
]


def load_command(info: CommandInfo, scripts_dir: Path = SCRIPTS_DIR) -> click.Command:
    """Import a script file and return its click command (``main``)."""
    path = scripts_dir / info.script
    spec = importlib.util.spec_from_file_location(f"arcticroute_script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def help_text(command: click.Command, prog: str) -> str:
    with click.Context(command, info_name=prog, terminal_width=100, max_content_width=100) as ctx:
        return command.get_help(ctx)
