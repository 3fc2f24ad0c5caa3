"""The per-command log file, shared by several processes, that never breaks a run.

A log that cannot be written (a full disk, a read-only outputs folder, a file this user may
not write) must not print Python's ``--- Logging error ---`` traceback for every line, nor hide
the run's own error: the first failure is said once on stderr, the file is given up, and the
lines keep going to stderr. ``LogFile.usable`` tells the messages whether they may point at it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from concurrent_log_handler import ConcurrentRotatingFileHandler

from ..redact import redact_known


class LogFile(ConcurrentRotatingFileHandler):
    """A rotating log several processes may write at once (the commands, the UI): each line is
    written and each rotation done under a lock, so no line is lost or mixed."""

    def __init__(self, path: Path, cfg: dict, locks_dir: Path):
        locks_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(str(path), maxBytes=int(cfg["max_bytes"]), backupCount=int(cfg["backups"]),
                         encoding="utf-8", lock_file_directory=str(locks_dir))
        self.path = path
        self.usable = True

    def emit(self, record: logging.LogRecord) -> None:
        if self.usable:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """Say once why the file cannot be written, then stop using it (no traceback); a line
        that could not be formatted is named in one line and the file kept."""
        if not self.usable:
            return
        error = sys.exc_info()[1]
        reason = redact_known(f"{type(error).__name__}: {error}" if error is not None else "unknown error")
        if isinstance(error, OSError):
            self.usable = False
            sys.stderr.write(f"Warning: log file {self.path} cannot be written ({reason}); "
                             "from here on this run logs to stderr only\n")
        else:
            sys.stderr.write(f"Warning: a log line of {record.name} could not be written ({reason})\n")
        sys.stderr.flush()


def shared_log_handler(path: Path, cfg: dict, locks_dir: Path) -> LogFile:
    """The log file of ``path`` (rotated by ``cfg``'s max_bytes and backups), locks in ``locks_dir``."""
    return LogFile(path, cfg, locks_dir)
