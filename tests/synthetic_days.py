"""Conditions and risk inputs of the demo generator for tests that build days in process
(no commands run): one definition each, shared by the route and risk tests."""

from __future__ import annotations

from datetime import date

import numpy as np

from arcticroute.layers import incident_count
from arcticroute.route.routing import Conditions
from arcticroute.sources import synthetic_fields as fields
from arcticroute.static import StaticGrid


def synthetic_day(static: StaticGrid, day: date) -> Conditions:
    """The demo generator's sea ice, waves and stage of ``day``, with a simple risk of them."""
    sic = fields.sea_ice_concentration(static, day)
    hs = fields.wave_height(static, day, sic)
    return Conditions(sic=sic, hs=hs, risk=np.clip(0.6 * sic + 0.4 * hs / 6.0, 0, 1),
                      stage=fields.ice_stage(static, day, sic))


def open_water(static: StaticGrid) -> Conditions:
    """No ice, no waves, no risk anywhere."""
    zeros = np.zeros(static.grid.shape, np.float32)
    return Conditions(sic=zeros, hs=zeros, risk=zeros, stage=zeros.astype(np.int8))


def risk_inputs(static: StaticGrid, day: date) -> tuple[np.ndarray, ...]:
    """The demo generator's sea ice, waves, AIS density, stage and incident counts of ``day``."""
    sic = fields.sea_ice_concentration(static, day)
    hs = fields.wave_height(static, day, sic)
    ais = fields.ais_density(static, day, sic)
    stage = fields.ice_stage(static, day, sic)
    counts = incident_count(static.grid, fields.incidents(static, day, sic, hs, ais, stage))
    return sic, hs, ais, stage, counts
