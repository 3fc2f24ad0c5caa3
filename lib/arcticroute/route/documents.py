"""Finding and reading route documents: a scenario's on a day (verified against its sidecar),
or a GeoJSON file given by path (verified when its sidecar stands beside it)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from pathlib import Path

from ..config import Settings
from ..errors import ArcticRouteError, BadInputError
from ..store.artifacts import META_SUFFIX, current_meta, read_meta
from ..store.integrity import read_bytes
from .planner import route_relpath

_ROUTE_FILE = re.compile(r"^(?P<name>.+)_(?P<day>\d{8})\.geojson$")


def route_days(settings: Settings, name: str) -> list[date]:
    """Days with a route document of scenario ``name`` on this run's grid, oldest first."""
    folder = settings.outputs_root / "routes" / settings.grid.name
    days = []
    for path in folder.glob(f"{name}_*.geojson") if folder.is_dir() else []:
        match = _ROUTE_FILE.match(path.name)
        if match and match["name"] == name:
            days.append(datetime.strptime(match["day"], "%Y%m%d").date())
    return sorted(days)


def scenario_document(settings: Settings, name: str, day: date | str) -> tuple[dict, dict]:
    """The verified route document of ``name`` on ``day`` (``latest``: its newest) and its sidecar."""
    if day == "latest":
        days = route_days(settings, name)
        if not days:
            known = sorted(settings.scenarios.get("scenarios", {}))
            if name not in known:
                raise BadInputError(f"unknown scenario {name!r} and no route of that name on grid "
                                    f"{settings.grid.name}; expected one of {', '.join(known)} "
                                    "(config/scenarios.yaml: scenarios)")
            raise ArcticRouteError(f"no route of scenario {name!r} on grid {settings.grid.name} yet",
                                   hint=f"plan it first: route.plan --scenario {name} (just route)")
        day = days[-1]
    meta = current_meta(settings.roots, "outputs", route_relpath(name, day, settings.grid.name))
    if meta is None:
        raise ArcticRouteError(f"no route of scenario {name!r} on {day} (grid {settings.grid.name})",
                               hint=f"plan it: route.plan --scenario {name} --date {day} (just route)")
    return _parse(read_bytes(settings.roots, meta), f"route {meta['logical_id']}"), meta


def file_document(path: Path) -> tuple[dict, bool]:
    """A route GeoJSON given by path, and whether it was verified: when the sidecar route.plan
    wrote stands beside it (beside the version a canonical link points to), the bytes must match."""
    try:
        data = path.read_bytes()
        resolved = path.resolve()
    except OSError as exc:
        raise BadInputError(f"cannot read route file {path}: {exc.strerror or exc}") from None
    sidecar = resolved.with_name(resolved.name + META_SUFFIX)
    if not sidecar.is_file():
        return _parse(data, f"route file {path}"), False
    try:
        expected = read_meta(sidecar).get("sha256")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise ArcticRouteError(f"the sidecar {sidecar} of route file {path} cannot be read ({exc})",
                               hint="run catalog.verify --repair (just repair)") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise ArcticRouteError(f"route file {path} does not match its sidecar {sidecar.name} (sha256 differs)",
                               hint="plan the route again (route.plan --force) or run catalog.verify --repair")
    return _parse(data, f"route file {path}"), True


def _parse(data: bytes, what: str) -> dict:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{what} is not a GeoJSON document ({exc})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or "arcticroute" not in document:
        raise BadInputError(f"{what} is not an ArcticRoute route document (a GeoJSON FeatureCollection written "
                            "by route.plan)")
    return document
