"""The route through the conditions of the days the ship will sail (docs/route-model.md,
"Time-dependent search").

The static search (``routing.least_cost_path``) prices every step on the departure day's
conditions. This one gives each cell two labels, the cost of the best way there (what the
search minimises: transit time plus the risk penalty, plus any waiting) and the moment that way
arrives; a step from a cell takes its cost and its hard limits (POLARIS, waves, depth, the
sea-area rules of that day, fairways) from the day it begins on (``DailyConditions.day_for``:
the day changes at UTC midnight; past the data, the newest day persisted). Optionally a ship may
wait at a cell until a later midnight (``Waiting``), at a cost per hour. The days' cost surfaces
are built as the search reaches them, so a voyage loads only the days it can reach.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .. import polaris
from ..static import StaticGrid
from . import depth, routing
from .conditions import DailyConditions
from .routing import PathResult, Vessel


@dataclass(frozen=True)
class Waiting:
    """Waiting at a cell for the conditions of a later day: at most ``max_hours`` before a step
    (0: never), each hour adding ``cost_per_hour`` hours to the route's cost (1: an hour waited
    counts as an hour sailed)."""

    max_hours: float = 0.0
    cost_per_hour: float = 1.0

    @classmethod
    def from_config(cls, route_cfg: dict | None) -> Waiting:
        cfg = (route_cfg or {}).get("wait") or {}
        return cls(max_hours=float(cfg.get("max_hours", 0.0)), cost_per_hour=float(cfg.get("cost_per_hour", 1.0)))


@dataclass
class ThroughTime:
    """What ``routing.plan_path`` needs to search through time: the days' conditions, the moment
    the search departs and the waiting allowed."""

    daily: DailyConditions
    departure: datetime
    waiting: Waiting = field(default_factory=Waiting)

    def at(self, moment: datetime) -> ThroughTime:
        """The same search departing at ``moment`` (a re-plan on the way)."""
        return ThroughTime(self.daily, moment, self.waiting)

    def slot_days(self) -> list[date]:
        """The days whose conditions the search may use, from the departure's on."""
        first = self.daily.day_for(self.departure)
        return [first] + [d for d in self.daily.days if d > first]

    def bounds(self, days: list[date]) -> np.ndarray:
        """Seconds from departure to the midnight (UTC) each later day in ``days`` begins."""
        tz = self.departure.tzinfo
        return np.array([(datetime(d.year, d.month, d.day, tzinfo=tz) - self.departure).total_seconds()
                         for d in days[1:]], dtype=np.float64)

    def search(self, static: StaticGrid, vessel: Vessel, risk_weight: float, start: tuple[int, int],
               end: tuple[int, int], depth_mask: np.ndarray | None) -> PathResult | None:
        return least_cost_path(static, self, vessel, risk_weight, start, end, depth_mask)


class DaySurfaces:
    """The per-day cost and time per metre, built as the search reaches each day. The arrays have
    a row for every day the search may use; a row is written (and its memory touched) only when
    the search needs that day, so a voyage costs the memory of the days it can reach."""

    def __init__(self, static: StaticGrid, through: ThroughTime, vessel: Vessel, risk_weight: float,
                 depth_mask: np.ndarray | None):
        self.static, self.through, self.vessel, self.risk_weight = static, through, vessel, risk_weight
        self.depth_mask = depth_mask
        self.days = through.slot_days()
        size = static.grid.shape[0] * static.grid.shape[1]
        self._cost = np.empty((len(self.days), size), dtype=np.float32)
        self._time = np.empty((len(self.days), size), dtype=np.float32) if risk_weight else self._cost
        self.built = 0
        # the limits that do not change by day: land and depth (with the end cells plan_path freed)
        shallow = depth_mask if depth_mask is not None else depth.shallow_mask(static, vessel)
        land = routing.routable(static).land
        self.closed = land if shallow is None else land | shallow
        # what does not change by day: the vessel's POLARIS tables and the risk penalty's factor
        self.permitted = routing._regime_tables(vessel.polaris_class, float(vessel.speed_kn))[0]
        self.seconds = routing._seconds_per_metre(vessel.polaris_class, float(vessel.speed_kn))
        self.risk_factor = np.float32(risk_weight / (vessel.speed_kn * routing.KNOT_MS) if risk_weight else 0.0)
        self.kernel = compiled_kernel()

    @property
    def cost(self) -> np.ndarray:
        return self._cost[:self.built]

    @property
    def time(self) -> np.ndarray:
        return self._time[:self.built]

    def build(self, slot: int) -> None:
        """Day ``slot``'s row: ``routing.cost_per_metre`` within ``routing.blocked_masks``, fused
        in compiled code (``time_kernel.day_surface``) with the same values."""
        conditions = routing.with_fairways(self.static, self.through.daily.get(self.days[slot]))
        closed = self.closed
        if conditions.closed_for is not None:
            rules = list(conditions.closed_for(conditions, self.vessel).values())
            closed = np.logical_or.reduce([closed, *rules]) if rules else closed
        vessel = self.vessel
        sic, hs = np.asarray(conditions.sic).ravel(), np.asarray(conditions.hs).ravel()
        # thresholds in the fields' own precision, as numpy compares an array with a Python float
        sic_limit = sic.dtype.type(vessel.max_sic if vessel.max_sic is not None else 0.0)
        wave_limit = hs.dtype.type(vessel.max_wave_m if vessel.max_wave_m is not None else 0.0)
        stage = conditions.stage
        self.kernel.day_surface(sic, np.zeros(1, np.int16) if stage is None else np.asarray(stage).ravel(),
                                stage is not None, hs, np.asarray(conditions.risk).ravel(), closed.ravel(),
                                self.seconds, self.permitted, np.array([10.0, 0.5], dtype=sic.dtype),
                                vessel.max_sic is not None, sic_limit, vessel.max_wave_m is not None, wave_limit,
                                self.risk_factor, polaris.UNKNOWN_STAGE, self._cost[slot], self._time[slot])

    def load_to(self, slot: int) -> None:
        """Build the surfaces of every day up to ``slot``."""
        for k in range(self.built, slot + 1):
            self.build(k)
        self.built = max(self.built, slot + 1)


def compiled_kernel():
    """``time_kernel``, imported when a route is first planned (numba stays out of every
    command's start-up). Its compiled code is cached beside the module; where that folder is
    read-only (an installed image, a hardened service) and no ``NUMBA_CACHE_DIR`` is set, in a
    per-user folder of the temporary directory instead, rather than failing."""
    import numba

    here = Path(__file__).parent
    cache = here / "__pycache__"
    if not numba.config.CACHE_DIR and not os.access(cache if cache.is_dir() else here, os.W_OK):
        user = os.getuid() if hasattr(os, "getuid") else os.getlogin()
        numba.config.CACHE_DIR = str(Path(tempfile.gettempdir()) / f"arcticroute-numba-{user}")
    from . import time_kernel

    return time_kernel


def least_cost_path(static: StaticGrid, through: ThroughTime, vessel: Vessel, risk_weight: float,
                    start: tuple[int, int], end: tuple[int, int], depth_mask: np.ndarray | None = None
                    ) -> PathResult | None:
    """The minimum-cost path from ``start`` to ``end`` through the days (module doc), or None
    when no path keeps within the limits of the days it would be sailed on. The result carries
    per cell the moment it is reached and the seconds waited there (``times``, ``waits``), per step
    the day of the conditions used (``step_days``), and ``surface``: each cell's cost on the day
    the search reaches it (what smoothing weighs legs on)."""
    time_kernel = compiled_kernel()

    grid = static.grid
    nx = grid.shape[1]
    size = grid.shape[0] * nx
    surfaces = DaySurfaces(static, through, vessel, risk_weight, depth_mask)
    bounds = through.bounds(surfaces.days)
    step = routing.axial_step_metres(static).ravel()
    wait_max = float(through.waiting.max_hours) * 3600.0
    wait_cost = float(through.waiting.cost_per_hour)  # cost seconds per second waited
    g = np.full(size, np.inf)
    t = np.full(size, np.inf)
    pred = np.full(size, -1, dtype=np.int64)
    waited = np.zeros(size)
    frozen = np.zeros(size, dtype=np.uint8)
    heap_key = np.empty(size)
    heap_node = np.empty(size, dtype=np.int64)
    pos = np.full(size, -1, dtype=np.int64)
    first, last = start[0] * nx + start[1], end[0] * nx + end[1]
    g[first], t[first], heap_key[0], heap_node[0], pos[first] = 0.0, 0.0, 0.0, first, 0
    count = np.array([1], dtype=np.int64)
    surfaces.load_to(0)
    while True:
        status, slot = time_kernel.search(surfaces.cost, surfaces.time, step, nx, bounds, first, last, wait_max,
                                          wait_cost, g, t, pred, waited, frozen, heap_key, heap_node, pos, count)
        if status != time_kernel.NEEDS_DAY:
            break
        surfaces.load_to(int(slot))
    if status != time_kernel.REACHED:
        return None
    flat = time_kernel.traceback(pred, last)
    cells = np.stack(np.unravel_index(flat, grid.shape), axis=1).astype(np.int64)
    times, waits = t[flat], np.concatenate([waited[flat[1:]], [0.0]])
    step_slots = np.searchsorted(bounds, times[:-1] + waits[:-1], side="right")
    surface = np.empty(size)
    time_kernel.reached_surface(surfaces.cost, step, bounds, t, float(t[last]), surface)
    return PathResult(cells, float(g[last]), times=times, waits=waits,
                      step_days=[surfaces.days[s] for s in step_slots], surface=surface.reshape(grid.shape),
                      days_built=surfaces.cost.shape[0], departure=through.departure)

