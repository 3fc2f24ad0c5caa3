"""POLARIS (IMO MSC.1/Circ.1519): the published RIV table, RIO, the operational limits by class,
the RS mapping, and what they mean for routing: which classes may enter which ice, and that
the ETA grows with ice."""

from __future__ import annotations

import numpy as np
import pytest

from arcticroute import polaris
from arcticroute.errors import ConfigError
from arcticroute.route import routing
from arcticroute.route.routing import Conditions, Vessel

# Rows of Table 1.3 as printed in the Circular (ice free .. heavy multi-year).
PUBLISHED = {
    "PC1": "3 3 3 3 2 2 2 2 2 2 1 1",
    "PC4": "3 3 3 3 2 2 2 2 1 0 -1 -2",
    "PC7": "3 2 2 2 1 1 0 -1 -2 -3 -3 -3",
    "IA Super": "3 2 2 2 2 1 0 -1 -2 -3 -4 -4",
    "IC": "3 2 1 0 -1 -2 -3 -4 -5 -6 -7 -8",
    "none": "3 1 0 -1 -2 -3 -4 -5 -6 -7 -8 -8",
}


@pytest.mark.parametrize("cls, row", PUBLISHED.items())
def test_riv_rows_are_the_published_table(cls, row):
    assert polaris.RIV[cls] == tuple(int(v) for v in row.split())


def test_riv_never_rises_with_older_ice_nor_with_a_lower_class():
    classes = list(polaris.RIV)
    for cls in classes:
        assert all(a >= b for a, b in zip(polaris.RIV[cls], polaris.RIV[cls][1:], strict=False)), cls
    for upper, lower in zip(classes[:6], classes[1:7], strict=True):  # PC1 >= PC2 >= ... >= PC7
        assert all(a >= b for a, b in zip(polaris.RIV[upper], polaris.RIV[lower], strict=True))


# (class, tenths, ice type) -> permitted? : a table of who may enter what, by the Circular's limits
TABLE = [
    ("PC1", 10, "heavy_my", True),        # RIO 10
    ("PC3", 10, "heavy_my", True),        # -10: elevated risk, still permitted
    ("PC4", 10, "heavy_my", False),       # -20
    ("PC5", 10, "thick_fy", True),        # 0
    ("PC5", 10, "second_year", True),     # -10
    ("PC5", 10, "light_my", False),       # -20
    ("PC7", 10, "medium_fy", True),       # -10
    ("PC7", 10, "thick_fy", False),       # -20: PC1 passes where PC7 is blocked
    ("PC7", 7, "thin_fy_1", True),        # 16
    ("none", 7, "thin_fy_1", False),      # -5: a PC7 passes where no ice class is blocked
    ("none", 6, "thin_fy_1", True),       # 0
    ("none", 10, "grey", True),           # 0
    ("IA", 10, "thick_fy", False),        # -30
    ("IA", 5, "medium_fy_thin", True),    # 10
    ("IA Super", 10, "medium_fy_thin", True),  # 0
]


@pytest.mark.parametrize("cls, c, stage, permitted", TABLE)
def test_which_class_may_enter_which_ice(cls, c, stage, permitted):
    sic = np.array([c / 10.0], dtype=np.float32)
    code = np.array([polaris.STAGE_CODES[stage]])
    operation = polaris.assess(sic, code, cls)
    assert float(operation.rio[0]) == polaris.rio_table(cls, c, stage)
    assert bool(operation.permitted[0]) is permitted


def test_elevated_band_and_speed_limits():
    sic, code = np.array([1.0], dtype=np.float32), np.array([polaris.STAGE_CODES["second_year"]])
    pc5 = polaris.assess(sic, code, "PC5")  # RIO -10
    assert pc5.elevated[0] and pc5.speed_limit_kn[0] == 5.0
    pc2 = polaris.assess(np.array([1.0], dtype=np.float32), np.array([polaris.STAGE_CODES["heavy_my"]]), "PC2")
    assert pc2.rio[0] == 0 and not pc2.elevated[0]
    assert polaris.elevated_speed_kn("PC1") == 11 and polaris.elevated_speed_kn("PC6") == 3
    # below PC7 there is no elevated band: RIO < 0 is not permitted at all
    ia = polaris.assess(np.array([0.5], dtype=np.float32), np.array([polaris.STAGE_CODES["medium_fy"]]), "IA")
    assert ia.rio[0] == 5 and ia.permitted[0] and not ia.elevated[0]


@pytest.mark.parametrize("name, expected", [("Arc7", "PC3"), ("arc4", "PC6"), ("Arc9", "PC1"), ("Ice3", "IA"),
                                            ("1A", "IA"), ("1A Super", "IA Super"), ("PC5", "PC5"), ("none", "none"),
                                            ("pc6", "PC6")])
def test_ice_class_names_and_the_rs_mapping(name, expected):
    assert polaris.polaris_class(name) == expected


def test_an_unknown_ice_class_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown ice class 'Arc12'"):
        polaris.polaris_class("Arc12")


def test_unknown_ice_type_counts_as_thick_first_year():
    sic = np.array([1.0], dtype=np.float32)
    assert polaris.rio(sic, None, "PC7")[0] == polaris.rio_table("PC7", 10, "thick_fy")


def _uniform(c: float, stage: str, hs: float = 0.0, n: int = 40) -> Conditions:
    shape = (n, n)
    return Conditions(sic=np.full(shape, c, np.float32), hs=np.full(shape, hs, np.float32),
                      risk=np.zeros(shape, np.float32), stage=np.full(shape, polaris.STAGE_CODES[stage], np.int8))


def test_speed_falls_with_ice_and_waves_and_respects_the_polaris_limit():
    vessel = Vessel("pc5", "PC5", speed_kn=13.0)
    open_water = routing.speed_knots(_uniform(0.0, "ice_free"), vessel)[0, 0]
    speeds = [routing.speed_knots(_uniform(c, "medium_fy"), vessel)[0, 0] for c in (0.3, 0.6, 0.9)]
    assert open_water == pytest.approx(13.0)
    assert open_water > speeds[0] > speeds[1] > speeds[2] > 0
    assert routing.speed_knots(_uniform(1.0, "second_year"), vessel)[0, 0] <= 5.0  # elevated: 5 kn limit
    assert routing.speed_knots(_uniform(0.0, "ice_free", hs=5.0), vessel)[0, 0] < open_water
    stronger = Vessel("pc2", "PC2", speed_kn=13.0)
    assert routing.speed_knots(_uniform(0.9, "thick_fy"), stronger)[0, 0] > speeds[2]


def test_eta_grows_with_ice():
    """The same straight passage takes longer the more and the older the ice."""
    from arcticroute.grid import Grid
    from arcticroute.static import StaticGrid

    grid = Grid.from_km(50)
    static = StaticGrid(grid=grid, lon=np.zeros(grid.shape, np.float32), lat=np.zeros(grid.shape, np.float32),
                        land=np.zeros(grid.shape, bool), scale=np.ones(grid.shape, np.float32))
    vessel = Vessel("pc3", "PC3", speed_kn=15.0)
    hours = []
    for c, stage in ((0.0, "ice_free"), (0.5, "thin_fy_2"), (0.9, "thin_fy_2"), (0.9, "thick_fy"), (1.0, "second_year")):
        full = _uniform(c, stage, n=grid.ny)
        conditions = Conditions(full.sic[:, : grid.nx], full.hs[:, : grid.nx], full.risk[:, : grid.nx],
                                full.stage[:, : grid.nx])
        cost = routing.cost_surface(static, conditions, vessel, 0.0)
        path = routing.least_cost_path(cost, (10, 10), (10, 60))
        hours.append(path.cost / 3600)
    assert hours == sorted(hours) and hours[0] < hours[-1] / 2
    # zero risk weight in open water: the cost is the distance at open-water speed
    assert hours[0] == pytest.approx(50 * 50 / 1.852 / 15.0, rel=1e-3)
