"""The time-dependent search (route/time_search.py): with every day alike it is the static route,
bit for bit; a strait closed on the departure day only is used, one that closes before the ship
gets there is avoided from the start; waiting at an ice edge is chosen where it pays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arcticroute import polaris
from arcticroute.grid import Grid
from arcticroute.route import conditions, routing, time_search, voyage
from arcticroute.route.routing import Conditions, Place, Vessel, plan_path
from arcticroute.static import StaticGrid

MURMANSK = Place("Murmansk (Kola Bay off Severomorsk)", 69.10, 33.42)
BERING = Place("Bering Strait (east of the Diomedes)", 65.80, -168.46)
KARA = Place("Kara Sea off Yamal", 71.0, 66.0)
ENDS = [(MURMANSK, BERING), (MURMANSK, KARA), (Place("Svalbard", 77.5, 12.0), Place("Laptev Sea", 76.0, 125.0))]
OPEN_WATER = Vessel("container", "none", speed_kn=18.0, max_wave_m=6.0)
FIRST = date(2026, 9, 10)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def random_day(static: StaticGrid, seed: int, ice_share: float, *, float_fields: bool = False) -> Conditions:
    """Fields drawn at random: ice of any type and concentration on ``ice_share`` of the cells,
    waves to 6.5 m, risk 0..1. ``float_fields``: float64 fields as a reader may give them, with
    gaps (NaN) in each and ice types unknown (NaN, -1) or out of range."""
    rng = np.random.default_rng(seed)
    shape = static.grid.shape
    sic = rng.uniform(0, 1, shape) * (rng.uniform(0, 1, shape) < ice_share)
    hs, risk = rng.uniform(0, 6.5, shape), rng.uniform(0, 1, shape)
    if not float_fields:
        return Conditions(sic=sic.astype(np.float32), hs=hs.astype(np.float32), risk=risk.astype(np.float32),
                          stage=rng.integers(0, 12, shape).astype(np.int16))
    stage = rng.choice([np.nan, -1.0, 0.0, 1.0, 4.0, 7.0, 9.5, 11.0, 12.0], shape)
    for field in (sic, hs, risk):
        field[rng.uniform(0, 1, shape) < 0.02] = np.nan
    return Conditions(sic=sic, hs=hs, risk=risk, stage=stage)


def alike(day_conditions: Conditions, n_days: int) -> conditions.DailyConditions:
    days = [FIRST + timedelta(days=i) for i in range(n_days)]
    return conditions.DailyConditions(FIRST, days, lambda _d: (day_conditions, []))


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), ice_share=st.floats(0.0, 0.4), risk_weight=st.sampled_from([0.0, 0.5, 2.0]),
       n_days=st.integers(1, 20), wait_hours=st.sampled_from([0.0, 30.0, 100.0]), ends=st.sampled_from(ENDS),
       float_fields=st.booleans(), max_sic=st.sampled_from([None, 0.35]))
@example(seed=2777, ice_share=0.0, risk_weight=0.0, n_days=1, wait_hours=0.0, ends=ENDS[2], float_fields=False,
         max_sic=None)  # the start cell is closed by waves: -1 in the cost (as MCP), not in the time
def test_with_every_day_alike_the_route_and_its_cost_are_the_static_ones(static, seed, ice_share, risk_weight,
                                                                         n_days, wait_hours, ends, float_fields,
                                                                         max_sic):
    day = random_day(static, seed, ice_share, float_fields=float_fields)
    vessel = Vessel("pc5", "PC5", speed_kn=13.0, max_wave_m=6.0, max_sic=max_sic)
    through = time_search.ThroughTime(alike(day, n_days), midnight(FIRST), time_search.Waiting(wait_hours, 1.0))
    try:
        static_route, _b, _ = plan_path(static, day, vessel, *ends, risk_weight, smooth=False)
    except routing.NoRouteError:
        assert through.search(static, vessel, risk_weight, static.grid.index_of(ends[0].lat, ends[0].lon),
                              static.grid.index_of(ends[1].lat, ends[1].lon), None) is None
        return
    timed, _b, _ = plan_path(static, day, vessel, *ends, risk_weight, smooth=False, through=through)
    assert timed.step_days is not None  # the time-dependent search found it, no fallback
    assert timed.cost == static_route.cost  # bit for bit: the same edge costs summed in the same order
    np.testing.assert_array_equal(timed.cells, static_route.cells)
    assert not timed.waits_anywhere
    surfaces = time_search.DaySurfaces(static, through, vessel, risk_weight, None)
    surfaces.load_to(0)
    start_open = surfaces.cost[0, timed.cells[0][0] * static.grid.shape[1] + timed.cells[0][1]] >= 0
    if risk_weight == 0.0 and start_open:  # a closed start counts -1 in the cost (as MCP does), not in the time
        assert timed.times[-1] == pytest.approx(timed.cost, rel=1e-12)  # cost is time


@pytest.mark.parametrize("float_fields", [False, True])
@pytest.mark.parametrize("max_sic", [None, 0.35])
@pytest.mark.parametrize("ice_class", ["PC5", "1A", "none"])
def test_each_day_surface_is_the_static_cost_surface_cell_for_cell(static, ice_class, float_fields, max_sic):
    """The compiled day surface (regime, cost, hard limits in one pass) gives every cell the
    value ``routing.cost_surface`` gives it, -1 where ``routing.blocked_masks`` closes it."""
    day = random_day(static, len(ice_class), 0.5, float_fields=float_fields)
    vessel = Vessel("ship", ice_class, speed_kn=13.0, max_wave_m=5.0, max_sic=max_sic)
    through = time_search.ThroughTime(alike(day, 1), midnight(FIRST))
    for risk_weight in (0.0, 2.0):
        surfaces = time_search.DaySurfaces(static, through, vessel, risk_weight, None)
        surfaces.load_to(0)
        row = surfaces.cost[0].reshape(static.grid.shape)
        built = np.where(row < 0, -1.0, row.astype(np.float64) * routing.axial_step_metres(static))
        expected = routing.cost_surface(static, routing.with_fairways(static, day), vessel, risk_weight)
        np.testing.assert_array_equal(built, expected)
        sailing = surfaces.time[0].reshape(static.grid.shape)
        open_cells = expected >= 0
        np.testing.assert_array_equal(sailing[open_cells], routing.cost_per_metre(
            routing.with_fairways(static, day), vessel, 0.0)[open_cells])


# The southern Kara straits (Kara Gate, Yugorsky Shar) and their approaches, east of Novaya Zemlya's
# southern tip; Matochkin Shar is closed in the land data, so the way round is by Cape Zhelaniya.
def strait_box(static: StaticGrid) -> np.ndarray:
    return (static.lat > 69.0) & (static.lat < 71.5) & (static.lon > 55.0) & (static.lon < 63.0)


def open_sea(static: StaticGrid) -> Conditions:
    shape = static.grid.shape
    return Conditions(sic=np.zeros(shape, np.float32), hs=np.full(shape, 0.5, np.float32),
                      risk=np.zeros(shape, np.float32), stage=np.zeros(shape, np.int16))


def straits_closed(static: StaticGrid) -> Conditions:
    day = open_sea(static)
    box = strait_box(static)
    day.sic[box] = 1.0
    day.stage[box] = polaris.STAGE_CODES["thick_fy"]
    return day


def days_of(static: StaticGrid, closed_on: set[int], n_days: int = 8) -> conditions.DailyConditions:
    fields = {True: straits_closed(static), False: open_sea(static)}
    days = [FIRST + timedelta(days=i) for i in range(n_days)]
    return conditions.DailyConditions(FIRST, days, lambda d: (fields[(d - FIRST).days in closed_on], []))


def through_box(static: StaticGrid, cells: np.ndarray) -> bool:
    return bool(strait_box(static)[cells[:, 0], cells[:, 1]].any())


def test_a_strait_closed_on_the_departure_day_only_is_used(static):
    """10/10 ice closes the southern Kara straits on the departure day; the ship is more than a
    day away: the departure-day plan goes round Cape Zhelaniya, the time-dependent route through
    the straits, and is sailed without a re-plan well before the other's ETA."""
    daily = days_of(static, closed_on={0})
    day0 = daily.get(FIRST)
    planned_on_day0, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0)
    assert not through_box(static, planned_on_day0.cells)
    assert static.lat[planned_on_day0.cells[:, 0], planned_on_day0.cells[:, 1]].max() > 76.0  # round the north cape
    through = time_search.ThroughTime(daily, midnight(FIRST))
    timed, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0, through=through)
    assert through_box(static, timed.cells)
    entered = timed.times[strait_box(static)[timed.cells[:, 0], timed.cells[:, 1]]]
    assert entered.min() >= 24 * 3600  # in the straits only once they are open
    sailed = voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(FIRST), MURMANSK, KARA, timed, through=through)
    round_cape = voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(FIRST), MURMANSK, KARA, planned_on_day0)
    assert sailed.replans == 0 and not sailed.warnings
    assert sailed.hours < 0.8 * round_cape.hours


def test_a_strait_that_closes_before_the_ship_gets_there_is_avoided_from_the_start(static):
    """Open on the departure day, closed from the next: the departure-day plan runs into the ice
    and re-plans round from there; the time-dependent route goes round from the start and arrives
    no later."""
    daily = days_of(static, closed_on=set(range(1, 8)))
    day0 = daily.get(FIRST)
    planned_on_day0, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0)
    assert through_box(static, planned_on_day0.cells)
    replanned = voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(FIRST), MURMANSK, KARA, planned_on_day0)
    assert replanned.replans >= 1
    through = time_search.ThroughTime(daily, midnight(FIRST))
    timed, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0, through=through)
    assert not through_box(static, timed.cells)
    sailed = voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(FIRST), MURMANSK, KARA, timed, through=through)
    assert sailed.replans == 0 and not sailed.warnings
    assert sailed.hours <= replanned.hours


def test_waiting_at_the_ice_edge_is_chosen_where_it_pays(static):
    """Closed on days 0 and 1, open from day 2: without waiting the ship, at the edge on day 1,
    must go round; allowed to wait, it waits at the edge for midnight of day 2 and goes through,
    at a lower cost and an earlier ETA, the wait in the sailed voyage and its cost."""
    daily = days_of(static, closed_on={0, 1})
    day0 = daily.get(FIRST)
    no_wait = time_search.ThroughTime(daily, midnight(FIRST))
    round_cape, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0, through=no_wait)
    assert not through_box(static, round_cape.cells) and not round_cape.waits_anywhere
    waiting = time_search.ThroughTime(daily, midnight(FIRST), time_search.Waiting(max_hours=48.0, cost_per_hour=1.0))
    waited, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0, through=waiting)
    assert through_box(static, waited.cells) and waited.waits_anywhere
    assert waited.cost < round_cape.cost
    at = int(np.flatnonzero(waited.waits > 0)[0])
    assert waited.times[at] + waited.waits[at] == pytest.approx(48 * 3600)  # leaves at midnight of day 2
    assert waited.smoothing is None  # a path that waits keeps its grid cells
    sailed = voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(FIRST), MURMANSK, KARA, waited, through=waiting)
    assert sailed.replans == 0 and not sailed.warnings
    # the voyage (true step lengths) reaches the cell minutes off the search's time and waits for the same midnight
    assert sailed.waiting_hours == pytest.approx(waited.waits[at] / 3600.0, abs=0.5)
    first_wait = int(np.flatnonzero(sailed.terms["wait_h"] > 0)[0])
    assert conditions.step_starts(sailed.terms["hours"], sailed.terms["wait_h"])[first_wait] == pytest.approx(48.0)
    assert sailed.hours < voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(FIRST), MURMANSK, KARA,
                                      round_cape).hours
    # waiting at a cost of 50 hours an hour does not pay: round the cape again
    dear = time_search.ThroughTime(daily, midnight(FIRST), time_search.Waiting(max_hours=48.0, cost_per_hour=50.0))
    assert not plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0, through=dear)[0].waits_anywhere


def test_the_route_document_gives_each_segment_its_days_and_the_waiting(static):
    """The document of a route that waits: the search it came from, the wait (where, how long,
    until the midnight the straits open), per segment the days whose conditions it was sailed in
    and the hours waited, per point times that include the wait; the report and the UI say so."""
    from arcticroute import views
    from arcticroute.report.page import compact_segments
    from arcticroute.route.planner import RouteRequest, build_geojson

    daily = days_of(static, closed_on={0, 1})
    waiting = time_search.ThroughTime(daily, midnight(FIRST), time_search.Waiting(max_hours=48.0, cost_per_hour=1.0))
    route, baseline, _ = plan_path(static, daily.get(FIRST), OPEN_WATER, MURMANSK, KARA, 2.0, through=waiting)
    request = RouteRequest("kara_straits", MURMANSK, KARA, OPEN_WATER)
    document = build_geojson(static, daily, request, FIRST, route, baseline, [], True, "run", 2.0, through=waiting)
    props = document["features"][0]["properties"]
    assert props["search"]["method"] == "time-dependent"
    assert props["search"]["conditions_days"] == [FIRST.isoformat(), (FIRST + timedelta(days=2)).isoformat()]
    [wait] = props["waits"]
    assert wait["until"] == f"{FIRST + timedelta(days=2)}T00:00Z" and wait["hours"] == pytest.approx(props["waiting_h"],
                                                                                                       abs=0.01)
    assert props["duration_h"] > 48.0 and "waiting for a later day" in props["eta_assumption"]
    segments = props["segments"]
    assert sum(s["waiting_h"] for s in segments) == pytest.approx(props["waiting_h"], abs=0.05)
    after = segments[next(i for i, s in enumerate(segments) if s["waiting_h"] > 0):]
    assert all(s["conditions_days"][0] >= (FIRST + timedelta(days=2)).isoformat() for s in after)
    assert segments[0]["conditions_days"][0] == FIRST.isoformat()
    times = props["coordinateProperties"]["times"]
    assert times == sorted(times) and times[-1][:16] == props["eta"][:16]
    assert any("waits" in line for line in compact_segments(document["features"][0], limit=len(segments)))
    document["arcticroute"]["summary"] = {"persistence_days": 0.0, "newest_daily_layer": "2026-09-17"}
    assert "Waits" in views.conditions_note(document) and "Searched through the days" in views.conditions_note(document)


def test_where_no_day_lets_the_ship_through_the_departure_day_plan_stands_with_a_warning(static):
    """The end itself freezes over from the day after departure, before the ship can get there:
    no path keeps within the limits of the days it would be sailed, so the route planned on the
    departure day stands, said in a warning and in the document's ``search``."""
    from arcticroute.route.planner import search_description

    day0 = open_sea(static)
    frozen = open_sea(static)
    end_box = (static.lat > 70.0) & (static.lat < 72.0) & (static.lon > 63.0) & (static.lon < 69.0)
    frozen.sic[end_box], frozen.stage[end_box] = 1.0, polaris.STAGE_CODES["thick_fy"]
    days = [FIRST + timedelta(days=i) for i in range(4)]
    daily = conditions.DailyConditions(FIRST, days, lambda d: (day0 if d == FIRST else frozen, []))
    through = time_search.ThroughTime(daily, midnight(FIRST))
    route, _b, _ = plan_path(static, day0, OPEN_WATER, MURMANSK, KARA, 2.0, through=through)
    assert route.step_days is None and any("every day it would be sailed" in w for w in route.warnings)
    assert search_description(route, through)["method"] == "departure day"
