"""Who produced an artifact: command, package version, git commit."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

from . import __version__

# What every view of synthetic data says (route GeoJSON, report banner, UI), here rather than in
# the planner so a view does not load the route search (scipy, scikit-image) to say it.
DEMO_NOTICE = "demo data — not for navigation"


@lru_cache(maxsize=1)
def git_sha() -> str:
    """The commit of the running code: ``ARCTICROUTE_GIT_SHA`` (set in the image) or ``git``."""
    if os.environ.get("ARCTICROUTE_GIT_SHA"):
        return os.environ["ARCTICROUTE_GIT_SHA"]
    repo = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def producer(command: str) -> dict:
    return {"command": command, "version": __version__, "git_sha": git_sha()}
