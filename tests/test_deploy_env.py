"""env.example.txt: every variable explained, and python-dotenv, just and Compose read it the same way."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dotenv import dotenv_values

from arcticroute.config import ENV_VARIABLES, load_settings

from .conftest import REPO
from .test_deploy_tools import need, problem

EXAMPLE = REPO / "env.example.txt"
SWITCHED_OFF = re.compile(r"^# ([A-Z][A-Z0-9_]*=.*)$")


def variants(tmp_path: Path) -> dict[str, Path]:
    """The file as shipped, and with every switched-off variable switched on."""
    text = EXAMPLE.read_text(encoding="utf-8")
    on = tmp_path / "all-on.env"
    on.write_text("\n".join(SWITCHED_OFF.sub(r"\1", line) for line in text.splitlines()) + "\n", encoding="utf-8")
    return {"as-shipped": EXAMPLE, "all-on": on}


def assignments(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_every_line_is_a_comment_or_a_plain_assignment_and_every_variable_is_explained(tmp_path):
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\s'\"#$`\\]*", line), f"line {number} is not plain KEY=value: {line}"
    names = [name for name, _ in assignments(variants(tmp_path)["all-on"])]
    assert len(names) == len(set(names)), "a variable appears twice"
    for name in names:  # the line above it (or the block's first line) is a comment
        index = next(i for i, line in enumerate(lines) if re.match(rf"^(# )?{name}=", line))
        assert lines[index - 1].startswith("#"), f"{name} has no comment above it"
    ours = {n for n in names if n.startswith("ARCTICROUTE_")}
    assert ours <= set(ENV_VARIABLES), f"not variables ArcticRoute reads: {ours - set(ENV_VARIABLES)}"
    text = EXAMPLE.read_text()
    missing = [name for name in ENV_VARIABLES if name not in text]
    assert not missing, f"ENV_VARIABLES not mentioned in env.example.txt: {missing}"


def test_the_commands_read_it_without_a_warning(tmp_path):
    for label, path in variants(tmp_path).items():
        project = tmp_path / label
        shutil.copytree(REPO / "config", project / "config")
        shutil.copy(path, project / ".env")
        settings = load_settings(project / "config", environ={"PATH": os.environ.get("PATH", "")})
        assert settings.warnings == (), (label, settings.warnings)


def _with_python_dotenv(path: Path) -> dict:
    return dict(dotenv_values(path))


def _with_just(path: Path, tmp_path: Path, names: list[str]) -> dict:
    justfile = tmp_path / "justfile"
    justfile.write_text(
        "set dotenv-load\n"
        f"set dotenv-path := {json.dumps(str(path))}\n\n"
        "show:\n"
        f"    @{sys.executable} -c 'import json, os; print(json.dumps({{n: os.environ.get(n) for n in {json.dumps(names)}}}))'\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run([shutil.which("just"), "--justfile", str(justfile), "show"], capture_output=True,
                            text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return {k: v for k, v in json.loads(result.stdout).items() if v is not None}


def _with_compose(path: Path, tmp_path: Path, names: list[str]) -> tuple[dict, dict]:
    """What Compose puts into the container (env_file) and what it substitutes (--env-file)."""
    import yaml

    compose = tmp_path / "compose.yml"
    compose.write_text(yaml.safe_dump({"services": {
        "from_env_file": {"image": "scratch", "env_file": [str(path)]},
        "from_substitution": {"image": "scratch", "environment": {n: "${" + n + "-__unset__}" for n in names}},
    }}))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(["docker-compose", "--env-file", str(path), "-f", str(compose), "config"],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    env_file = {k: "" if v is None else str(v) for k, v in services["from_env_file"].get("environment", {}).items()}
    substituted = {k: str(v) for k, v in services["from_substitution"]["environment"].items() if v != "__unset__"}
    return env_file, substituted


def test_python_dotenv_just_and_compose_read_the_same_values(tmp_path):
    need("just", problem("just"))
    need("compose", problem("compose"))
    for label, path in variants(tmp_path).items():
        work = tmp_path / label
        work.mkdir()
        expected = dict(assignments(path))
        names = sorted(expected)
        assert _with_python_dotenv(path) == expected, label
        assert _with_just(path, work, names) == expected, label
        env_file, substituted = _with_compose(path, work, names)
        assert env_file == expected, label
        assert substituted == expected, label
