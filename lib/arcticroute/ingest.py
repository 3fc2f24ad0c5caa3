"""ingest.nrt.pull: plan -> fetch -> validate -> regrid -> write layer artifacts -> catalog.

``plan_pull`` is a pure decision (what to fetch, what is already there, what is not yet
published); ``build_plan`` gathers what it decides on (the sidecars on disk, and for items
already pulled the source's identity: a HEAD request, a search) and ``execute_pull`` carries
it out, downloading ``jobs`` items at a time. A day already pulled from an unchanged source is
skipped, so a second run transfers and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from .artifacts import ArtifactSpec, current_meta, write_artifact
from .config import Settings
from .errors import ArcticRouteError, ConfigError, DataValidationError, NotYetAvailableError
from .integrity import is_intact
from .layers import (
    LAYERS,
    grid_dataset,
    incident_count,
    layer_logical_id,
    layer_relpath,
    write_netcdf,
)
from .redact import redact_known, redact_url
from .sources import Source, build_sources
from .static import StaticGrid, ensure_static, load_static
from .timeutil import month_days

VALID_RANGES = {"ice.sic": (0.0, 1.0), "wave.hs": (0.0, 30.0), "ais.density": (0.0, 1e6)}
MISSING_IS_FAILURE = 3  # this many days of one source answering 404, and none found: the URL is wrong


class PullFailedError(ArcticRouteError):
    """Some items could not be pulled; what succeeded was kept."""


@dataclass(frozen=True)
class PlanItem:
    layer: str
    day: date
    action: str  # "fetch", "skip" or "not-yet"
    reason: str
    url: str | None = None  # where it comes from (redacted), for the dry run's listing
    destination: str | None = None  # the artifact's path under the data root

    @property
    def change(self) -> str:
        """new / update / unchanged / not-yet: the dry run's one-word verdict."""
        if self.action == "skip":
            return "unchanged"
        if self.action == "not-yet":
            return "not-yet"
        return "new" if self.reason == "new" else "update"


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

    ``identities`` holds what the source says now for the items it was asked about: its
    identity, or ``{"not_yet": why}`` (not published yet), ``{"missing": why}`` (the provider
    no longer has it). ``damaged`` holds the items whose current version's file is missing
    or fails verification: they are fetched again. ``force`` fetches every published day.
    """
    items = []
    for day in days:
        for layer in layers:
            identity = identities.get((layer, day)) or {}
            meta = existing.get((layer, day))
            if day > today:
                items.append(PlanItem(layer, day, "not-yet", "in the future"))
            elif "not_yet" in identity and meta is None:
                items.append(PlanItem(layer, day, "not-yet", f"not published yet ({identity['not_yet']})"))
            elif meta is None:
                items.append(PlanItem(layer, day, "fetch", "new"))
            elif force:
                items.append(PlanItem(layer, day, "fetch", "forced"))
            elif (layer, day) in damaged:
                items.append(PlanItem(layer, day, "fetch", "current version missing or corrupt"))
            elif (meta.get("grid") or {}).get("name") != grid_name:
                items.append(PlanItem(layer, day, "fetch", "grid changed"))
            elif "missing" in identity or "not_yet" in identity:
                items.append(PlanItem(layer, day, "skip", "kept; the provider no longer lists it"))
            elif meta.get("params", {}).get("source_identity") != identity:
                items.append(PlanItem(layer, day, "fetch", "source changed"))
            else:
                items.append(PlanItem(layer, day, "skip", "already pulled, unchanged"))
    return items


def select_days(year: int, month: int, since: datetime | None) -> list[date]:
    days = month_days(year, month)
    if since is not None:
        days = [d for d in days if d >= since.date()]
    return days


def _probe(source: Source, day: date) -> dict:
    """The source's identity now, or why it has none (never raises for what a plan can say)."""
    from .sources.http_client import FetchError, UpstreamMissingError

    try:
        return source.identity(day)
    except NotYetAvailableError as exc:
        return {"not_yet": str(exc)}
    except UpstreamMissingError as exc:
        today = source.context.today or date.today()
        recent = (today - day).days <= int(source.config.get("available_after_days", 1))
        return {"not_yet": str(exc)} if recent else {"missing": str(exc)}
    except FetchError as exc:
        return {"probe_error": str(exc)}


def check_sources(settings: Settings, layers: list[str], overrides: dict[str, str] | None = None) -> None:
    """Refuse a bad source choice before a run starts (exit 2, nothing written): no source, an
    unknown name, a source of another layer, a kind whose optional toolbox is missing."""
    if not settings.sources:
        raise ConfigError(
            f"profile {settings.profile!r} has no data sources configured (config/env.yaml: profiles.{settings.profile}.sources); "
            "nothing was pulled and no synthetic data was substituted",
            hint="use --profile demo for the embedded synthetic data",
        )
    build_sources(settings.profile, settings.sources, layers, overrides=overrides, env=settings.env)


def build_plan(settings: Settings, layers: list[str], days: list[date], today: date,
               force: bool = False, *, overrides: dict[str, str] | None = None, dry_run: bool = False,
               jobs: int = 1, log=None, **injected) -> tuple[list[PlanItem], dict[str, Source]]:
    check_sources(settings, layers, overrides)
    sources = build_sources(settings.profile, settings.sources, layers, overrides=overrides,
                            data_root=settings.data_root, env=settings.env, today=today, dry_run=dry_run, log=log,
                            **injected)
    roots = settings.roots
    grid_name = settings.grid.name
    existing = {
        (layer, d): current_meta(roots, "data", layer_relpath(layer, d, grid_name)) for layer in layers for d in days
    }
    damaged = frozenset(key for key, meta in existing.items() if meta is not None and not is_intact(roots, meta))

    def wanted(key) -> bool:
        """Ask the source only where its answer changes the decision."""
        layer, day = key
        meta = existing[key]
        if day > today:
            return False
        if meta is None:
            return dry_run and sources[layer].remote  # new anyway; a dry run lists whether it is published
        return not (force or key in damaged or (meta.get("grid") or {}).get("name") != grid_name)

    keys = [key for key in existing if wanted(key)]
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        answers = list(pool.map(lambda key: _probe(sources[key[0]], key[1]), keys))
    identities = dict(zip(keys, answers, strict=True))
    plan = plan_pull(layers, days, today, identities, existing, grid_name, damaged, force)
    described = []
    for item in plan:
        where = sources[item.layer].describe(item.day)
        described.append(dataclasses.replace(item, url=where.get("url"),
                                             destination=layer_relpath(item.layer, item.day, grid_name)))
    return described, sources


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


def _write(settings: Settings, item: PlanItem, source: Source, result, static: StaticGrid, run) -> tuple[dict, bool]:
    """Write one item's artifact; returns its sidecar and whether it is a new version."""
    from .sources.gridded import NETCDF_LOCK

    _validate(item.layer, result.variables)
    source_url = redact_url(result.source_url) if result.source_url else None
    identity = result.identity if result.identity is not None else source.identity(item.day)
    inputs = result.inputs if result.inputs is not None else [
        {"logical_id": f"source://{source.kind}/{item.layer}@{item.day:%Y%m%d}", "sha256": None, "source_url": source_url}]
    spec = ArtifactSpec(
        logical_id=layer_logical_id(item.layer, item.day, settings.grid),
        root="data",
        relpath=layer_relpath(item.layer, item.day, settings.grid.name),
        kind="env-layer",
        synthetic=source.synthetic,
        time_coverage={"start": f"{item.day.isoformat()}T00:00:00Z", "end": f"{item.day.isoformat()}T23:59:59Z"},
        grid=settings.grid.describe(),
        tags=list(dict.fromkeys([item.layer, "synthetic" if source.synthetic else "live", source.kind])),
        inputs=inputs,
        params={"layer": item.layer, "variable": LAYERS[item.layer].variable, "source_kind": source.kind,
                "source_name": source.name, "source_identity": identity, "source_url": source_url},
        warnings=list(result.warnings),
    )
    dataset = _dataset_for(item.layer, static, result, source.synthetic, item.day)
    before = current_meta(settings.roots, "data", spec.relpath)

    def write(path):
        with NETCDF_LOCK:
            write_netcdf(dataset, path)

    meta = write_artifact(settings.roots, spec, write, run_id=run.run_id, command=run.command)
    return meta, not (before is not None and before.get("version") == meta["version"])


def execute_pull(settings: Settings, plan: list[PlanItem], sources: dict[str, Source], run, *, jobs: int = 1,
                 progress: Callable[[PlanItem, str], None] | None = None) -> dict:
    """Fetch (``jobs`` at a time) and write every ``fetch`` item; returns counts by outcome.

    A failed item is named and the others go on; if any failed, PullFailedError is raised at
    the end (exit 1, alert), after everything that succeeded has been written.
    """
    from .sources.http_client import UpstreamMissingError

    todo = [item for item in plan if item.action == "fetch"]
    counts = {"written": 0, "unchanged": 0, "skipped": sum(i.action == "skip" for i in plan),
              "not_yet": sum(i.action == "not-yet" for i in plan), "missing": 0, "failed": 0,
              "bytes_transferred": 0}
    run.summary = counts
    roots = settings.roots
    if not todo:
        ensure_static(roots, settings.grid, run)  # the one producer that restores the grid's static layers
        counts["status"] = "no_new_data"
        return counts
    static = load_static(roots, settings.grid, run=run)
    failures: list[str] = []
    missing: dict[str, list[PlanItem]] = {}
    fetched_ok: set[str] = set()
    total = len(todo)

    def fetch(item: PlanItem):
        return sources[item.layer].fetch(item.day, static)

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = {pool.submit(fetch, item): item for item in todo}
        for number, future in enumerate(as_completed(futures), start=1):
            item = futures[future]
            source = sources[item.layer]
            label = f"[{number}/{total}] {item.layer} {item.day} ({source.name})"
            outcome = "failed"
            try:
                result = future.result()
                counts["bytes_transferred"] += result.transferred_bytes
                meta, new = _write(settings, item, source, result, static, run)
            except NotYetAvailableError as exc:
                run.log.info("%s not yet available: %s", label, exc)
                counts["not_yet"] += 1
                outcome = "not-yet"
            except UpstreamMissingError as exc:
                missing.setdefault(source.name, []).append(item)
                counts["missing"] += 1
                run.warn(f"{item.layer} {item.day}: {source.name} does not have it ({exc}); the provider's record "
                         "has gaps, the day is skipped")
                outcome = "missing"
            except ArcticRouteError as exc:
                if exc.exit_code == 2:
                    raise
                counts["failed"] += 1
                failures.append(f"{item.layer} {item.day} from {source.name}: {exc}")
                run.log.error("%s failed: %s", label, exc)
            except Exception as exc:  # noqa: BLE001 - one item's bug must not lose the others' work
                counts["failed"] += 1
                failures.append(f"{item.layer} {item.day} from {source.name}: unexpected {type(exc).__name__}: {exc}")
                run.log.exception("%s failed", label)
            else:
                fetched_ok.add(source.name)
                if new:
                    counts["written"] += 1
                    run.artifact(meta)
                    outcome = "written"
                else:
                    counts["unchanged"] += 1
                    outcome = "unchanged"
                run.log.info("%s -> %s (%s, %s)", label, meta["path"], item.reason, outcome)
            if progress is not None:
                progress(item, outcome)
    for name, items in missing.items():
        if len(items) >= MISSING_IS_FAILURE and name not in fetched_ok:
            failures.append(f"{name}: every one of the {len(items)} days asked answered 404 Not Found; "
                            "its URL template is probably wrong")
    counts["status"] = "failed" if failures else ("ok" if counts["written"] else "no_new_data")
    if failures:
        shown = "; ".join(redact_known(f) for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        raise PullFailedError(
            f"{len(failures)} of {total} items could not be pulled: {shown}{more}; "
            f"{counts['written']} written and kept",
            hint="the log (outputs/logs/ingest.nrt.pull.log) has every attempt; run the pull again once the source "
                 "answers, or fix its config in config/env.yaml",
        )
    return counts
