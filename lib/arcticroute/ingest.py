"""ingest.nrt.pull: plan -> fetch -> validate -> write layer artifacts -> catalog.

``plan_pull`` is a pure decision (what to fetch, what is already there, what is not yet
published); ``execute_pull`` carries it out. A day already pulled from an unchanged source is
skipped, so a second run transfers and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from .artifacts import ArtifactSpec, current_meta, write_artifact
from .config import Settings
from .errors import ConfigError, DataValidationError, NotYetAvailableError
from .integrity import is_intact
from .layers import (
    LAYERS,
    grid_dataset,
    incident_count,
    layer_logical_id,
    layer_relpath,
    write_netcdf,
)
from .redact import redact_url
from .sources import Source, build_sources
from .static import StaticGrid, ensure_static, load_static
from .timeutil import month_days

VALID_RANGES = {"ice.sic": (0.0, 1.0), "wave.hs": (0.0, 30.0), "ais.density": (0.0, 1e6)}


@dataclass(frozen=True)
class PlanItem:
    layer: str
    day: date
    action: str  # "fetch", "skip" or "not-yet"
    reason: str


def plan_pull(
    layers: list[str],
    days: list[date],
    today: date,
    identities: dict[tuple[str, date], dict],
    existing: dict[tuple[str, date], dict | None],
    grid_name: str,
    damaged: frozenset[tuple[str, date]] = frozenset(),
    force: bool = False,
) -> list[PlanItem]:
    """Decide per (layer, day): fetch, skip (already pulled, unchanged) or not yet available.

    ``damaged`` holds the items whose current version's file is missing or fails verification:
    they are fetched again. ``force`` fetches every published day regardless.
    """
    items = []
    for day in days:
        for layer in layers:
            if day > today:
                items.append(PlanItem(layer, day, "not-yet", "in the future"))
                continue
            meta = existing.get((layer, day))
            if meta is None:
                items.append(PlanItem(layer, day, "fetch", "new"))
            elif force:
                items.append(PlanItem(layer, day, "fetch", "forced"))
            elif (layer, day) in damaged:
                items.append(PlanItem(layer, day, "fetch", "current version missing or corrupt"))
            elif (meta.get("grid") or {}).get("name") != grid_name:
                items.append(PlanItem(layer, day, "fetch", "grid changed"))
            elif meta.get("params", {}).get("source_identity") != identities[(layer, day)]:
                items.append(PlanItem(layer, day, "fetch", "source changed"))
            else:
                items.append(PlanItem(layer, day, "skip", "already pulled, unchanged"))
    return items


def select_days(year: int, month: int, since: datetime | None) -> list[date]:
    days = month_days(year, month)
    if since is not None:
        days = [d for d in days if d >= since.date()]
    return days


def build_plan(settings: Settings, layers: list[str], days: list[date], today: date,
               force: bool = False) -> tuple[list[PlanItem], dict[str, Source]]:
    if not settings.sources:
        raise ConfigError(
            f"profile {settings.profile!r} has no data sources configured (config/env.yaml: profiles.{settings.profile}.sources); "
            "nothing was pulled and no synthetic data was substituted",
            hint="use --profile demo for the embedded synthetic data",
        )
    sources = build_sources(settings.profile, settings.sources, layers)
    roots = settings.roots
    identities = {(layer, d): sources[layer].identity(d) for layer in layers for d in days}
    grid_name = settings.grid.name
    existing = {
        (layer, d): current_meta(roots, "data", layer_relpath(layer, d, grid_name)) for layer in layers for d in days
    }
    damaged = frozenset(key for key, meta in existing.items() if meta is not None and not is_intact(roots, meta))
    return plan_pull(layers, days, today, identities, existing, grid_name, damaged, force), sources


def _validate(layer: str, variables: dict) -> None:
    low, high = VALID_RANGES.get(layer, (-np.inf, np.inf))
    for name, (values, _attrs) in variables.items():
        finite = values[np.isfinite(values)]
        if finite.size and (finite.min() < low or finite.max() > high):
            raise DataValidationError(
                f"{layer}: variable {name} has values {finite.min():.3g}..{finite.max():.3g}, "
                f"outside the valid range {low:g}..{high:g}; nothing was written"
            )


def _dataset_for(layer: str, static: StaticGrid, result, synthetic: bool, day: date):
    variables = dict(result.variables)
    if layer == "incidents":
        points = result.points or []
        variables["count"] = (incident_count(static.grid, points), {"units": "1", "long_name": "incidents in cell"})
    attrs = {**result.attrs, "layer": layer, "date": day.isoformat(), "synthetic": str(synthetic).lower()}
    dataset = grid_dataset(static.grid, variables, attrs)
    if layer == "incidents":
        points = result.points or []
        dataset = dataset.assign(
            incident_time=("incident", np.array([p["time_utc"] for p in points], dtype=str)),
            incident_lat=("incident", np.array([p["lat"] for p in points], dtype=np.float64)),
            incident_lon=("incident", np.array([p["lon"] for p in points], dtype=np.float64)),
            incident_type=("incident", np.array([p["type"] for p in points], dtype=str)),
            incident_severity=("incident", np.array([p["severity"] for p in points], dtype=np.int16)),
            incident_source=("incident", np.array([p["source"] for p in points], dtype=str)),
        )
    return dataset


def execute_pull(settings: Settings, plan: list[PlanItem], sources: dict[str, Source], run) -> dict:
    """Fetch and write every ``fetch`` item; returns counts by outcome."""
    todo = [item for item in plan if item.action == "fetch"]
    counts = {"written": 0, "unchanged": 0, "skipped": sum(i.action == "skip" for i in plan),
              "not_yet": sum(i.action == "not-yet" for i in plan)}
    roots = settings.roots
    if not todo:
        ensure_static(roots, settings.grid, run)  # the one producer that restores the grid's static layers
        return counts
    static = load_static(roots, settings.grid, run=run)
    for number, item in enumerate(todo, start=1):
        source = sources[item.layer]
        try:
            result = source.fetch(item.day, static)
        except NotYetAvailableError as exc:
            run.log.info("[%d/%d] %s %s not yet available: %s", number, len(todo), item.layer, item.day, exc)
            counts["not_yet"] += 1
            continue
        _validate(item.layer, result.variables)
        source_url = redact_url(result.source_url) if result.source_url else None
        spec = ArtifactSpec(
            logical_id=layer_logical_id(item.layer, item.day, settings.grid),
            root="data",
            relpath=layer_relpath(item.layer, item.day, settings.grid.name),
            kind="env-layer",
            synthetic=source.synthetic,
            time_coverage={"start": f"{item.day.isoformat()}T00:00:00Z", "end": f"{item.day.isoformat()}T23:59:59Z"},
            grid=settings.grid.describe(),
            tags=list(dict.fromkeys([item.layer, "synthetic" if source.synthetic else "live", source.kind])),
            inputs=[{"logical_id": f"source://{source.kind}/{item.layer}@{item.day:%Y%m%d}", "sha256": None,
                     "source_url": source_url}],
            params={"layer": item.layer, "variable": LAYERS[item.layer].variable, "source_kind": source.kind,
                    "source_identity": source.identity(item.day), "source_url": source_url},
            warnings=list(result.warnings),
        )
        dataset = _dataset_for(item.layer, static, result, source.synthetic, item.day)
        before = current_meta(roots, "data", spec.relpath)
        meta = write_artifact(roots, spec, lambda p, ds=dataset: write_netcdf(ds, p),
                              run_id=run.run_id, command=run.command)
        if before is not None and before.get("version") == meta["version"]:
            counts["unchanged"] += 1
        else:
            counts["written"] += 1
            run.artifact(meta)
        run.log.info("[%d/%d] %s %s -> %s (%s)", number, len(todo), item.layer, item.day, meta["path"], item.reason)
    return counts
