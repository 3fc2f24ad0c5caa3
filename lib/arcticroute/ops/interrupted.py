"""Runs that died: a marker per command family says which run is in progress.

A run writes ``outputs/locks/<family>.current`` (its run id and record) once it holds the
family's lock, and removes it when it ends, however it ends. The next run of the family takes
the lock; finding a marker then means its writer died (``kill -9``, power loss): that run's
record is marked ``interrupted`` and the temporary files it left (named ``.tmp-<run id>-…``)
are removed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

import psutil

from ..store import atomic
from ..timeutil import iso_utc, utc_now

log = logging.getLogger("arcticroute.ops.interrupted")


def current_marker(outputs_root: Path, family: str) -> Path:
    return outputs_root / "locks" / f"{family}.current"


def mark_running(marker: Path, run_id: str, record_path: Path) -> None:
    atomic.write_json(marker, {"run_id": run_id, "record": str(record_path), "pid": os.getpid()})


def leftover_temp_files(roots: dict[str, Path], run_id: str) -> list[Path]:
    """Temporary files of one run under the data roots (symbolic links are not followed)."""
    prefix = atomic.tmp_prefix_for(run_id)
    found = []
    for root in roots.values():
        if not root.is_dir():
            continue
        for dirpath, _dirnames, filenames in os.walk(root):
            found += [Path(dirpath) / name for name in filenames if name.startswith(prefix)]
    return found


def clean_after(marker: Path, roots: dict[str, Path]) -> str | None:
    """If ``marker`` exists, its run died: mark its record, remove its temporary files, and
    return a sentence saying so (None when there was nothing to recover)."""
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        run_id, record_path = str(info["run_id"]), Path(info["record"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable run marker %s (%s); removing it", marker, exc)
        marker.unlink(missing_ok=True)
        return None
    removed = leftover_temp_files(roots, run_id)
    for path in removed:
        path.unlink(missing_ok=True)
    _mark_interrupted(record_path)
    marker.unlink(missing_ok=True)
    return (f"run {run_id} was interrupted (its process died); record marked 'interrupted', "
            f"{len(removed)} temporary file(s) it left removed")


def _mark_interrupted(record_path: Path) -> None:
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return  # it died before writing its first record
    except (OSError, ValueError) as exc:
        log.warning("record %s of an interrupted run unreadable (%s)", record_path, exc)
        return
    if record.get("status") != "running":
        return
    record.update(status="interrupted", end=None, exit_code=None,
                  error={"type": "Interrupted", "hint": None,
                         "message": "the run ended without completing its record (its process died, or the "
                                    "record could not be written: a full or read-only outputs folder, said on its "
                                    f"stderr); noticed at {iso_utc(utc_now())}"})
    atomic.write_json(record_path, record)


def effective_status(record: dict) -> str:
    """A record's status, with a ``running`` one whose process is gone shown as ``interrupted``
    (the next run of its family will mark it so on disk)."""
    status = record.get("status", "unknown")
    if status != "running":
        return status
    if record.get("host") == socket.gethostname() and record.get("pid") and not psutil.pid_exists(int(record["pid"])):
        return "interrupted"
    return status
