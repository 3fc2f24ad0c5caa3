import numpy as np
import pytest

from arcticroute.route import geometry


def test_split_at_the_antimeridian_interpolates_the_crossing():
    lon = np.array([178.0, -178.0])
    lat = np.array([70.0, 72.0])
    parts = geometry.split_antimeridian(lon, lat)
    assert parts == [[[178.0, 70.0], [180.0, 71.0]], [[-180.0, 71.0], [-178.0, 72.0]]]


def test_westward_crossing_and_no_crossing():
    assert geometry.split_antimeridian(np.array([-179.0, 179.0]), np.array([66.0, 66.0])) == [
        [[-179.0, 66.0], [-180.0, 66.0]], [[180.0, 66.0], [179.0, 66.0]]]
    assert geometry.line_geometry(np.array([10.0, 20.0]), np.array([70.0, 71.0]))["type"] == "LineString"


def test_every_split_part_stays_within_plus_minus_180():
    lon = np.array([170.0, 179.5, -179.5, -170.0, -179.9, 179.9])
    lat = np.linspace(65, 70, lon.size)
    for part in geometry.split_antimeridian(lon, lat):
        steps = np.abs(np.diff([p[0] for p in part]))
        assert steps.max() <= 180.0


def test_path_near_the_pole_is_densified_where_longitude_jumps():
    x = np.array([0.0, 25_000.0])
    y = np.array([12_500.0, 12_500.0])  # one step right past the pole
    lon, lat = geometry.path_lonlat(x, y)
    assert lon.size > 2 and np.all(np.abs(np.diff(np.unwrap(np.radians(lon)))) <= np.radians(2.0) + 1e-9)


def test_great_circle_points_follow_the_legs_and_keep_the_waypoints():
    lon, lat = geometry.great_circle_points([(60.0, 0.0), (60.0, 10.0)], spacing_km=50)
    assert (lon[0], lat[0]) == (0.0, 60.0) and (lon[-1], lat[-1]) == (10.0, 60.0)
    assert lat.max() > 60.0  # a great circle bulges poleward
    assert geometry.segment_metres(lon, lat).sum() == pytest.approx(555_000, rel=0.02)
