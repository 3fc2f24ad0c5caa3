"""ETA through time: the voyage advances through the daily layers.

A route is planned through the conditions of the days it will be sailed (``time_search``), or on
its departure day's. Then the ship sails it: each step is sailed in the conditions of the day the
ship reaches it (``conditions.DailyConditions``: the daily layers, then the ice forecast, then the
newest of them persisted), at the speed those conditions allow. Where, on the day it gets there,
the route meets ice or waves beyond the vessel's limits, the rest of the voyage is planned again
from the last point before it on that day's conditions (through time again where the route was;
at most ``MAX_REPLANS`` times); where no way round exists that day, the route is kept and a
warning says where and when. Where the search waits at a cell for a later day, the ship waits
there until the moment the search sails on. The onward leg beyond the grid is sailed the same way
where it lies on the grid (ice, waves) and at open-water speed beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from ..grid import to_xy
from ..static import StaticGrid
from . import geometry, routing, time_search
from .conditions import HORIZON_DAYS, PERSISTED, DailyConditions  # noqa: F401 - HORIZON_DAYS for the planner
from .routing import Conditions, Place, Vessel

MAX_REPLANS = 20


@dataclass
class Voyage:
    """A sailed route: its vertices, per step the conditions' terms and the day used."""

    x: np.ndarray
    y: np.ndarray
    vcells: np.ndarray
    seg: np.ndarray  # metres per step
    terms: dict[str, np.ndarray]
    step_day: list[date]
    departure: datetime
    warnings: list[str] = field(default_factory=list)
    replans: int = 0

    @property
    def hours(self) -> float:
        """The voyage's duration: hours sailed and hours waited."""
        return float(self.terms["hours"].sum() + self.terms["wait_h"].sum()) if self.seg.size else 0.0

    @property
    def waiting_hours(self) -> float:
        return float(self.terms["wait_h"].sum()) if self.seg.size else 0.0

    @property
    def days_used(self) -> list[date]:
        return sorted(set(self.step_day))


def _blocked_steps(conditions: Conditions, vessel: Vessel, rows: np.ndarray, cols: np.ndarray) -> list[str | None]:
    """Per vertex: None if the vessel may enter its cell, else which limit it breaks."""
    sub = Conditions(sic=conditions.sic[rows, cols], hs=conditions.hs[rows, cols], risk=conditions.risk[rows, cols],
                     stage=None if conditions.stage is None else conditions.stage[rows, cols])
    permitted, _speed, rio = routing._regime_tables(vessel.polaris_class, float(vessel.speed_kn))
    regime = routing.regime_index(sub)
    reasons: list[str | None] = []
    sic = np.nan_to_num(sub.sic, nan=0.0)
    hs = np.nan_to_num(sub.hs, nan=0.0)
    for i in range(rows.size):
        if not permitted[regime[i]]:
            reasons.append(f"ice (POLARIS RIO {rio[regime[i]]:g} for {vessel.ice_class})")
        elif vessel.max_sic is not None and sic[i] > vessel.max_sic:
            reasons.append(f"sea ice {sic[i]:.2f} above max_sic {vessel.max_sic:g}")
        elif vessel.max_wave_m is not None and hs[i] > vessel.max_wave_m:
            reasons.append(f"waves {hs[i]:.1f} m above max_wave_m {vessel.max_wave_m:g} m")
        else:
            reasons.append(None)
    return reasons


def _steps(static: StaticGrid, conditions: Conditions, vessel: Vessel, risk_weight: float, x, y, vcells):
    lon, lat = routing.vertices_lonlat(x, y)
    seg = geometry.segment_metres(lon, lat)
    terms = routing.step_terms(conditions, vessel, risk_weight, vcells[:, 0], vcells[:, 1], seg)
    return seg, terms


def _path_waits(static: StaticGrid, path: routing.PathResult | np.ndarray) -> dict[int, datetime]:
    """Flat cell -> the moment the time-dependent search sails on from it after waiting there
    (``time_search``: always a midnight, when a later day's conditions begin)."""
    if not isinstance(path, routing.PathResult) or not path.waits_anywhere:
        return {}
    flat = np.ravel_multi_index((path.cells[:, 0], path.cells[:, 1]), static.grid.shape)
    return {int(flat[i]): path.departure + timedelta(seconds=float(path.times[i] + path.waits[i]))
            for i in np.flatnonzero(path.waits > 0)}


def sail(static: StaticGrid, daily: DailyConditions, vessel: Vessel, risk_weight: float, departure: datetime,
         origin: Place, destination: Place, cells: routing.PathResult | np.ndarray, *, replan: bool = True,
         through: time_search.ThroughTime | None = None) -> Voyage:
    """Sail the path (its smoothed legs where it has them, else its grid cells) from ``origin`` to
    ``destination`` through the daily layers, waiting where the time-dependent search waits
    (at the first vertex in the waiting cell, until the moment the search sails on from it);
    ``through``: re-plans search through time too."""
    x, y, vcells = routing.path_vertices(static, cells, origin, destination)
    waits = _path_waits(static, cells)
    moment, k, carried = departure, 0, 0.0
    chunks: list[tuple[np.ndarray, dict, date, int]] = []
    warnings: list[str] = []
    replans, last_replan = 0, None
    while k < len(x) - 1:
        flat = np.ravel_multi_index((vcells[:, 0], vcells[:, 1]), static.grid.shape)
        # the voyage's own times differ a little from the search's (true step lengths): it waits
        # until the moment the search sails on, if it is not already past it
        until = waits.pop(int(flat[k]), moment)
        wait_h = max((until - moment).total_seconds() / 3600.0, 0.0)
        moment += timedelta(hours=wait_h)
        carried += wait_h
        day = daily.day_for(moment)
        conditions = routing.with_fairways(static, daily.get(day))
        seg, terms = _steps(static, conditions, vessel, risk_weight, x[k:], y[k:], vcells[k:])
        starts = np.concatenate([[0.0], np.cumsum(terms["hours"])[:-1]])
        change = daily.next_change(moment)
        take = seg.size if change is None else max(1, int(np.sum(starts < (change - moment).total_seconds() / 3600)))
        next_wait = [j for j in range(1, take) if int(flat[k + j]) in waits]
        take = next_wait[0] if next_wait else take
        reasons = _blocked_steps(conditions, vessel, vcells[k + 1:k + 1 + take, 0], vcells[k + 1:k + 1 + take, 1])
        bad = next((j for j, r in enumerate(reasons) if r), None)
        if bad is not None:
            lon, lat = routing.vertices_lonlat(x[k + bad + 1:k + bad + 2], y[k + bad + 1:k + bad + 2])
            where = f"{lat[0]:.2f}N {lon[0]:.2f}E"
            if replan and replans < MAX_REPLANS and last_replan != (k + bad, day):
                at_lon, at_lat = routing.vertices_lonlat(x[k + bad:k + bad + 1], y[k + bad:k + bad + 1])
                place = Place(f"{at_lat[0]:.3f},{at_lon[0]:.3f}", float(at_lat[0]), float(at_lon[0]))
                try:
                    again = None if through is None else through.at(
                        moment + timedelta(hours=float(terms["hours"][:bad].sum())))
                    route, _baseline, _ = routing.plan_path(static, daily.get(day), vessel, place, destination,
                                                            risk_weight, through=again)
                except Exception as exc:  # noqa: BLE001 - whatever stops a re-plan, the old route is kept
                    warnings.append(f"on {day} the route meets {reasons[bad]} at {where} and no way round exists "
                                    f"that day ({str(exc)[:120]}); kept the route planned on {daily.first_day}")
                else:
                    nx, ny, nv = routing.path_vertices(static, route, place, destination)
                    waits = _path_waits(static, route)
                    x = np.concatenate([x[:k + bad + 1], nx[1:]])
                    y = np.concatenate([y[:k + bad + 1], ny[1:]])
                    vcells = np.concatenate([vcells[:k + bad + 1], nv[1:]])
                    replans += 1
                    last_replan = (k + bad, day)
                    warnings.append(f"on {day} the route planned on {daily.first_day} met {reasons[bad]} at {where}; "
                                    f"planned again from {place.name} on that day's conditions")
                    take = bad
                    if take == 0:
                        continue
            else:
                warnings.append(f"on {day} the route meets {reasons[bad]} at {where}")
        taken = {key: value[:take] for key, value in terms.items()}
        taken["wait_h"] = np.zeros(take)
        taken["wait_h"][0], carried = carried, 0.0
        chunks.append((seg[:take], taken, day, take))
        moment += timedelta(hours=float(terms["hours"][:take].sum()))
        k += take
    seg = np.concatenate([c[0] for c in chunks]) if chunks else np.zeros(0)
    keys = chunks[0][1].keys() if chunks else [*routing.step_terms(
        daily.get(daily.first_day), vessel, risk_weight, vcells[:1, 0], vcells[:1, 1], np.zeros(0)), "wait_h"]
    terms = {key: np.concatenate([c[1][key] for c in chunks]) if chunks else np.zeros(0) for key in keys}
    step_day = [c[2] for c in chunks for _ in range(c[3])]
    return Voyage(x, y, vcells, seg, terms, step_day, departure, warnings, replans)


def sail_onward(static: StaticGrid, daily: DailyConditions, vessel: Vessel, arrival: datetime,
                waypoints: list[tuple[float, float]]) -> dict:
    """The onward leg along great circles: on the grid in the conditions of the day it is
    reached (ice speed, POLARIS, waves), beyond it at open-water speed."""
    lon, lat = geometry.great_circle_points(waypoints)
    seg = geometry.segment_metres(lon, lat)
    x, y = (np.asarray(v) for v in to_xy(lon, lat))
    grid = static.grid
    inside = np.array([grid.contains_xy(a, b) for a, b in zip(x, y, strict=True)])
    moment, hours, checked_nm, warnings = arrival, 0.0, 0.0, []
    persisted_h = 0.0  # hours on the grid sailed on persisted conditions
    for i in range(seg.size):
        if inside[i] and inside[i + 1]:
            day = daily.day_for(moment)
            conditions = routing.with_fairways(static, daily.get(day))
            rows, cols = zip(*(grid.index_of(float(lat[j]), float(lon[j])) for j in (i, i + 1)), strict=True)
            rows, cols = np.array(rows), np.array(cols)
            where = routing.routable(static)
            rows_n, cols_n = where.nearest[0][rows, cols], where.nearest[1][rows, cols]
            reason = _blocked_steps(conditions, vessel, rows_n[1:], cols_n[1:])[0]
            if reason and not any(reason in w for w in warnings[-1:]):
                warnings.append(f"on {day} the onward leg meets {reason} at {lat[i + 1]:.2f}N {lon[i + 1]:.2f}E "
                                "(fixed waypoints: not re-routed)")
            step = routing.step_terms(conditions, vessel, 0.0, rows_n, cols_n, seg[i:i + 1])
            step_h = float(step["hours"][0])
            checked_nm += seg[i] / geometry.METRES_PER_NM
            persisted_h += step_h if daily.basis_of(day, moment.date()) == PERSISTED else 0.0
        else:
            step_h = seg[i] / geometry.METRES_PER_NM / vessel.speed_kn
        hours += step_h
        moment += timedelta(hours=step_h)
    return {"lon": lon, "lat": lat, "distance_nm": float(seg.sum() / geometry.METRES_PER_NM), "hours": hours,
            "eta": moment, "checked_nm": checked_nm, "warnings": warnings, "persisted_h": persisted_h}
