"""Every command has help text and a docs entry; the generated docs are current."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arcticroute.commands import COMMANDS, help_text, load_command

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("info", COMMANDS, ids=lambda i: i.name)
def test_command_has_its_dotted_name_help_and_a_docs_entry(info):
    command = load_command(info)
    assert command.name == info.name
    text = help_text(command, info.script)
    assert len(command.help or "") > 40 and "--help" in text
    assert f"## {info.name}" in (REPO / "docs" / "cli.md").read_text()


def test_generated_docs_are_up_to_date():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "docs_gen.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("just") is None, reason="just is not installed (CI installs it)")
def test_just_lists_every_pipeline_recipe_with_a_comment():
    listing = subprocess.run(["just", "--list"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for recipe in ("setup", "demo", "daily", "pull", "fuse", "route", "report", "catalog", "test", "lint", "bench", "docs"):
        line = next(line for line in listing.splitlines() if line.strip().startswith(recipe))
        assert "#" in line, f"recipe {recipe} has no comment"
