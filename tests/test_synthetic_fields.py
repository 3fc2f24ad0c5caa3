"""Tests for the synthetic demo fields (sea ice, waves, AIS density, incidents)."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from arcticroute.grid import Grid
from arcticroute.sources import synthetic_fields as sf
from arcticroute.static import StaticGrid

MARCH = datetime.date(2024, 3, 15)
SEPTEMBER = datetime.date(2024, 9, 5)

LAPTEV = (76.0, 125.0)
VILKITSKY = (77.5, 105.0)
BERING_STRAIT = (66.5, -169.0)
CENTRAL_ARCTIC = (88.0, 0.0)
MURMANSK_APPROACHES = (70.0, 35.0)
NORWEGIAN_SEA = (68.0, 5.0)
# Northern Sea Route seas, west to east.
NSR_POINTS = [(71.0, 62.0), (74.0, 80.0), VILKITSKY, LAPTEV, (72.5, 152.0), BERING_STRAIT]


@pytest.fixture(scope="module")
def static() -> StaticGrid:
    return StaticGrid.compute(Grid.from_km(25))


def fields(static: StaticGrid, day: datetime.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sic = sf.sea_ice_concentration(static, day)
    hs = sf.wave_height(static, day, sic)
    ais = sf.ais_density(static, day, sic)
    return sic, hs, ais


def sea_cell(static: StaticGrid, lat: float, lon: float, radius: int = 3) -> tuple[int, int]:
    """The sea cell nearest (in cells) to ``(lat, lon)`` within ``radius`` cells."""
    row, col = static.grid.index_of(lat, lon)
    offsets = sorted(
        ((dr, dc) for dr in range(-radius, radius + 1) for dc in range(-radius, radius + 1)),
        key=lambda o: o[0] ** 2 + o[1] ** 2,
    )
    for dr, dc in offsets:
        if not static.land[row + dr, col + dc]:
            return row + dr, col + dc
    raise AssertionError(f"no sea cell within {radius} cells of {lat}, {lon}")


def value_at(static: StaticGrid, field: np.ndarray, point: tuple[float, float]) -> float:
    return float(field[sea_cell(static, *point)])


def test_same_date_gives_identical_fields(static):
    first, second = fields(static, MARCH), fields(static, MARCH)
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    assert sf.incidents(static, MARCH, *first) == sf.incidents(static, MARCH, *second)


def test_different_dates_give_different_fields(static):
    day, next_day = datetime.date(2024, 3, 15), datetime.date(2024, 3, 16)
    sic_a, hs_a, _ = fields(static, day)
    sic_b, hs_b, _ = fields(static, next_day)
    assert not np.array_equal(sic_a, sic_b)
    assert not np.array_equal(hs_a, hs_b)
    # Day-to-day variation stays small.
    assert np.abs(sic_a - sic_b).max() < 0.5


@pytest.mark.parametrize("day", [MARCH, datetime.date(2024, 6, 20), SEPTEMBER])
def test_ranges_dtypes_and_land(static, day):
    sic, hs, ais = fields(static, day)
    for field in (sic, hs, ais):
        assert field.shape == static.grid.shape
        assert field.dtype == np.float32
        assert np.all(np.isfinite(field))
        assert np.all(field[static.land] == 0.0)
    assert sic.min() >= 0.0 and sic.max() <= 1.0
    assert hs.min() >= 0.0 and hs.max() < 8.0
    assert ais.min() >= 0.0
    # Fields are not trivially empty at sea.
    sea = ~static.land
    assert sic[sea].max() > 0.8 and (sic[sea] == 0).any()
    assert hs.max() > 2.0
    assert ais.max() > 1.0


@pytest.mark.parametrize("day", [MARCH, SEPTEMBER, datetime.date(2024, 7, 10)])
def test_waves_vanish_in_ice_and_are_damped_by_it(static, day):
    sic, hs, _ = fields(static, day)
    assert np.all(hs[sic >= 0.8] == 0.0)
    # Undamped heights stay below the cap, so damped heights respect (1 - sic).
    assert np.all(hs <= 7.5 * (1.0 - sic) + 1e-5)


def test_winter_ice(static):
    sic = sf.sea_ice_concentration(static, MARCH)
    assert value_at(static, sic, LAPTEV) >= 0.9
    assert value_at(static, sic, VILKITSKY) >= 0.9
    assert value_at(static, sic, BERING_STRAIT) >= 0.9
    assert value_at(static, sic, MURMANSK_APPROACHES) < 0.15
    assert value_at(static, sic, NORWEGIAN_SEA) < 0.15


def test_summer_ice(static):
    sic = sf.sea_ice_concentration(static, SEPTEMBER)
    assert value_at(static, sic, LAPTEV) < 0.15
    assert value_at(static, sic, VILKITSKY) < 0.15
    assert value_at(static, sic, BERING_STRAIT) < 0.15


@pytest.mark.parametrize("day", [MARCH, SEPTEMBER])
def test_central_arctic_always_ice_covered(static, day):
    assert value_at(static, sf.sea_ice_concentration(static, day), CENTRAL_ARCTIC) >= 0.7


@pytest.mark.parametrize(
    "day", [datetime.date(2023, 12, 10), datetime.date(2024, 2, 1), datetime.date(2024, 5, 20)]
)
def test_northern_sea_route_frozen_in_winter(static, day):
    sic = sf.sea_ice_concentration(static, day)
    for point in NSR_POINTS:
        assert value_at(static, sic, point) >= 0.9, point


@pytest.mark.parametrize("day", [datetime.date(2024, 8, 25), SEPTEMBER, datetime.date(2024, 9, 25)])
def test_northern_sea_route_open_in_late_summer(static, day):
    sic = sf.sea_ice_concentration(static, day)
    for point in NSR_POINTS:
        assert value_at(static, sic, point) < 0.15, point


def test_ice_extent_peaks_in_march(static):
    sea = ~static.land
    extent = {
        month: (sf.sea_ice_concentration(static, datetime.date(2024, month, 15))[sea] >= 0.15).sum()
        for month in (3, 6, 9, 12)
    }
    assert extent[3] > extent[6] > extent[9]
    assert extent[12] > extent[9]


def test_norwegian_sea_rougher_than_laptev_in_september(static):
    days = [datetime.date(2024, 9, d) for d in range(3, 8)]
    norwegian, laptev = [], []
    for day in days:
        _, hs, _ = fields(static, day)
        norwegian.append(value_at(static, hs, NORWEGIAN_SEA))
        laptev.append(value_at(static, hs, LAPTEV))
    assert np.mean(laptev) > 0.0
    assert np.mean(norwegian) > np.mean(laptev) + 0.5


def corridor_density(static: StaticGrid, ais: np.ndarray, corridor: str) -> np.ndarray:
    """AIS density at the sea cells holding ``corridor``'s waypoints."""
    cells = [static.grid.index_of(lat, lon) for lat, lon in sf.CORRIDORS[corridor]]
    return np.array([ais[cell] for cell in cells if not static.land[cell]])


def test_ais_follows_the_ice_season(static):
    _, _, ais_march = fields(static, MARCH)
    _, _, ais_september = fields(static, SEPTEMBER)
    nsr_march = corridor_density(static, ais_march, "northern_sea_route")
    nsr_september = corridor_density(static, ais_september, "northern_sea_route")
    assert nsr_september.size >= 10
    assert nsr_september.mean() > 3.0 * nsr_march.mean()
    assert np.all(corridor_density(static, ais_march, "norwegian_coast") > 0.5)


def test_ais_decays_away_from_corridors(static):
    _, _, ais = fields(static, SEPTEMBER)
    assert value_at(static, ais, (73.0, -10.0)) < 1e-3  # Greenland Sea, no corridor
    assert value_at(static, ais, (76.0, 96.0)) > 1.0  # on the NSR, Taymyr coast


def test_incidents_are_valid_sea_reports_within_the_day(static):
    total = 0
    for offset in range(40):
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=9 * offset)
        reports = sf.incidents(static, day, *fields(static, day))
        total += len(reports)
        for report in reports:
            assert set(report) == {"time_utc", "lat", "lon", "type", "severity", "source"}
            time = datetime.datetime.strptime(report["time_utc"], "%Y-%m-%dT%H:%M:%SZ")
            assert time.date() == day
            assert not static.land[static.grid.index_of(report["lat"], report["lon"])]
            assert report["type"] in sf.INCIDENT_TYPES
            assert report["severity"] in (1, 2, 3)
            assert report["source"] == "synthetic"
        assert [r["time_utc"] for r in reports] == sorted(r["time_utc"] for r in reports)
    assert 25 <= total <= 100  # Poisson, mean 1.5 per day


def test_incidents_without_traffic_still_land_at_sea(static):
    day = datetime.date(2024, 2, 2)
    sic, hs, ais = fields(static, day)
    reports = []
    for offset in range(10):
        day_n = day + datetime.timedelta(days=offset)
        reports += sf.incidents(static, day_n, sic, hs, np.zeros_like(ais))
    assert reports
    for report in reports:
        assert not static.land[static.grid.index_of(report["lat"], report["lon"])]
