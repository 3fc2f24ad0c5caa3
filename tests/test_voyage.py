"""ETA through time: the voyage advances through the daily layers, re-plans where a later day's
ice or waves close its way, uses the newest day past the data; the onward leg checks ice and
waves; times are given to the minute with the assumption stated."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from arcticroute.grid import Grid
from arcticroute.route import voyage
from arcticroute.route.routing import Place, Vessel, plan_path
from arcticroute.static import StaticGrid

from .conftest import run_command
from .synthetic_days import synthetic_day

MURMANSK = Place("Murmansk (Kola Bay off Severomorsk)", 69.10, 33.42)
BERING = Place("Bering Strait (east of the Diomedes)", 65.80, -168.46)
PC5 = Vessel("pc5_cargo", "PC5", speed_kn=13.0, max_wave_m=7.0)
OPEN_WATER = Vessel("container", "none", speed_kn=18.0, max_wave_m=6.0)


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))



def daily_from(static: StaticGrid, first: date, n_days: int) -> voyage.DailyConditions:
    days = [first + timedelta(days=i) for i in range(n_days)]
    return voyage.DailyConditions(first, days, lambda d: (synthetic_day(static, d), []))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_the_voyage_sails_each_step_in_the_layers_of_the_day_it_gets_there(static):
    """At freeze-up the ice thickens while the ship sails: the ETA through the daily layers is
    later than the ETA on the departure day's layers alone, and the days used advance."""
    first = date(2026, 10, 25)
    daily = daily_from(static, first, 30)
    route, _b, _ = plan_path(static, daily.get(first), PC5, MURMANSK, BERING, 2.0)
    through_time = voyage.sail(static, daily, PC5, 2.0, midnight(first), MURMANSK, BERING, route.cells)
    one_day = voyage.sail(static, voyage.DailyConditions.single(first, daily.get(first)), PC5, 2.0, midnight(first),
                          MURMANSK, BERING, route.cells, replan=False)
    assert through_time.hours > one_day.hours
    assert through_time.days_used[0] == first and len(through_time.days_used) > 3
    starts = midnight(first) + np.concatenate([[0], np.cumsum(through_time.terms["hours"])[:-1]]) * timedelta(hours=1)
    for start, used in zip(starts, through_time.step_day, strict=True):
        assert used == min(start.date(), daily.days[-1])  # the day it reaches the step


def test_past_the_data_the_newest_day_is_used(static):
    first = date(2026, 11, 20)
    daily = daily_from(static, first, 3)
    route, _b, _ = plan_path(static, daily.get(first), PC5, MURMANSK, BERING, 2.0)
    sailed = voyage.sail(static, daily, PC5, 2.0, midnight(first), MURMANSK, BERING, route.cells)
    assert sailed.hours > 72 and sailed.days_used == daily.days


def test_a_way_closed_on_a_later_day_is_planned_round_again(static):
    """Day 2 puts heavy ice across the first route's way east of Novaya Zemlya: the ship plans
    again from where it is that day, and no step is sailed through a cell it may not enter."""
    first = date(2026, 9, 10)
    open_day = synthetic_day(static, first)
    route, _b, _ = plan_path(static, open_day, OPEN_WATER, MURMANSK, BERING, 2.0)
    closed = synthetic_day(static, first + timedelta(days=2))
    cols = route.cells[:, 1]
    rows = route.cells[:, 0]
    lon = static.lon[rows, cols]
    band = (lon > 75) & (lon < 85)  # the stretch of the first route in the Kara Sea, east of 75E
    assert band.any()
    blocked_cells = np.zeros(static.grid.shape, bool)
    blocked_cells[rows[band], cols[band]] = True
    from scipy import ndimage

    blocked_cells = ndimage.binary_dilation(blocked_cells, iterations=2)
    closed.sic[blocked_cells] = 1.0
    closed.stage[blocked_cells] = 8
    days = {first: open_day, first + timedelta(days=1): open_day, first + timedelta(days=2): closed}
    daily = voyage.DailyConditions(first, list(days), lambda d: (days[d], []))
    sailed = voyage.sail(static, daily, OPEN_WATER, 2.0, midnight(first), MURMANSK, BERING, route.cells)
    assert sailed.replans >= 1 and any("planned again" in w for w in sailed.warnings)
    for k, used in enumerate(sailed.step_day):
        row, col = sailed.vcells[k + 1]
        if used >= first + timedelta(days=2):
            assert not blocked_cells[row, col], (k, used)


def test_the_onward_leg_checks_ice_and_waves(static):
    """Beyond Cape Navarin in late winter the Bering Sea is frozen to about 60N: the onward leg
    is slower than open water for an ice-class ship and names the ice for a ship without one."""
    waypoints = [(61.5, 179.5), (56.0, 172.0), (53.5, 169.0), (49.5, 158.5), (41.0, 146.5)]
    day = date(2026, 3, 10)
    daily = voyage.DailyConditions.single(day, synthetic_day(static, day))
    arc7 = Vessel("arc7", "Arc7", speed_kn=19.5)
    leg = voyage.sail_onward(static, daily, arc7, midnight(day), waypoints)
    assert leg["checked_nm"] > 0 and leg["hours"] > leg["distance_nm"] / 19.5
    assert not leg["warnings"]
    plain = voyage.sail_onward(static, daily, OPEN_WATER, midnight(day), waypoints)
    assert any("onward leg meets ice" in w for w in plain["warnings"])


def test_route_documents_give_times_to_the_minute_with_their_assumption(roots):
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-28"), ("risk.fuse", "--ym", "202609"),
                        ("route.plan", "--scenario", "rotterdam_yokohama_nsr", "--date", "2026-09-28")):
        result = run_command(name, *args)
        assert result.exit_code == 0, result.output
    path = roots.outputs / "routes" / "3413-25km" / "rotterdam_yokohama_nsr_20260928.geojson"
    document = json.loads(path.read_text())
    route = document["features"][0]["properties"]
    minute = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")
    assert minute.match(route["eta"]) and minute.match(route["departure"])
    assert minute.match(document["arcticroute"]["summary"]["total_eta"])
    assert "daily layers to 2026-09-30, no ice forecast; after 2026-09-30 the conditions of 2026-09-30 persisted" \
        in route["eta_assumption"]
    assert route["persistence_days"] > 0 and route["forecast_days"] == 0  # the voyage outlasts the data
    assert any("days on persisted conditions" in w for w in document["arcticroute"]["warnings"])
    assert route["conditions_days"] == ["2026-09-28", "2026-09-30"]
    cited = {i["logical_id"] for i in document["arcticroute"]["inputs"]}
    assert "ar://risk/daily@20260930?grid=3413-25km" in cited  # a later day the voyage sailed through
    onward = document["features"][-1]["properties"]
    assert onward["role"] == "onward" and onward["checked_nm"] > 0
    assert onward["persistence_days"] > 0  # sailed on the grid after the newest layer, 2026-09-30
