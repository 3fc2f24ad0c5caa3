#!/usr/bin/env python3
"""serve: the Streamlit UI with its /api/* endpoints and /metrics on one port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from arcticroute.cli import common_options, load_or_exit

APP = Path(__file__).resolve().parents[1] / "apps" / "asgi.py"


def server_argv(port: int, address: str) -> list[str]:
    """The command line of the server process (Streamlit runs the ASGI app through uvicorn)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
            "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "minimal"]


@click.command(name="serve")
@click.option("--ui", is_flag=True, default=True, show_default=True,
              help="Serve the UI and its /api/health, /api/runs, /api/catalog, /metrics and /api/stac/ endpoints "
                   "(the only mode).")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, envvar="ARCTICROUTE_PORT",
              show_envvar=True, help="TCP port to listen on.")
@click.option("--address", default="127.0.0.1", show_default=True, envvar="ARCTICROUTE_ADDRESS", show_envvar=True,
              help="Address to listen on (0.0.0.0 in the container).")
@common_options
def main(ui, port, address, config_dir, profile, grid_km):
    """Start the UI server in the foreground; this process becomes the server, so signals reach it.

    The configuration is checked first (exit 2 on a bad value); the endpoints then read it from
    the same environment.
    """
    load_or_exit(config_dir, profile, grid_km)
    for name, value in (("ARCTICROUTE_CONFIG_DIR", config_dir), ("ARCTICROUTE_PROFILE", profile),
                        ("ARCTICROUTE_GRID_KM", grid_km)):
        if value is not None:
            os.environ[name] = str(value)
    argv = server_argv(port, address)
    click.echo(f"serving the ArcticRoute UI on http://{address}:{port} (health: /api/health)", err=True)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
