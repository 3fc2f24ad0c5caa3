"""ingest.nrt.pull: plan -> fetch -> validate -> regrid -> write layer artifacts -> catalog.

``plan_pull`` is a pure decision (what to fetch, what is already there, what is not yet
published); ``build_plan`` gathers what it decides on (the sidecars on disk, and for items
already pulled the source's identity: a HEAD request, a search) and ``execute_pull`` carries
it out: each day's items are fetched, regridded and written to temporary files by a worker
process (``jobs`` days at a time, see parallel.py), and published as artifacts by the parent.
A day already pulled from an unchanged source is skipped, so a second run transfers and writes
nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from . import cf
from .config import Settings
from .errors import (
    ArcticRouteError,
    ConfigError,
    DataValidationError,
    NotYetAvailableError,
    StorageError,
)
from .layers import (
    LAYERS,
    layer_dataset,
    layer_logical_id,
    layer_relpath,
    write_netcdf,
)
from .redact import redact_known, redact_url
from .sources import Source, build_sources
from .static import StaticGrid, ensure_static, load_static
from .store.artifacts import ArtifactSpec, previous_meta, write_artifact
from .store.integrity import is_intact
from .timeutil import day_span, month_days

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
    """The days of the month from ``since``, which may reach back into the month before: the
    daily chain's look-back (``--ym -P1D --since -P3D``) then still covers the last days of the
    previous month on the 2nd and 3rd, where a day a provider skipped is found to be a gap."""
    days = month_days(year, month)
    if since is not None:
        earlier = month_days(year - (month == 1), 12 if month == 1 else month - 1)
        days = [d for d in earlier + days if d >= since.date()]
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
    injected.setdefault("run_deadline_at", time.time() + float(settings.runtime["pull"]["run_deadline_s"]))
    sources = build_sources(settings.profile, settings.sources, layers, overrides=overrides,
                            data_root=settings.data_root, env=settings.env, today=today, dry_run=dry_run, log=log,
                            pull=settings.runtime["pull"], **injected)
    roots = settings.roots
    grid_name = settings.grid.name
    existing = {
        (layer, d): previous_meta(roots, "data", layer_relpath(layer, d, grid_name)) for layer in layers for d in days
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


@dataclass(frozen=True)
class PullJob:
    """One day's fetch items, as a worker process receives them."""

    settings: Settings
    layers: tuple[str, ...]
    overrides: tuple[tuple[str, str], ...]
    today: date
    day: date
    items: tuple[PlanItem, ...]
    token: str = ""  # names the run's adapters (the parent's own, used when a job runs in the parent)
    run_deadline_at: float | None = None  # when the run's downloads must end (time.time(), the parent's)


@dataclass
class Fetched:
    """One item's outcome in a worker: its temporary netCDF file (unpublished) and what its
    sidecar needs, or why there is none."""

    item: PlanItem
    outcome: str  # "fetched", "not-yet", "missing" or "failed"
    message: str = ""
    tmp: str | None = None
    identity: dict | None = None
    source_url: str | None = None
    inputs: list[dict] | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    transferred_bytes: int = 0
    license: str | None = None  # the licence the artifact states (its sidecar records it too)


_WORKER_SOURCES: dict[tuple[str, int], dict[str, Source]] = {}


def _job_sources(job: PullJob) -> dict[str, Source]:
    """The run's adapters: the parent's own in the parent; in a worker process its own, built
    once from the settings (never the parent's inherited through fork: an HTTP session's pooled
    connections must not be shared by two processes)."""
    import os

    key = (job.token, os.getpid())
    if key not in _WORKER_SOURCES:
        settings = job.settings
        _WORKER_SOURCES.clear()
        _WORKER_SOURCES[key] = build_sources(settings.profile, settings.sources, list(job.layers),
                                             overrides=dict(job.overrides), data_root=settings.data_root,
                                             env=settings.env, today=job.today, pull=settings.runtime["pull"],
                                             run_deadline_at=job.run_deadline_at)
    return _WORKER_SOURCES[key]


def pull_day(job: PullJob) -> list[Fetched]:
    """Fetch, validate and regrid one day's items and write each to a temporary file beside its
    artifact (worker side; the parent publishes them). A failed item does not stop the others."""
    from .sources.gridded import NETCDF_LOCK
    from .sources.http_client import UpstreamMissingError

    settings = job.settings
    sources = _job_sources(job)
    static = load_static(settings.roots, settings.grid)
    prefetched = _prefetch_day(sources, job, static)
    outcomes = []
    for item in job.items:
        source = sources[item.layer]
        try:
            result = prefetched.get(item.layer) or source.fetch(item.day, static)
            _validate(item.layer, result.variables)
            dataset = layer_dataset(item.layer, static.grid, item.day, result, source, command="ingest.nrt.pull",
                                    created=cf.date_created(settings.env),
                                    latlon=settings.runtime["storage"]["latlon_in_every_file"])
            target = settings.data_root / layer_relpath(item.layer, item.day, settings.grid.name)
            digits = {LAYERS[item.layer].variable: LAYERS[item.layer].digits}
            tmp = _write_temp(target, lambda path, dataset=dataset, digits=digits:
                              _locked_write(NETCDF_LOCK, dataset, path, digits),
                              layer_logical_id(item.layer, item.day, settings.grid), settings.roots)
            identity = result.identity if result.identity is not None else source.identity(item.day)
            outcomes.append(Fetched(item, "fetched", tmp=str(tmp), identity=identity,
                                    source_url=redact_url(result.source_url) if result.source_url else None,
                                    inputs=result.inputs, warnings=list(result.warnings),
                                    transferred_bytes=result.transferred_bytes,
                                    license=dataset.attrs["license"]))
        except NotYetAvailableError as exc:
            outcomes.append(Fetched(item, "not-yet", str(exc)))
        except UpstreamMissingError as exc:
            outcomes.append(Fetched(item, "missing", str(exc)))
        except ArcticRouteError as exc:
            if _stops_the_run(exc):
                _discard(outcomes)
                raise
            outcomes.append(Fetched(item, "failed", str(exc)))
        except Exception as exc:  # noqa: BLE001 - one item's bug must not lose the others' work
            import logging
            import traceback

            from .store.oserrors import storage_error

            if (error := storage_error(exc)) is not None:
                _discard(outcomes)
                raise error from exc

            logging.getLogger("arcticroute.ingest").error("%s %s failed:\n%s", item.layer, item.day,
                                                          traceback.format_exc())
            outcomes.append(Fetched(item, "failed", f"unexpected {type(exc).__name__}: {exc}"))
    return outcomes


def _prefetch_day(sources: dict[str, Source], job: PullJob, static: StaticGrid) -> dict:
    """Sources that make several layers of a day at once (the synthetic one) make them here, once."""
    by_source: dict[int, list[PlanItem]] = {}
    for item in job.items:
        by_source.setdefault(id(type(sources[item.layer])), []).append(item)
    found = {}
    for items in by_source.values():
        source = sources[items[0].layer]
        fetch_many = getattr(source, "fetch_layers", None)
        if fetch_many is not None and len(items) > 1:
            found.update(fetch_many(job.day, static, [i.layer for i in items]))
    return found


def _locked_write(lock, dataset, path, digits) -> None:
    with lock:
        write_netcdf(dataset, path, digits=digits)


def _write_temp(target, write, logical_id: str, roots=None):
    """Write an artifact's bytes to a temporary file in its folder (removed on failure); a
    full disk is named as such, as write_artifact names it."""
    from .store import atomic
    from .store.oserrors import storage_error

    tmp = atomic.temp_path_for(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
    except (OSError, RuntimeError) as exc:
        atomic.note_disk_full(exc, target.parent)  # before the partial file frees the space
        atomic.remove_if_present(tmp)
        error = storage_error(exc, target.parent, what=logical_id, roots=roots)
        if error is not None:
            raise error from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _where_attempts(run) -> str:
    """Where every attempt is logged: the run's log file, unless it could not be written."""
    details = getattr(run, "details_hint", None)
    return f"{details()} (every attempt)" if details else "the log has every attempt"


def _stops_the_run(exc: ArcticRouteError) -> bool:
    """Bad input, a full disk or a root that cannot be written: every other item would fail the
    same way, so the run stops with this error (and its hint) instead of counting failures."""
    return exc.exit_code == 2 or isinstance(exc, StorageError)


def _discard(outcomes: list[Fetched]) -> None:
    for fetched in outcomes:
        if fetched.tmp:
            from pathlib import Path

            Path(fetched.tmp).unlink(missing_ok=True)


def _publish(settings: Settings, fetched: Fetched, source: Source, run) -> tuple[dict, bool]:
    """Make the worker's temporary file the item's new artifact version (parent side);
    returns its sidecar and whether it is a new version."""
    import os

    item = fetched.item
    inputs = fetched.inputs if fetched.inputs is not None else [
        {"logical_id": f"source://{source.kind}/{item.layer}@{item.day:%Y%m%d}", "sha256": None,
         "source_url": fetched.source_url}]
    spec = ArtifactSpec(
        logical_id=layer_logical_id(item.layer, item.day, settings.grid),
        root="data",
        relpath=layer_relpath(item.layer, item.day, settings.grid.name),
        kind="env-layer",
        synthetic=source.synthetic,
        time_coverage=day_span(item.day),
        grid=settings.grid.describe(),
        tags=list(dict.fromkeys([item.layer, "synthetic" if source.synthetic else "live", source.kind])),
        inputs=inputs,
        params={"layer": item.layer, "variable": LAYERS[item.layer].variable, "source_kind": source.kind,
                "source_name": source.name, "source_identity": fetched.identity, "source_url": fetched.source_url,
                "license": fetched.license},
        warnings=list(fetched.warnings),
    )
    before = previous_meta(settings.roots, "data", spec.relpath)
    meta = write_artifact(settings.roots, spec, lambda path: os.replace(fetched.tmp, path),
                          run_id=run.run_id, command=run.command)
    return meta, not (before is not None and before.get("version") == meta["version"])


def remove_run_temporaries(folders, run_id: str) -> None:
    """Remove the temporary files this run's workers left unpublished in ``folders``."""
    from .store import atomic

    prefix = atomic.tmp_prefix_for(run_id)
    for folder in set(folders):
        if folder.is_dir():
            for leftover in folder.glob(prefix + "*"):
                leftover.unlink(missing_ok=True)


def execute_pull(settings: Settings, plan: list[PlanItem], sources: dict[str, Source], run, *,
                 jobs: int | None = None, overrides: dict[str, str] | None = None,
                 progress: Callable[[PlanItem, str], None] | None = None, executor: str = "process",
                 scheduler: str | None = None) -> dict:
    """Fetch and write every ``fetch`` item, each day's in a worker process (``jobs`` at a time,
    default one per core; or on a dask cluster with ``executor="dask"``; see parallel.py), and
    publish them here; returns counts by outcome.

    A failed item is named and the others go on; if any failed, PullFailedError is raised at
    the end (exit 1, alert), after everything that succeeded has been written.
    """
    from contextlib import closing

    from .parallel import resolve_jobs, run_tasks

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
    load_static(roots, settings.grid, run=run)  # built here, once, before any worker needs it
    import os
    import uuid

    layers = tuple(sorted({item.layer for item in plan}))
    token = uuid.uuid4().hex
    _WORKER_SOURCES.clear()
    _WORKER_SOURCES[(token, os.getpid())] = sources
    today = next(iter(sources.values())).context.today or date.today()
    deadline_at = next(iter(sources.values())).context.run_deadline_at

    def day_jobs(items: list[PlanItem]) -> list[PullJob]:
        by_day: dict[date, list[PlanItem]] = {}
        for item in items:
            by_day.setdefault(item.day, []).append(item)
        return [PullJob(settings, layers, tuple(sorted((overrides or {}).items())), today, day, tuple(day_items), token,
                        deadline_at) for day, day_items in sorted(by_day.items())]

    # a source that reads one file for every day (an incidents table) fetches it once, here
    shared = [item for item in todo if not sources[item.layer].parallel_days]
    jobs_ = day_jobs([item for item in todo if sources[item.layer].parallel_days])
    failures: list[str] = []
    missing: dict[str, list[PlanItem]] = {}
    fetched_ok: set[str] = set()
    total = len(todo)
    number = 0
    folders = [(settings.data_root / layer_relpath(i.layer, i.day, settings.grid.name)).parent for i in todo]
    try:
        with closing(run_tasks(pull_day, jobs_, jobs=resolve_jobs(jobs), run_tag=run.run_id,
                               outputs_root=str(settings.outputs_root), log=run.log, executor=executor,
                               scheduler=scheduler)) as parallel:
            results = itertools.chain(parallel, run_tasks(pull_day, day_jobs(shared), jobs=1))
            for job, result in results:
                try:
                    result.reraise()
                except ArcticRouteError as exc:
                    if _stops_the_run(exc):
                        raise
                    result.value = [Fetched(item, "failed", str(exc)) for item in job.items]
                for fetched in result.value:
                    number += 1
                    outcome = _record(settings, fetched, sources[fetched.item.layer], run, counts, failures,
                                      missing, fetched_ok, f"[{number}/{total}]")
                    if progress is not None:
                        progress(fetched.item, outcome)
    finally:
        _WORKER_SOURCES.clear()
        remove_run_temporaries(folders, run.run_id)
    for name, items in missing.items():
        if len(items) >= MISSING_IS_FAILURE and name not in fetched_ok:
            failures.append(f"{name}: every one of the {len(items)} days asked answered 404 Not Found; "
                            "its URL template is probably wrong")
    counts["status"] = "failed" if failures else ("ok" if counts["written"] else "no_new_data")
    gaps = [f"{i.layer} {i.day} ({name})" for name, items in missing.items() for i in items]
    if gaps and not failures:
        run.alert_warning(f"{len(gaps)} day(s) the providers do not have: the data have a gap",
                          "; ".join(gaps[:20]) + (" …" if len(gaps) > 20 else ""),
                          "nothing to repair here: routes and risk of those days use what there is; if the "
                          "provider publishes them late, ingest.nrt.pull --ym YYYYMM --since YYYY-MM-DD fetches them")
    if failures:
        shown = "; ".join(redact_known(f) for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        raise PullFailedError(
            f"{len(failures)} of {total} items could not be pulled: {shown}{more}; "
            f"{counts['written']} written and kept",
            hint=f"{_where_attempts(run)}; run the pull again once the source "
                 "answers, or fix its config in config/env.yaml",
        )
    return counts


def _record(settings, fetched: Fetched, source: Source, run, counts, failures, missing, fetched_ok,
            number: str) -> str:
    """Publish one worker outcome and count it; returns the one-word outcome."""
    item = fetched.item
    label = f"{number} {item.layer} {item.day} ({source.name})"
    counts["bytes_transferred"] += fetched.transferred_bytes
    if fetched.outcome == "not-yet":
        run.log.info("%s not yet available: %s", label, fetched.message)
        counts["not_yet"] += 1
        return "not-yet"
    if fetched.outcome == "missing":
        missing.setdefault(source.name, []).append(item)
        counts["missing"] += 1
        run.warn(f"{item.layer} {item.day}: {source.name} does not have it ({fetched.message}); the provider's "
                 "record has gaps, the day is skipped")
        return "missing"
    if fetched.outcome == "fetched":
        try:
            meta, new = _publish(settings, fetched, source, run)
        except ArcticRouteError as exc:
            if _stops_the_run(exc):
                raise
            fetched = dataclasses.replace(fetched, outcome="failed", message=str(exc))
        else:
            fetched_ok.add(source.name)
            outcome = "written" if new else "unchanged"
            counts[outcome] += 1
            if new:
                run.artifact(meta)
            run.log.info("%s -> %s (%s, %s)", label, meta["path"], item.reason, outcome)
            return outcome
    counts["failed"] += 1
    failures.append(f"{item.layer} {item.day} from {source.name}: {fetched.message}")
    run.log.error("%s failed: %s", label, fetched.message)
    return "failed"
