"""A copy of the repository's config/ whose live sources point at loopback replicas."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..conftest import REPO


def live_config(dest: Path, base_url: str, *, edit=None, http: dict | None = None) -> Path:
    """``dest`` holding config/ with every live source's URL moved to ``base_url`` (same path),
    fast retries, and ``edit(available)`` applied to the available sources."""
    folder = dest / "config"
    shutil.copytree(REPO / "config", folder)
    env = yaml.safe_load((folder / "env.yaml").read_text())
    available = env["profiles"]["live"]["sources"]["available"]
    for config in available.values():
        url = config.get("url")
        if url and urlsplit(url).scheme in ("http", "https"):
            parts = urlsplit(url)
            config["url"] = base_url.rstrip("/") + "/" + parts.netloc + parts.path
        config["http"] = {**config.get("http", {}), "backoff_s": 0.01, "backoff_max_s": 0.05, "retries": 3,
                          "timeout_s": 5, "rate_limit_per_s": 0, **(http or {})}
    if edit is not None:
        edit(available)
    (folder / "env.yaml").write_text(yaml.safe_dump(env, sort_keys=False))
    return folder


def site_path(url_template_path: str) -> str:
    """Where a provider's file lives on the replica site: ``<host>/<path>``."""
    parts = urlsplit(url_template_path)
    return parts.netloc + parts.path
