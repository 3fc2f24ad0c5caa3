"""Per-point properties of a route line, in the ``coordinateProperties`` member of its feature
(the convention of mapbox/togeojson: arrays nested like the geometry's coordinates): the time each
point is reached, and the conditions of the step of the voyage that reaches it. Every rendering of
the route (RTZ, GPX, the passage plan) reads them from the document; none sails the route again."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from .. import polaris

# property -> (the voyage's per-step term, decimals); the first point takes the first step's values;
# NaN (a depth the relief does not resolve) is None
STEP_VALUES = {"sic": ("sic", 2), "rio": ("rio", 1), "hs_m": ("hs", 2), "depth_m": ("depth_m", 1)}
# property -> per-step flag: under icebreaker escort by the sea-area rules, on persisted conditions
STEP_FLAGS = {"escort": "escort", "persisted": "persisted"}


def iso_second(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def coordinate_properties(departure: datetime, terms: dict[str, np.ndarray],
                          positions: list[list[float]]) -> dict[str, list]:
    """``times`` (UTC, to the second: schedules need them strictly increasing), ``stage`` (the
    stage-of-development name), ``STEP_VALUES`` and ``STEP_FLAGS`` for each point of each line
    part (a term ``terms`` lacks gives None); ``positions`` are the points' places on the path
    (``geometry.split_with_positions``)."""
    hours = np.asarray(terms["hours"], dtype=float)
    # a point is reached after the steps before it and the waits before them (``wait_h``)
    cumulative = np.concatenate([[0.0], np.cumsum(hours + np.asarray(terms.get("wait_h", 0.0), dtype=float))])
    out: dict[str, list] = {"times": [], "stage": [], **{key: [] for key in (*STEP_VALUES, *STEP_FLAGS)}}
    for part in positions:
        at = np.asarray(part, dtype=float)
        reached = np.interp(at, np.arange(cumulative.size), cumulative)
        step = np.clip(np.ceil(at).astype(int) - 1, 0, max(hours.size - 1, 0))
        out["times"].append([iso_second(departure + timedelta(hours=float(h))) for h in reached])
        if hours.size == 0:
            for key in ("stage", *STEP_VALUES, *STEP_FLAGS):
                out[key].append([None] * at.size)
            continue
        out["stage"].append([polaris.STAGE_NAMES[int(s)] for s in np.asarray(terms["stage"])[step]])
        for key, (term, decimals) in STEP_VALUES.items():
            values = np.asarray(terms[term], dtype=float)[step] if term in terms else np.full(at.size, np.nan)
            out[key].append([round(float(v), decimals) if np.isfinite(v) else None for v in values])
        for key, term in STEP_FLAGS.items():
            out[key].append([bool(v) for v in np.asarray(terms[term])[step]] if term in terms else [None] * at.size)
    return out


def shaped(nested: dict[str, list]) -> dict[str, list]:
    """Per-part lists shaped like the geometry ``geometry.nest`` makes of as many parts."""
    if len(nested["times"]) == 1:
        return {key: parts[0] for key, parts in nested.items()}
    return nested


def flat(nested: dict[str, list], geometry: dict) -> dict[str, list]:
    """The per-point lists of a LineString's properties (one part) as they are; a
    MultiLineString's nested lists joined part after part, like ``flat_coordinates``."""
    if geometry.get("type") == "LineString":
        return nested
    return {key: [v for part in parts for v in part] for key, parts in nested.items()}
