"""Minimum-cost routes on the polar grid with ``skimage.graph.MCP_Geometric``.

Hard limits (land, sea ice above the vessel's limit, waves above its limit) make a cell
impassable; the soft cost of a passable cell is its true size in metres (projected size over
the map scale factor) times ``1 + risk_weight * risk``. MCP_Geometric weighs diagonal steps
by sqrt(2), so a path's cost is its metric length inflated by the risk along it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from skimage.graph import MCP_Geometric

from .errors import BadInputError, NoRouteError
from .geometry import GEOD
from .static import StaticGrid

_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class Vessel:
    name: str
    ice_class: str
    max_sic: float
    max_wave_m: float
    speed_kn: float
    ice_speed_factor: float = 1.0
    description: str = ""

    @classmethod
    def from_config(cls, name: str, cfg: dict) -> Vessel:
        return cls(name=name, **{k: cfg[k] for k in cfg if k in cls.__dataclass_fields__})

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float


@dataclass
class Conditions:
    """The day's fields the route is planned on, all shaped like the grid."""

    sic: np.ndarray
    hs: np.ndarray
    risk: np.ndarray


@dataclass
class PathResult:
    cells: np.ndarray  # (n, 2) rows and columns, start to end
    cost: float
    warnings: list[str] = field(default_factory=list)


def blocked_masks(static: StaticGrid, conditions: Conditions, vessel: Vessel) -> dict[str, np.ndarray]:
    """Each hard limit as its own boolean mask (True = may not enter)."""
    return {
        "land": static.land,
        "sea ice": np.nan_to_num(conditions.sic, nan=0.0) > vessel.max_sic,
        "waves": np.nan_to_num(conditions.hs, nan=0.0) > vessel.max_wave_m,
    }


def step_metres(static: StaticGrid) -> np.ndarray:
    """True length of an axial step through each cell (projected size / scale factor)."""
    return static.grid.resolution_m / static.scale.astype(np.float64)


def cost_surface(static: StaticGrid, conditions: Conditions, vessel: Vessel, risk_weight: float,
                 blocked: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Per-cell cost in metres; -1 marks cells MCP may not enter. ``risk_weight`` 0 gives the
    distance-only cost of the baseline route."""
    blocked = blocked if blocked is not None else blocked_masks(static, conditions, vessel)
    cost = step_metres(static)
    if risk_weight:
        cost = cost * (1.0 + risk_weight * np.nan_to_num(conditions.risk, nan=0.0))
    impassable = np.logical_or.reduce(list(blocked.values()))
    cost[impassable] = -1.0
    return cost


def snap_to_sea(static: StaticGrid, cell: tuple[int, int], place: Place) -> tuple[tuple[int, int], str | None]:
    """Move an end point on land (or in water cut off from the ocean on this grid) to the
    nearest open-ocean cell; returns the cell and a warning."""
    if static.ocean[cell]:
        return cell, None
    where = "a land cell" if static.land[cell] else "water cut off from the open ocean"
    rows, cols = static.nearest_sea
    snapped = (int(rows[cell]), int(cols[cell]))
    moved_km = float(GEOD.inv(place.lon, place.lat, float(static.lon[snapped]), float(static.lat[snapped]))[2]) / 1000
    return snapped, (
        f"{place.name} ({place.lat:.3f},{place.lon:.3f}) lies on {where} of grid {static.grid.name}; "
        f"moved {moved_km:.0f} km to the nearest sea cell ({static.lat[snapped]:.3f},{static.lon[snapped]:.3f})"
    )


def least_cost_path(cost: np.ndarray, start: tuple[int, int], end: tuple[int, int]) -> PathResult | None:
    """The minimum-cost 8-connected path, or None if ``end`` cannot be reached."""
    mcp = MCP_Geometric(cost, fully_connected=True)
    cumulative, _traceback = mcp.find_costs([start], [end])
    total = float(cumulative[end])
    if not np.isfinite(total):
        return None
    return PathResult(np.asarray(mcp.traceback(end), dtype=np.int64), total)


def explain_blocked(blocked: dict[str, np.ndarray], start, end, vessel: Vessel) -> str:
    """Name the hard limit that separates ``start`` from ``end``."""

    def connected(mask: np.ndarray) -> bool:
        labels, _n = ndimage.label(~mask, structure=_EIGHT_NEIGHBOURS)
        return labels[start] != 0 and labels[start] == labels[end]

    land = blocked["land"]
    if not connected(land):
        return "land: the two ends lie in separate waters on this grid (try a finer grid or other end points)"
    reasons = []
    limits = {"sea ice": f"blocked by sea-ice concentration above the vessel's limit max_sic={vessel.max_sic:g}",
              "waves": f"blocked by significant wave height above the vessel's limit max_wave_m={vessel.max_wave_m:g} m"}
    for name, text in limits.items():
        if not connected(land | blocked[name]):
            at_end = [label for label, cell in (("start", start), ("end", end)) if blocked[name][cell]]
            where = f" (the {' and '.join(at_end)} itself is blocked)" if at_end else ""
            reasons.append(text + where)
    if not reasons:
        return ("blocked by sea ice and waves together: each limit alone leaves a passage, but no path satisfies "
                f"max_sic={vessel.max_sic:g} and max_wave_m={vessel.max_wave_m:g} m at once")
    return "; ".join(reasons)


def plan_path(static: StaticGrid, conditions: Conditions, vessel: Vessel, origin: Place, destination: Place,
              risk_weight: float) -> tuple[PathResult, PathResult, dict[str, np.ndarray]]:
    """Risk-aware path and distance-only baseline; NoRouteError names the blocking limit."""
    grid = static.grid
    warnings = []
    start, warn_start = snap_to_sea(static, grid.index_of(origin.lat, origin.lon), origin)
    end, warn_end = snap_to_sea(static, grid.index_of(destination.lat, destination.lon), destination)
    warnings += [w for w in (warn_start, warn_end) if w]
    if start == end:
        raise BadInputError(
            f"{origin.name} and {destination.name} fall in the same sea cell {start} of grid {grid.name}: "
            "there is no route to plan; nothing was written",
            hint="choose end points at least one grid cell apart, or a finer grid (--grid-km 6.25)",
        )
    blocked = blocked_masks(static, conditions, vessel)
    route = least_cost_path(cost_surface(static, conditions, vessel, risk_weight, blocked), start, end)
    if route is None:
        reason = explain_blocked(blocked, start, end, vessel)
        raise NoRouteError(
            f"no route from {origin.name} to {destination.name} for vessel {vessel.name} "
            f"({vessel.ice_class}): {reason}",
            hint="choose a vessel with a higher ice class, another date, or other end points",
        )
    route.warnings = warnings
    baseline = least_cost_path(cost_surface(static, conditions, vessel, 0.0, blocked), start, end)
    assert baseline is not None  # same hard limits as the route, which exists
    return route, baseline, blocked
