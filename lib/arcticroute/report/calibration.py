"""The report's calibration section: how well the month's incident probabilities (risk.fuse
--method stacking) matched the incidents that happened, cell by cell and day by day.

The month fused is after the months the model was fitted and scored on, so it is held-out data
too. Per day, the ``probability`` of the daily risk layer is set against the ``count`` of the
incidents layer of the same day (an event: at least one incident in the cell); the sums give a
reliability diagram, the Brier score and its skill against climatology (the incident rate of the
model's training months) with a 95 % block-bootstrap interval by day, and the events behind each
bin. When the incidents are synthetic the section says what that means for the skill.
"""

from __future__ import annotations

import io

import numpy as np

from ..layers import read_artifact
from ..risk.calibration import Reliability
from ..store.integrity import read_json
from .inputs import ReportInputs, meta_day


def month_calibration(roots: dict, inputs: ReportInputs) -> dict:
    """Calibration of the month, or ``{"status": "none", "reason": ...}`` when it has no probabilities."""
    stacked = [m for m in inputs.risk_days if (m.get("params") or {}).get("model")]
    if not stacked:
        reasons = sorted({(m.get("params") or {}).get("fallback_reason") for m in inputs.risk_days} - {None})
        method = sorted({(m.get("params") or {}).get("method") for m in inputs.risk_days} - {None})
        return {"status": "none",
                "reason": (reasons[0] if reasons else
                           f"the month was fused with {', '.join(method) or 'no method'}: its risk is not a probability "
                           "of incidents, so there is nothing to calibrate (risk.fuse --method stacking makes one)")}
    model_meta = inputs.models[stacked[-1]["params"]["model"]]
    model = read_json(roots, model_meta)
    incidents = {meta_day(m): m for m in inputs.incident_days}
    reliability = Reliability(float(model["climatology"]))
    days = []
    for meta in stacked:
        day = meta_day(meta)
        if day not in incidents:
            continue
        p = read_artifact(roots, meta, "probability")
        count = read_artifact(roots, incidents[day], "count")
        sea = np.isfinite(p)
        reliability.add(p[sea], count[sea] > 0)
        days.append(day)
    summary = reliability.summary()
    return {
        "status": "ok", **summary,
        "days": [d.isoformat() for d in days],
        "model": model_meta["logical_id"],
        "model_training_months": model.get("training_months"),
        "model_heldout_months": model.get("heldout_months"),
        "model_heldout_brier_skill": model["heldout"]["brier_skill"],
        "weighted_heldout_brier_skill": model["weighted_heldout"]["brier_skill"],
        "model_heldout_brier_skill_interval": model["heldout"].get("brier_skill_interval"),
        "coefficients": model["coefficients"],
        "model_kind": model.get("kind"),
        "synthetic_incidents": any(incidents[d].get("synthetic") for d in days),
        "synthetic_labels": bool(model.get("synthetic")) or any(incidents[d].get("synthetic") for d in days),
    }


SYNTHETIC_LABELS_CAVEAT = (
    "The incidents are synthetic: the demo generator draws them from a known rate per vessel-hour of the same "
    "ice and wave hazards the model is fitted on (docs/route-model.md, \"Synthetic incidents\"), so the skill "
    "shows the model recovering that function, not how well it would predict real incidents.")


def reliability_png(calibration: dict, title: str) -> bytes:
    """Observed incident frequency against mean predicted probability per bin, log-log, with the
    diagonal of perfect calibration and the events behind each point."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.6), dpi=90, layout="constrained")
    ax = fig.subplots()
    bins = [b for b in calibration["bins"] if b["cell_days"] and b["events"]]
    empty = [b for b in calibration["bins"] if b["cell_days"] and not b["events"]]
    low = min([b["mean_predicted"] for b in calibration["bins"] if b["cell_days"]] + [1e-6])
    ax.plot([low, 1], [low, 1], color="#888", linestyle="--", linewidth=1, label="perfect calibration")
    if bins:
        x = [b["mean_predicted"] for b in bins]
        y = [b["observed_frequency"] for b in bins]
        ax.scatter(x, y, s=[20 + 6 * np.sqrt(b["events"]) for b in bins], color="#b3261e", zorder=3,
                   label="bins with events (size: events)")
        for b in bins:
            ax.annotate(str(b["events"]), (b["mean_predicted"], b["observed_frequency"]), textcoords="offset points",
                        xytext=(5, 4), fontsize=7)
    if empty:
        ax.scatter([b["mean_predicted"] for b in empty], [low / 3] * len(empty), marker="v", color="#1f4e8c",
                   label="bins without events (drawn at the bottom)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean predicted probability of an incident (cell, day)")
    ax.set_ylabel("observed incident frequency")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()
