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
    for recipe in ("setup", "demo", "daily", "pull", "fuse", "route", "report", "catalog", "repair", "test", "lint", "bench", "docs"):
        line = next(line for line in listing.splitlines() if line.strip().startswith(recipe))
        assert "#" in line, f"recipe {recipe} has no comment"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("just") is None, reason="just is not installed (CI installs it)")
def test_just_demo_runs_the_whole_chain_and_says_where_the_report_is(roots):
    result = subprocess.run(["just", "demo"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report_line = next(line for line in result.stdout.splitlines() if line.startswith("report: "))
    report = Path(report_line.removeprefix("report: "))
    assert report.is_file() and report.is_relative_to(roots.reports)
    assert "demo data — not for navigation" in report.read_text(encoding="utf-8")
    again = subprocess.run(["just", "demo"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "pulled 0 new" in again.stdout and "unchanged: version 1" in again.stdout
    assert "NOTE: planned on synthetic data: demo data — not for navigation" in again.stdout
