"""``risk.fuse --method stacking``: learn how the hazards combine from where incidents happened.

For each sea cell and day the features are the normalised hazards of ``risk.fuse`` — ice,
wave, traffic, and the incident density of the *previous* ``incident_window_days`` (the day's
own incidents are the outcome, so they may not be a feature) — and the outcome is whether the
cell had an incident that day. A logistic regression (scikit-learn) is fitted on the
``train_months`` months before the ``heldout_months`` months that precede the month being
fused, and scored on those held-out months: Brier score, its skill against climatology (the
training months' incident rate), reliability bins, and the same for ``weighted`` made into a
probability by a logistic calibration (Platt scaling) on the same training days. All
positive cell-days are kept and a seeded fraction ``negative_fraction`` of the others, weighted
back by its inverse, so a 6.25 km grid fits in memory.

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

FEATURES = ("ice", "wave", "traffic", "incidents")
MODEL_VERSION = 1


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
    """One day: features of the sea cells (n x len(FEATURES)) and whether each had an incident."""

    features: np.ndarray
    outcome: np.ndarray


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
    """Fit the logistic model on the training days and score it on the held-out days.

    Returns the model document (JSON-ready). Raises TooFewIncidentsError, naming the counts,
    when the training or held-out days hold fewer incident cell-days than ``params`` asks.
    """
    from sklearn.linear_model import LogisticRegression

    xs, ys, ws = [], [], []
    n_cells = n_pos = 0
    used_train = []
    for day in train_days:
        data = load(day)
        if data is None:
            continue
        used_train.append(day)
        rng = np.random.default_rng([params.seed, day.toordinal()])
        positive = data.outcome.astype(bool)
        keep = positive | (rng.random(positive.size) < params.negative_fraction)
        xs.append(data.features[keep])
        ys.append(positive[keep])
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
    y = np.concatenate(ys)
    w = np.concatenate(ws)
    # rare events make the gradient tiny: the default tolerance stops far from the optimum
    model = LogisticRegression(C=params.regularisation_c, max_iter=200, solver="newton-cholesky", tol=1e-10)
    model.fit(x, y, sample_weight=w)
    platt = LogisticRegression(C=params.regularisation_c, max_iter=200, solver="newton-cholesky", tol=1e-10)
    platt.fit(weighted_score(x, weighted_weights)[:, None], y, sample_weight=w)
    climatology = n_pos / n_cells
    train_p = model.predict_proba(x)[:, 1]
    order = np.argsort(train_p)
    cum = np.cumsum(w[order]) / w.sum()
    p_ref = float(train_p[order][min(np.searchsorted(cum, 0.999), order.size - 1)])

    stacked, weighted = Reliability(climatology), Reliability(climatology)
    heldout_found = []
    for day in heldout_days:
        data = load(day)
        if data is None:
            continue
        heldout_found.append(day)
        stacked.add(model.predict_proba(data.features)[:, 1], data.outcome)
        weighted.add(platt.predict_proba(weighted_score(data.features, weighted_weights)[:, None])[:, 1], data.outcome)
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
        "kind": f"logistic regression (scikit-learn LogisticRegression, L2, C={params.regularisation_c:g})",
        "features": list(FEATURES),
        "coefficients": {name: float(c) for name, c in zip(FEATURES, model.coef_[0], strict=True)},
        "intercept": float(model.intercept_[0]),
        "probability_reference": p_ref,
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
    """Incident probability per row of ``features`` from a model document."""
    coef = np.array([model["coefficients"][name] for name in model["features"]])
    logit = features.astype(np.float64) @ coef + model["intercept"]
    return 1.0 / (1.0 + np.exp(-logit))


def risk_from_probability(model: dict, p: np.ndarray) -> np.ndarray:
    """The 0..1 risk layer routing uses: probability over the model's reference (the 99.9th
    percentile of the training predictions), capped at 1."""
    return np.clip(p / max(model["probability_reference"], 1e-12), 0.0, 1.0)


def digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
