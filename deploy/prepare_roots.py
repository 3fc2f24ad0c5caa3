#!/usr/bin/env python3
"""Create the host folders `just up` mounts, never re-owning one it did not create.

Prints "<uid> <gid>" (the user the container runs as) on stdout for the recipe to export;
what it did and any access note go to stderr. Exit 2 for a root that must not be used (`/`,
system folders, a relative path, one the user cannot create). Logic: arcticroute.ops.host_roots.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from dotenv import dotenv_values

from arcticroute.cli import call_or_exit
from arcticroute.ops import host_roots


@click.command(name="prepare-roots")
@click.option("--checkout", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The checkout whose .env names the roots (default: the current folder).")
@click.option("--for-user", default=None,
              help="Prepare the roots the checkout's settings name for the systemd timers' user instead "
                   "(just timers-install): created ones are given to that user.")
def main(checkout: Path, for_user: str | None):
    """Create the missing data roots for compose and say which user the container runs as."""
    checkout = checkout.resolve()
    if for_user is not None:
        _for_systemd(checkout, for_user)
        return
    dotenv = {k: v for k, v in dotenv_values(checkout / ".env").items() if v is not None} \
        if (checkout / ".env").is_file() else {}
    values = {name: os.environ.get(name) or dotenv.get(name, "")
              for name in (*(v for v, _ in host_roots.ROOTS), "ARCTICROUTE_UID", "ARCTICROUTE_GID")}
    is_root = os.geteuid() == 0
    default = host_roots.CONTAINER_ID if is_root else None  # never root in the container
    uid = call_or_exit(host_roots.numeric_id, "ARCTICROUTE_UID", values["ARCTICROUTE_UID"],
                       default if default is not None else os.getuid())
    gid = call_or_exit(host_roots.numeric_id, "ARCTICROUTE_GID", values["ARCTICROUTE_GID"],
                       default if default is not None else os.getgid())
    home = Path(os.path.realpath(os.path.expanduser("~"))) if not is_root else None
    plans = call_or_exit(host_roots.plan, values, checkout, uid, gid, is_root=is_root, home=home)
    for note in host_roots.apply(plans, uid, gid, is_root=is_root):
        click.echo(note, err=True)
    click.echo(f"{uid} {gid}")


def _for_systemd(checkout: Path, user: str) -> None:
    import pwd

    from arcticroute.config import load_settings

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise click.UsageError(f"no user {user!r} on this machine") from None
    settings = call_or_exit(load_settings, checkout / "config")
    values = {variable: str(settings.roots[key]) for (variable, _), key in
              zip(host_roots.ROOTS, ("data", "reports", "outputs"), strict=True)}
    is_root = os.geteuid() == 0
    plans = call_or_exit(host_roots.plan, values, checkout, entry.pw_uid, entry.pw_gid, is_root=is_root)
    for note in host_roots.apply(plans, entry.pw_uid, entry.pw_gid, is_root=is_root):
        click.echo(note, err=True)


if __name__ == "__main__":
    main()
