"""POLARIS (IMO MSC.1/Circ.1519): Risk Index Outcome per cell from ice concentration, stage of
development and the vessel's ice class; hard limits, speed limits and the ice-speed model.

RIO = sum over the ice regime of C_i x RIV_i, with C_i the concentration of each ice type in
tenths (the ice-free part counts as "ice free") and RIV_i the Risk Index Value of the vessel's
ice class for that type (Table 1.3 of the Circular, reproduced in ``RIV``). The layer
``ice.type`` holds one stage of development per cell (the dominant, oldest significant type),
so a cell's regime is ``C`` tenths of that stage and ``10 - C`` tenths of ice-free water; a
source that gives partial concentrations per type (an ice chart's egg code) gives the regime
itself (``rio_regime``).

Ice of unknown type errs safe: where the concentration is at least ``TYPED_FROM`` and the type
is unknown (code ``UNKNOWN_CODE``, a fill value, no layer) or inconsistent with it ("ice free"),
POLARIS counts it as ``UNKNOWN_STAGE`` (thick first-year ice); route planning first puts the
most severe plausible type there (``route.ice_regime``) and reports the miles it assumed.

Operational criteria (Circular, section 2.3): for PC1-PC7, RIO >= 0 is normal operation,
-10 <= RIO < 0 elevated operational risk (speed limited, see ``ELEVATED_SPEED_KN``), and
RIO < -10 operation subject to special consideration; for ships below PC7 (Finnish-Swedish
classes and no ice class) RIO >= 0 is normal and RIO < 0 is subject to special consideration.
ArcticRoute plans no route through "special consideration" cells: they are a hard limit.

Russian Maritime Register (RS) classes are not in the Circular. They are mapped to the class
whose RIVs POLARIS applies by the correspondence table of the RS Rules for the Classification
and Construction of Sea-Going Ships, Part I, para. 2.2.3 (``RS_EQUIVALENT``), documented in
docs/route-model.md. Decayed-ice RIVs (Table 1.4, summer) are not applied: the unreduced
values are the conservative choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

# Stage of development codes of the ``ice.type`` layer: the twelve ice types of Table 1.3.
# ``thickness_m`` is a representative thickness used by the ice-speed model (middle of the WMO
# range; for the open-ended types a typical value), not a value from the Circular.
STAGES = (
    # code, key, name, WMO thickness range, representative thickness (m)
    (0, "ice_free", "ice free", "-", 0.0),
    (1, "new", "new ice", "< 10 cm", 0.05),
    (2, "grey", "grey ice", "10-15 cm", 0.125),
    (3, "grey_white", "grey-white ice", "15-30 cm", 0.225),
    (4, "thin_fy_1", "thin first-year ice, first stage", "30-50 cm", 0.40),
    (5, "thin_fy_2", "thin first-year ice, second stage", "50-70 cm", 0.60),
    (6, "medium_fy_thin", "medium first-year ice less than 1 m", "70-100 cm", 0.85),
    (7, "medium_fy", "medium first-year ice", "100-120 cm", 1.10),
    (8, "thick_fy", "thick first-year ice", "> 120 cm", 1.60),
    (9, "second_year", "second-year ice", "up to 2.5 m", 2.00),
    (10, "light_my", "light multi-year ice", "< 3.0 m", 2.60),
    (11, "heavy_my", "heavy multi-year ice", "> 3.0 m", 3.50),
)
STAGE_CODES = {key: code for code, key, *_ in STAGES}
STAGE_NAMES = tuple(name for _code, _key, name, *_ in STAGES)
STAGE_THICKNESS_M = np.array([s[4] for s in STAGES], dtype=np.float32)
UNKNOWN_STAGE = STAGE_CODES["thick_fy"]  # assumed where ice is present but its type unknown
# ``ice.type`` code for "ice present, no valid classification" (OSI SAF's "ambiguous" class, its
# summer files, pixels without data): not a POLARIS type, resolved before POLARIS is applied.
UNKNOWN_CODE = -1
# Concentration from which a cell's ice needs a type: below it ("open water", WMO < 1/10 plus the
# rounding of 15 %, the ice-edge threshold of the satellite products) an "ice free" type is
# consistent with the concentration.
TYPED_FROM = 0.15

# MSC.1/Circ.1519, Table 1.3: Risk Index Values by ice class (rows) and ice type (columns in
# the order of STAGES).
RIV = {
    "PC1": (3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1),
    "PC2": (3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 0),
    "PC3": (3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 0, -1),
    "PC4": (3, 3, 3, 3, 2, 2, 2, 2, 1, 0, -1, -2),
    "PC5": (3, 3, 3, 3, 2, 2, 1, 1, 0, -1, -2, -2),
    "PC6": (3, 2, 2, 2, 2, 1, 1, 0, -1, -2, -3, -3),
    "PC7": (3, 2, 2, 2, 1, 1, 0, -1, -2, -3, -3, -3),
    "IA Super": (3, 2, 2, 2, 2, 1, 0, -1, -2, -3, -4, -4),
    "IA": (3, 2, 2, 2, 1, 0, -1, -2, -3, -4, -5, -5),
    "IB": (3, 2, 2, 1, 0, -1, -2, -3, -4, -5, -6, -6),
    "IC": (3, 2, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8),
    "none": (3, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8, -8),
}
POLAR_CLASSES = ("PC1", "PC2", "PC3", "PC4", "PC5", "PC6", "PC7")

# RS Rules Part I, 2.2.3: approximate correspondence of RS ice classes (Arc4-Arc9, Ice1-Ice3)
# to IACS Polar Classes and Finnish-Swedish classes.
RS_EQUIVALENT = {
    "Arc9": "PC1", "Arc8": "PC2", "Arc7": "PC3", "Arc6": "PC4", "Arc5": "PC5", "Arc4": "PC6",
    "Ice3": "IA", "Ice2": "IB", "Ice1": "IC",
}  # fmt: skip
# Other spellings of the Finnish-Swedish classes and of "no ice class".
ALIASES = {"1A Super": "IA Super", "1AS": "IA Super", "IAS": "IA Super", "1A": "IA", "1B": "IB", "1C": "IC",
           "NIS": "none", "not ice strengthened": "none", "": "none"}

# Circular, Table 1.5: speed limits in the elevated-risk band (RIO -10..0), knots.
ELEVATED_SPEED_KN = {"PC1": 11.0, "PC2": 8.0, "PC3": 5.0, "PC4": 5.0, "PC5": 5.0}
ELEVATED_SPEED_BELOW_PC5_KN = 3.0

# Ice-speed model (ArcticRoute's, documented in docs/route-model.md): the thickness of level
# ice a class breaks continuously at about ``FULL_ICE_SPEED_AT_CAPACITY`` of its open-water
# speed. The values follow the IACS descriptions of the classes (UR I1, Table 1) and, for the
# Baltic classes, the Finnish-Swedish rules' design ice thickness (IA Super 1.0 m, IA 0.8 m,
# IB 0.6 m, IC 0.4 m).
CAPACITY_M = {"PC1": 4.0, "PC2": 3.5, "PC3": 3.0, "PC4": 2.0, "PC5": 1.5, "PC6": 1.2, "PC7": 0.9,
              "IA Super": 1.0, "IA": 0.8, "IB": 0.6, "IC": 0.4, "none": 0.15}
FULL_ICE_SPEED_AT_CAPACITY = 0.15
MIN_SPEED_FRACTION = 0.02


def polaris_class(ice_class: str) -> str:
    """The class whose RIVs apply: IACS and Finnish-Swedish names as they are, RS classes by
    their equivalent; ConfigError for anything else."""
    name = str(ice_class).strip()
    name = ALIASES.get(name, name)
    if name in RIV:
        return name
    for key, value in RS_EQUIVALENT.items():
        if key.lower() == name.lower():
            return value
    upper = {k.upper(): k for k in RIV}
    if name.upper() in upper:
        return upper[name.upper()]
    raise ConfigError(
        f"unknown ice class {ice_class!r}: expected one of {', '.join(RIV)} (POLARIS), "
        f"{', '.join(RS_EQUIVALENT)} (RS, mapped) or {', '.join(sorted(ALIASES))}",
        hint="set vessels.<name>.ice_class in config/scenarios.yaml",
    )


def is_polar_class(cls: str) -> bool:
    return cls in POLAR_CLASSES


def rio_limit(cls: str) -> float:
    """Lowest RIO that is not "operation subject to special consideration"."""
    return -10.0 if is_polar_class(cls) else 0.0


def elevated_speed_kn(cls: str) -> float:
    """POLARIS speed limit in the elevated-risk band (only Polar Classes have that band)."""
    return ELEVATED_SPEED_KN.get(cls, ELEVATED_SPEED_BELOW_PC5_KN)


def tenths(sic: np.ndarray) -> np.ndarray:
    """Concentration in whole tenths, as ice charts give it (0.95 and above is 10/10)."""
    return np.clip(np.floor(np.nan_to_num(sic, nan=0.0) * 10.0 + 0.5), 0, 10).astype(np.float32)


def severity_rank(code: float) -> float:
    """Rank of an ``ice.type`` code from the least to the most severe ice: the stage codes as they
    are (older, thicker ice is more severe), ``UNKNOWN_CODE`` just above thick first-year ice, the
    type it stands for at the least (regridding breaks ties towards the more severe)."""
    return UNKNOWN_STAGE + 0.5 if code == UNKNOWN_CODE else float(code)


def type_unknown(sic: np.ndarray, stage: np.ndarray | None) -> np.ndarray:
    """Cells whose ice needs a type and has none: concentration at least ``TYPED_FROM`` and the
    type unknown (no layer, ``UNKNOWN_CODE``, a fill value) or "ice free" (inconsistent)."""
    iced = np.nan_to_num(np.asarray(sic, dtype=np.float32), nan=0.0) >= np.float32(TYPED_FROM)
    if stage is None:
        return iced
    stage = np.asarray(stage)
    valid = np.isfinite(stage) & (stage >= 1) & (stage <= 11)
    return iced & ~valid


def stage_or_default(sic: np.ndarray, stage: np.ndarray | None) -> np.ndarray:
    """Stage codes; where ice needs a type and has none (``type_unknown``), ``UNKNOWN_STAGE``;
    other invalid codes (below ``TYPED_FROM``: a trace of ice) ice free."""
    if stage is None:
        codes = np.zeros(np.shape(sic), dtype=np.int16)
    else:
        stage = np.asarray(stage)
        codes = np.where(np.isfinite(stage) & (stage >= 0) & (stage <= 11), stage, 0).astype(np.int16)
    codes[type_unknown(sic, stage)] = UNKNOWN_STAGE
    return codes


def rio(sic: np.ndarray, stage: np.ndarray | None, cls: str) -> np.ndarray:
    """Risk Index Outcome per cell for POLARIS class ``cls`` (see ``polaris_class``)."""
    riv = np.asarray(RIV[cls], dtype=np.float32)
    c = tenths(sic)
    return c * riv[stage_or_default(sic, stage)] + (10.0 - c) * riv[0]


def rio_regime(partials: dict[int, float], cls: str) -> float:
    """RIO of a mixed regime as the Circular defines it (section 1.4): sum of C_i x RIV_i over
    the ice types present, ``partials`` mapping stage code to its concentration in tenths; the
    rest of the ten tenths is ice free. ValueError for codes outside 0..11 or more than 10/10."""
    riv = RIV[cls]
    total = 0.0
    for code, c in partials.items():
        if not (0 <= int(code) <= 11) or c < 0:
            raise ValueError(f"ice type code {code} with {c} tenths: expected codes 0..11 and tenths >= 0")
        total += c
    if total > 10 + 1e-6:
        raise ValueError(f"partial concentrations sum to {total:g} tenths: expected at most 10")
    return float(sum(c * riv[int(code)] for code, c in partials.items()) + (10.0 - total) * riv[0])


def rio_table(cls: str, c_tenths: int, stage_key: str) -> float:
    """RIO of a uniform regime: ``c_tenths`` of one stage, the rest ice free (for tables)."""
    riv = RIV[cls]
    return float(c_tenths * riv[STAGE_CODES[stage_key]] + (10 - c_tenths) * riv[0])


@dataclass(frozen=True)
class Operation:
    """A cell's POLARIS verdict for one vessel: RIO, band and the speed limit it sets (NaN: none)."""

    rio: np.ndarray
    permitted: np.ndarray  # bool: RIO at or above the class's limit
    elevated: np.ndarray  # bool: Polar Class in the -10..0 band (speed limited)
    speed_limit_kn: np.ndarray


def assess(sic: np.ndarray, stage: np.ndarray | None, cls: str) -> Operation:
    values = rio(sic, stage, cls)
    permitted = values >= rio_limit(cls)
    elevated = permitted & (values < 0)
    limit = np.where(elevated, elevated_speed_kn(cls), np.inf).astype(np.float32)
    return Operation(values, permitted, elevated, limit)


def ice_speed_fraction(sic: np.ndarray, stage: np.ndarray | None, cls: str) -> np.ndarray:
    """Fraction of open-water speed kept in the cell's ice (ArcticRoute's ice-speed model).

    In a full cover of level ice of thickness h a class keeps ``F ** (h / H)`` of its speed
    (F = ``FULL_ICE_SPEED_AT_CAPACITY``, H = ``CAPACITY_M[cls]``): F at its capacity, falling
    geometrically in thicker ice, at least ``MIN_SPEED_FRACTION``; a partial cover of
    concentration c slows the ship in proportion, ``1 - c (1 - full)``. Open water keeps the
    full speed.
    """
    h = STAGE_THICKNESS_M[stage_or_default(sic, stage)]
    full = np.maximum(np.power(FULL_ICE_SPEED_AT_CAPACITY, h / CAPACITY_M[cls]), MIN_SPEED_FRACTION)
    c = np.clip(np.nan_to_num(sic, nan=0.0), 0.0, 1.0)
    return (1.0 - c * (1.0 - full)).astype(np.float32)
