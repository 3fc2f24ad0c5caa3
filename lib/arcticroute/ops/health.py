"""health.check: is the stack healthy, and if not, what to do about it.

``health_check`` runs every check and returns one dict shaped like the IETF health-check
draft (``application/health+json``): ``status`` (pass | warn | fail), ``checks`` keyed
``"component:measurement"``, each a list of ``{status, observedValue, observedUnit, time,
output}``, plus what operators asked for: ``ok``, ``warnings[]`` (check, message, hint),
``disk_free_gb``, ``data_dirs``, ``git_sha``, ``last_runs``, ``version``.

A check never raises: whatever goes wrong while checking is that check's ``fail`` with the
reason. A change of the overall status to warn or fail writes one alert file (not one per
probe while the state stays the same), see ``record_transition``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from .. import __version__
from ..config import Settings, load_settings
from ..errors import ArcticRouteError
from ..layers import LAYERS, layer_relpath
from ..provenance import git_sha
from ..redact import secret_values
from ..risk.fuse import daily_relpath
from ..store import atomic
from ..store.artifacts import current_meta, meta_path_for
from ..store.integrity import IntegrityError, verify_artifact
from ..timeutil import iso_utc, utc_now
from .alerts import write_alert
from .runs import last_runs

MEDIA_TYPE = "application/health+json"
RANK = {"pass": 0, "warn": 1, "fail": 2}
# Distributions the commands import (module name, distribution name).
REQUIRED_PACKAGES = (
    ("click", "click"), ("xarray", "xarray"), ("netCDF4", "netCDF4"), ("numpy", "numpy"), ("scipy", "scipy"),
    ("skimage", "scikit-image"), ("pyproj", "pyproj"), ("global_land_mask", "global-land-mask"),
    ("yaml", "PyYAML"), ("dotenv", "python-dotenv"), ("jsonschema", "jsonschema"), ("matplotlib", "matplotlib"),
    ("filelock", "filelock"), ("psutil", "psutil"), ("pystac_client", "pystac-client"),
    ("streamlit", "streamlit"), ("concurrent_log_handler", "concurrent-log-handler"),
)
FRESHNESS_LAYERS = (*LAYERS, "risk")


@dataclass
class Observation:
    """One entry of ``checks``; ``hint`` says what to do when it is not a pass."""

    status: str
    output: str = ""
    value: object = None
    unit: str | None = None
    hint: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self, now: str) -> dict:
        entry = {"status": self.status, "time": now, "output": self.output}
        if self.value is not None:
            entry["observedValue"] = self.value
        if self.unit:
            entry["observedUnit"] = self.unit
        return {**entry, **self.extra}


# -- the individual checks ----------------------------------------------------------------------

def _folder_size(root: Path) -> int:
    total = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue  # vanished while we looked
    return total


def check_folder(name: str, path: Path) -> tuple[Observation, dict]:
    info = {"name": name, "path": str(path), "exists": path.is_dir(), "readable": False, "writable": False,
            "size_bytes": None}
    if not info["exists"]:
        return Observation("fail", f"{path} does not exist",
                           hint=f"create it (mkdir -p {path}) or point ARCTICROUTE_{name.upper()} at the right folder"), info
    info["readable"] = os.access(path, os.R_OK | os.X_OK)
    probe = atomic.temp_path_for(path / "health-probe")
    try:
        probe.write_bytes(b"")
        probe.unlink()
        info["writable"] = True
    except OSError:
        info["writable"] = False
    info["size_bytes"] = _folder_size(path) if info["readable"] else None
    if not (info["readable"] and info["writable"]):
        missing = " and ".join(w for w, ok in (("readable", info["readable"]), ("writable", info["writable"])) if not ok)
        return Observation("fail", f"{path} is not {missing} by this user (uid {os.getuid() if hasattr(os, 'getuid') else '?'})",
                           hint=f"fix its owner or permissions, e.g. chown -R $(id -u) {path}"), info
    return Observation("pass", f"{path} exists, readable and writable", info["size_bytes"], "bytes"), info


def check_disk(settings: Settings) -> tuple[Observation, float]:
    usage = shutil.disk_usage(settings.data_root if settings.data_root.exists() else settings.project_root)
    used = usage.used / usage.total if usage.total else 0.0
    free_gb = round(usage.free / 1e9, 2)
    cfg = settings.runtime["health"]
    watermark = float(settings.runtime.get("gc", {}).get("watermark_disk", cfg["disk_warn_fraction"]))
    text = f"{used:.1%} used, {free_gb} GB free on the filesystem of {settings.data_root}"
    if used >= cfg["disk_fail_fraction"]:
        return Observation("fail", f"{text}: above {cfg['disk_fail_fraction']:.0%}", round(used, 4), "fraction",
                           hint="free space now: run the cache and catalog GC (just gc), or grow the disk"), free_gb
    if used >= watermark:
        return Observation("warn", f"{text}: above the GC watermark {watermark:.0%}", round(used, 4), "fraction",
                           hint="run the GC (just gc) and check that its timer is enabled"), free_gb
    return Observation("pass", text, round(used, 4), "fraction"), free_gb


def check_packages() -> Observation:
    """Each required distribution is installed and its module can be found (no import: fast)."""
    found, problems = {}, []
    for module, dist in REQUIRED_PACKAGES:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{dist} not installed")
            continue
        if importlib.util.find_spec(module) is None:
            problems.append(f"{dist} {version} installed but module {module} not importable")
            continue
        found[dist] = version
    if problems:
        return Observation("fail", "; ".join(problems), len(found), "packages",
                           hint="run just setup (it repairs a partial .venv) or rebuild the image",
                           extra={"packages": found})
    return Observation("pass", f"{len(found)} required packages present", len(found), "packages",
                       extra={"packages": found})


def _newest_relpath(settings: Settings, layer: str) -> str | None:
    """Canonical path of the newest day of a layer on this grid (by the names on disk: newest
    year, month, then file), or None when the layer has no day."""
    grid = settings.grid.name
    folder = (settings.data_root / "env" / layer / grid) if layer != "risk" else (settings.data_root / "risk" / grid)
    years = sorted((p for p in folder.glob("[0-9][0-9][0-9][0-9]") if p.is_dir()), reverse=True)
    for year in years:
        for month in sorted((p for p in year.glob("[0-9][0-9]") if p.is_dir()), reverse=True):
            days = sorted({p.name.split("_")[-1][:8] for p in month.glob("*_[0-9]*.nc") if "_adv_v" not in p.name
                           and len(p.name.split("_")[-1]) == 11
                           and (p.is_symlink() or p.is_file()) and meta_path_for(p).exists()}, reverse=True)
            if days:
                when = datetime.strptime(days[0], "%Y%m%d").date()
                return daily_relpath(when, grid) if layer == "risk" else layer_relpath(layer, when, grid)
    return None


def _served_meta(settings: Settings, layer: str) -> dict | None:
    """Sidecar of the current version of the layer's newest day; IntegrityError when it is not
    that artifact's."""
    relpath = _newest_relpath(settings, layer)
    return current_meta(settings.roots, "data", relpath) if relpath else None


def newest_meta(settings: Settings, layer: str) -> dict | None:
    """Sidecar of the current version of the layer's newest day on this grid; None when there is
    none, or when it is not that artifact's (check_served fails it then)."""
    try:
        return _served_meta(settings, layer)
    except IntegrityError:
        return None


def check_freshness(settings: Settings, layer: str, now: datetime) -> Observation:
    limit_h = float(settings.runtime["health"]["freshness_max_hours"].get(layer, 48))
    try:
        meta = _served_meta(settings, layer)
    except IntegrityError as exc:
        return Observation("fail", f"the newest {layer} day cannot be dated: {exc}", None, "h", hint=exc.hint)
    if meta is None:
        command = "risk.fuse (just fuse)" if layer == "risk" else "ingest.nrt.pull (just pull)"
        return Observation("warn", f"no {layer} data on grid {settings.grid.name}", None, "h",
                           hint=f"run {command}")
    end = datetime.fromisoformat(meta["time_coverage"]["end"].replace("Z", "+00:00"))
    age_h = round(max((now - end).total_seconds(), 0) / 3600, 1)
    synthetic = bool(meta.get("synthetic"))
    label = " (SYNTHETIC demo data — not for navigation)" if synthetic else ""
    text = f"newest {layer} covers up to {meta['time_coverage']['end']}, {age_h} h ago{label}"
    extra = {"synthetic": synthetic, "logical_id": meta["logical_id"]}
    if age_h > limit_h:
        command = "risk.fuse (just fuse)" if layer == "risk" else "ingest.nrt.pull (just pull)"
        return Observation("warn", f"{text}; older than the {limit_h:g} h allowed", age_h, "h",
                           hint=f"run {command}, and check the daily timer and the source", extra=extra)
    return Observation("pass", text, age_h, "h", extra=extra)


def check_served(settings: Settings, layer: str) -> Observation:
    """The current version of the layer's newest day, the one readers use now, verified byte for
    byte (no cache) and by what its file says it is."""
    try:
        meta = _served_meta(settings, layer)
        if meta is None:
            return Observation("pass", f"no {layer} data on grid {settings.grid.name} to verify", 0, "artifacts")
        verify_artifact(settings.roots, meta)
    except IntegrityError as exc:
        return Observation("fail", str(exc), 1, "problems", hint=exc.hint)
    return Observation("pass", f"{meta['logical_id']} version {meta['version']}: sha256 of its bytes, its id and "
                               "days match its sidecar", 1, "artifacts", extra={"logical_id": meta["logical_id"]})


def check_last_run(records: list[dict], command: str, max_age_h: float, now: datetime) -> Observation:
    record = next((r for r in records if r.get("command") == command), None)
    if record is None:
        return Observation("warn", f"no run of {command} on record", hint=f"run {command} (or enable the daily timer)")
    status = record.get("status")
    started = record.get("start") or ""
    try:
        age_h = round((now - datetime.fromisoformat(started.replace("Z", "+00:00"))).total_seconds() / 3600, 1)
    except ValueError:
        age_h, started = None, f"at an unreadable time {started!r}"
    text = f"last {command} run {record.get('run_id')} {status}, started {started}"
    extra = {"run_id": record.get("run_id"), "runStatus": status}
    if status in ("failed", "bad-input", "interrupted"):
        why = (record.get("error") or {}).get("message", "")
        return Observation("warn", f"{text}: {why}"[:500], age_h, "h", extra=extra,
                           hint=(record.get("error") or {}).get("hint")
                           or f"read outputs/logs/{command}.log and run {command} again")
    if age_h is not None and age_h > max_age_h:
        return Observation("warn", f"{text}; older than {max_age_h:g} h", age_h, "h", extra=extra,
                           hint="is the daily timer enabled? (systemctl list-timers 'arcticroute*')")
    return Observation("pass", text, age_h, "h", extra=extra)


def check_sample_verify(settings: Settings, sample: int) -> Observation:
    """Verify (bytes, no cache) the current version of the ``sample`` newest artifacts of the
    catalog index (routes, reports) and of ``sample`` more in rotation: each check goes on where
    the last one stopped, so every artifact is verified in turn."""
    index = settings.outputs_root / "catalog" / "index.json"
    try:
        entries = json.loads(index.read_text(encoding="utf-8")).get("entries", [])
    except FileNotFoundError:
        return Observation("pass", "no catalog index yet (nothing to verify)", 0, "artifacts")
    except (OSError, ValueError) as exc:
        return Observation("warn", f"catalog index {index} unreadable: {exc}", hint="run catalog.show to rebuild it")
    newest = sorted(entries, key=lambda e: e.get("created_at") or "", reverse=True)[:sample]
    rest = sorted((e for e in entries if e not in newest), key=lambda e: str(e.get("logical_id")))
    start = _rotation_start(settings, len(rest), sample)
    chosen = newest + [rest[(start + n) % len(rest)] for n in range(min(sample, len(rest)))]
    problems, hint = [], "run catalog.verify --repair (just repair), then just daily"
    for summary in chosen:
        try:
            meta = current_meta(settings.roots, summary.get("root", "data"), summary.get("canonical", ""))
            if meta is None:
                problems.append(f"{summary.get('logical_id')}: canonical path missing")
                continue
            verify_artifact(settings.roots, meta)
        except IntegrityError as exc:
            problems.append(str(exc))
            hint = exc.hint or hint
    if problems:
        return Observation("fail", "; ".join(problems[:3]), len(problems), "problems", hint=hint)
    return Observation("pass", f"{len(newest)} newest and {len(chosen) - len(newest)} more artifacts verified "
                               f"(bytes, identity), in rotation over {len(rest)}", len(chosen), "artifacts")


def _rotation_start(settings: Settings, count: int, step: int) -> int:
    """Where this check's rotating sample starts; the next one starts ``step`` further."""
    state = settings.outputs_root / "health" / "verify-rotation.json"
    try:
        start = int(json.loads(state.read_text(encoding="utf-8")).get("next", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        start = 0
    start = start % count if count else 0
    try:
        atomic.write_json(state, {"next": (start + step) % count if count else 0})
    except OSError as exc:  # a read-only outputs folder: the folder check reports it; the sample stays put
        logging.getLogger("arcticroute.health").warning("verify rotation not saved to %s: %s", state, exc)
    return start


def check_logs(settings: Settings) -> Observation:
    folder = settings.outputs_root / "logs"
    size = _folder_size(folder) if folder.is_dir() else 0
    limit = float(settings.runtime["health"]["logs_max_mb"]) * 1e6
    text = f"{size / 1e6:.1f} MB in {folder}"
    if size > limit:
        return Observation("warn", f"{text}, above {limit / 1e6:g} MB", size, "bytes",
                           hint="lower logs.max_bytes or logs.backups in config/runtime.yaml")
    return Observation("pass", text, size, "bytes")


def check_gpu() -> Observation:
    """Informational only: whether a GPU is visible to this process."""
    present = Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None
    return Observation("pass", "GPU present" if present else "no GPU (none needed)", present)


def check_timers(settings: Settings) -> Observation:
    """The daily and GC timers, where systemd or Task Scheduler can be asked."""
    names = settings.runtime["health"]["timers"]
    if os.name == "nt":
        missing = [n for n in names if subprocess.run(["schtasks", "/Query", "/TN", f"ArcticRoute\\{n}"],
                                                      capture_output=True, timeout=5).returncode != 0]
        scheduler = "Task Scheduler"
    elif Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
        missing = [n for n in names if subprocess.run(["systemctl", "is-enabled", "--quiet", f"arcticroute-{n}.timer"],
                                                      capture_output=True, timeout=5).returncode != 0]
        scheduler = "systemd"
    else:
        return Observation("pass", "not checked: neither systemd nor Task Scheduler runs here", None)
    if missing:
        return Observation("warn", f"{scheduler}: not installed or not enabled: {', '.join(missing)}", len(missing),
                           "timers", hint="install and enable them from deploy/ (see docs/playbook.md)")
    return Observation("pass", f"{scheduler}: {', '.join(names)} enabled", len(names), "timers")


# -- the whole check --------------------------------------------------------------------------

def _guard(check: Callable[[], Observation], secrets: list[str]) -> Observation:
    """A check that raises is that check's failure, never the health check's crash."""
    try:
        return check()
    except ArcticRouteError as exc:  # a broken file the check read: its message names it, its hint the fix
        from ..redact import redact_text

        return Observation("fail", redact_text(str(exc), secrets), hint=exc.hint)
    except Exception as exc:  # noqa: BLE001 - reported as the check's failure with its reason
        from ..redact import redact_text

        return Observation("fail", redact_text(f"check crashed: {type(exc).__name__}: {exc}", secrets),
                           hint="report this as a bug; details in outputs/logs/health.check.log")


def _config_failure(exc: ArcticRouteError, now: str) -> dict:
    observation = Observation("fail", str(exc), hint=exc.hint or "fix the configuration named above")
    return _assemble({"config:valid": observation}, now=now, data_dirs=[], disk_free_gb=None, runs=[])


def health_check(config_dir: Path | None = None, *, profile: str | None = None, grid_km: float | None = None,
                 settings: Settings | None = None, now: datetime | None = None) -> dict:
    """Run every check; the result never raises, a broken config is a ``config:valid`` failure."""
    moment = now or utc_now()
    stamp = iso_utc(moment)
    if settings is None:
        try:
            settings = load_settings(config_dir, profile=profile, grid_km=grid_km)
        except ArcticRouteError as exc:
            return _config_failure(exc, stamp)
    secrets = secret_values(settings.env)
    cfg = settings.runtime["health"]
    checks: dict[str, Observation] = {"config:valid": Observation("pass", f"{settings.config_dir} valid; profile "
                                                                          f"{settings.profile}, grid {settings.grid.name}")}
    data_dirs = []
    for name, path in (("data", settings.data_root), ("reports", settings.reports_root),
                       ("outputs", settings.outputs_root)):
        observation, info = check_folder(name, path)
        checks[f"folder:{name}"] = observation
        data_dirs.append(info)
    disk, free_gb = check_disk(settings)
    checks["disk:utilization"] = disk
    checks["python:packages"] = _guard(check_packages, secrets)
    for layer in FRESHNESS_LAYERS:
        checks[f"data:{layer}:age"] = _guard(lambda layer=layer: check_freshness(settings, layer, moment), secrets)
        checks[f"data:{layer}:verified"] = _guard(lambda layer=layer: check_served(settings, layer), secrets)
    records = last_runs(settings.outputs_root, limit=int(cfg["runs_scanned"]))
    for command in cfg["scheduled_commands"]:
        checks[f"runs:{command}"] = _guard(
            lambda command=command: check_last_run(records, command, float(cfg["last_run_max_hours"]), moment), secrets)
    checks["catalog:sample-verify"] = _guard(lambda: check_sample_verify(settings, int(cfg["sample_verify"])), secrets)
    checks["logs:size"] = _guard(lambda: check_logs(settings), secrets)
    checks["gpu:present"] = _guard(check_gpu, secrets)
    checks["schedule:timers"] = _guard(lambda: check_timers(settings), secrets)
    runs = [{"run_id": r.get("run_id"), "command": r.get("command"), "status": r.get("status"),
             "start": r.get("start"), "duration_s": r.get("duration_s")} for r in records[:20]]
    result = _assemble(checks, now=stamp, data_dirs=data_dirs, disk_free_gb=free_gb, runs=runs)
    result["profile"], result["synthetic"] = settings.profile, settings.synthetic
    return result


def _assemble(checks: dict[str, Observation], *, now: str, data_dirs: list, disk_free_gb, runs: list) -> dict:
    status = max((o.status for o in checks.values()), key=RANK.__getitem__, default="pass")
    warnings = [{"check": name, "status": o.status, "message": o.output,
                 "hint": o.hint or "see the check's output"} for name, o in checks.items() if o.status != "pass"]
    return {
        "status": status,
        "ok": status != "fail",
        "version": __version__,
        "releaseId": git_sha(),
        "serviceId": f"arcticroute@{socket.gethostname()}",
        "description": "ArcticRoute ops stack health",
        "time": now,
        "warnings": warnings,
        "notes": [f"{w['check']}: {w['message']} -> {w['hint']}" for w in warnings],
        "checks": {name: [o.as_dict(now)] for name, o in checks.items()},
        "disk_free_gb": disk_free_gb,
        "data_dirs": data_dirs,
        "git_sha": git_sha(),
        "last_runs": runs,
    }


# -- alerts on transitions --------------------------------------------------------------------

def record_transition(settings: Settings, result: dict) -> Path | None:
    """Write one alert when the overall status changes to warn or fail; returns its path."""
    state_file = settings.outputs_root / "health" / "state.json"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(state_file) + ".lock", timeout=10):
        try:
            previous = json.loads(state_file.read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError):
            previous = None
        if previous == result["status"]:
            return None
        atomic.write_json(state_file, {"status": result["status"], "since": result["time"]})
    if result["status"] == "pass":
        return None
    first = result["warnings"][0] if result["warnings"] else {"message": "", "hint": None}
    return write_alert(
        settings.outputs_root,
        severity="error" if result["status"] == "fail" else "warning",
        command="health.check",
        what=f"health changed from {previous or 'unknown'} to {result['status']} "
             f"({len(result['warnings'])} check(s) not passing)",
        why="; ".join(f"{w['check']}: {w['message']}" for w in result["warnings"])[:2000] or first["message"],
        hint=first["hint"],
        run_id=None,
        env=dict(settings.env),
        secrets=secret_values(settings.env),
        timeout_s=float(settings.runtime["alerts"]["webhook_timeout_s"]),
    )


class HealthCache:
    """The last result for a short time, so endpoints answer fast while heavy checks run rarely."""

    def __init__(self, compute: Callable[[], dict], seconds: float):
        self.compute, self.seconds = compute, seconds
        self._value: dict | None = None
        self._at = 0.0

    def get(self) -> dict:
        if self._value is None or time.monotonic() - self._at > self.seconds:
            self._value, self._at = self.compute(), time.monotonic()
        return self._value


def http_status(result: dict) -> int:
    return 503 if result["status"] == "fail" else 200


def default_out(settings: Settings, now: datetime | None = None) -> Path:
    return settings.reports_root / "health" / f"health_{(now or utc_now()).astimezone(UTC):%Y%m%d}.json"
