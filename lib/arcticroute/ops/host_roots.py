"""The host folders ``just up`` mounts into the container: created when missing, never re-owned.

``plan`` decides from the values and the file system (nothing changed); ``apply`` carries the
plan out. A folder that is missing is created and, when ``just up`` runs as root, given to the
container's user: it is ours. A folder that exists is left exactly as it is, whoever owns it;
if the container's user cannot write there, the note says how to grant it access. ``/``, the
system's folders, home roots and the operator's own home are refused (exit 2), and so is a
folder the user could not create.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInputError

__all__ = ["BadInputError", "RootPlan", "apply", "numeric_id", "plan", "refusal"]

ROOTS = (("ARCTICROUTE_DATA", "data_processed"), ("ARCTICROUTE_REPORTS", "reports"), ("ARCTICROUTE_OUTPUTS", "outputs"))
CONTAINER_ID = 10001  # the image's own user and group (Dockerfile)
# Nothing at or below these is ever a data root: the system's own files.
SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys",
                "/dev", "/run", "/snap")
# These and the folders right inside them are shared (every user's home, /var/lib, /var/log ...).
SHARED_PARENTS = ("/home", "/var", "/Users")
# Folders that are fine to hold a data root but never to be one.
NEVER_ROOTS = ("/", "/root", "/opt", "/srv", "/mnt", "/media", "/tmp", "/var/tmp", "/data")


@dataclass(frozen=True)
class RootPlan:
    variable: str
    path: Path
    create: bool  # missing: created (and, as root, given to the container's user)
    note: str | None = None  # an existing folder the container's user may not be able to write


def numeric_id(variable: str, value: str, default: int) -> int:
    """A uid or gid from the environment or .env (default when unset); BadInputError when not a number."""
    if not value:
        return default
    if not value.isdigit() or int(value) > 2**32 - 2:
        raise BadInputError(f"{variable}={value!r} is not a numeric user or group id",
                            hint=f"set {variable} in .env to a number (id -u / id -g), or remove it")
    return int(value)


def _inside(path: Path, tree: str) -> bool:
    return path == Path(tree) or Path(tree) in path.parents


def refusal(path: Path, home: Path | None) -> str | None:
    """Why ``path`` (absolute, resolved) must not be a data root, or None."""
    for tree in SYSTEM_TREES:
        if _inside(path, tree):
            return f"it is inside the system folder {tree}"
    for parent in SHARED_PARENTS:
        if path == Path(parent) or path.parent == Path(parent):
            return f"it is {parent} or a folder right inside it, which other users and the system share"
    if str(path) in NEVER_ROOTS:
        return "it is a top-level system folder"
    if home is not None and path == home:
        return "it is your home folder"
    return None


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def plan(values: dict[str, str], checkout: Path, uid: int, gid: int, *, is_root: bool,
         home: Path | None = None) -> list[RootPlan]:
    """What ``just up`` will do with each root; BadInputError (exit 2) for a root it must not use."""
    plans = []
    for variable, default in ROOTS:
        value = values.get(variable) or ""
        if not value:
            path = checkout / default
        elif not Path(value).is_absolute():
            raise BadInputError(f"{variable}={value}: compose mounts it, so it must be an absolute path",
                                hint=f"set {variable} in .env to a full path, or remove it for ./{default}")
        else:
            path = Path(value)
        resolved = Path(os.path.realpath(path))
        why = refusal(resolved, home)
        if why:
            shown = f"{path} (= {resolved})" if resolved != path else str(path)
            raise BadInputError(f"{variable}={shown} cannot be a data root: {why}; nothing was created or changed",
                                hint=f"point {variable} in .env at a folder of its own, e.g. /srv/arcticroute/{default}")
        if not resolved.exists():
            parent = _nearest_existing(resolved.parent)
            if not is_root and not os.access(parent, os.W_OK | os.X_OK):
                raise BadInputError(f"{variable}={path}: cannot be created: {parent} is not writable by you",
                                    hint=f"create it once as its owner or root (mkdir -p {shlex.quote(str(resolved))}) "
                                         "and give it to yourself, or choose a folder you own")
            plans.append(RootPlan(variable, resolved, True))
            continue
        if not resolved.is_dir():
            raise BadInputError(f"{variable}={path} exists and is not a folder", hint="point it at a folder")
        plans.append(RootPlan(variable, resolved, False, _access_note(variable, resolved, uid, gid)))
    return plans


def _access_note(variable: str, path: Path, uid: int, gid: int) -> str | None:
    info = path.stat()
    if info.st_uid == uid:
        return None
    quoted = shlex.quote(str(path))
    return (f"{variable}={path} exists and belongs to uid {info.st_uid}, not the container's user {uid}; it was "
            f"left as it is. If the container must write there, grant it access yourself: "
            f"sudo chown -R {uid}:{gid} {quoted}  (or keep the owner: sudo setfacl -R -m u:{uid}:rwX "
            f"-m d:u:{uid}:rwX {quoted})")


def apply(plans: list[RootPlan], uid: int, gid: int, *, is_root: bool) -> list[str]:
    """Create the missing folders (as root, given to ``uid:gid``); the notes to show."""
    notes = []
    for item in plans:
        if item.create:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                item.path.mkdir()
            except FileExistsError:  # made by someone else since the plan: not ours to give away
                notes.append(f"{item.path} ({item.variable}) appeared meanwhile; it was left as it is")
                continue
            if is_root:
                os.chown(item.path, uid, gid)  # only the folder just made: it holds nothing yet
            notes.append(f"created {item.path} ({item.variable})")
        elif item.note:
            notes.append(item.note)
    return notes
