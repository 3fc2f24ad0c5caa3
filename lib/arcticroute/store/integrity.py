"""Verify on read: an artifact's bytes are used only when they match its sidecar.

``verified_path`` checks a version's file (existence, size, sha256) against the sidecar and
returns the path to read; ``check_unchanged`` confirms, after reading, that the file did not
change meanwhile, so the sha256 recorded as an input is that of the bytes read.

Hashing a file again on every read would cost as much as reading it, so the sha256 of a file
is cached by its identity on disk: device, inode, size, modification and change time. Any
write to the file changes its ctime, which no user can set back, so a cached sha256 can only
belong to the same bytes. The cache lives in memory and, between processes, in one small
JSON file (``outputs/cache/sha256-cache.json``); losing it costs only a re-hash.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from ..errors import ArcticRouteError, UnreadableFileError
from . import atomic

log = logging.getLogger("arcticroute.store.integrity")
CACHE_RELPATH = "cache/sha256-cache.json"
_MAX_ENTRIES = 200_000

_lock = threading.Lock()
_memory: dict[str, tuple[tuple, str]] = {}
_dirty = False
_loaded_from: Path | None = None
_enabled = True  # switched off only by bench/verify_bench.py, to measure what verifying costs


class IntegrityError(ArcticRouteError):
    """An artifact's file is missing or its bytes differ from its sidecar: refused as input."""


def repair_command(meta: dict) -> str:
    """The command that writes a fresh version of this artifact."""
    coverage = (meta.get("time_coverage") or {}).get("start") or ""
    ym = coverage[:7].replace("-", "")
    month = f" --ym {ym}" if len(ym) == 6 else ""
    grid_km = (meta.get("grid") or {}).get("resolution_m")
    grid = f" --grid-km {grid_km / 1000:g}" if grid_km else ""
    kind = meta.get("kind")
    if kind in ("env-layer", "static-grid"):
        layer = (meta.get("params") or {}).get("layer")
        what = f" --what {layer.split('.')[0] if layer != 'ais.density' else 'ais'}" if layer else ""
        return f"ingest.nrt.pull{month}{what}{grid} (just pull)"
    if kind in ("risk-daily", "risk-monthly"):
        return f"risk.fuse{month}{grid} (just fuse)"
    if kind == "risk-model":
        model_month = str(meta.get("logical_id", "")).partition("@")[2][:6]
        return f"risk.fuse --ym {model_month or 'YYYYMM'} --method stacking{grid} (just fuse)"
    if kind == "route":
        scenario = ((meta.get("params") or {}).get("request") or {}).get("name", "NAME")
        return f"route.plan --scenario {scenario} --date {coverage[:10] or 'latest'}{grid} (just route)"
    if kind == "report":
        return f"report.build{month}{grid} (just report)"
    return "the command that produced it (see its sidecar's producer)"


def is_safe_relpath(relpath: str) -> bool:
    """A path a sidecar may name: relative, inside its root, no ``..``."""
    parts = Path(relpath).parts
    return bool(parts) and not Path(relpath).is_absolute() and ".." not in parts and "\\" not in relpath


def file_identity(stat: os.stat_result) -> tuple:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def cached_sha256(path: Path) -> tuple[str, tuple]:
    """sha256 of ``path``, hashed only when the file's identity is not in the cache."""
    global _dirty
    stat = path.stat()
    identity = file_identity(stat)
    key = str(path.resolve())
    with _lock:
        hit = _memory.get(key)
    if hit and tuple(hit[0]) == identity:
        return hit[1], identity
    sha = atomic.sha256_file(path)
    after = file_identity(path.stat())
    if after != identity:  # written while we hashed: do not cache, the caller re-checks
        return sha, after
    with _lock:
        _memory[key] = (identity, sha)
        _dirty = True
    return sha, identity


def _problem(meta: dict, path: Path, what: str) -> IntegrityError:
    return IntegrityError(
        f"{meta.get('logical_id')} version {meta.get('version')}: {what} ({path}); refused as input, "
        "nothing derived from it was written",
        hint=f"run catalog.verify --repair (just repair), then {repair_command(meta)} to restore it",
    )


def unreadable_artifact(meta: dict, path: Path, what: str) -> UnreadableFileError:
    """An artifact whose bytes match its sidecar but cannot be used: named with its file and the
    command that writes a good version."""
    return UnreadableFileError(
        f"{meta.get('logical_id')} version {meta.get('version')} ({path}) {what}; refused as input, nothing derived "
        "from it was written",
        hint=f"write a good version with {repair_command(meta)}, adding --force",
    )


def verified_path(roots: dict[str, Path], meta: dict) -> tuple[Path, tuple]:
    """The version's file, checked against its sidecar; IntegrityError when missing or different.

    Returns the path and the file's identity, to hand to ``check_unchanged`` after reading.
    """
    root = roots.get(meta.get("root", ""))
    if root is None:
        raise IntegrityError(f"{meta.get('logical_id')}: unknown root {meta.get('root')!r} in its sidecar")
    relpath = str(meta.get("path", ""))
    path = root / relpath
    if not is_safe_relpath(relpath):
        raise _problem(meta, path, "its sidecar's path leaves the root")
    if not path.is_file():
        raise _problem(meta, path, "file missing")
    if not _enabled:
        return path, file_identity(path.stat())
    size = path.stat().st_size
    if size != meta.get("size_bytes"):
        raise _problem(meta, path, f"size {size} bytes, its sidecar says {meta.get('size_bytes')}")
    sha, identity = cached_sha256(path)
    if sha != meta.get("sha256"):
        raise _problem(meta, path, f"sha256 {sha[:12]}… differs from its sidecar's {str(meta.get('sha256'))[:12]}…")
    return path, identity


def check_unchanged(meta: dict, path: Path, identity: tuple) -> None:
    """Refuse what was read if the file changed between the check and the end of the read."""
    try:
        now = file_identity(path.stat())
    except OSError:
        now = None
    if now != identity:
        raise _problem(meta, path, "file changed while it was being read")


def is_intact(roots: dict[str, Path], meta: dict | None) -> bool:
    """True when ``meta`` describes a version whose file matches it."""
    if meta is None:
        return False
    try:
        verified_path(roots, meta)
    except (IntegrityError, OSError, KeyError):
        return False
    return True


def read_bytes(roots: dict[str, Path], meta: dict) -> bytes:
    """The verified bytes of a small artifact (a route document): hashed as read."""
    path, identity = verified_path(roots, meta)
    data = path.read_bytes()
    check_unchanged(meta, path, identity)
    return data


def read_json(roots: dict[str, Path], meta: dict):
    """The verified JSON document of a small artifact (a route, a stacking model); a document
    that does not parse is refused naming its file."""
    data = read_bytes(roots, meta)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        path = roots.get(meta.get("root", ""), Path(".")) / str(meta.get("path", ""))
        raise unreadable_artifact(meta, path, f"is not valid JSON ({exc})") from None


# -- the cache between processes ---------------------------------------------------------------

def load_cache(outputs_root: Path) -> None:
    """Merge the on-disk cache into memory (once per outputs root and process)."""
    global _loaded_from
    path = outputs_root / CACHE_RELPATH
    if _loaded_from == path:
        return
    _loaded_from = path
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        log.warning("sha256 cache %s unreadable (%s); files will be hashed again", path, exc)
        return
    with _lock:
        for key, (identity, sha) in stored.get("entries", {}).items():
            _memory.setdefault(key, (tuple(identity), sha))


def save_cache(outputs_root: Path) -> None:
    """Write the cache back if it grew; a failure costs only re-hashing next time."""
    global _dirty
    if not _dirty:
        return
    path = outputs_root / CACHE_RELPATH
    with _lock:
        entries = {k: [list(v[0]), v[1]] for k, v in list(_memory.items())[-_MAX_ENTRIES:]}
        _dirty = False
    try:
        atomic.write_json(path, {"schema_version": 1, "entries": entries})
    except OSError as exc:
        log.warning("sha256 cache %s not saved (%s)", path, exc)


def set_enabled(enabled: bool) -> None:
    """Switch hashing on or off (the benchmark's baseline only; never in commands)."""
    global _enabled
    _enabled = enabled


def clear_memory() -> None:
    """Forget every cached sha256 (tests and benchmarks)."""
    global _dirty, _loaded_from
    with _lock:
        _memory.clear()
        _dirty = False
        _loaded_from = None
