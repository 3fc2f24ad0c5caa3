"""What retention needs of every version, read from the sidecars; canonical link targets.

Sidecars are written by ``atomic.write_json`` (two-space indent, the key order of
``artifacts._sidecar``), and every field GC needs comes before ``time_coverage``, ahead of the
bulky grid, inputs and params. For a sidecar of that shape only that head is parsed, which makes
listing 100 000 versions about three times faster; anything else, or a head that does not parse
or whose fields appear again further on, is parsed whole, so the result is the same.
"""

from __future__ import annotations

import errno
import json
import os
import posixpath
import re
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..store import integrity
from ..store.artifacts import META_SUFFIX, parse_version
from .retention import VersionInfo, parse_created

_CUT = b',\n  "time_coverage":'
_NEEDED = ("logical_id", "version", "root", "path", "canonical", "link", "sha256", "size_bytes",
           "created_at", "kind", "tags")
_AGAIN = re.compile(b'\n  "(?:' + b"|".join(k.encode() for k in _NEEDED) + b')":')
_CHUNK = 1 << 16
_MAX_SIDECAR = 16 << 20  # a real one is a few kB; a huge file named like one is not read whole
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _parse(raw: bytes) -> object:
    cut = raw.find(_CUT)
    if cut > 0 and not _AGAIN.search(raw, cut):
        try:
            head = json.loads((raw[:cut] + b"\n}").decode("utf-8"))
        except ValueError:
            head = None
        if isinstance(head, dict) and all(key in head for key in _NEEDED):
            return head
    return json.loads(raw)


@dataclass
class Scan:
    versions: list[VersionInfo] = field(default_factory=list)
    # version files without a sidecar (a run killed between its two writes, a GC killed between
    # its two removals) that are not the highest version of their name: (root, relpath)
    leftovers: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # sidecars that could not be read
    singles: int = 0  # sidecars not read: the only version of their name in their folder


def _name_key(sidecar: str) -> str:
    """What the versions of one canonical path share: ``risk_20260901_adv_v3.nc.meta.json`` ->
    ``risk_20260901.nc``."""
    head, _, tail = sidecar[: -len(META_SUFFIX)].rpartition("_adv_v")
    return head + tail.lstrip("0123456789")


def scan_versions(roots: dict[str, Path], skip_dirs: set[str], *, singles: bool = True) -> Scan:
    """Every version the sidecars describe, as ``catalog.iter_sidecars`` selects them (links not
    followed, bookkeeping and dot-folders skipped), and the leftover version files beside them.

    ``singles=False`` skips the sidecar of a version that is the only one of its name in its
    folder (most of a catalog): retention can remove nothing there, so GC need not read it.
    Seeing fewer versions only ever makes GC keep more (its newest-version and floor rules count
    what it saw), never remove more.
    """
    found = Scan()
    for root_name, root in roots.items():
        if not root.is_dir():
            continue
        prefix = len(str(root)) + 1
        for dirpath, filenames in _walk(str(root), skip_dirs):
            versioned = [n for n in filenames if "_adv_v" in n and not n.startswith(".")]
            if not versioned:
                continue
            folder = dirpath[prefix:].replace(os.sep, "/")
            names = set(versioned)
            sidecars = [n for n in versioned if n.endswith(META_SUFFIX)]
            if not singles:
                keys = [_name_key(n) for n in sidecars]
                per_name = Counter(keys)
                found.singles += sum(1 for count in per_name.values() if count == 1)
                sidecars = [n for n, key in zip(sidecars, keys, strict=True) if per_name[key] > 1]
            for name in sidecars:
                _read(found, os.path.join(dirpath, name), root_name,
                      f"{folder}/{name[:-len(META_SUFFIX)]}" if folder else name[:-len(META_SUFFIX)])
            orphans = [n for n in versioned if not n.endswith(META_SUFFIX) and n + META_SUFFIX not in names]
            if orphans:
                highest = highest_versions(names)
                found.leftovers += [(root_name, f"{folder}/{n}" if folder else n) for n in orphans
                                    if (p := parse_version(Path(n))) and p[1] < highest.get((p[0], Path(n).suffix), 0)]
    return found


def _walk(top: str, skip_dirs: set[str]) -> Iterable[tuple[str, list[str]]]:
    """``(folder, names of what is not a folder)`` below ``top``, as ``os.walk`` without following
    links, but without its ``stat`` of every link's target (a catalog has a link per logical id)."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            listing = os.scandir(folder)
        except OSError:
            continue  # gone, or not ours to read
        names = []
        with listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in skip_dirs and not entry.name.startswith("."):
                        stack.append(entry.path)
                else:
                    names.append(entry.name)
        yield folder, names


def highest_versions(names: Iterable[str]) -> dict[tuple[str, str], int]:
    """The highest version number on disk per (stem, extension), sidecars of gone files included."""
    highest: dict[tuple[str, str], int] = {}
    for name in names:
        base = Path(name[:-len(META_SUFFIX)] if name.endswith(META_SUFFIX) else name)
        parsed = parse_version(base)
        if parsed:
            key = (parsed[0], base.suffix)
            highest[key] = max(highest.get(key, 0), parsed[1])
    return highest


def _read_bytes(path: str) -> bytes:
    """The whole file, without the buffering layer of open() (a third of the cost at 100 000 files)."""
    fd = os.open(path, _READ_FLAGS)
    try:
        chunks = [os.read(fd, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:
            if len(chunks) * _CHUNK >= _MAX_SIDECAR:
                raise ValueError(f"larger than {_MAX_SIDECAR >> 20} MiB: not a sidecar")
            chunks.append(os.read(fd, _CHUNK))
    finally:
        os.close(fd)
    return b"".join(chunks)


def _read(found: Scan, path: str, root_name: str, relpath: str) -> None:
    try:
        meta = _parse(_read_bytes(path))
    except FileNotFoundError:
        return  # removed since the folder was listed
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # a link named like a sidecar is not one (catalog.iter_sidecars)
            found.problems.append(f"{path}: unreadable sidecar ({exc})")
        return
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
        found.problems.append(f"{path}: unreadable sidecar ({exc})")
        return
    if not isinstance(meta, dict) or "logical_id" not in meta:
        found.problems.append(f"{path}: not an artifact sidecar (no logical_id)")
        return
    found.versions.append(_info(meta, root_name, relpath))


def _info(meta: dict, root_name: str, relpath: str) -> VersionInfo:
    """What retention needs of a sidecar; values of the wrong type count as absent."""
    get = meta.get
    version, size, tags, kind, canonical, sha = (get("version"), get("size_bytes"), get("tags"), get("kind"),
                                                get("canonical"), get("sha256"))
    version = version if type(version) is int else 0
    problem = None
    if get("root") != root_name or get("path") != relpath:
        problem = (f"its sidecar names {get('root')}:{get('path')}, but lies beside "
                   f"{root_name}:{relpath} (for catalog.verify to sort out)")
    elif type(canonical) is not str or canonical.rpartition("/")[0] != relpath.rpartition("/")[0]:
        problem = f"its sidecar's canonical path {canonical!r} is not beside the version"
    elif version < 1:
        problem = "no usable version number"
    return VersionInfo(
        str(meta["logical_id"]), version, kind if type(kind) is str else None,
        tuple(t for t in tags if type(t) is str) if type(tags) is list else (),
        parse_created(get("created_at")), root_name, relpath, canonical if type(canonical) is str else None,
        size if type(size) is int else 0, sha if type(sha) is str else None, problem)


def canonical_targets(roots: dict[str, Path], versions: Iterable[VersionInfo]) -> set[tuple[str, str]]:
    """``(root, relpath)`` of every version a canonical symbolic link points to (links read,
    never followed). A canonical copy (``"link": "copy"``) points to nothing: it is its own file."""
    targets: set[tuple[str, str]] = set()
    for root_name, canonical in {(v.root, v.canonical) for v in versions if v.canonical}:
        if canonical.startswith("/") or ".." in canonical.split("/") or "\\" in canonical:
            continue  # leaves its root (integrity.is_safe_relpath, without building a Path)
        try:
            pointed = os.readlink(os.path.join(roots[root_name], canonical))
        except (OSError, ValueError):
            continue  # not a link (a copy), or gone
        relpath = posixpath.normpath(posixpath.join(posixpath.dirname(canonical), pointed.replace(os.sep, "/")))
        targets.add((root_name, relpath))
    return targets


def newest_problem(roots: dict[str, Path], newest: VersionInfo, *, sha256: bool) -> str | None:
    """Why the newest version of a logical id fails verification, or None: missing or of another
    size than its sidecar says, and with ``sha256`` also another sha256.

    The sha256 comes from the integrity cache when the file is known there (any reader that
    verified it put it there), so for such files it costs a stat.
    """
    path = os.path.join(roots[newest.root], newest.relpath)
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return "its file is missing" if not stat.S_ISLNK(st.st_mode) else "its file is a link"
        if st.st_size != newest.size_bytes:
            return f"size {st.st_size} bytes, its sidecar says {newest.size_bytes}"
        if not sha256:
            return None
        sha, _identity = integrity.cached_sha256(Path(path))
    except FileNotFoundError:
        return "its file is missing"
    except OSError as exc:
        return f"its file cannot be read ({exc.strerror or exc})"
    if sha != newest.sha256:
        return "its sha256 differs from its sidecar's"
    return None
