"""Prometheus metrics of the stack, from the same sources as the health check.

``exposition(settings)`` renders them in the text format 0.0.4 (``GET /metrics`` on the UI's
port); ``write_textfile(settings)`` writes the same text atomically for node_exporter's textfile
collector (``metrics.textfile`` in config/runtime.yaml), after every run, on hosts that run only
the timers. Everything is computed when asked, from the run records, the catalog index, the
sidecars of the newest data and the disk: nothing is kept in memory between scrapes, so a
scrape after a restart says the same as before it. A fresh ``CollectorRegistry`` per call keeps
the client's process-global default registry (and its Python process metrics) out.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from .. import __version__
from ..config import Settings
from ..gc.disk import disk_usage
from ..provenance import git_sha
from ..store import atomic
from ..store.catalog import read_index
from ..timeutil import utc_now
from . import health
from .runs import all_runs

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
PREFIX = "arcticroute"
# Every status a run record can end in (ops/runs.py); each command gets a series for each, so
# that a first failure is an increase from 0, which rate() and increase() can see.
STATUSES = ("ok", "failed", "bad-input", "interrupted", "running")
HEALTH_VALUE = {"pass": 0, "warn": 1, "fail": 2}
# A temporary name node_exporter ignores (it reads ``*.prom`` only).
TEMP_SUFFIX = ".partial"


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def run_families(records: list[dict]) -> list:
    """Per command: the last run's status, duration and end, the last success; runs by outcome."""
    total = CounterMetricFamily(f"{PREFIX}_runs", "Runs recorded in outputs/runs, by command and final status",
                                labels=["command", "status"])
    status = GaugeMetricFamily(f"{PREFIX}_command_last_run_status",
                               "1 for the status of the command's newest run, 0 for the others",
                               labels=["command", "status"])
    duration = GaugeMetricFamily(f"{PREFIX}_command_last_run_duration_seconds",
                                 "Wall time of the command's newest finished run", labels=["command"])
    ended = GaugeMetricFamily(f"{PREFIX}_command_last_run_end_timestamp_seconds",
                              "When the command's newest finished run ended (Unix time)", labels=["command"])
    success = GaugeMetricFamily(f"{PREFIX}_command_last_success_timestamp_seconds",
                                "When the command last ended with status ok (Unix time)", labels=["command"])
    counts = Counter((r["command"], r.get("status", "unknown")) for r in records)
    newest: dict[str, dict] = {}
    finished: dict[str, dict] = {}
    succeeded: dict[str, dict] = {}
    for record in records:  # oldest first: later ones replace earlier ones
        command = record["command"]
        newest[command] = record
        if record.get("end"):
            finished[command] = record
            if record.get("status") == "ok":
                succeeded[command] = record
    for command in sorted(newest):
        seen = {s for c, s in counts if c == command}
        for state in sorted(set(STATUSES) | seen):
            total.add_metric([command, state], counts.get((command, state), 0))
            status.add_metric([command, state], 1.0 if newest[command].get("status") == state else 0.0)
        if command in finished:
            record = finished[command]
            if record.get("duration_s") is not None:
                duration.add_metric([command], float(record["duration_s"]))
            when = _timestamp(record.get("end"))
            if when is not None:
                ended.add_metric([command], when)
        when = _timestamp(succeeded[command].get("end")) if command in succeeded else None
        if when is not None:
            success.add_metric([command], when)
    return [total, status, duration, ended, success]


def layer_families(settings: Settings, now: datetime) -> list:
    """Per layer on the configured grid: how old its newest data are, and whether they are synthetic."""
    age = GaugeMetricFamily(f"{PREFIX}_layer_age_seconds",
                            "Time since the end of the newest artifact's time coverage", labels=["layer", "grid"])
    synthetic = GaugeMetricFamily(f"{PREFIX}_layer_synthetic",
                                  "1 if the newest artifact of the layer is synthetic (demo) data, else 0",
                                  labels=["layer", "grid"])
    grid = settings.grid.name
    for layer in health.FRESHNESS_LAYERS:
        meta = health.newest_meta(settings, layer)
        if meta is None:
            continue
        end = _timestamp((meta.get("time_coverage") or {}).get("end"))
        if end is not None:
            age.add_metric([layer, grid], max(now.timestamp() - end, 0.0))
        synthetic.add_metric([layer, grid], 1.0 if meta.get("synthetic") else 0.0)
    return [age, synthetic]


def disk_families(settings: Settings) -> list:
    """The data disk as cache.gc sees it (used / (used + available), like df) and its thresholds."""
    root = settings.data_root if settings.data_root.exists() else settings.project_root
    usage = disk_usage(root)
    cfg = settings.runtime["health"]
    watermark = float(settings.runtime.get("gc", {}).get("watermark_disk", cfg["disk_warn_fraction"]))
    families = []
    for name, value, text in (
        ("disk_used_ratio", usage.fraction, "Fraction of the data filesystem in use (used / (used + available))"),
        ("disk_gc_watermark_ratio", watermark, "Fraction in use at or above which cache.gc evicts (gc.watermark_disk)"),
        ("disk_fail_ratio", float(cfg["disk_fail_fraction"]), "Fraction in use at which health fails"),
        ("disk_used_bytes", float(usage.used), "Bytes in use on the data filesystem"),
        ("disk_size_bytes", float(usage.total), "Size of the data filesystem"),
        ("disk_available_bytes", float(usage.free), "Bytes available to this user on the data filesystem"),
    ):
        family = GaugeMetricFamily(f"{PREFIX}_{name}", text, labels=["mount"])
        family.add_metric([usage.mount], float(value))
        families.append(family)
    return families


def catalog_families(settings: Settings) -> list:
    """Sizes of the catalog index (rebuilt from the sidecars if it is missing)."""
    index = read_index(settings.roots, settings.outputs_root)
    ids = GaugeMetricFamily(f"{PREFIX}_catalog_logical_ids", "Logical ids in the catalog", labels=["kind"])
    versions = GaugeMetricFamily(f"{PREFIX}_catalog_versions", "Versions kept of all logical ids", labels=["kind"])
    size = GaugeMetricFamily(f"{PREFIX}_catalog_current_bytes", "Bytes of the newest version of each logical id",
                             labels=["kind"])
    problems = GaugeMetricFamily(f"{PREFIX}_catalog_problems", "Sidecars the catalog could not read")
    by_kind: dict[str, list[int]] = {}
    for entry in index.get("entries", []):
        counts = by_kind.setdefault(str(entry.get("kind")), [0, 0, 0])
        counts[0] += 1
        counts[1] += len(entry.get("versions") or [])
        counts[2] += int(entry.get("size_bytes") or 0)
    for kind, (n_ids, n_versions, n_bytes) in sorted(by_kind.items()):
        ids.add_metric([kind], n_ids)
        versions.add_metric([kind], n_versions)
        size.add_metric([kind], n_bytes)
    problems.add_metric([], len(index.get("problems", [])))
    return [ids, versions, size, problems]


def health_families(result: dict) -> list:
    value = GaugeMetricFamily(f"{PREFIX}_health_status", "Overall health: 0 pass, 1 warn, 2 fail")
    value.add_metric([], HEALTH_VALUE.get(result.get("status"), 2))
    warnings = GaugeMetricFamily(f"{PREFIX}_health_warnings", "Checks not passing")
    warnings.add_metric([], len(result.get("warnings", [])))
    return [value, warnings]


def build_family() -> InfoMetricFamily:
    info = InfoMetricFamily(f"{PREFIX}_build", "Version and commit of the running code")
    info.add_metric([], {"version": __version__, "git_sha": git_sha()})
    return info


class _Snapshot:
    """A collector over families computed once (registry.register collects once to check names)."""

    def __init__(self, families: list):
        self.families = families

    def collect(self):
        return iter(self.families)


def families(settings: Settings, health_result: dict | None = None, now: datetime | None = None) -> list:
    moment = now or utc_now()
    result = health_result if health_result is not None else health.health_check(settings=settings, now=moment)
    return [build_family(), *health_families(result), *run_families(all_runs(settings.outputs_root)),
            *layer_families(settings, moment), *disk_families(settings), *catalog_families(settings)]


def exposition(settings: Settings, health_result: dict | None = None, now: datetime | None = None) -> bytes:
    """Every metric in Prometheus' text format 0.0.4 (``CONTENT_TYPE``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families(settings, health_result, now)))
    return generate_latest(registry)


def textfile_path(settings: Settings) -> Path | None:
    """Where the textfile goes (relative paths are under the outputs root); None when switched off."""
    configured = settings.runtime.get("metrics", {}).get("textfile")
    return settings.under_outputs(configured) if configured else None


def write_textfile(settings: Settings, health_result: dict | None = None) -> Path | None:
    """Write the metrics for node_exporter's textfile collector, atomically; returns the path."""
    path = textfile_path(settings)
    if path is None:
        return None
    atomic.write_bytes(path, exposition(settings, health_result), temp_suffix=TEMP_SUFFIX)
    return path
