"""Minimum-time routes on the polar grid with ``skimage.graph.MCP_Geometric``.

Hard limits make a cell impassable: land; POLARIS (IMO MSC.1/Circ.1519) — a Risk Index Outcome
below the vessel's class limit (``polaris``); and, where a vessel profile sets them, sea-ice
concentration above ``max_sic`` and significant wave height above ``max_wave_m``. The soft cost
of a passable cell is time: the seconds needed to sail one axial step through it at the speed
the ice-speed model, the POLARIS speed limit and the wave speed loss leave, plus a risk penalty
``risk_weight x risk`` times the open-water time of the step. MCP_Geometric weighs diagonal
steps by sqrt(2), so a path's cost is its transit time plus the penalty along it. With zero risk
weight, open water and calm seas the cost is the step length over a constant speed: the
shortest path. The distance-only baseline uses the step length itself, within the same limits.
Both grid paths are then smoothed into straight legs that keep within the same limits and cost
no more along the same cost surface (``smooth_path``, ``smoothing``). See docs/route-model.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
from skimage.graph import MCP_Geometric

from .. import polaris
from ..errors import BadInputError, NoRouteError, RouteRefusedError
from ..grid import to_lonlat
from ..static import StaticGrid
from . import approach, depth, fairways, smoothing
from .geometry import GEOD

_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
RULE_MASK_PREFIX = "sea-area rule: "  # names of the hard limits the sea-area rules set (route.rules)
SEASON_MASK_PREFIX = RULE_MASK_PREFIX + "season: "  # a whole water area closed to the class on the day
KNOT_MS = 1852.0 / 3600.0

# Wave speed loss (docs/route-model.md): a ship keeps 1 - WAVE_LOSS_PER_M2 x Hs^2 of its speed,
# at least WAVE_MIN_FRACTION (a generic involuntary-plus-voluntary loss; a ship's own curve
# replaces it where known).
WAVE_LOSS_PER_M2 = 0.01
WAVE_MIN_FRACTION = 0.3


@dataclass(frozen=True)
class Vessel:
    """A vessel profile: its ice class (POLARIS decides where it may go and how fast),
    open-water speed and, optionally, extra hard limits of its operator."""

    name: str
    ice_class: str
    speed_kn: float
    max_sic: float | None = None
    max_wave_m: float | None = None
    description: str = ""
    draught_m: float | None = None  # with ukc_m: water shallower than their sum is a hard limit (``depth``)
    ukc_m: float | None = None

    @classmethod
    def from_config(cls, name: str, cfg: dict) -> Vessel:
        return cls(name=name, **{k: cfg[k] for k in cfg if k in cls.__dataclass_fields__})

    @property
    def polaris_class(self) -> str:
        return polaris.polaris_class(self.ice_class)

    def as_dict(self) -> dict:
        return {**self.__dict__, "polaris_class": self.polaris_class}


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float


@dataclass
class Conditions:
    """The day's fields the route is planned on, all shaped like the grid. ``stage`` is the
    ``ice.type`` stage of development (None: unknown, ice counted as thick first-year).
    ``sic`` and ``stage`` are not to be changed in place once used: the ice regime of each
    cell is computed from them once and kept."""

    sic: np.ndarray
    hs: np.ndarray
    risk: np.ndarray
    stage: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    # where ``stage`` holds an assumed type (route.ice_regime): its basis (0 observed) and the age
    # in days of a carried classification (NaN: none)
    assumed: np.ndarray | None = None
    assumed_age: np.ndarray | None = None
    # (conditions, vessel) -> {rule text: cells the sea-area rules close}, a hard limit beside POLARIS
    closed_for: Callable[[Conditions, Vessel], dict[str, np.ndarray]] | None = None
    _regime: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _filled: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def regime(self) -> np.ndarray:
        """Index into the regime tables, stage code x 11 + concentration in tenths (computed once)."""
        key = (id(self.sic), id(self.stage))
        if self._regime is None or self._regime[0] != key:
            self._regime = (key, regime_index(self))
        return self._regime[1]


@dataclass(frozen=True)
class Routable:
    """Where a route may go on a grid before the day's limits: the sea and the land cells the
    fairways open (``fairways``), the open ocean among them, and per cell the nearest one."""

    land: np.ndarray  # bool: land not opened by a fairway
    ocean: np.ndarray  # bool: the largest connected water (8-connected), fairways included
    nearest: tuple[np.ndarray, np.ndarray]  # row, col of the nearest ``ocean`` cell
    fill_from: tuple[np.ndarray, np.ndarray]  # opened cells: where their ice, waves and risk come from
    index: fairways.FairwayIndex


_ROUTABLE: dict[int, tuple[np.ndarray, Routable]] = {}


def routable(static: StaticGrid) -> Routable:
    """The grid's routable water, computed once per land mask."""
    hit = _ROUTABLE.get(id(static.land))
    if hit is not None and hit[0] is static.land:
        return hit[1]
    from scipy import ndimage  # 0.3 s of imports: only when a route is searched, not on every start

    index = fairways.index_for(static)
    land = static.land & ~index.opened
    labels, count = ndimage.label(~land, structure=_EIGHT_NEIGHBOURS)
    if count:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        ocean = labels == int(np.argmax(sizes))
    else:
        ocean = np.zeros(land.shape, dtype=bool)
    _d, nearest = ndimage.distance_transform_edt(~ocean, return_indices=True)
    _d, fill = ndimage.distance_transform_edt(~(ocean & ~index.opened), return_indices=True)
    result = Routable(land, ocean, (nearest[0].astype(np.int32), nearest[1].astype(np.int32)),
                      (fill[0].astype(np.int32), fill[1].astype(np.int32)), index)
    if len(_ROUTABLE) > 8:
        _ROUTABLE.clear()
    _ROUTABLE[id(static.land)] = (static.land, result)
    return result


def with_fairways(static: StaticGrid, conditions: Conditions) -> Conditions:
    """The conditions with each fairway-opened cell (land on the grid) given the ice, waves and
    risk of the nearest open-sea cell; kept on ``conditions`` for the grid."""
    if conditions._filled is not None and conditions._filled[0] is static.land:
        conditions._filled[1].closed_for = conditions.closed_for
        return conditions._filled[1]
    where = routable(static)
    opened = np.flatnonzero(where.index.opened)
    src = np.ravel_multi_index((where.fill_from[0].ravel()[opened], where.fill_from[1].ravel()[opened]),
                               static.grid.shape)

    def fill(values):
        if values is None or opened.size == 0:
            return values
        out = np.array(values, copy=True)
        out.flat[opened] = np.asarray(values).flat[src]
        return out

    filled = Conditions(sic=fill(conditions.sic), hs=fill(conditions.hs), risk=fill(conditions.risk),
                        stage=fill(conditions.stage), warnings=conditions.warnings,
                        assumed=fill(conditions.assumed), assumed_age=fill(conditions.assumed_age),
                        closed_for=conditions.closed_for)
    conditions._filled = (static.land, filled)
    return filled


@dataclass
class PathResult:
    cells: np.ndarray  # (n, 2) rows and columns, start to end
    cost: float
    warnings: list[str] = field(default_factory=list)
    # after ``smooth_path``: the straight legs' end points (EPSG:3413, true end points included)
    # and what smoothing did (grid path and smoothed cost, integrated alike; legs; seconds)
    legs_x: np.ndarray | None = None
    legs_y: np.ndarray | None = None
    smoothing: dict | None = None
    # from the time-dependent search (``time_search``): per cell the seconds from departure it is
    # reached and waited there, per step the day of the conditions used, each cell's cost on the
    # day the search reached it, and how many days' surfaces were built
    times: np.ndarray | None = None
    waits: np.ndarray | None = None
    step_days: list | None = None
    surface: np.ndarray | None = None
    days_built: int = 0
    departure: datetime | None = None  # the moment ``times`` count from

    @property
    def waits_anywhere(self) -> bool:
        return self.waits is not None and bool((self.waits > 0).any())


@lru_cache(maxsize=64)
def _regime_tables(cls: str, speed_kn: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per regime k = stage * 11 + tenths: POLARIS permitted, speed in ice (kn, ice-speed model
    capped by the POLARIS limit) and RIO, as flat lookup tables."""
    stage = np.repeat(np.arange(12), 11).astype(np.int16)
    c = np.tile(np.arange(11), 12).astype(np.float32) / 10.0
    operation = polaris.assess(c, stage, cls)
    speed = speed_kn * polaris.ice_speed_fraction(c, stage, cls)
    speed = np.minimum(speed, operation.speed_limit_kn).astype(np.float32)
    return operation.permitted, speed, operation.rio.astype(np.float32)


@lru_cache(maxsize=64)
def _seconds_per_metre(cls: str, speed_kn: float) -> np.ndarray:
    _permitted, speed, _rio = _regime_tables(cls, speed_kn)
    return (1.0 / (np.maximum(speed, 1e-3) * KNOT_MS)).astype(np.float32)


_STEP: dict[int, tuple[np.ndarray, float, np.ndarray]] = {}


def axial_step_metres(static: StaticGrid) -> np.ndarray:
    """``step_metres`` as float32, kept per scale array (the static layers do not change)."""
    key = id(static.scale)
    hit = _STEP.get(key)
    if hit is None or hit[0] is not static.scale or hit[1] != static.grid.resolution_m:
        _STEP.clear()
        hit = _STEP[key] = (static.scale, static.grid.resolution_m, step_metres(static).astype(np.float32))
    return hit[2]


def regime_index(conditions: Conditions) -> np.ndarray:
    """Index into the regime tables: stage code x 11 + concentration in tenths."""
    stage = polaris.stage_or_default(conditions.sic, conditions.stage)
    return stage * np.int16(11) + polaris.tenths(conditions.sic).astype(np.int16)


def wave_speed_fraction(hs: np.ndarray) -> np.ndarray:
    h = np.fmax(np.asarray(hs, dtype=np.float32), np.float32(0.0))  # NaN (land) counts as calm
    h *= h
    h *= np.float32(-WAVE_LOSS_PER_M2)
    h += np.float32(1.0)
    return np.maximum(h, np.float32(WAVE_MIN_FRACTION), out=h)


def blocked_masks(static: StaticGrid, conditions: Conditions, vessel: Vessel,
                  regime: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each hard limit as its own boolean mask (True = may not enter)."""
    regime = conditions.regime() if regime is None else regime
    permitted, _speed, _rio = _regime_tables(vessel.polaris_class, float(vessel.speed_kn))
    masks = {"land": routable(static).land, "ice": ~permitted[regime]}
    if vessel.max_sic is not None:
        masks["sea ice"] = np.nan_to_num(conditions.sic, nan=0.0) > vessel.max_sic
    if vessel.max_wave_m is not None:
        masks["waves"] = np.nan_to_num(conditions.hs, nan=0.0) > vessel.max_wave_m
    if conditions.closed_for is not None:
        masks.update(conditions.closed_for(conditions, vessel))
    shallow = depth.shallow_mask(static, vessel)
    if shallow is not None:
        masks["depth"] = shallow
    return masks


def step_metres(static: StaticGrid) -> np.ndarray:
    """True length of an axial step through each cell (projected size / scale factor)."""
    return static.grid.resolution_m / static.scale.astype(np.float64)


def speed_knots(conditions: Conditions, vessel: Vessel, regime: np.ndarray | None = None) -> np.ndarray:
    """Speed through each cell: ice-speed model and POLARIS limit, then the wave speed loss."""
    regime = conditions.regime() if regime is None else regime
    _permitted, speed, _rio = _regime_tables(vessel.polaris_class, float(vessel.speed_kn))
    return speed[regime] * wave_speed_fraction(conditions.hs)


def cost_per_metre(conditions: Conditions, vessel: Vessel, risk_weight: float) -> np.ndarray:
    """Per cell, float32: the seconds a metre of sailing through it takes, plus ``risk_weight x
    risk`` times the open-water seconds of that metre (with zero ``risk_weight``, the time alone)."""
    per_metre = _seconds_per_metre(vessel.polaris_class, float(vessel.speed_kn))[conditions.regime()]
    per_metre /= wave_speed_fraction(conditions.hs)
    if risk_weight:
        per_metre += risk_per_metre(conditions, vessel, risk_weight)
    return per_metre


def risk_per_metre(conditions: Conditions, vessel: Vessel, risk_weight: float) -> np.ndarray:
    """The risk penalty per metre, float32: ``risk_weight x risk`` open-water seconds."""
    penalty = np.fmax(np.asarray(conditions.risk, dtype=np.float32), np.float32(0.0))  # NaN -> 0
    penalty *= np.float32(risk_weight / (vessel.speed_kn * KNOT_MS))
    return penalty


def cost_surface(static: StaticGrid, conditions: Conditions, vessel: Vessel, risk_weight: float,
                 blocked: dict[str, np.ndarray] | None = None, *, distance_only: bool = False) -> np.ndarray:
    """Per-cell cost; -1 marks cells MCP may not enter.

    Time (s per axial step) plus ``risk_weight x risk`` times the open-water time of the step;
    ``distance_only`` gives the step length in metres (the baseline route's cost).
    """
    blocked = blocked if blocked is not None else blocked_masks(static, conditions, vessel)
    if distance_only:
        cost = step_metres(static)
    else:
        cost = cost_per_metre(conditions, vessel, risk_weight).astype(np.float64)
        cost *= axial_step_metres(static)
    impassable = np.logical_or.reduce(list(blocked.values()))
    cost[impassable] = -1.0
    return cost


def step_terms(conditions: Conditions, vessel: Vessel, risk_weight: float, rows: np.ndarray, cols: np.ndarray,
               seg_m: np.ndarray) -> dict[str, np.ndarray]:
    """Per path step (between consecutive cells; each step takes the mean of its two cells):
    hours, speed and the four cost terms in hours — open-water transit, delay by ice, delay by
    waves, risk penalty — with the cells' RIO, concentration, stage, wave height and risk."""
    cond = Conditions(sic=conditions.sic[rows, cols], hs=conditions.hs[rows, cols],
                      risk=conditions.risk[rows, cols],
                      stage=None if conditions.stage is None else conditions.stage[rows, cols])
    regime = regime_index(cond)
    _permitted, ice_speed, rio = _regime_tables(vessel.polaris_class, float(vessel.speed_kn))
    ice_kn = ice_speed[regime]
    kn = ice_kn * wave_speed_fraction(cond.hs)
    risk = np.nan_to_num(cond.risk, nan=0.0)
    stage = np.where(polaris.tenths(cond.sic) > 0, polaris.stage_or_default(cond.sic, cond.stage), 0)

    def mid(a):
        a = np.asarray(a, dtype=np.float64)
        return (a[:-1] + a[1:]) / 2.0

    def hours_of(knots):  # half of each step in each of its cells
        return seg_m / 1852.0 * mid(1.0 / np.maximum(knots, 1e-6))

    open_h = seg_m / (vessel.speed_kn * 1852.0)
    ice_h = hours_of(ice_kn)
    total_h = hours_of(kn)
    return {
        "hours": total_h, "open_h": open_h, "ice_h": ice_h - open_h, "wave_h": total_h - ice_h,
        "risk_h": risk_weight * mid(risk) * open_h,
        "rio": np.minimum(rio[regime][:-1], rio[regime][1:]),
        "sic": mid(np.nan_to_num(cond.sic, nan=0.0)), "hs": mid(np.nan_to_num(cond.hs, nan=0.0)), "risk": mid(risk),
        "stage": np.maximum(stage[:-1], stage[1:]),
        "elevated": (np.minimum(rio[regime][:-1], rio[regime][1:]) < 0),
        **assumed_terms(conditions, rows, cols),
    }


def assumed_terms(conditions: Conditions, rows: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Per step, the basis of an assumed ice type in either of its cells (0: observed) and the
    age of a carried classification (NaN: none); see ``ice_regime``."""
    n = max(rows.size - 1, 0)
    if conditions.assumed is None:
        return {"assumed": np.zeros(n, dtype=np.int8), "assumed_age": np.full(n, np.nan, dtype=np.float32)}
    basis = conditions.assumed[rows, cols]
    age = conditions.assumed_age[rows, cols]
    return {"assumed": np.maximum(basis[:-1], basis[1:]), "assumed_age": np.fmax(age[:-1], age[1:])}


def snap_to_sea(static: StaticGrid, cell: tuple[int, int], place: Place) -> tuple[tuple[int, int], str | None]:
    """Move an end point on land (or in water cut off from the ocean on this grid) to the
    nearest routable open-water cell (fairways included); returns the cell and a warning when
    it moved more than one cell."""
    where = routable(static)
    if where.ocean[cell]:
        return cell, None
    state = "a land cell" if where.land[cell] else "water cut off from the open ocean"
    snapped = (int(where.nearest[0][cell]), int(where.nearest[1][cell]))
    cells_moved = max(abs(snapped[0] - cell[0]), abs(snapped[1] - cell[1]))
    if cells_moved <= 1:
        return snapped, None
    moved_km = float(GEOD.inv(place.lon, place.lat, float(static.lon[snapped]), float(static.lat[snapped]))[2]) / 1000
    return snapped, (
        f"{place.name} ({place.lat:.3f},{place.lon:.3f}) lies on {state} of grid {static.grid.name}; "
        f"moved {moved_km:.0f} km ({cells_moved} cells) to the nearest sea cell "
        f"({static.lat[snapped]:.3f},{static.lon[snapped]:.3f}); the leg from the given point is included"
    )


def route_vertices(static: StaticGrid, cells: np.ndarray, origin: Place, destination: Place
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The route as projected vertices and the grid cell each belongs to: the true origin, the
    path's cell centres — where it runs through a fairway, the fairway's own points instead —
    and the true destination."""
    grid = static.grid
    index = routable(static).index
    flat = np.ravel_multi_index((cells[:, 0], cells[:, 1]), grid.shape)
    cx, cy = grid.cell_xy(cells[:, 0], cells[:, 1])
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    i, n = 0, len(flat)
    while i < n:
        found = None
        for number in index.members.get(int(flat[i]), ()):
            j = i
            while j + 1 < n and number in index.members.get(int(flat[j + 1]), ()):
                j += 1
            if index.opened.flat[flat[i:j + 1]].any() and (found is None or j > found[1]):
                found = (number, j)
        if found is None:
            xs.append(cx[i:i + 1])
            ys.append(cy[i:i + 1])
            i += 1
            continue
        number, j = found
        fx, fy = index.vertices_between(number, int(flat[i]), int(flat[j]))
        xs.append(fx)
        ys.append(fy)
        i = j + 1
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    # the true end points, each joined to the network by a land-free approach (``approach``)
    ax, ay = approach.approach_xy(origin, float(x[0]), float(y[0]))
    bx, by = approach.approach_xy(destination, float(x[-1]), float(y[-1]))
    x = np.concatenate([ax, x, bx[::-1]])
    y = np.concatenate([ay, y, by[::-1]])
    keep = np.concatenate([[True], np.hypot(np.diff(x), np.diff(y)) > 1.0])  # drop repeated points
    x, y = x[keep], y[keep]
    return x, y, vertex_cells(static, x, y)


def vertex_cells(static: StaticGrid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The grid cell of each vertex whose conditions it takes: its own, or where that is a cell
    routing does not use (a true end point on land), the nearest routable one."""
    grid = static.grid
    rows = np.clip(((grid.y[0] + grid.resolution_m / 2 - y) // grid.resolution_m).astype(np.int64), 0, grid.ny - 1)
    cols = np.clip(((x - grid.x[0] + grid.resolution_m / 2) // grid.resolution_m).astype(np.int64), 0, grid.nx - 1)
    vcells = np.stack([rows, cols], axis=1)
    # the true end points and any vertex in a cell routing does not use take the conditions of
    # the nearest routable cell
    where = routable(static)
    off = where.land[rows, cols]
    vcells[off, 0] = where.nearest[0][rows[off], cols[off]]
    vcells[off, 1] = where.nearest[1][rows[off], cols[off]]
    return vcells


def path_vertices(static: StaticGrid, path: PathResult | np.ndarray, origin: Place, destination: Place
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vertices a route is sailed and drawn along: a smoothed path's legs with points every
    half cell along each leg that replaced grid steps (so each step lies in at most two cells, as
    the grid path's do) and the grid path's own vertices elsewhere; unsmoothed, the grid path's
    (``route_vertices``)."""
    if isinstance(path, PathResult) and path.legs_x is not None:
        replaced = np.diff(path.smoothing["kept"]) > 1
        x, y = smoothing.densify(path.legs_x, path.legs_y, static.grid.resolution_m / 2.0, replaced)
        return x, y, vertex_cells(static, x, y)
    cells = path.cells if isinstance(path, PathResult) else path
    return route_vertices(static, cells, origin, destination)


def smooth_path(static: StaticGrid, path: PathResult, cost: np.ndarray, origin: Place, destination: Place) -> None:
    """Smooth ``path`` in place (``smoothing``): straight legs within the limits ``cost`` marks
    (-1) and the water routing uses, costing no more than the grid path along ``cost``."""
    x, y, _vcells = route_vertices(static, path.cells, origin, destination)
    done = smoothing.smooth(static.grid, static.scale, cost, routable(static).ocean, x, y)
    path.legs_x, path.legs_y = done.x, done.y
    path.smoothing = {"grid_vertices": int(x.size), "legs": int(done.x.size - 1), "grid_cost": done.grid_cost,
                      "cost": done.cost, "seconds": done.seconds, "kept": done.kept}


def vertices_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = to_lonlat(x, y)
    return np.asarray(lon), np.asarray(lat)


def least_cost_path(cost: np.ndarray, start: tuple[int, int], end: tuple[int, int]) -> PathResult | None:
    """The minimum-cost 8-connected path, or None if ``end`` cannot be reached."""
    mcp = MCP_Geometric(cost, fully_connected=True)
    cumulative, _traceback = mcp.find_costs([start], [end])
    total = float(cumulative[end])
    if not np.isfinite(total):
        return None
    return PathResult(np.asarray(mcp.traceback(end), dtype=np.int64), total)


def _limit_text(name: str, vessel: Vessel, context: tuple | None = None) -> str:
    """What a hard limit is; ``context`` (static, the cells blocked by the other limits, start,
    end) lets the depth limit name the straits that close the way."""
    cls = vessel.polaris_class
    if name == "ice":
        band = ("below -10 (operation subject to special consideration for a Polar Class)" if polaris.is_polar_class(cls)
                else "below 0 (operation subject to special consideration below PC7)")
        mapped = f" (POLARIS class {cls})" if cls != vessel.ice_class else ""
        return (f"blocked by ice: the POLARIS Risk Index Outcome for ice class {vessel.ice_class}{mapped} is {band} "
                "all across the passage")
    if name == "sea ice":
        return f"blocked by sea-ice concentration above the vessel's limit max_sic={vessel.max_sic:g}"
    if name.startswith(SEASON_MASK_PREFIX):
        return f"closed by the season rule {name[len(SEASON_MASK_PREFIX):]}"
    if name.startswith(RULE_MASK_PREFIX):
        return f"closed by the {name[len(RULE_MASK_PREFIX):]}"
    if name == "depth":
        where = depth.why_too_shallow(context[0], vessel, *context[1:]) if context is not None else ""
        return (f"blocked by depth: draught {vessel.draught_m:g} m + under-keel clearance "
                f"{depth.required_depth(vessel) - vessel.draught_m:g} m needs "
                f"{depth.required_depth(vessel):.1f} m of water{where}")
    return f"blocked by significant wave height above the vessel's limit max_wave_m={vessel.max_wave_m:g} m"


def _depth_context(static: StaticGrid | None, blocked: dict[str, np.ndarray], start, end) -> tuple | None:
    if static is None or "depth" not in blocked:
        return None
    return static, np.logical_or.reduce([mask for name, mask in blocked.items() if name != "depth"]), start, end


def explain_blocked(blocked: dict[str, np.ndarray], start, end, vessel: Vessel, static: StaticGrid | None = None) -> str:
    """Name the hard limit that separates ``start`` from ``end``."""

    from scipy import ndimage

    def connected(mask: np.ndarray) -> bool:
        labels, _n = ndimage.label(~mask, structure=_EIGHT_NEIGHBOURS)
        return labels[start] != 0 and labels[start] == labels[end]

    land = blocked["land"]
    if not connected(land):
        return "land: the two ends lie in separate waters on this grid (try a finer grid or other end points)"
    reasons = []
    limits = [name for name in blocked if name != "land"]
    for name in limits:
        if not connected(land | blocked[name]):
            at_end = [label for label, cell in (("start", start), ("end", end)) if blocked[name][cell]]
            where = f" (the {' and '.join(at_end)} itself is blocked)" if at_end else ""
            reasons.append(_limit_text(name, vessel, _depth_context(static, blocked, start, end)) + where)
    if not reasons:
        together = ("blocked by " + " and ".join(limits) + " together: each limit alone leaves a passage, but no path "
                    "satisfies them all at once")
        return together + ("; " + _limit_text("depth", vessel, _depth_context(static, blocked, start, end))
                           if "depth" in limits else "")
    return "; ".join(reasons)


def refused_by_rules(blocked: dict[str, np.ndarray], start, end) -> bool:
    """Whether the sea-area rules' closures, and not the vessel's physical limits, separate the ends."""
    from scipy import ndimage

    physical = [mask for name, mask in blocked.items() if not name.startswith(RULE_MASK_PREFIX)]
    if len(physical) == len(blocked):
        return False
    labels, _n = ndimage.label(~np.logical_or.reduce(physical), structure=_EIGHT_NEIGHBOURS)
    return bool(labels[start] != 0 and labels[start] == labels[end])


def plan_path(static: StaticGrid, conditions: Conditions, vessel: Vessel, origin: Place, destination: Place,
              risk_weight: float, *, smooth: bool = True, through=None
              ) -> tuple[PathResult, PathResult, dict[str, np.ndarray]]:
    """Minimum-time risk-aware path and distance-only baseline, each smoothed into straight legs
    (``smooth_path``) unless ``smooth`` is False; NoRouteError names the blocking limit.

    ``through`` (``time_search.ThroughTime``): the route is searched through the conditions of
    the days it is sailed (``conditions`` are then the departure day's); where no path keeps
    within the limits of those days, the route planned on the departure day alone stands, with a
    warning. The distance-only baseline is always planned on ``conditions``."""
    grid = static.grid
    warnings = []
    approach.check_end(origin)
    approach.check_end(destination)
    start, warn_start = snap_to_sea(static, grid.index_of(origin.lat, origin.lon), origin)
    end, warn_end = snap_to_sea(static, grid.index_of(destination.lat, destination.lon), destination)
    warnings += [w for w in (warn_start, warn_end) if w]
    if start == end:
        raise BadInputError(
            f"{origin.name} and {destination.name} fall in the same sea cell {start} of grid {grid.name}: "
            "there is no route to plan; nothing was written",
            hint="choose end points at least one grid cell apart, or a finer grid (--grid-km 6.25)",
        )
    conditions = with_fairways(static, conditions)
    blocked = blocked_masks(static, conditions, vessel)
    if "depth" in blocked:
        blocked["depth"], depth_notes = depth.free_end_cells(static, blocked["depth"], vessel,
                                                             [(start, origin), (end, destination)])
        warnings += depth_notes
    cost = cost_surface(static, conditions, vessel, risk_weight, blocked)
    route = None if through is None else through.search(static, vessel, risk_weight, start, end,
                                                        blocked.get("depth"))
    if route is None:
        route = least_cost_path(cost, start, end)
        if through is not None and route is not None:
            warnings.append(f"no route from {origin.name} to {destination.name} keeps within the vessel's limits on "
                            "every day it would be sailed; planned on the departure day's conditions alone, the "
                            "voyage re-plans where a later day closes the way")
    if route is None:
        reason = explain_blocked(blocked, start, end, vessel, static)
        seasons = [name for name, mask in blocked.items() if name.startswith(SEASON_MASK_PREFIX) and mask.any()]
        if refused_by_rules(blocked, start, end) or seasons:
            if seasons and "closed by the season rule" not in reason:  # the physical limits close it too: name both
                reason = "; ".join(_limit_text(name, vessel) for name in seasons) + f"; and {reason}"
            raise RouteRefusedError(
                f"no route from {origin.name} to {destination.name} for vessel {vessel.name} ({vessel.ice_class}) "
                f"that the sea-area rules permit: {reason}",
                hint="choose a vessel with a higher ice class or another date; for a study, --ignore-rules plans "
                     "it anyway")
        raise NoRouteError(
            f"no route from {origin.name} to {destination.name} for vessel {vessel.name} "
            f"({vessel.ice_class}): {reason}",
            hint="choose a vessel with a higher ice class, another date, or other end points",
        )
    route.warnings = warnings
    distance = cost_surface(static, conditions, vessel, 0.0, blocked, distance_only=True)
    baseline = least_cost_path(distance, start, end)
    assert baseline is not None  # same hard limits as the route, which exists
    if smooth:
        if not route.waits_anywhere:  # a wait is kept at its cell: a path that waits stays on the grid
            smooth_path(static, route, cost if route.surface is None else route.surface, origin, destination)
        smooth_path(static, baseline, distance, origin, destination)
    return route, baseline, blocked
