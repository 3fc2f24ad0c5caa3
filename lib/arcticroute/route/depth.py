"""Depth and draught: where a vessel has water enough under its keel.

A cell is a hard limit for a vessel with a draught when its depth is less than the draught plus
the under-keel clearance (UKC). The depth of a cell is the minimum depth within it
(``bathymetry``, the static layer), except on the straits and fairways (``fairways``), where
the charted controlling depth of the channel replaces it: the coarse relief smooths a dredged
channel away (Ob Bay reads 2-6 m in ETOPO1, its sea channel is 15.1 m) or misses a bar (Dmitry
Laptev reads 10 m, its charted least depth is 6.7 m). Fairways without a charted figure here
take, per cell, the greatest relief depth along their own polyline (the channel they follow).

The UKC is the vessel's ``ukc_m`` where set, else the rule of runtime.yaml ``route.ukc``:
max(``min_m``, ``fraction`` x draught), by default max(1 m, 10 % of draught) — the static
allowance many port and pilotage authorities apply in open, sheltered approaches (PIANC
Report 121 (2014), "Harbour Approach Channels Design Guidelines", gives 10-15 % of draught
as the gross UKC of concept design in sheltered water); waves and squat are not added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..static import StaticGrid
from . import fairways

# name -> (controlling depth in metres, source). None: not charted here (relief along the fairway).
AMSA = "Arctic Council, Arctic Marine Shipping Assessment 2009 Report, p. 23 (NSR straits)"
SOF = ("Ship & Ocean Foundation (2000), The Northern Sea Route: the shortest sea route linking East Asia and "
       "Europe (INSROP summary), sec. 4.2.1; Mulherin et al. (1996), CRREL Report 96-3, p. 32")
CHARTED_DEPTH: dict[str, tuple[float | None, str]] = {
    "kara_gate": (21.0, AMSA + ": Kara Gate, minimum depth 21 m"),
    "yugorsky_shar": (13.0, AMSA + ": Yugorskiy Shar, 13-30 m deep"),
    "vilkitsky": (32.0, "Vilkitsky Strait, depths 32-210 m (Great Soviet Encyclopedia, 3rd ed., 'Vil'kitskii Strait'; "
                        "AMSA 2009 p. 23)"),
    "shokalsky": (None, "no charted figure recorded: ETOPO1 along the fairway"),
    "sannikov": (13.0, SOF + ": Sannikov Strait fairway, minimum depths more than 13 m"),
    "dmitry_laptev": (6.7, AMSA + ": Dmitriy Laptev Strait, 6.7 m; Østreng et al. (2013), Shipping in Arctic "
                           "Waters, Springer, sec. 2 (NSR straits)"),
    "long": (20.0, SOF + ": Long Strait southern passage, minimum depths 20 m (northern passage 33 m)"),
    "bering": (None, "no charted figure recorded: ETOPO1 along the fairway (45-55 m)"),
    "barrow": (None, "no charted figure recorded: ETOPO1 along the fairway (Parry Channel, the NWP's deepest way: "
                     "Headland, 'Transits of the Northwest Passage', route 1/2)"),
    "prince_of_wales": (None, "no charted figure recorded: ETOPO1 along the fairway (160 m in the south, shoaling "
                              "northward: The Canadian Encyclopedia, 'Prince of Wales Strait')"),
    "kola_bay": (20.0, "Kola Bay: depths on the roads 20-60 m (Murmansk Commercial Port, 2010); the fjord 200-300 m "
                       "at its entrance; ETOPO1 at 0.1 degree reads it as 2 m near Severomorsk"),
    "ob_bay": (15.1, "Sabetta sea channel (Ob Bay), 15.1 m deep, 295 m wide: FSUE Rosmorport / Yamal LNG project "
                     "(2017)"),
    "maas": (21.0, "Maasgeul dredged to 21 m (Port of Rotterdam Authority, 2010 widening); the Eurogeul/Maasgeul "
                   "admit draughts to 22.5 m on the tide (Maasvlakte 2 Master Plan)"),
}


@dataclass(frozen=True)
class UkcRule:
    min_m: float = 1.0
    fraction: float = 0.10

    @classmethod
    def from_config(cls, cfg: dict | None) -> UkcRule:
        cfg = cfg or {}
        return cls(float(cfg.get("min_m", cls.min_m)), float(cfg.get("fraction", cls.fraction)))

    def clearance(self, draught_m: float) -> float:
        return max(self.min_m, self.fraction * draught_m)


def required_depth(vessel) -> float | None:
    """Draught plus under-keel clearance, metres (None: the vessel has no draught set)."""
    if getattr(vessel, "draught_m", None) is None:
        return None
    ukc = vessel.ukc_m if vessel.ukc_m is not None else UkcRule().clearance(vessel.draught_m)
    return float(vessel.draught_m + ukc)


_EFFECTIVE: dict[int, tuple[np.ndarray, np.ndarray, dict]] = {}


def fairway_depths(static: StaticGrid) -> dict[str, float]:
    """Each fairway's controlling depth on this grid: charted, else its shallowest per-cell value."""
    effective_depth(static)
    return _EFFECTIVE[id(static.land)][2]


def effective_depth(static: StaticGrid) -> np.ndarray:
    """The depth routing uses: the static layer's minimum depth, with each fairway's cells given
    the fairway's charted controlling depth (or its relief along the polyline, module doc);
    kept per static grid."""
    hit = _EFFECTIVE.get(id(static.land))
    if hit is not None and hit[0] is static.land:
        return hit[1]
    from ..bathymetry import depth_at_xy

    depth = np.array(static.depth, dtype=np.float32, copy=True)
    index = fairways.index_for(static)
    controlling: dict[str, float] = {}
    for fairway in index.fairways:
        charted, _source = CHARTED_DEPTH.get(fairway.name, (None, ""))
        cells = fairway.s_cell[fairway.s_cell >= 0]
        if charted is not None:
            depth.flat[np.unique(cells)] = charted
            controlling[fairway.name] = charted
            continue
        along = np.nan_to_num(depth_at_xy(static.relief_source, fairway.sx, fairway.sy), nan=-np.inf)
        per_cell = np.full(depth.size, -np.inf)
        inside = fairway.s_cell >= 0
        np.maximum.at(per_cell, fairway.s_cell[inside], along[inside])
        touched = np.unique(cells)
        values = np.where(np.isfinite(per_cell[touched]), per_cell[touched], np.nan)  # NaN: the relief has no water
        depth.flat[touched] = values
        controlling[fairway.name] = float(np.nanmin(values)) if np.isfinite(values).any() else float("nan")
    depth.flags.writeable = False
    if len(_EFFECTIVE) > 8:
        _EFFECTIVE.clear()
    _EFFECTIVE[id(static.land)] = (static.land, depth, controlling)
    return depth


def shallow_mask(static: StaticGrid, vessel) -> np.ndarray | None:
    """True where the water is shallower than the vessel's draught plus UKC (None: no draught)."""
    need = required_depth(vessel)
    if need is None:
        return None
    return effective_depth(static) < need


def _strait_text(name: str, value: float) -> str:
    _kind, text, _points = fairways.FAIRWAYS[name]
    charted, source = CHARTED_DEPTH.get(name, (None, ""))
    return f"{text} ({value:.1f} m{' charted' if charted is not None else ''}; {source})"


def closing_straits(static: StaticGrid, vessel) -> list[str]:
    """Every strait and fairway shallower than the vessel needs, with its depth and source."""
    need = required_depth(vessel)
    if need is None:
        return []
    return [_strait_text(name, value) for name, value in fairway_depths(static).items() if value < need]


def why_too_shallow(static: StaticGrid, vessel, others: np.ndarray, start, end) -> str:
    """Where depth closes the way: the shortest way within the other limits (``others``: cells
    the route may not enter but for depth) is found, and the straits on it too shallow for the
    vessel named; without one, its shallowest water and where."""
    from skimage.graph import MCP_Geometric

    need = required_depth(vessel)
    cost = np.where(others, -1.0, 1.0)
    mcp = MCP_Geometric(cost, fully_connected=True)
    cumulative, _ = mcp.find_costs([start], [end])
    if not np.isfinite(cumulative[end]):
        return ""
    cells = np.asarray(mcp.traceback(end))[1:-1]
    if cells.size == 0:
        return ""
    depth = effective_depth(static)[cells[:, 0], cells[:, 1]]
    flat = set((cells[:, 0] * static.grid.nx + cells[:, 1])[depth < need].tolist())
    index = fairways.index_for(static)
    named = [_strait_text(f.name, fairway_depths(static)[f.name]) for f in index.fairways
             if fairway_depths(static)[f.name] < need and flat & set(f.s_cell.tolist())]
    if named:
        return "; the shortest way within the other limits runs through " + "; ".join(named)
    if not np.isfinite(depth).any():
        return ""
    k = int(np.nanargmin(depth))
    return (f"; the shortest way within the other limits meets {depth[k]:.1f} m at "
            f"{static.lat[tuple(cells[k])]:.2f}N {static.lon[tuple(cells[k])]:.2f}E (the minimum depth of a "
            f"{static.grid.resolution_m / 1000:g} km cell; a finer grid, --grid-km 6.25, may find deeper water)")


def free_end_cells(static: StaticGrid, shallow: np.ndarray, vessel, ends) -> tuple[np.ndarray, list[str]]:
    """The end cells of a route, (cell, place) pairs, taken out of the depth limit where the
    water at the end point itself is deep enough: a cell's minimum depth may be a shoal beside
    the berth. An end point in water shallower than the vessel needs is refused (NoRouteError)."""
    from ..bathymetry import depth_at
    from ..errors import NoRouteError

    need = required_depth(vessel)
    notes = []
    for cell, place in ends:
        if not shallow[cell]:
            continue
        at_point = float(depth_at(static.relief_source, place.lat, place.lon)[0])
        if np.isnan(at_point):
            shallow = shallow.copy()
            shallow[cell] = False
            notes.append(f"{place.name}: the relief ({static.relief_source.kind}) reads land at the point, which the "
                         "land data has at sea: its depth is unknown; the end cell is entered (check the chart)")
            continue
        if at_point < need:
            raise NoRouteError(
                f"{place.name} ({place.lat:.3f},{place.lon:.3f}) lies in {at_point:.1f} m of water "
                f"({static.relief_source.kind} relief), less than the {need:.1f} m vessel {vessel.name} needs "
                f"(draught {vessel.draught_m:g} m + under-keel clearance)",
                hint="choose an end point in deeper water, or a vessel of lesser draught")
        shallow = shallow.copy()
        shallow[cell] = False
        notes.append(f"{place.name}: the water at the point is {at_point:.1f} m deep, but its grid cell's minimum is "
                     f"{effective_depth(static)[cell]:.1f} m; the end cell is entered on the point's depth "
                     "(check the approach against the chart)")
    return shallow, notes


def counted_depths(static: StaticGrid, vcells: np.ndarray, vessel) -> np.ndarray:
    """Per vertex of a sailed path, the depth of its cell as the route reports it (NaN: unknown or
    not counted): the true end points take their nearest cell, and cells shallower than the
    vessel needs are the end cells entered on the end point's own depth (``free_end_cells``)."""
    depth = effective_depth(static)[vcells[:, 0], vcells[:, 1]].astype(np.float64)
    counted = np.isfinite(depth)
    if depth.size > 2:
        counted[[0, -1]] = False
    need = required_depth(vessel)
    if need is not None and (counted & (depth >= need)).any():
        counted &= depth >= need
    return np.where(counted, depth, np.nan)


def step_depths(static: StaticGrid, vcells: np.ndarray, vessel) -> np.ndarray:
    """Per step of a sailed path, the shallower of the two cells it joins as ``counted_depths``
    counts them (NaN where neither is counted)."""
    depth = counted_depths(static, vcells, vessel)
    return np.fmin(depth[:-1], depth[1:])


def route_depth(static: StaticGrid, vcells: np.ndarray, lon: np.ndarray, lat: np.ndarray, vessel) -> dict:
    """The shallowest water met along the route (per vertex, the depth of its cell) and where."""
    from .geometry import METRES_PER_NM, segment_metres

    depth = effective_depth(static)[vcells[:, 0], vcells[:, 1]]
    if depth.size == 0:
        return {}
    need = required_depth(vessel)
    known = np.isfinite(depth)
    unknown_nm = float(segment_metres(lon, lat)[~(known[:-1] & known[1:])].sum() / METRES_PER_NM)
    counted = np.isfinite(counted_depths(static, vcells, vessel))
    if not counted.any():
        return {"min_depth_m": None, "unknown_depth_nm": round(unknown_nm, 1),
                "depth_source": static.relief_source.description}
    k = int(np.flatnonzero(counted)[np.argmin(depth[counted])])
    out = {
        "min_depth_m": round(float(depth[k]), 1),
        "min_depth_at": [round(float(lon[k]), 4), round(float(lat[k]), 4)],
        "depth_source": static.relief_source.description,
        "depth_rule": "minimum depth within each grid cell; charted controlling depth on straits and fairways",
        "unknown_depth_nm": round(unknown_nm, 1),  # in cells whose water the relief does not resolve
    }
    if need is not None:
        out["draught_m"] = float(vessel.draught_m)
        out["required_depth_m"] = round(need, 2)
    return out
