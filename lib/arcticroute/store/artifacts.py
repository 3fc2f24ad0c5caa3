"""Versioned artifacts behind canonical symbolic links, each with a ``.meta.json`` sidecar.

A new version of ``<stem>.<ext>`` is written as ``<stem>_adv_v<N>.<ext>`` (atomically), its
sidecar beside it, and then the canonical ``<stem>.<ext>`` (and its sidecar) is swapped to
point at it. Where symbolic links are not permitted the canonical file is an atomic copy and
the sidecar says ``"link": "copy"``. See docs/artifacts.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..provenance import producer
from ..timeutil import iso_utc, utc_now
from . import atomic
from .highwater import raise_highwater, read_highwater
from .identity import identity_of, sidecar_problems
from .integrity import IntegrityError, read_verified, repair_command
from .oserrors import storage_error

SCHEMA_VERSION = 1
KINDS = ("env-layer", "static-grid", "risk-daily", "risk-monthly", "route", "report", "forecast")
META_SUFFIX = ".meta.json"
_VERSION_RE = re.compile(r"^(?P<stem>.+)_adv_v(?P<version>\d+)$")


@dataclass
class ArtifactSpec:
    """What an artifact is, independent of the bytes written for it."""

    logical_id: str
    root: str  # "data", "reports" or "outputs"
    relpath: str  # canonical path relative to its root, forward slashes
    kind: str
    synthetic: bool
    time_coverage: dict
    grid: dict | None = None
    tags: list[str] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def meta_path_for(path: Path) -> Path:
    return path.with_name(path.name + META_SUFFIX)


def version_path(canonical: Path, version: int) -> Path:
    return canonical.with_name(f"{canonical.stem}_adv_v{version}{canonical.suffix}")


def parse_version(path: Path) -> tuple[str, int] | None:
    """``(stem, version)`` of a versioned file name, or None for any other name."""
    match = _VERSION_RE.match(path.stem)
    return (match["stem"], int(match["version"])) if match else None


def existing_versions(canonical: Path) -> dict[int, Path]:
    """Versions of ``canonical`` on disk (data files, with or without a sidecar)."""
    versions = {}
    if not canonical.parent.is_dir():
        return versions
    for candidate in canonical.parent.glob(f"{canonical.stem}_adv_v*{canonical.suffix}"):
        parsed = parse_version(candidate)
        if parsed and parsed[0] == canonical.stem and candidate.suffix == canonical.suffix:
            versions[parsed[1]] = candidate
    return versions


def next_version(canonical: Path) -> int:
    """One above the highest number ever used: the recorded high-water mark (``highwater``),
    every version file on disk (with or without its sidecar) and every sidecar (with or without
    its file). A number is never reused, so a name once cited always means the same bytes."""
    used = set(existing_versions(canonical)) | {read_highwater(canonical)}
    for sidecar in canonical.parent.glob(f"{canonical.stem}_adv_v*{canonical.suffix}{META_SUFFIX}"):
        parsed = parse_version(Path(sidecar.name[: -len(META_SUFFIX)]))
        if parsed and parsed[0] == canonical.stem:
            used.add(parsed[1])
    return max(used, default=0) + 1


def read_meta(meta_file: Path) -> dict:
    """A sidecar's content; IntegrityError naming the file when it is not a sidecar's JSON."""
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        problem = f"is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text (byte {exc.start})"
    else:
        if isinstance(meta, dict) and "logical_id" in meta:
            return meta
        problem = "is not an artifact sidecar (no logical_id)"
    raise IntegrityError(
        f"sidecar {meta_file} {problem}; the artifact it describes is refused as input",
        hint="run catalog.verify --repair (just repair): it sets the sidecar aside and rebuilds it from its file, "
             "or lists the command that restores the artifact",
    )


def current_meta(roots: dict[str, Path], root: str, relpath: str) -> dict | None:
    """Sidecar of the version the canonical path stands for, or None if there is none.

    IntegrityError when that sidecar is not the one of the artifact at this path: it describes
    another path, logical id, kind, grid or day, or the link points at another version than the
    sidecar names (store/identity.py). Readers refuse such an artifact as corrupt."""
    canonical = roots[root] / relpath
    link_target = None
    if canonical.is_symlink():
        link_target = os.readlink(canonical)
        meta_file = meta_path_for(canonical.parent / link_target)
    else:
        meta_file = meta_path_for(canonical)
    if not meta_file.is_file():
        return None
    try:
        meta = read_meta(meta_file)
    except (OSError, ValueError) as exc:
        raise not_this_artifact(root, relpath, canonical, [f"its sidecar {meta_file.name} is unreadable ({exc})"],
                                None) from None
    problems = sidecar_problems(meta, root, relpath, link_target)
    if problems:
        raise not_this_artifact(root, relpath, canonical, problems, meta)
    return meta


def previous_meta(roots: dict[str, Path], root: str, relpath: str) -> dict | None:
    """``current_meta`` for a producer looking at its own output: a sidecar that is not this
    artifact's counts as no current version, so the producer writes one."""
    try:
        return current_meta(roots, root, relpath)
    except IntegrityError:
        return None


def not_this_artifact(root: str, relpath: str, canonical: Path, problems: list[str],
                      meta: dict | None) -> IntegrityError:
    """The refusal of an artifact whose sidecar or link is another artifact's."""
    expected = identity_of(root, relpath)
    who = expected.logical_id if expected else relpath
    about = expected.repair_meta() if expected else (meta if isinstance(meta, dict) else {})
    return IntegrityError(
        f"{who}: {'; '.join(problems)} ({canonical}); refused as corrupt, nothing derived from it was written",
        hint=f"run catalog.verify --repair (just repair), then {repair_command(about)} to restore it",
    )


def point_canonical(canonical: Path, target: Path, link: str) -> None:
    """Swap ``canonical`` to ``target`` atomically, as a relative symbolic link or a copy."""
    if link == "copy":
        with atomic.atomic_path(canonical) as tmp_copy:
            shutil.copyfile(target, tmp_copy)
        return
    tmp = atomic.temp_path_for(canonical)
    os.symlink(target.name, tmp)
    try:
        os.replace(tmp, canonical)
    finally:
        if tmp.is_symlink():
            tmp.unlink()


def points_to(canonical: Path, target: Path, link: str) -> bool:
    """Whether ``canonical`` stands for ``target`` as ``point_canonical`` makes it: its link, or
    (``copy``) a copy with the same bytes."""
    if link == "copy":
        return (canonical.is_file() and not canonical.is_symlink()
                and atomic.sha256_file(canonical) == atomic.sha256_file(target))
    return canonical.is_symlink() and os.readlink(canonical) == target.name


def write_artifact(
    roots: dict[str, Path],
    spec: ArtifactSpec,
    write: Callable[[Path], None],
    *,
    run_id: str,
    command: str,
) -> dict:
    """Write a new version through ``write(tmp_path)``, its sidecar, and swap the canonical link.

    If the bytes equal the current version's and that version is intact, the new copy is
    discarded and the current sidecar is returned: unchanged content never makes a new version.
    """
    canonical = roots[spec.root] / spec.relpath
    try:
        return _write_version(roots, spec, canonical, write, run_id, command)
    except (OSError, RuntimeError) as exc:
        error = storage_error(exc, canonical.parent, what=spec.logical_id, roots=roots)
        if error is not None:
            raise error from exc
        raise


def _write_version(roots, spec: ArtifactSpec, canonical: Path, write, run_id: str, command: str) -> dict:
    canonical.parent.mkdir(parents=True, exist_ok=True)
    version = next_version(canonical)
    target = version_path(canonical, version)
    with atomic.atomic_path(target) as tmp:
        write(tmp)
    fresh = target
    try:
        sha = atomic.sha256_file(target)
        previous = previous_meta(roots, spec.root, spec.relpath)
        if _same_and_intact(roots, previous, sha):
            target.unlink()
            _relink_sidecar(roots, canonical, previous)
            return previous
        twin = unpublished_twin(canonical, sha, newer_than=previous["version"] if previous else 0, besides=version)
        if twin is not None:
            target.unlink()
            version, target = twin
        meta = _sidecar(roots, spec, canonical, target, version, sha, run_id, command)
        raise_highwater(canonical, version, durable=False)
        _write_sidecar_unsynced(meta_path_for(target), meta)
        point_canonical(canonical, target, meta["link"])
    except BaseException:
        # not linked yet: a version without its sidecar would be an orphan, so the previous stands
        # (a twin a killed writer left stays as it was found, for the next run to publish)
        for leftover in (meta_path_for(target), fresh) if target == fresh else ():
            atomic.remove_if_present(leftover)
        raise
    point_canonical(meta_path_for(canonical), meta_path_for(target), meta["link"])
    atomic._fsync_dir(canonical.parent)  # once, for the high-water mark, the sidecar and both links
    return meta


def _relink_sidecar(roots, canonical: Path, meta: dict) -> None:
    """Point the canonical sidecar at ``meta``'s version where a writer killed between its two
    links left it missing or on the version before."""
    meta_link = meta_path_for(canonical)
    version_sidecar = meta_path_for(roots[meta["root"]] / meta["path"])
    if not points_to(meta_link, version_sidecar, meta["link"]):
        point_canonical(meta_link, version_sidecar, meta["link"])


def unpublished_twin(canonical: Path, sha: str, *, newer_than: int, besides: int) -> tuple[int, Path] | None:
    """The newest version on disk, above the current one and with no link on it, when it has
    these very bytes: what a writer killed between its version file and its links left (``kill
    -9``, power loss). Publishing it under its own number does the work once, where a new number
    would make a second version of the same bytes; its number already names these bytes, so
    nothing cited changes meaning. One whose sidecar records other bytes is not a twin: that
    number was promised elsewhere. ``besides``: the version just written, not a candidate."""
    versions = existing_versions(canonical)
    versions.pop(besides, None)
    if not versions or max(versions) <= newer_than:
        return None
    number = max(versions)
    path = versions[number]
    if canonical.is_symlink() and os.readlink(canonical) == path.name:
        return None  # linked: the current version, refused by its reader; not a leftover
    try:
        sidecar = meta_path_for(path)
        if sidecar.exists() and read_meta(sidecar).get("sha256") != sha:
            return None
        return (number, path) if atomic.sha256_file(path) == sha else None
    except (IntegrityError, OSError):
        return None  # unreadable: not provably a twin, and repair is where it is judged


def _same_and_intact(roots, previous: dict | None, sha: str) -> bool:
    """The current version has these very bytes, read and verified now: a rotten current version
    is replaced by the fresh copy, never kept because a cache remembered its sha256 (what the
    bytes say they are is the producer's own fresh output, equal byte for byte)."""
    if previous is None or previous.get("sha256") != sha:
        return False
    try:
        read_verified(roots, previous)
    except IntegrityError:
        return False
    return True


def _write_sidecar_unsynced(path: Path, meta: dict) -> None:
    """The sidecar, atomically, but without waiting for the folder's fsync: the links follow at
    once, so a process killed meanwhile (``kill -9``) leaves no sidecar without its link for the
    length of a disk flush; the folder is synced once after the links."""
    tmp = atomic.temp_path_for(path)
    try:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
        atomic._fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sidecar(roots, spec: ArtifactSpec, canonical: Path, target: Path, version: int, sha: str,
             run_id: str, command: str) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "logical_id": spec.logical_id,
        "version": version,
        "root": spec.root,
        "path": target.relative_to(roots[spec.root]).as_posix(),
        "canonical": spec.relpath,
        "link": link_mode(canonical),
        "sha256": sha,
        "size_bytes": target.stat().st_size,
        "created_at": iso_utc(utc_now()),
        "run_id": run_id,
        "producer": producer(command),
        "kind": spec.kind,
        "tags": list(spec.tags),
        "synthetic": bool(spec.synthetic),
        "time_coverage": spec.time_coverage,
        "grid": spec.grid,
        "inputs": spec.inputs,
        "params": spec.params,
        "warnings": list(spec.warnings),
    }


def link_mode(canonical: Path) -> str:
    """Find out, before writing the sidecar, whether this folder allows symbolic links."""
    probe = atomic.temp_path_for(canonical)
    try:
        os.symlink(canonical.name, probe)
    except (OSError, NotImplementedError):
        return "copy"
    probe.unlink()
    return "symlink"


def input_ref(meta: dict) -> dict:
    """How an artifact is cited in the ``inputs`` of the artifacts made from it."""
    return {
        "logical_id": meta["logical_id"],
        "sha256": meta["sha256"],
        "source_url": meta.get("params", {}).get("source_url"),
    }


def artifact_meta_schema() -> dict:
    """The JSON Schema of a sidecar (package data; copied to docs/ by ``just docs``)."""
    schema_file = Path(__file__).with_name("schemas") / "artifact-meta.schema.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))
