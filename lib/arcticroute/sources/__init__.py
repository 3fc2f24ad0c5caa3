"""Source adapters by kind: each turns (layer, day) into values on the run's grid.

A profile's ``sources`` maps each layer to the source it uses: a name from the profile's
``available`` sources, or an inline mapping with a ``kind``. ``--source LAYER=NAME`` picks
another of the available ones for one run. Kinds: ``synthetic`` (demo), ``http``, ``file``,
``stac``, ``cmems``, ``ais`` and ``incidents``; see docs/sources.md.
"""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

from ..errors import BadInputError, ConfigError
from .base import FetchResult, Source, SourceContext

AVAILABLE_KEY = "available"


# kind -> (module, class); imported only when a profile uses the kind
KINDS = {"synthetic": (".synthetic", "SyntheticSource"), "http": (".http", "HttpSource"), "file": (".file", "FileSource"),
         "stac": (".stac", "StacSource"), "cmems": (".cmems", "CmemsSource"), "ais": (".ais", "AisSource"),
         "incidents": (".incidents", "IncidentsSource")}
KIND_NAMES = tuple(KINDS)


def adapter_class(kind: str) -> type[Source]:
    module, name = KINDS[kind]
    return getattr(importlib.import_module(module, __name__), name)


def parse_overrides(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``("ice=osisaf-ice-conc",)`` to ``{"ice.sic": "osisaf-ice-conc"}``; BadInputError on a bad one.

    An alias names its main layer (``ice`` is ``ice.sic``); give ``ice.type=NAME`` for the other.
    """
    from ..layers import ALIASES, LAYERS

    overrides = {}
    for value in values:
        layer, sep, name = value.partition("=")
        if not sep or not layer.strip() or not name.strip():
            raise BadInputError(f"--source {value!r}: expected LAYER=NAME (e.g. ice=osisaf-ice-conc)")
        resolved = ALIASES.get(layer.strip(), layer.strip())
        if resolved not in LAYERS:
            raise BadInputError(f"--source {value!r}: unknown layer {layer.strip()!r}; expected any of "
                                f"{', '.join([*ALIASES, *LAYERS])}")
        overrides[resolved] = name.strip()
    return overrides


def source_configs(profile: str, sources_cfg: dict, layers: list[str],
                   overrides: dict[str, str] | None = None) -> dict[str, tuple[str, dict]]:
    """``layer -> (source name, config)`` for the wanted layers; ConfigError/BadInputError names the problem."""
    available = sources_cfg.get(AVAILABLE_KEY) or {}
    where = f"config/env.yaml: profiles.{profile}.sources"
    missing = [layer for layer in layers if layer not in sources_cfg and layer not in (overrides or {})]
    if missing:
        raise ConfigError(
            f"profile {profile!r} configures no source for {', '.join(missing)} ({where})",
            hint="pull only the configured layers with --what, pick one with --source LAYER=NAME, or use --profile demo",
        )
    chosen = {}
    for layer in layers:
        entry = (overrides or {}).get(layer, sources_cfg.get(layer))
        if isinstance(entry, str):
            if entry not in available:
                names = ", ".join(n for n, c in available.items() if c.get("layer") in (None, layer)) or "none"
                error = BadInputError if layer in (overrides or {}) else ConfigError
                raise error(f"{layer}: unknown source {entry!r} in profile {profile!r}; available for it: {names}",
                            hint=f"sources are defined under {where}.{AVAILABLE_KEY}")
            name, config = entry, available[entry]
        else:
            name, config = entry.get("name") or f"{layer}-{entry['kind']}", entry
        if config.get("layer") not in (None, layer):
            raise BadInputError(f"source {name!r} serves {config['layer']}, not {layer}",
                                hint=f"choose a source whose layer is {layer} (see {where}.{AVAILABLE_KEY})")
        chosen[layer] = (name, config)
    return chosen


def build_sources(profile: str, sources_cfg: dict, layers: list[str], *, overrides: dict[str, str] | None = None,
                  data_root: Path | None = None, env=None, today: date | None = None, dry_run: bool = False,
                  log=None, **injected) -> dict[str, Source]:
    """The configured adapter for each wanted layer; ConfigError when one is missing."""
    built = {}
    for layer, (name, config) in source_configs(profile, sources_cfg, layers, overrides).items():
        context = SourceContext(
            name=name, cache_dir=(data_root / "cache" / name) if data_root is not None else None,
            env=env or {}, today=today, dry_run=dry_run, **({"log": log} if log is not None else {}), **injected,
        )
        built[layer] = adapter_class(config["kind"])(layer, config, context)
    return built


__all__ = ["FetchResult", "Source", "SourceContext", "build_sources", "parse_overrides", "source_configs",
           "KIND_NAMES"]
