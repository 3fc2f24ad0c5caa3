"""One command invocation: run id, lock, log, run record, alert on failure.

Used as ``with Run(settings, "risk.fuse", family="fuse", argv=sys.argv) as run: ...``.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

from . import atomic
from .alerts import write_alert
from .catalog import write_index
from .config import Settings
from .errors import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, ArcticRouteError, LockHeldError
from .redact import redact_argv, redact_text, secret_values
from .timeutil import iso_utc, new_run_id, utc_now

LOGGER_NAME = "arcticroute"


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

    def __init__(self, settings: Settings, command: str, *, family: str, argv: list[str] | None = None):
        self.settings = settings
        self.command = command
        self.family = family
        self.secrets = secret_values(settings.env)
        self.argv = redact_argv(list(argv if argv is not None else sys.argv), self.secrets)
        self.run_id = new_run_id()
        self.started = utc_now()
        self.artifacts: list[dict] = []
        self.warnings: list[str] = []
        self.summary: dict = {}
        self.log = logging.getLogger(f"{LOGGER_NAME}.{command}")
        self._handlers: list[logging.Handler] = []
        self._lock: FileLock | None = None
        self.exit_code = EXIT_OK
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
        lock_path = self.settings.outputs_root / "locks" / f"{self.family}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(lock_path, timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            self._teardown_logging()
            raise LockHeldError(
                f"another {self.family} run is in progress (lock {lock_path}); this run did nothing",
                hint="wait for it to finish; timers treat this exit code (75) as success",
            ) from None
        self.log.info("run %s started: %s", self.run_id, " ".join(self.argv))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        error = None
        status = "ok"
        if exc is not None:
            if isinstance(exc, ArcticRouteError):
                self.exit_code = exc.exit_code
                error = {"type": type(exc).__name__, "message": str(exc), "hint": exc.hint}
                status = "bad-input" if exc.exit_code == 2 else "failed"
            else:
                self.exit_code = EXIT_FAILURE
                error = {"type": type(exc).__name__, "message": str(exc), "hint": None}
                status = "failed"
                self.log.exception("unexpected error")
            self.log.error("run %s %s: %s", self.run_id, status, error["message"])
        try:
            if self.artifacts:
                self._refresh_catalog_index()
            self._write_record(status, error)
            if status == "failed":
                self._alert(error)
        finally:
            self.log.info("run %s finished: %s (exit %s)", self.run_id, status, self.exit_code)
            if self._lock is not None:
                self._lock.release()
            self._teardown_logging()
        return False

    def _refresh_catalog_index(self) -> None:
        """The index is derived from the sidecars: failing to refresh it costs no data."""
        try:
            write_index(self.settings.roots, self.settings.outputs_root)
        except OSError as exc:
            self.warn(f"catalog index not refreshed ({exc}); run catalog.show to rebuild it")

    def _write_record(self, status: str, error: dict | None) -> None:
        ended = utc_now()
        record = {
            "schema_version": 1,
            "run_id": self.run_id,
            "command": self.command,
            "argv": self.argv,
            "profile": self.settings.profile,
            "synthetic": self.settings.synthetic,
            "start": iso_utc(self.started),
            "end": iso_utc(ended),
            "duration_s": round((ended - self.started).total_seconds(), 3),
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
        path = write_alert(
            self.settings.outputs_root,
            severity="error",
            command=self.command,
            what=f"{self.command} failed (run {self.run_id})",
            why=error["message"],
            hint=error["hint"] or f"see {self.settings.outputs_root / 'logs' / (self.command + '.log')}",
            run_id=self.run_id,
            env=dict(self.settings.env),
            secrets=self.secrets,
            timeout_s=float(self.settings.runtime["alerts"]["webhook_timeout_s"]),
        )
        self.log.info("alert written: %s", path)

    def _setup_logging(self) -> None:
        cfg = self.settings.runtime["logs"]
        logs_dir = self.settings.outputs_root / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True)
        formatter = logging.Formatter(
            f"%(asctime)s %(levelname)s {self.command} [{self.run_id}] %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%SZ",
        )
        formatter.converter = time.gmtime
        file_handler = logging.handlers.RotatingFileHandler(
            logs_dir / f"{self.command}.log", maxBytes=int(cfg["max_bytes"]),
            backupCount=int(cfg["backups"]), encoding="utf-8",
        )
        stream_handler = logging.StreamHandler(sys.stderr)
        stream_handler.setFormatter(_BriefFormatter("%(levelname)s %(message)s"))
        file_handler.setFormatter(formatter)
        redactor = _RedactingFilter(self.secrets)
        root = logging.getLogger(LOGGER_NAME)
        root.setLevel(cfg["level"])
        for handler in (file_handler, stream_handler):
            handler.addFilter(redactor)
            root.addHandler(handler)
            self._handlers.append(handler)

    def _teardown_logging(self) -> None:
        root = logging.getLogger(LOGGER_NAME)
        for handler in self._handlers:
            root.removeHandler(handler)
            handler.close()
        self._handlers.clear()


def last_runs(outputs_root: Path, limit: int = 20) -> list[dict]:
    """Newest run records first (run ids sort by start time)."""

    folder = outputs_root / "runs"
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*.json"), reverse=True)[:limit]:
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            logging.getLogger(LOGGER_NAME).warning("unreadable run record %s: %s", path, exc)
    return records


__all__ = ["Run", "last_runs", "EXIT_LOCKED"]
