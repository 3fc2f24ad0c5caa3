"""``risk.fuse --method stacking``: learn how the hazards set the incident rate per vessel-hour.

Incidents happen to ships: a cell-day's incidents are counted against its exposure, the AIS
vessel-hours in it that day plus a floor where AIS sees none (``incident_exposure_floor``). For
each sea cell and day the features are the normalised hazards of ``risk.fuse`` — ice, wave, and
the incident rate of the *previous* ``incident_window_days`` (the day's own incidents are the
outcome, so they may not be a feature); traffic is the exposure, not a feature — and the outcome
is the cell's incident count. A Poisson regression with the exposure as offset (scikit-learn
``PoissonRegressor`` on count / exposure weighted by exposure, the same likelihood) gives the
rate per vessel-hour, ``exp(intercept + coefficients . features)``; the probability of an
incident in a cell-day is then ``1 - exp(-rate x exposure)``. It is fitted on the
``train_months`` months before the ``heldout_months`` months that precede the month being fused,
and scored on those held-out months: Brier score of that probability, its skill against
climatology (the training months' incident rate per cell-day) with a 95 % block-bootstrap
interval by day, reliability bins, and the same for ``weighted`` made into a probability by a
logistic calibration (Platt scaling) on the same training days. All cell-days with incidents
are kept and a seeded fraction ``negative_fraction`` of the others, weighted back by its
inverse, so a 6.25 km grid fits in memory.

The fitted model is an artifact (``risk/<grid>/models/stacking_<YYYYMM>.json`` with its
sidecar: training and held-out months, features, coefficients, held-out skill). Too few
incidents to learn from is an error saying how many were found and how many are needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..errors import ArcticRouteError
from .calibration import Reliability

FEATURES = ("ice", "wave", "incidents")
MODEL_VERSION = 2  # 2: Poisson rate per vessel-hour of exposure (1: logistic per cell-day, traffic a feature)


class TooFewIncidentsError(ArcticRouteError):
    """The months to learn from hold too few incidents for a stacking model."""


@dataclass(frozen=True)
class StackingParams:
    train_months: int = 3
    heldout_months: int = 1
    min_train_incidents: int = 40
    min_heldout_incidents: int = 15
    negative_fraction: float = 0.05
    regularisation_c: float = 1e4
    seed: int = 0

    @classmethod
    def from_runtime(cls, runtime: dict) -> StackingParams:
        cfg = (runtime.get("risk") or {}).get("stacking") or {}
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in cfg.items() if k in cls.__dataclass_fields__})

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class DayData:
    """One day: features of the sea cells (n x len(FEATURES)), their incident counts and their
    exposure (vessel-hours, the floor included: always positive)."""

    features: np.ndarray
    outcome: np.ndarray
    exposure: np.ndarray


def previous_months(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """The ``count`` months before (year, month), oldest first."""
    out = []
    y, m = year, month
    for _ in range(count):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append((y, m))
    return out[::-1]


def split_months(year: int, month: int, params: StackingParams) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(training months, held-out months) for fusing (year, month)."""
    before = previous_months(year, month, params.train_months + params.heldout_months)
    return before[: params.train_months], before[params.train_months:]


def features_matrix(hazards: dict[str, np.ndarray], sea: np.ndarray) -> np.ndarray:
    """The FEATURES of the sea cells as columns (a missing hazard counts as 0)."""
    columns = [np.asarray(hazards[name], dtype=np.float32)[sea] if name in hazards else np.zeros(int(sea.sum()), np.float32)
               for name in FEATURES]
    return np.stack(columns, axis=1)


def weighted_score(features: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """``weighted`` fusion of the feature columns (weights normalised to sum 1)."""
    w = np.array([max(float(weights.get(name, 0.0)), 0.0) for name in FEATURES])
    w = w / w.sum() if w.sum() > 0 else w
    return features @ w


def fit(train_days: list[date], heldout_days: list[date], load: Callable[[date], DayData | None],
        params: StackingParams, weighted_weights: dict[str, float]) -> dict:
    """Fit the rate model on the training days and score it on the held-out days.

    Returns the model document (JSON-ready). Raises TooFewIncidentsError, naming the counts,
    when the training or held-out days hold fewer incident cell-days than ``params`` asks.
    """
    from sklearn.linear_model import LogisticRegression, PoissonRegressor

    xs, counts, hours, ws = [], [], [], []
    n_cells = n_pos = 0
    used_train = []
    for day in train_days:
        data = load(day)
        if data is None:
            continue
        used_train.append(day)
        rng = np.random.default_rng([params.seed, day.toordinal()])
        positive = np.asarray(data.outcome) > 0
        keep = positive | (rng.random(positive.size) < params.negative_fraction)
        xs.append(data.features[keep])
        counts.append(np.asarray(data.outcome, dtype=np.float64)[keep])
        hours.append(np.asarray(data.exposure, dtype=np.float64)[keep])
        ws.append(np.where(positive[keep], 1.0, 1.0 / params.negative_fraction))
        n_cells += positive.size
        n_pos += int(positive.sum())
    if n_pos < params.min_train_incidents:
        raise TooFewIncidentsError(
            f"stacking needs at least {params.min_train_incidents} incident cell-days in its training months, found "
            f"{n_pos} in {len(used_train)} days with data ({_span(train_days)}); nothing was written",
            hint="pull the earlier months (ingest.nrt.pull --ym YYYYMM for each), lower risk.stacking.min_train_incidents, "
                 "or fuse with --fallback weighted",
        )
    x = np.concatenate(xs)
    y = np.concatenate(counts)
    e = np.concatenate(hours)
    w = np.concatenate(ws)
    # Poisson with log(exposure) as offset: fit count / exposure with the exposure as weight. No
    # penalty: the mean deviance of events this rare is ~1e-4, so any usual alpha would swamp it.
    model = PoissonRegressor(alpha=0.0, max_iter=300, solver="newton-cholesky", tol=1e-10)
    model.fit(x, y / e, sample_weight=w * e)
    # rare events make the gradient tiny: the default tolerance stops far from the optimum
    platt = LogisticRegression(C=params.regularisation_c, max_iter=200, solver="newton-cholesky", tol=1e-10)
    platt.fit(weighted_score(x, weighted_weights)[:, None], y > 0, sample_weight=w)
    climatology = n_pos / n_cells
    coefficients = {name: float(c) for name, c in zip(FEATURES, model.coef_, strict=True)}
    document = {"features": list(FEATURES), "coefficients": coefficients, "intercept": float(model.intercept_)}
    train_rate = predict(document, x)
    order = np.argsort(train_rate)
    cum = np.cumsum((w * e)[order]) / (w * e).sum()
    rate_ref = float(train_rate[order][min(np.searchsorted(cum, 0.999), order.size - 1)])

    stacked, weighted = Reliability(climatology), Reliability(climatology)
    heldout_found = []
    for day in heldout_days:
        data = load(day)
        if data is None:
            continue
        heldout_found.append(day)
        outcome = np.asarray(data.outcome) > 0
        stacked.add(probability(document, data.features, data.exposure), outcome)
        weighted.add(platt.predict_proba(weighted_score(data.features, weighted_weights)[:, None])[:, 1], outcome)
    held = stacked.summary()
    if held["events"] < params.min_heldout_incidents:
        raise TooFewIncidentsError(
            f"stacking needs at least {params.min_heldout_incidents} incident cell-days in its held-out months to "
            f"score the model, found {held['events']} in {len(heldout_found)} days with data ({_span(heldout_days)}); "
            "nothing was written",
            hint="pull the held-out months, lower risk.stacking.min_heldout_incidents, or fuse with --fallback weighted",
        )
    return {
        "model_version": MODEL_VERSION,
        "kind": ("Poisson regression of incidents per vessel-hour, log(exposure) as offset (scikit-learn "
                 "PoissonRegressor, unpenalised)"),
        **document,
        "rate_reference": rate_ref,
        "rate_units": "incidents per vessel-hour",
        "training_days": [d.isoformat() for d in used_train],
        "heldout_days": [d.isoformat() for d in heldout_found],
        "training_incident_cell_days": n_pos,
        "training_cell_days": n_cells,
        "climatology": climatology,
        "heldout": held,
        "weighted_heldout": {**weighted.summary(), "calibrated_by": "Platt scaling on the training days",
                             "weights": {k: float(v) for k, v in weighted_weights.items()}},
        "params": params.as_dict(),
    }


def _span(days: list[date]) -> str:
    return f"{days[0]}..{days[-1]}" if days else "no days"


def predict(model: dict, features: np.ndarray) -> np.ndarray:
    """Incidents per vessel-hour per row of ``features`` from a model document."""
    coef = np.array([model["coefficients"][name] for name in model["features"]])
    return np.exp(features.astype(np.float64) @ coef + model["intercept"])


def probability(model: dict, features: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Probability of at least one incident in a cell-day with ``exposure`` vessel-hours."""
    return -np.expm1(-predict(model, features) * np.asarray(exposure, dtype=np.float64))


def risk_from_rate(model: dict, rate: np.ndarray) -> np.ndarray:
    """The 0..1 risk layer routing uses: the rate per vessel-hour over the model's reference (the
    rate that 99.9 % of the training months' exposure sailed below), capped at 1. A rate, not a
    probability per cell: a busy lane is no riskier for a ship than the water beside it."""
    return np.clip(rate / max(model["rate_reference"], 1e-300), 0.0, 1.0)


def digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
