"""report.build: one self-contained HTML report per month (routes, risk, freshness, provenance).

The report is an artifact like any other (``reports/<YYYYMM>/report_<YYYYMM>.html`` with its
sidecar). Its inputs are the month's risk summary, the newest daily layer of each kind in the
month, the newest route of each scenario in the month and the static grid. Building is
incremental: a digest of those inputs (logical id and sha256) is kept in the sidecar, and a
report whose inputs are unchanged is not written again. The run table and the data ages shown
in the page are a view of the moment the report was made and do not count as inputs.

Gathering (``gather_inputs``), the figure (``draw_map``) and the page (``render_html``) are
kept apart; the table rows are pure functions of the sidecars and documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..layers import read_artifact
from ..ops.runs import last_runs
from ..provenance import git_sha
from ..static import load_static
from ..store.artifacts import ArtifactSpec, input_ref, previous_meta, write_artifact
from ..store.integrity import is_intact, verify_artifact
from ..timeutil import utc_now
from .calibration import month_calibration, reliability_png
from .inputs import (
    ReportInputs,
    gather_inputs,
    inputs_digest,
    meta_day,
    month_coverage,
    report_logical_id,
    report_relpath,
)
from .map import draw_map
from .page import PageInfo, render_html

KIND = "report"
RUN_LIMIT = 15
SECTIONS = ("routes", "layers", "calibration", "freshness", "runs")  # report.build --include; provenance always


@dataclass(frozen=True)
class ReportResult:
    outcome: str  # "written" or "unchanged"
    path: Path  # the canonical report file
    meta: dict


def map_png(settings: Settings, inputs: ReportInputs) -> bytes:
    """Read the arrays the map needs and draw it."""
    roots = settings.roots
    static = load_static(roots, settings.grid)
    sic_meta = inputs.latest.get("ice.sic")
    sic = read_artifact(roots, sic_meta, "sic") if sic_meta else None
    risk_mean = read_artifact(roots, inputs.monthly_risk, "risk_mean")
    map_day = inputs.map_day
    shown = [r for r in inputs.routes if r.day == map_day]
    routes_note = f"routes of {map_day}" if map_day else "no routes this month"
    titles = (f"Sea ice {meta_day(sic_meta) if sic_meta else '(none)'}, {routes_note}",
              f"Mean risk {inputs.year:04d}-{inputs.month:02d}, {routes_note}")
    return draw_map(settings.grid, static.land, sic, risk_mean, shown, titles)



def build_report(settings: Settings, year: int, month: int, run, *, force: bool = False,
                 include: tuple[str, ...] = SECTIONS) -> ReportResult:
    """Write the month's report (the ``include``d sections, provenance always) unless its inputs
    and sections are unchanged since the current version."""
    roots = settings.roots
    include = tuple(name for name in SECTIONS if name in include)
    inputs = gather_inputs(settings, year, month, include)
    metas = inputs.metas()
    digest = inputs_digest(metas, include)
    relpath = report_relpath(year, month, settings.grid.name)
    canonical = roots["reports"] / relpath
    previous = previous_meta(roots, "reports", relpath)
    if (not force and previous and previous.get("params", {}).get("inputs_digest") == digest
            and is_intact(roots, previous)):
        return ReportResult("unchanged", canonical, previous)

    for meta in metas:  # every input the report cites, not only those it draws: read and verified now
        verify_artifact(roots, meta)
    info = PageInfo(settings.grid.name, settings.profile, utc_now(), run.run_id, git_sha())
    calibration = month_calibration(roots, inputs) if "calibration" in include else None
    figure = None
    if calibration and calibration["status"] == "ok":
        label = " — SYNTHETIC incidents" if calibration["synthetic_incidents"] else ""
        figure = reliability_png(calibration, f"Reliability {year:04d}-{month:02d}{label}")
    page = render_html(inputs, info, map_png(settings, inputs) if "layers" in include else None,
                       last_runs(settings.outputs_root, RUN_LIMIT) if "runs" in include else [],
                       include=include, calibration=calibration, calibration_png=figure)
    spec = ArtifactSpec(
        logical_id=report_logical_id(year, month, settings.grid.name),
        root="reports",
        relpath=relpath,
        kind=KIND,
        synthetic=inputs.synthetic,
        time_coverage=month_coverage(year, month),
        grid=settings.grid.describe(),
        tags=["report", "monthly"] + (["synthetic"] if inputs.synthetic else []),
        inputs=[input_ref(m) for m in metas],
        params={"inputs_digest": digest, "scenarios": [r.scenario for r in inputs.routes],
                "map_day": inputs.map_day.isoformat() if inputs.map_day else None, "include": list(include),
                **({"calibration": calibration} if calibration is not None else {})},
    )
    meta = write_artifact(roots, spec, lambda p: p.write_text(page, encoding="utf-8"),
                          run_id=run.run_id, command=run.command)
    run.artifact(meta)
    return ReportResult("written", canonical, meta)
