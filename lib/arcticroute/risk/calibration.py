"""Calibration of incident probabilities: reliability bins, Brier score and its skill against
climatology, accumulated day by day (a month of cells does not fit in one array at 6.25 km).

The Brier skill comes with a 95 % block-bootstrap interval: each ``add`` is one block (one day:
cells of a day share its weather and ice, so they are not independent draws), the days are
resampled with replacement and the skill recomputed from their sums.

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
    blocks: list[tuple[float, float]] = field(default_factory=list)  # per add (day): Brier and climatology sums

    def __post_init__(self):
        size = len(self.edges) - 1
        self.counts = np.zeros(size, np.int64) if self.counts is None else self.counts
        self.p_sums = np.zeros(size) if self.p_sums is None else self.p_sums
        self.events = np.zeros(size, np.int64) if self.events is None else self.events

    def add(self, p: np.ndarray, y: np.ndarray) -> None:
        p = np.asarray(p, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        self.n += p.size
        brier, brier_clim = float(np.sum((p - y) ** 2)), float(np.sum((self.climatology - y) ** 2))
        self.brier_sum += brier
        self.brier_clim_sum += brier_clim
        self.blocks.append((brier, brier_clim))
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
            "brier_skill_interval": block_bootstrap_skill(self.blocks),
            "bins": bins,
        }


BOOTSTRAP_RESAMPLES = 2000


def block_bootstrap_skill(blocks: list[tuple[float, float]], *, level: float = 0.95,
                          resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> dict | None:
    """The ``level`` percentile interval of the Brier skill over blocks (days) resampled with
    replacement (seeded, so a report is reproducible), and whether it excludes 0; None with
    fewer than two blocks (nothing to resample)."""
    if len(blocks) < 2:
        return None
    sums = np.asarray(blocks, dtype=np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sums), size=(resamples, len(sums)))
    brier, clim = sums[picks, 0].sum(axis=1), sums[picks, 1].sum(axis=1)
    skills = 1.0 - brier[clim > 0] / clim[clim > 0]
    if skills.size == 0:
        return None
    low, high = (float(v) for v in np.quantile(skills, [(1 - level) / 2, (1 + level) / 2]))
    return {"level": level, "low": low, "high": high, "excludes_zero": bool(low > 0 or high < 0),
            "blocks": len(blocks), "block": "day", "resamples": resamples}


def skill_interval_text(interval: dict | None) -> str:
    """``95 % interval 0.001..0.009 (block bootstrap by day, 31 days): excludes 0``, or why there is none."""
    if not interval:
        return "no interval (fewer than two days to resample)"
    verdict = "excludes 0" if interval["excludes_zero"] else "includes 0: no skill shown"
    return (f"{100 * interval['level']:.0f} % interval {interval['low']:.2g}..{interval['high']:.2g} (block bootstrap "
            f"by {interval['block']}, {interval['blocks']} days, {interval['resamples']} resamples): {verdict}")
