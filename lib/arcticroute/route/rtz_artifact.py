"""The RTZ beside each route document: a versioned artifact of its own, made from the document's
verified bytes, so an ECDIS file is always there for a planned route and says what it came from."""

from __future__ import annotations

from ..config import Settings
from ..store.artifacts import ArtifactSpec, input_ref, previous_meta, write_artifact
from ..store.integrity import is_intact
from .export import RouteFileTooLarge, to_rtz
from .passage import has_route, passage_plan


def rtz_relpath(route_relpath: str) -> str:
    return route_relpath.removesuffix(".geojson") + ".rtz"


def rtz_is_current(settings: Settings, route_relpath: str, route_meta: dict) -> bool:
    """The RTZ's current version is intact and made from the route document's current version."""
    meta = previous_meta(settings.roots, "outputs", rtz_relpath(route_relpath))
    return (meta is not None and [i.get("sha256") for i in meta.get("inputs", [])] == [route_meta["sha256"]]
            and is_intact(settings.roots, meta))


def write_route_rtz(settings: Settings, document: dict, route_relpath: str, route_meta: dict, run) -> dict | None:
    """Write the RTZ 1.1 of a planned route (none for a no-route day); a route too large for an
    ECDIS import is a warning of the run, and no RTZ is written for it."""
    if not has_route(document):
        return None
    passage = passage_plan(document)
    try:
        data = to_rtz(passage)
    except RouteFileTooLarge as exc:
        run.warn(f"{exc} ({exc.hint})")
        return None
    spec = ArtifactSpec(
        logical_id=route_meta["logical_id"].replace("ar://route/", "ar://rtz/", 1),
        root="outputs",
        relpath=rtz_relpath(route_relpath),
        kind="route",
        synthetic=bool(route_meta.get("synthetic")),
        time_coverage=route_meta["time_coverage"],
        grid=route_meta.get("grid"),
        tags=[*route_meta.get("tags", []), "rtz"],
        inputs=[input_ref(route_meta)],
        params={"format": "RTZ 1.1 (IEC 61174)", "request": route_meta.get("params", {}).get("request"),
                "waypoints": len(passage.waypoints), "max_deviation_nm": passage.max_deviation_nm},
    )
    meta = write_artifact(settings.roots, spec, lambda p: p.write_bytes(data), run_id=run.run_id, command=run.command)
    run.artifact(meta)
    return meta
