"""Source adapters by kind: each turns (layer, day) into values on the run's grid.

Only the ``synthetic`` kind (demo profile) exists so far; real kinds (http, stac, cmems,
file, AIS archives, incidents tables) implement the same ``Source`` interface.
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import FetchResult, Source
from .synthetic import SyntheticSource

KINDS = {"synthetic": SyntheticSource}


def build_sources(profile: str, sources_cfg: dict, layers: list[str]) -> dict[str, Source]:
    """The configured adapter for each wanted layer; ConfigError when one is missing."""
    missing = [layer for layer in layers if layer not in sources_cfg]
    if missing:
        raise ConfigError(
            f"profile {profile!r} configures no source for {', '.join(missing)} "
            f"(config/env.yaml: profiles.{profile}.sources)",
            hint="pull only the configured layers with --what, or use --profile demo",
        )
    return {layer: KINDS[sources_cfg[layer]["kind"]](layer, sources_cfg[layer]) for layer in layers}


__all__ = ["FetchResult", "Source", "build_sources", "KINDS"]
