#!/usr/bin/env python3
"""Create the host folders `just up` mounts, never re-owning one it did not create.

Prints "<uid> <gid>" (the user the container runs as) on stdout for the recipe to export;
what it did and any access note go to stderr. Exit 2 for a root that must not be used (`/`,
system folders, a relative path, one the user cannot create). Logic: arcticroute.ops.host_roots.

Standard library only, run by any python3 >= 3.8 (`just up` needs no .venv: a host that only
runs the container may have no project environment). `--for-user NAME` prepares the roots the
checkout's settings name for the systemd timers instead (`just timers-install`, which has .venv).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))  # the checkout's own library

from arcticroute.errors import ArcticRouteError  # noqa: E402 - after the path is set
from arcticroute.ops import host_roots  # noqa: E402


def dotenv_value(path: Path, name: str) -> str:
    """The last plain ``NAME=value`` line of ``path`` (one pair of surrounding quotes removed), as
    compose reads its --env-file; "" when absent."""
    value = ""
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(f"{name}="):
                value = line.split("=", 1)[1].strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value = value[1:-1]
    return value


def for_container(checkout: Path) -> None:
    names = (*(variable for variable, _ in host_roots.ROOTS), "ARCTICROUTE_UID", "ARCTICROUTE_GID")
    values = {name: os.environ.get(name) or dotenv_value(checkout / ".env", name) for name in names}
    is_root = os.geteuid() == 0
    # never root in the container: root's `just up` runs it as the image's own user
    uid = host_roots.numeric_id("ARCTICROUTE_UID", values["ARCTICROUTE_UID"],
                                host_roots.CONTAINER_ID if is_root else os.getuid())
    gid = host_roots.numeric_id("ARCTICROUTE_GID", values["ARCTICROUTE_GID"],
                                host_roots.CONTAINER_ID if is_root else os.getgid())
    home = None if is_root else Path(os.path.realpath(os.path.expanduser("~")))
    plans = host_roots.plan(values, checkout, uid, gid, is_root=is_root, home=home)
    for note in host_roots.apply(plans, uid, gid, is_root=is_root):
        print(note, file=sys.stderr)
    print(f"{uid} {gid}")


def for_systemd(checkout: Path, user: str) -> None:
    import pwd

    from arcticroute.config import load_settings

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise host_roots.BadInputError(f"no user {user!r} on this machine") from None
    roots = load_settings(checkout / "config").roots
    values = {variable: str(roots[variable[len("ARCTICROUTE_"):].lower()]) for variable, _ in host_roots.ROOTS}
    is_root = os.geteuid() == 0
    plans = host_roots.plan(values, checkout, entry.pw_uid, entry.pw_gid, is_root=is_root)
    for note in host_roots.apply(plans, entry.pw_uid, entry.pw_gid, is_root=is_root):
        print(note, file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=Path("."),
                        help="the checkout whose .env names the roots (default: the current folder)")
    parser.add_argument("--for-user", default=None,
                        help="prepare the roots the settings name for the systemd timers' user instead")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    try:
        if args.for_user is not None:
            for_systemd(checkout, args.for_user)
        else:
            for_container(checkout)
    except ArcticRouteError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"Hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
