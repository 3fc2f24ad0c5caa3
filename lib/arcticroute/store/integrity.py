"""Verify on read: an artifact's bytes are used only when they are the bytes its sidecar names.

A reader that feeds a product reads the version's file once into memory, hashes those very
bytes and parses them from memory (``read_verified``; ``layers.read_variables`` opens the netCDF
from the same buffer), so what is parsed is what was hashed and the sha256 cited as an input
(the sidecar's, which the bytes matched) is that of the bytes read. No cache vouches for bytes
it has not seen: bit rot below the file system keeps a file's inode, size and times.

The sha256 of a file is also cached by its identity on disk (device, inode, size, modification
and change time; in memory and, between processes, in ``outputs/cache/sha256-cache.json``).
That cache only speeds up decisions and listings that use no bytes (``is_intact``: is the
current version worth keeping, ``catalog.gc``'s last look before removing); losing it costs a
re-hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

from ..errors import ArcticRouteError, UnreadableFileError
from . import atomic
from .identity import Stated, content_problems, stated_by_file

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
    if kind == "forecast":
        issued = str(meta.get("logical_id", "")).partition("@")[2][:8]
        ym_issued = f" --ym {issued[:6]} --since {issued[:4]}-{issued[4:6]}-{issued[6:]}" if len(issued) == 8 else ""
        return f"ingest.nrt.pull{ym_issued} --forecast{grid} (just pull)"
    return "the command that produced it (see its sidecar's producer)"


def is_safe_relpath(relpath: str) -> bool:
    """A path a sidecar may name: relative, inside its root, no ``..``."""
    parts = Path(relpath).parts
    return bool(parts) and not Path(relpath).is_absolute() and ".." not in parts and "\\" not in relpath


def file_identity(stat: os.stat_result) -> tuple:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def cached_sha256(path: Path) -> tuple[str, tuple]:
    """sha256 of ``path``, hashed only when the file's identity is not in the cache (listings
    and keep-or-rewrite decisions only: a hit vouches for bytes nobody read)."""
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
    _remember(path, identity, sha)
    return sha, identity


def _remember(path: Path, identity: tuple, sha: str) -> None:
    global _dirty
    with _lock:
        _memory[str(path.resolve())] = (identity, sha)
        _dirty = True


def problem(meta: dict, path: Path, what: str) -> IntegrityError:
    """The refusal of a version: what is wrong, the file, and the commands that restore it."""
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


def _version_file(roots: dict[str, Path], meta: dict) -> Path:
    """The version's file the sidecar names, inside its root; IntegrityError when it is not there."""
    root = roots.get(meta.get("root", ""))
    if root is None:
        raise IntegrityError(f"{meta.get('logical_id')}: unknown root {meta.get('root')!r} in its sidecar",
                             hint=f"run catalog.verify --repair (just repair), then {repair_command(meta)}")
    relpath = str(meta.get("path", ""))
    path = root / relpath
    if not is_safe_relpath(relpath):
        raise problem(meta, path, "its sidecar's path leaves the root")
    if not path.is_file():
        raise problem(meta, path, "file missing")
    return path


def read_verified(roots: dict[str, Path], meta: dict) -> bytes:
    """The version's bytes, read once and hashed as they are: IntegrityError unless their size
    and sha256 are the sidecar's. Parse these bytes, never the file again."""
    path = _version_file(roots, meta)
    try:
        with open(path, "rb") as handle:
            before = file_identity(os.fstat(handle.fileno()))
            data = handle.read()
            after = file_identity(os.fstat(handle.fileno()))
    except OSError as exc:
        raise problem(meta, path, f"unreadable ({exc.strerror or exc})") from None
    if not _enabled:
        return data
    if len(data) != meta.get("size_bytes"):
        raise problem(meta, path, f"size {len(data)} bytes, its sidecar says {meta.get('size_bytes')}")
    sha = hashlib.sha256(data).hexdigest()
    if sha != meta.get("sha256"):
        raise problem(meta, path, f"sha256 {sha[:12]}… differs from its sidecar's {str(meta.get('sha256'))[:12]}…")
    if before == after:
        _remember(path, before, sha)
    return data


def check_content(roots: dict[str, Path], meta: dict, stated: Stated) -> None:
    """IntegrityError when what the file says it is (its own id, days, scenario) contradicts its
    sidecar: the right bytes of another artifact."""
    problems = content_problems(meta, stated)
    if problems:
        raise problem(meta, _version_file(roots, meta),
                       "; ".join(problems) + ": the file is not the artifact its sidecar describes")


def verify_artifact(roots: dict[str, Path], meta: dict) -> bytes:
    """Read the version's bytes (``read_verified``) and check what they say they are against the
    sidecar; returns the bytes. For readers of JSON documents, health and verification."""
    data = read_verified(roots, meta)
    check_content(roots, meta, stated_by_file(data, _version_file(roots, meta).name))
    return data


def read_bytes(roots: dict[str, Path], meta: dict) -> bytes:
    """The verified bytes of a small artifact (a route document, a model): read once, hashed,
    and checked against what the sidecar says they are."""
    return verify_artifact(roots, meta)


def is_intact(roots: dict[str, Path], meta: dict | None) -> bool:
    """True when ``meta`` describes a version whose file has its size and (cached) sha256.

    For decisions that use no bytes (is the current version worth keeping?); a read that feeds
    a product uses ``read_verified`` instead."""
    if meta is None:
        return False
    try:
        path = _version_file(roots, meta)
        if not _enabled:
            return True
        if path.stat().st_size != meta.get("size_bytes"):
            return False
        sha, _identity = cached_sha256(path)
    except (IntegrityError, OSError, KeyError):
        return False
    return sha == meta.get("sha256")


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
