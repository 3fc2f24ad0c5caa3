"""Shared fixtures: isolated data roots, the scripts as click commands, a demo month built once."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
from click.testing import CliRunner

from arcticroute.commands import COMMANDS, load_command

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
_COMMANDS = {info.name: info for info in COMMANDS}

# CI (.ci/run sets CI_REQUIRE) draws the property tests' examples from a fixed seed, so whether a
# submission lands does not depend on the examples of the day; `just test` on a workstation draws
# new ones every run and keeps any it finds failing in .hypothesis/ (add it as an @example).
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI_REQUIRE"):
    hypothesis.settings.load_profile("ci")


@dataclass
class Invocation:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_command(name: str, *args: str, env: dict | None = None) -> Invocation:
    """Run one ops command in-process, as its script would run, and capture everything."""
    command = load_command(_COMMANDS[name])
    result = CliRunner().invoke(command, list(args), env=env, catch_exceptions=False, prog_name=name)
    return Invocation(result.exit_code, result.stdout, result.stderr)


@dataclass
class Roots:
    data: Path
    reports: Path
    outputs: Path

    @property
    def env(self) -> dict:
        return {"ARCTICROUTE_DATA": str(self.data), "ARCTICROUTE_REPORTS": str(self.reports),
                "ARCTICROUTE_OUTPUTS": str(self.outputs), "ARCTICROUTE_PROFILE": "demo"}

    def files(self) -> list[Path]:
        """Every file and link under the three roots (what a command has written)."""
        return sorted(p for root in (self.data, self.reports, self.outputs) if root.exists()
                      for p in root.rglob("*") if p.is_file() or p.is_symlink())


def make_roots(base: Path) -> Roots:
    return Roots(base / "data_processed", base / "reports", base / "outputs")


def select_roots(monkeypatch, made: Roots) -> Roots:
    """Select ``made`` through the environment as the commands see it (no grid, config folder or
    alert webhook of the developer's shell), with no verified reads remembered from before."""
    from arcticroute.store import integrity

    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    for key in ("ARCTICROUTE_GRID_KM", "ARCTICROUTE_CONFIG_DIR", "ARCTICROUTE_ALERT_WEBHOOK"):
        monkeypatch.delenv(key, raising=False)
    integrity.clear_memory()
    return made


@pytest.fixture
def roots(tmp_path, monkeypatch) -> Roots:
    """Empty data roots in a temporary folder, selected through the environment."""
    return select_roots(monkeypatch, make_roots(tmp_path))


def config_copy(dest: Path, runtime_edits: dict[str, str] | None = None) -> Path:
    """The repository's config/ copied to ``dest`` with text replacements in runtime.yaml; each
    replaced text must be there (an edit that no longer matches fails here, not silently)."""
    shutil.copytree(REPO / "config", dest)
    runtime = dest / "runtime.yaml"
    text = runtime.read_text()
    for old, new in (runtime_edits or {}).items():
        assert old in text, f"{old!r} is not in config/runtime.yaml"
        text = text.replace(old, new)
    runtime.write_text(text)
    return dest


def build_month(made: Roots, ym: str, since: str) -> None:
    """pull -> fuse -> route (all scenarios) for the days of ``ym`` from ``since``."""
    env = made.env
    steps = [
        ("ingest.nrt.pull", "--ym", ym, "--since", since),
        ("risk.fuse", "--ym", ym),
        ("route.plan", "--scenario", "all", "--date", "latest"),
    ]
    for name, *args in steps:
        result = run_command(name, *args, env=env)
        assert result.exit_code == 0, f"{name} failed: {result.output}"


@pytest.fixture(scope="session")
def summer_month(tmp_path_factory) -> Roots:
    """Late September of the demo profile (Northern Sea Route open), built once per session."""
    made = make_roots(tmp_path_factory.mktemp("summer"))
    build_month(made, "202609", "2026-09-28")
    return made


@contextmanager
def tmpfs(mount_point: Path, size: str, options: str = "") -> Iterator[Path]:
    """A real tmpfs of ``size`` (needs root; the test is skipped otherwise), so writes run out
    of space for real; ``options`` such as ``ro`` are added to the mount options."""
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(filter(None, [f"size={size}", options])),
                              "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'needs root'}"
        if "all" in os.environ.get("CI_REQUIRE", "").split(","):
            pytest.fail(f"{reason} (CI_REQUIRE=all: CI runs these tests as root, never skipped)")
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)
