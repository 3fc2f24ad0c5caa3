"""The inputs of a month's report: which artifacts, found how, and their digest.

Its inputs are the month's risk summary, the newest daily layer of each kind in the month,
the newest route of each scenario in the month and the static grid. The digest (logical id
and sha256 of each, plus the layout version) decides whether a report must be rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ..config import Settings
from ..errors import ArcticRouteError
from ..layers import LAYERS, layer_relpath
from ..risk.fuse import daily_relpath, monthly_relpath
from ..static import static_relpath
from ..store.artifacts import current_meta
from ..store.integrity import read_json
from ..timeutil import day_span, month_days

DAILY_LAYERS = (*LAYERS, "risk")  # "risk" is the daily fused layer
_ROUTE_FILE = re.compile(r"^(?P<scenario>.+)_(?P<day>\d{8})\.geojson$")


@dataclass(frozen=True)
class RouteDoc:
    """The newest route document of one scenario in the month, with its sidecar."""

    scenario: str
    day: date
    meta: dict
    document: dict


@dataclass(frozen=True)
class ReportInputs:
    """Everything a month's report is made from; ``latest`` maps layer to its newest sidecar."""

    year: int
    month: int
    monthly_risk: dict
    latest: dict[str, dict | None]
    routes: list[RouteDoc]
    static: dict
    risk_days: list[dict] = ()  # every daily risk layer of the month (calibration)
    incident_days: list[dict] = ()  # every incidents layer of the month (calibration)
    models: dict = None  # stacking models the daily risk layers name, by logical id

    def metas(self) -> list[dict]:
        """Sidecars of every input, each once."""
        metas = [self.monthly_risk, *(m for m in self.latest.values() if m), *(r.meta for r in self.routes),
                 self.static, *self.risk_days, *self.incident_days, *(self.models or {}).values()]
        return list({m["logical_id"]: m for m in metas}.values())

    @property
    def synthetic(self) -> bool:
        return any(m.get("synthetic") for m in self.metas())

    @property
    def map_day(self) -> date | None:
        """The newest day with routes: the routes drawn on the map."""
        return max((r.day for r in self.routes), default=None)


# Bump when the page or figure changes, so existing reports are rebuilt with the new layout.
LAYOUT_VERSION = 4  # 3: route explanation (POLARIS, cost terms); 4: --include, calibration


def report_relpath(year: int, month: int, grid_name: str) -> str:
    return f"{grid_name}/{year:04d}{month:02d}/report_{year:04d}{month:02d}.html"


def report_logical_id(year: int, month: int, grid_name: str) -> str:
    return f"ar://report/monthly@{year:04d}{month:02d}?grid={grid_name}"


def month_coverage(year: int, month: int) -> dict:
    days = month_days(year, month)
    return day_span(days[0], days[-1])


def daily_layer_relpath(layer: str, day: date, grid_name: str) -> str:
    return daily_relpath(day, grid_name) if layer == "risk" else layer_relpath(layer, day, grid_name)


def meta_day(meta: dict) -> date:
    return date.fromisoformat(meta["time_coverage"]["start"][:10])


# -- gathering ------------------------------------------------------------------------------------

def newest_in_month(roots: dict[str, Path], layer: str, year: int, month: int, grid_name: str) -> dict | None:
    """Sidecar of the newest day of ``layer`` in the month, or None if the month has none."""
    for day in reversed(month_days(year, month)):
        meta = current_meta(roots, "data", daily_layer_relpath(layer, day, grid_name))
        if meta is not None:
            return meta
    return None


def newest_route_files(outputs_root: Path, year: int, month: int, grid_name: str) -> dict[str, tuple[date, str]]:
    """Scenario name to ``(day, relpath)`` of its newest canonical route file in the month."""
    newest: dict[str, tuple[date, str]] = {}
    folder = outputs_root / "routes" / grid_name
    if not folder.is_dir():
        return newest
    for path in folder.glob(f"*_{year:04d}{month:02d}[0-9][0-9].geojson"):
        match = _ROUTE_FILE.match(path.name)
        if not match:
            continue
        day = datetime.strptime(match["day"], "%Y%m%d").date()
        if match["scenario"] not in newest or day > newest[match["scenario"]][0]:
            newest[match["scenario"]] = (day, f"routes/{grid_name}/{path.name}")
    return newest


def load_routes(roots: dict[str, Path], year: int, month: int, grid_name: str) -> list[RouteDoc]:
    """The newest route document of every scenario in the month, by scenario name, verified."""
    docs = []
    for scenario, (day, relpath) in sorted(newest_route_files(roots["outputs"], year, month, grid_name).items()):
        meta = current_meta(roots, "outputs", relpath)
        if meta is None:
            continue  # a canonical file without a sidecar is not an artifact
        document = read_json(roots, meta)
        docs.append(RouteDoc(scenario, day, meta, document))
    return docs


def gather_inputs(settings: Settings, year: int, month: int, include: tuple[str, ...] = ("calibration",)) -> ReportInputs:
    """Find the month's inputs; ArcticRouteError when the month has no risk summary or grid.
    With "calibration" in ``include`` every day's risk and incidents layer and the stacking
    models they name are inputs too."""
    roots, grid = settings.roots, settings.grid
    ym = f"{year:04d}{month:02d}"
    monthly = current_meta(roots, "data", monthly_relpath(year, month, grid.name))
    if monthly is None:
        raise ArcticRouteError(
            f"no monthly risk layer for {year:04d}-{month:02d} on grid {grid.name} "
            f"({roots['data'] / monthly_relpath(year, month, grid.name)}); nothing to report, no file written",
            hint=f"run ingest.nrt.pull --ym {ym} and risk.fuse --ym {ym} first (just pull, just fuse)",
        )
    found_grid = (monthly.get("grid") or {}).get("name")
    if found_grid != grid.name:
        raise ArcticRouteError(
            f"the monthly risk layer for {ym} is on grid {found_grid}, this run uses grid {grid.name}",
            hint="pass --grid-km (or ARCTICROUTE_GRID_KM) matching the data, or fuse the month again on this grid",
        )
    static = current_meta(roots, "data", static_relpath(grid))
    if static is None:
        raise ArcticRouteError(f"static layers for grid {grid.name} are missing",
                               hint=f"run ingest.nrt.pull --ym {ym} (it builds them)")
    latest = {layer: newest_in_month(roots, layer, year, month, grid.name) for layer in DAILY_LAYERS}
    risk_days, incident_days, models = [], [], {}
    if "calibration" in include:
        for day in month_days(year, month):
            for layer, found in (("risk", risk_days), ("incidents", incident_days)):
                meta = current_meta(roots, "data", daily_layer_relpath(layer, day, grid.name))
                if meta is not None:
                    found.append(meta)
        for meta in risk_days:
            model_id = (meta.get("params") or {}).get("model")
            if model_id and model_id not in models:
                ref = next((i for i in meta.get("inputs", []) if i["logical_id"] == model_id), None)
                model_meta = current_meta(roots, "data", _model_relpath(model_id, grid.name))
                if model_meta is not None and ref is not None and model_meta["sha256"] == ref["sha256"]:
                    models[model_id] = model_meta
                else:
                    raise ArcticRouteError(f"{meta['logical_id']} was fused with {model_id}, whose current version "
                                           "is missing or another one",
                                           hint=f"run risk.fuse --ym {ym} --method stacking again")
    return ReportInputs(year, month, monthly, latest, load_routes(roots, year, month, grid.name), static,
                        risk_days, incident_days, models)


def _model_relpath(logical_id: str, grid_name: str) -> str:
    """``ar://risk/model@202609?grid=…`` to its relative path."""
    ym = logical_id.split("@", 1)[1].split("?", 1)[0]
    return f"risk/{grid_name}/models/stacking_{ym}.json"


def inputs_digest(metas: list[dict], include: tuple[str, ...] | None = None) -> str:
    """Digest of the inputs' identities and contents, the sections and the page layout; independent of order."""
    payload = json.dumps({"layout": LAYOUT_VERSION, "inputs": sorted((m["logical_id"], m["sha256"]) for m in metas),
                          **({"include": sorted(include)} if include is not None else {})})
    return hashlib.sha256(payload.encode()).hexdigest()


