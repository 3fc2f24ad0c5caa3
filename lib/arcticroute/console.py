"""``arcticroute <command>`` and ``python -m arcticroute <command>``: one name space for the ops commands.

Each dotted name (``ingest.nrt.pull``, ``health.check``, ``serve``, ...) dispatches to the click
command its script under ``scripts/`` defines, found through the registry in ``commands.py``, so
the image's entrypoint, the schedulers and people all use one stable form and run exactly what
``just`` runs. ``ui`` is the name the container starts by default: ``serve``, the Streamlit UI with
its ``/api/*`` routes. Only the command asked for is imported; ``--help`` imports them all.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from . import __version__
from .commands import COMMANDS, SCRIPTS_DIR, CommandInfo, load_command

# Other names for a command: the container's default word for the UI.
ALIASES = {"ui": "serve"}
_BY_NAME = {info.name: info for info in COMMANDS}


class Dispatcher(click.Group):
    """A click group whose sub-commands are the scripts' own commands, loaded on demand."""

    def __init__(self, *args, scripts_dir: Path = SCRIPTS_DIR, **kwargs):
        super().__init__(*args, **kwargs)
        self.scripts_dir = scripts_dir
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [info.name for info in COMMANDS] + sorted(ALIASES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        info = _BY_NAME.get(ALIASES.get(name, name))
        if info is None:
            return None
        if name in ALIASES:
            return _alias(name, self._load(info))
        return self._load(info)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0]
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            advice = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{advice} `arcticroute --help` lists every command.")
        return super().resolve_command(ctx, args)

    def _load(self, info: CommandInfo) -> click.Command:
        if info.name in self._loaded:
            return self._loaded[info.name]
        path = self.scripts_dir / info.script
        if not path.is_file():
            raise click.ClickException(
                f"command {info.name}: its script {path} is missing; arcticroute runs from a checkout "
                "or the image (pip install -e . in the repository), where scripts/ sits beside lib/"
            )
        self._loaded[info.name] = load_command(info, self.scripts_dir)
        return self._loaded[info.name]


def _alias(name: str, command: click.Command) -> click.Command:
    """The same command under another name (its help says which)."""
    alias = click.Command(
        name,
        callback=command.callback,
        params=command.params,
        help=f"Same as `{command.name}`: {command.help or ''}",
        short_help=f"Same as {command.name}: {command.get_short_help_str(limit=60)}",
        context_settings=command.context_settings,
    )
    return alias


@click.group(
    cls=Dispatcher,
    context_settings={"max_content_width": 100},
)
@click.version_option(__version__, prog_name="arcticroute")
def main():
    """ArcticRoute ops commands: `arcticroute <command> [options]` (also `python -m arcticroute`).

    Each command is the same click command as its script in scripts/ and its just recipe
    (docs/cli.md); `arcticroute <command> --help` shows its options and exit codes.
    """
