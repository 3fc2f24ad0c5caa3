"""`arcticroute <command>` and `python -m arcticroute <command>` run the scripts' own click commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arcticroute import __version__
from arcticroute.commands import COMMANDS, help_text, load_command

from .conftest import REPO

CONSOLE = Path(sys.executable).parent / "arcticroute"


def run(*args: str, env: dict | None = None, module: bool = False) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "arcticroute", *args] if module else [str(CONSOLE), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd=REPO)


@pytest.fixture(scope="module", autouse=True)
def console_installed():
    if not CONSOLE.exists():
        pytest.fail(f"{CONSOLE} is missing: `just setup` installs the project with its console script")


def test_help_lists_every_registered_command_and_the_ui_alias():
    for module in (False, True):
        result = run("--help", module=module)
        assert result.returncode == 0, result.stderr
        section = result.stdout.split("Commands:")[1].splitlines()
        listed = [line.split()[0] for line in section if line.startswith("  ") and line[2:3].strip()]
        assert listed == [info.name for info in COMMANDS] + ["ui"]
        assert result.stdout.startswith("Usage: arcticroute [OPTIONS] COMMAND [ARGS]...")


@pytest.mark.parametrize("info", COMMANDS, ids=lambda info: info.name)
def test_each_command_is_the_scripts_own(info):
    result = run(info.name, "--help", env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    script_help = help_text(load_command(info), info.script)
    # The same text, only the program name differs (and so where lines wrap: click also wraps
    # after a hyphen, as in "sea-area")
    def words(text: str) -> str:
        return re.sub(r"-\s+", "-", " ".join(text.split()))

    assert words(result.stdout.replace(f"arcticroute {info.name}", info.script)) == words(script_help)


def test_a_command_runs_with_its_exit_code_and_output_like_its_script(roots):
    args = ("ingest.nrt.pull", "--ym", "202611", "--since", "2026-11-28", "--dry-run")
    through_console = run(*args, env={**os.environ, **roots.env})
    script = subprocess.run([sys.executable, str(REPO / "scripts" / "ingest_nrt_pull.py"), *args[1:]],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert through_console.returncode == script.returncode == 0, through_console.stderr
    assert through_console.stdout == script.stdout and "dry run" in through_console.stdout.lower()
    bad = run("risk.fuse", "--ym", "2026-13", module=True)
    assert bad.returncode == 2 and "Usage: arcticroute risk.fuse" in bad.stderr


def test_an_unknown_command_exits_2_and_suggests_the_closest_name():
    result = run("helth.check")
    assert result.returncode == 2
    assert "No such command 'helth.check'. Did you mean 'health.check'?" in result.stderr
    nothing = run("frobnicate", module=True)
    assert nothing.returncode == 2 and "arcticroute --help" in nothing.stderr


def test_ui_is_serve_and_version_is_the_package_version():
    ui = run("ui", "--help")
    assert ui.returncode == 0 and "Same as `serve`" in ui.stdout and "--port" in ui.stdout
    assert run("--version").stdout.strip() == f"arcticroute, version {__version__}"


def test_a_missing_scripts_folder_is_explained(tmp_path):
    from click.testing import CliRunner

    from arcticroute.console import Dispatcher, main

    group = Dispatcher(name="arcticroute", scripts_dir=tmp_path, commands={}, callback=main.callback)
    result = CliRunner().invoke(group, ["health.check", "--help"])
    assert result.exit_code == 1
    assert f"its script {tmp_path / 'health_check.py'} is missing" in result.output
