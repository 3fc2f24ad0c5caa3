"""One command invocation: run id, lock, log, run record, alert on failure.

Used as ``with Run(settings, "risk.fuse", family="fuse", argv=sys.argv) as run: ...``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

from ..config import Settings
from ..errors import (
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    ArcticRouteError,
    LockHeldError,
)
from ..redact import redact_argv, redact_text, secret_values
from ..store import atomic, integrity
from ..store.catalog import write_index
from ..store.oserrors import storage_error
from ..timeutil import iso_utc, new_run_id, utc_now
from .alerts import write_alert
from .interrupted import clean_after, current_marker, effective_status, mark_running
from .logfile import LogFile, shared_log_handler

LOGGER_NAME = "arcticroute"
# Every command family; a repair holds all their locks so that no writer is active meanwhile.
FAMILIES = ("pull", "fuse", "route", "report", "catalog", "gc")


class _RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage(), self.secrets)
        record.args = ()
        return True


class _BriefFormatter(logging.Formatter):
    """Console lines without tracebacks: those go to the log file only."""

    def format(self, record: logging.LogRecord) -> str:
        brief = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        return super().format(brief)


class Run:
    """Context manager for one command run; see module doc."""

    def __init__(self, settings: Settings, command: str, *, family: str, argv: list[str] | None = None,
                 also_lock: tuple[str, ...] = ()):
        self.settings = settings
        self.command = command
        self.family = family
        self.also_lock = also_lock  # other families whose runs must not overlap this one (repair)
        self.secrets = secret_values(settings.env)
        self.argv = redact_argv(list(argv if argv is not None else sys.argv), self.secrets)
        self.run_id = new_run_id()
        self.started = utc_now()
        self.artifacts: list[dict] = []
        self.warnings: list[str] = list(getattr(settings, "warnings", ()))
        self.summary: dict = {}
        self.log = logging.getLogger(f"{LOGGER_NAME}.{command}")
        self._handlers: list[logging.Handler] = []
        self._log_file: LogFile | None = None
        self._log_problem: str | None = None
        self._locks: list[FileLock] = []
        self.exit_code = EXIT_OK
        self.error: dict | None = None
        self.outcome = "ok"  # the record's status of a run that ends without error, e.g. "no_new_data"
        self.record_path = settings.outputs_root / "runs" / f"{self.run_id}.json"

    # -- reporting helpers used by library code -------------------------------------------
    def artifact(self, meta: dict) -> None:
        self.artifacts.append({k: meta[k] for k in ("logical_id", "version", "root", "path", "sha256")})

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log.warning(message)

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Run:
        self._setup_logging()
        try:
            self._start()
        except BaseException as exc:
            self._release()
            self._teardown_logging()
            if isinstance(exc, OSError):
                error = storage_error(exc, self.settings.outputs_root, roots=self.settings.roots)
                if error is not None:
                    raise error from exc
            raise
        if self._log_problem:
            self.warn(self._log_problem)
        self.log.info("run %s started: %s", self.run_id, " ".join(self.argv))
        return self

    def _start(self) -> None:
        """Locks, recovery of a dead run, the marker and the ``running`` record."""
        for family in (self.family, *self.also_lock):
            self._acquire(family)
        self._recover_interrupted()
        atomic.set_run_tag(self.run_id)
        integrity.load_cache(self.settings.outputs_root)
        mark_running(self._marker, self.run_id, self.record_path)
        try:
            self._write_record("running", None)
        except OSError:
            self._remove_marker()  # no record to mark: the run did not start
            raise

    @property
    def _marker(self) -> Path:
        return current_marker(self.settings.outputs_root, self.family)

    def _acquire(self, family: str) -> None:
        lock_path = self.settings.outputs_root / "locks" / f"{family}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(lock_path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise LockHeldError(
                f"another {family} run is in progress (lock {lock_path}); this run did nothing",
                hint="wait for it to finish; timers treat this exit code (75) as success",
            ) from None
        self._locks.append(lock)

    def _release(self) -> None:
        for lock in reversed(self._locks):
            lock.release()
        self._locks.clear()

    def _recover_interrupted(self) -> None:
        """A marker left by a run of this family means that run died: say so and clean up after it."""
        for family in (self.family, *self.also_lock):
            outcome = clean_after(current_marker(self.settings.outputs_root, family), self.settings.roots)
            if outcome:
                self.warn(outcome)

    def __exit__(self, exc_type, exc, tb) -> bool:
        error = None
        status = self.outcome
        if exc is not None:
            status, error = self._classify(exc)
            self.error = error
            self.log.error("run %s %s: %s", self.run_id, status, error["message"])
        try:
            if self.artifacts:
                self._refresh_catalog_index()
            integrity.save_cache(self.settings.outputs_root)
            recorded = self._finish_record(status, error)
            if status == "failed" and getattr(exc, "alert", True):
                self._alert(error)
            if recorded:  # else the marker stays: the next run of the family marks the record interrupted
                self._remove_marker()
            self._write_metrics()
        finally:
            self.log.info("run %s finished: %s (exit %s)", self.run_id, status, self.exit_code)
            atomic.set_run_tag("x")
            self._release()
            self._teardown_logging()
        return False

    def _classify(self, exc: BaseException) -> tuple[str, dict]:
        """Status and error of a run that raised; a full disk, a read-only or forbidden root is
        named as such (with the path and what to do), whatever raised it."""
        if not isinstance(exc, ArcticRouteError):
            known = (storage_error(exc, self.settings.outputs_root, roots=self.settings.roots)
                     if isinstance(exc, (OSError, RuntimeError)) else None)
            if known is None:
                self.log.exception("unexpected error")  # the traceback goes to the log file only
            exc = known or exc
        if isinstance(exc, ArcticRouteError):
            self.exit_code = exc.exit_code
            status = "bad-input" if exc.exit_code == 2 else "failed"
            return status, {"type": type(exc).__name__, "message": str(exc), "hint": exc.hint}
        self.exit_code = EXIT_FAILURE
        return "failed", {"type": type(exc).__name__, "message": str(exc), "hint": None}

    def _finish_record(self, status: str, error: dict | None) -> bool:
        """Complete the run record. If even that fails (a full disk, a read-only outputs folder),
        say so on stderr, leave the marker so that the next run of the family marks the record
        ``interrupted``, and fail the run (exit 1): its outcome is nowhere else to be seen."""
        try:
            self._write_record(status, error)
        except OSError as exc:
            problem = storage_error(exc, self.record_path, roots=self.settings.roots)
            reason = str(problem) if problem is not None else f"{type(exc).__name__}: {exc}"
            sys.stderr.write(
                f"Error: the run record {self.record_path} could not be completed ({redact_text(reason, self.secrets)}); "
                f"it says 'running' until the next {self.family} run marks it 'interrupted'\n")
            if problem is not None and problem.hint:
                sys.stderr.write(f"Hint: {redact_text(problem.hint, self.secrets)}\n")
            if self.exit_code == EXIT_OK:
                self.exit_code = EXIT_FAILURE
            return False
        return True

    def _remove_marker(self) -> None:
        try:
            atomic.remove_if_present(self._marker)
        except OSError as exc:
            sys.stderr.write(f"Warning: run marker {self._marker} not removed ({exc}); the next "
                             f"{self.family} run will report run {self.run_id} as interrupted\n")

    def details_hint(self) -> str:
        """Where the details of this run are: its log if it could be written, else its record."""
        if self._log_file is not None and self._log_file.usable:
            return f"details in {self._log_file.path}"
        return f"details in the run record {self.record_path} and the lines above"

    def _refresh_catalog_index(self) -> None:
        """The index is derived from the sidecars: failing to refresh it costs no data."""
        try:
            write_index(self.settings.roots, self.settings.outputs_root)
        except OSError as exc:
            self.warn(f"catalog index not refreshed ({exc}); run catalog.show to rebuild it")

    def _write_metrics(self) -> None:
        """The node_exporter textfile (``metrics.textfile``), now that the record is complete;
        failing to write it costs the run nothing but a line in the log."""
        from .metrics import write_textfile  # metrics reads the records this module writes

        try:
            path = write_textfile(self.settings)
        except Exception as exc:  # noqa: BLE001 - metrics never change a run's outcome
            self.log.warning("metrics textfile not written: %s: %s", type(exc).__name__, exc)
            return
        if path is not None:
            self.log.debug("metrics written: %s", path)

    def _write_record(self, status: str, error: dict | None) -> None:
        ended = None if status == "running" else utc_now()
        record = {
            "schema_version": 1,
            "run_id": self.run_id,
            "command": self.command,
            "family": self.family,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "argv": self.argv,
            "profile": self.settings.profile,
            "synthetic": self.settings.synthetic,
            "start": iso_utc(self.started),
            "end": iso_utc(ended) if ended else None,
            "duration_s": round((ended - self.started).total_seconds(), 3) if ended else None,
            "status": status,
            "exit_code": self.exit_code,
            "artifacts": self.artifacts,
            "summary": self.summary,
            "warnings": self.warnings,
            "error": error,
        }
        text = redact_text(json.dumps(record, indent=2, default=str), self.secrets)
        atomic.write_text(self.record_path, text + "\n")

    def _alert(self, error: dict) -> None:
        """Write the alert file (and post it); failing to alert never hides the run's own error."""
        try:
            path = self._write_alert(error)
        except OSError as exc:
            self.log.error("alert not written (%s); the error is in the run record and this log", exc)
            return
        self.log.info("alert written: %s", path)

    def _write_alert(self, error: dict, severity: str = "error", what: str | None = None) -> Path:
        return write_alert(
            self.settings.outputs_root,
            severity=severity,
            command=self.command,
            what=what or f"{self.command} failed (run {self.run_id})",
            why=error["message"],
            hint=error["hint"] or self.details_hint(),
            run_id=self.run_id,
            env=dict(self.settings.env),
            secrets=self.secrets,
            timeout_s=float(self.settings.runtime["alerts"]["webhook_timeout_s"]),
        )

    def alert_warning(self, what: str, why: str, hint: str | None = None) -> None:
        """A warning alert from a run that goes on (e.g. a provider skipped a day): what nobody
        would otherwise hear of; failing to write it costs the run nothing but a log line."""
        try:
            path = self._write_alert({"message": why, "hint": hint}, severity="warning", what=what)
        except OSError as exc:
            self.log.error("alert not written (%s): %s", exc, what)
            return
        self.log.info("warning alert written: %s", path)

    def _setup_logging(self) -> None:
        cfg = self.settings.runtime["logs"]
        logs_dir = self.settings.outputs_root / "logs"
        formatter = logging.Formatter(
            f"%(asctime)s %(levelname)s {self.command} [{self.run_id}] %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%SZ",
        )
        formatter.converter = time.gmtime
        stream_handler = logging.StreamHandler(sys.stderr)
        stream_handler.setFormatter(_BriefFormatter("%(levelname)s %(message)s"))
        handlers: list[logging.Handler] = [stream_handler]
        try:
            logs_dir.mkdir(parents=True, exist_ok=True)
            self._log_file = shared_log_handler(logs_dir / f"{self.command}.log", cfg,
                                                self.settings.outputs_root / "locks")
        except OSError as exc:
            # said once the run has started: a root that cannot be written at all fails it first
            problem = storage_error(exc, logs_dir, roots=self.settings.roots)
            self._log_problem = f"log file not opened ({problem or exc}); this run logs to stderr only"
        else:
            self._log_file.setFormatter(formatter)
            handlers.insert(0, self._log_file)
        redactor = _RedactingFilter(self.secrets)
        root = logging.getLogger(LOGGER_NAME)
        root.setLevel(cfg["level"])
        for handler in handlers:
            handler.addFilter(redactor)
            root.addHandler(handler)
            self._handlers.append(handler)

    def _teardown_logging(self) -> None:
        root = logging.getLogger(LOGGER_NAME)
        for handler in self._handlers:
            root.removeHandler(handler)
            try:
                handler.close()
            except OSError as exc:  # flushing the last lines onto a full disk
                sys.stderr.write(f"Warning: log not closed cleanly ({exc})\n")
        self._handlers.clear()


def _start_then_mtime(path: Path) -> tuple[str, int]:
    try:
        return path.name[:16], path.stat().st_mtime_ns
    except OSError:
        return path.name[:16], 0


def last_runs(outputs_root: Path, limit: int = 20) -> list[dict]:
    """Newest run records first (run ids sort by start time); a ``running`` record whose process
    is gone is shown as ``interrupted``."""

    folder = outputs_root / "runs"
    if not folder.is_dir():
        return []
    records = []
    # run ids order by start second; within one second by the file's last write
    candidates = sorted(folder.glob("*.json"), reverse=True)[: limit * 2]
    for path in sorted(candidates, key=_start_then_mtime, reverse=True)[:limit]:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            record["status"] = effective_status(record)
            records.append(record)
        except (OSError, ValueError) as exc:
            logging.getLogger(LOGGER_NAME).warning("unreadable run record %s: %s", path, exc)
    return records


def all_runs(outputs_root: Path) -> list[dict]:
    """Every readable run record, oldest first (the order of ``last_runs``), with
    ``effective_status`` applied; the counters of ``ops.metrics`` are computed from them."""
    folder = outputs_root / "runs"
    records = []
    for path in sorted(folder.glob("*.json"), key=_start_then_mtime) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logging.getLogger(LOGGER_NAME).warning("unreadable run record %s: %s", path, exc)
            continue
        if isinstance(record, dict) and record.get("command"):
            record["status"] = effective_status(record)
            records.append(record)
    return records


__all__ = ["Run", "all_runs", "last_runs", "EXIT_LOCKED"]
