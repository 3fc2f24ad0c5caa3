"""Calibration of incident probabilities: reliability bins, Brier score and its skill against
climatology, accumulated day by day (a month of cells does not fit in one array at 6.25 km).

Bins are fixed in probability (log-spaced: incidents are rare, so the useful resolution is in
the small probabilities); each bin keeps its cell-days, the sum of the predicted
probabilities and the events (cell-days with at least one incident) behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BIN_EDGES = (0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1.0)


@dataclass
class Reliability:
    """Running sums of predictions ``p`` against outcomes ``y`` (0/1), with the Brier score of a
    constant climatological probability ``climatology`` beside them."""

    climatology: float
    edges: tuple[float, ...] = BIN_EDGES
    n: int = 0
    brier_sum: float = 0.0
    brier_clim_sum: float = 0.0
    counts: np.ndarray = field(default=None)
    p_sums: np.ndarray = field(default=None)
    events: np.ndarray = field(default=None)

    def __post_init__(self):
        size = len(self.edges) - 1
        self.counts = np.zeros(size, np.int64) if self.counts is None else self.counts
        self.p_sums = np.zeros(size) if self.p_sums is None else self.p_sums
        self.events = np.zeros(size, np.int64) if self.events is None else self.events

    def add(self, p: np.ndarray, y: np.ndarray) -> None:
        p = np.asarray(p, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        self.n += p.size
        self.brier_sum += float(np.sum((p - y) ** 2))
        self.brier_clim_sum += float(np.sum((self.climatology - y) ** 2))
        index = np.clip(np.searchsorted(self.edges, p, side="right") - 1, 0, len(self.edges) - 2)
        self.counts += np.bincount(index, minlength=self.counts.size)
        self.p_sums += np.bincount(index, weights=p, minlength=self.counts.size)
        self.events += np.bincount(index, weights=y, minlength=self.counts.size).astype(np.int64)

    def summary(self) -> dict:
        brier = self.brier_sum / self.n if self.n else None
        brier_clim = self.brier_clim_sum / self.n if self.n else None
        bins = [{"low": self.edges[i], "high": self.edges[i + 1], "cell_days": int(self.counts[i]),
                 "mean_predicted": float(self.p_sums[i] / self.counts[i]) if self.counts[i] else None,
                 "events": int(self.events[i]),
                 "observed_frequency": float(self.events[i] / self.counts[i]) if self.counts[i] else None}
                for i in range(self.counts.size)]
        return {
            "cell_days": int(self.n),
            "events": int(self.events.sum()),
            "climatology": self.climatology,
            "brier": brier,
            "brier_climatology": brier_clim,
            "brier_skill": (1.0 - brier / brier_clim) if brier is not None and brier_clim else None,
            "bins": bins,
        }
