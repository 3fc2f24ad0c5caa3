"""The report page: pure table rows from sidecars and documents, the tables they make, and the
page rendered from the Jinja2 template ``templates/report.html.j2`` (autoescape on).

No external resources: the map is an inline PNG, the style is inline CSS, every text is escaped.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from ..errors import ArcticRouteError
from ..provenance import DEMO_NOTICE
from ..risk.calibration import skill_interval_text
from ..route.export import passage_rows
from ..route.passage import has_route, passage_plan
from ..route.places import route_places
from ..store.artifacts import input_ref
from ..timeutil import iso_utc
from .calibration import SYNTHETIC_LABELS_CAVEAT
from .inputs import ReportInputs, meta_day


def _feature(document: dict, role: str) -> dict | None:
    return next((f for f in document.get("features", []) if f.get("properties", {}).get("role") == role), None)


def route_row(document: dict) -> dict:
    """One row of the route table from a route GeoJSON document."""
    info = document.get("arcticroute", {})
    vessel = info.get("vessel", {})
    row = {
        "scenario": info.get("scenario"),
        "vessel": vessel.get("name"),
        "ice_class": vessel.get("ice_class"),
        "date": info.get("date"),
        "synthetic": bool(info.get("synthetic")),
        "warnings": list(info.get("warnings", [])),
    }
    if info.get("status") in ("no-route", "refused"):
        return {**row, "status": "NO ROUTE" if info["status"] == "no-route" else "REFUSED", "reason": info.get("reason"),
                "rules": info.get("rules")}
    summary = info.get("summary", {})
    baseline = _feature(document, "baseline")
    return {
        **row,
        "status": "ok",
        "distance_nm": summary.get("distance_nm"),
        "distance_ratio": summary.get("distance_ratio"),
        "eta": summary.get("eta"),
        "max_sic": summary.get("max_sic"),
        "mean_risk": summary.get("mean_risk"),
        "baseline_nm": baseline["properties"].get("distance_nm") if baseline else None,
        "final_destination": summary.get("final_destination"),
        "total_distance_nm": summary.get("total_distance_nm"),
        "total_eta": summary.get("total_eta"),
        "min_rio": summary.get("min_rio"),
        "ice_nm": summary.get("ice_nm"),
        "elevated_risk_nm": summary.get("elevated_risk_nm"),
        "cost_h": summary.get("cost_h"),
        "persistence_days": summary.get("persistence_days"),
        "forecast_days": summary.get("forecast_days"),
        "waiting_h": summary.get("waiting_h"),
        "segments": compact_segments(_feature(document, "route")),
        "rules": summary.get("rules"),
        "assumed_type_nm": summary.get("assumed_type_nm"),
        "assumed_type_basis_nm": summary.get("assumed_type_basis_nm"),
        "assumed_type_max_age_days": summary.get("assumed_type_max_age_days"),
        "passes": [p.name for p in route_places(document)],
    }


def passage_table(document: dict) -> Table:
    """The passage plan of a route, one row a leg (``route.export.passage_rows``)."""
    cells = []
    for r in passage_rows(passage_plan(document)):
        ice = ("open water" if not r["sic_max"] else
               f"{_fmt(r['sic_mean'], 2)} (max {_fmt(r['sic_max'], 2)}), {r['stage_of_development']}")
        cells.append([_num(r["leg"]), f"{r['from_waypoint']}\n{r['from_position']}",
                      f"{r['to_waypoint']}\n{r['to_position']}", Cell(r["course_true_deg"], "num"),
                      _num(r["distance_nm"], 1), _num(r["cumulative_nm"], 1), _when(r["eta_utc"]),
                      _num(r["speed_kn"], 1), ice, f"{_fmt(r['polaris_rio_min'], 0)} ({r['polaris_operation']})",
                      _num(r["hs_max_m"], 1), _num(r["min_depth_m"], 0), _yes_no(r["escort_required"]),
                      _yes_no(r["persisted_conditions"])])
    return table(["leg", "from", "to", "course °T", "distance nm", "cumulative nm", "ETA (UTC)", "speed kn",
                  "ice: concentration, most severe stage", "POLARIS RIO (operation)", "max wave m", "min depth m",
                  "escort", "persisted conditions"], cells)


def _yes_no(flag: bool | None) -> str:
    return "—" if flag is None else ("yes" if flag else "no")


def compact_segments(feature: dict | None, limit: int = 4) -> list[str]:
    """The longest stretches of a route, one line each: distance, ice, POLARIS, speed, what cost most."""
    segments = (feature or {}).get("properties", {}).get("segments") or []
    longest = sorted(segments, key=lambda g: -g.get("distance_nm", 0))[:limit]
    lines = []
    for seg in sorted(longest, key=segments.index):
        ice = (f"{seg['ice_type']} {round(seg['sic_mean'] * 10):d}/10" if seg.get("sic_mean", 0) >= 0.05
               else "open water")
        limit_text = f", limit {seg['speed_limit_kn']:g} kn" if seg.get("speed_limit_kn") else ""
        days = seg.get("conditions_days") or []
        sailed_in = (f"; conditions of {days[0]}" + (f" to {days[-1]}" if days[-1] != days[0] else "")
                     if days else "")
        waited = f"; waits {seg['waiting_h']:.1f} h first" if seg.get("waiting_h") else ""
        lines.append(f"{seg['distance_nm']:,.0f} nm {ice}, RIO ≥ {seg['rio_min']:g} ({seg['polaris']}{limit_text}), "
                     f"{seg['speed_kn'] or 0:.1f} kn, risk {seg['risk_mean']:.2f}; most cost: {seg['dominant']}"
                     f"{sailed_in}{waited}")
    return lines

def freshness_rows(latest: dict[str, dict | None], now: datetime) -> list[dict]:
    """Newest day and its age (days before ``now``) per layer; ``day`` None when the month has none."""
    rows = []
    for layer, meta in latest.items():
        if meta is None:
            rows.append({"layer": layer, "day": None, "age_days": None, "synthetic": None})
            continue
        day = meta_day(meta)
        rows.append({"layer": layer, "day": day.isoformat(), "age_days": (now.date() - day).days,
                     "synthetic": bool(meta.get("synthetic"))})
    return rows


def provenance_row(meta: dict) -> dict:
    return {
        "logical_id": meta["logical_id"],
        "version": meta.get("version"),
        "sha256": (meta.get("sha256") or "")[:12],
        "command": meta.get("producer", {}).get("command"),
        "created_at": meta.get("created_at"),
        "synthetic": bool(meta.get("synthetic")),
        "source_url": input_ref(meta)["source_url"],
        "license": (meta.get("params") or {}).get("license"),  # layers and risk record their inputs' licences
    }


def run_row(record: dict) -> dict:
    return {
        "command": record.get("command"),
        "run_id": record.get("run_id"),
        "status": record.get("status"),
        "exit_code": record.get("exit_code"),
        "duration_s": record.get("duration_s"),
        "warnings": len(record.get("warnings") or []),
    }


@dataclass(frozen=True)
class Cell:
    """A table cell: text (escaped by the template) and an optional CSS class."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table as the template's ``table`` macro draws it; ``classes`` are per-row CSS classes."""

    headers: list[str]
    rows: list[list[Cell]]
    classes: list[str] = field(default_factory=list)


def _fmt(value, digits: int | None = None, suffix: str = "") -> str:
    if value is None:
        return "—"
    if digits is not None:
        return f"{value:,.{digits}f}{suffix}"
    return f"{value}{suffix}"


def _num(value, digits: int | None = None) -> Cell:
    return Cell(_fmt(value, digits), "num")


def _time(value: str | None) -> str:
    """``2026-10-14T08:35:15Z`` as ``2026-10-14 08:35Z``."""
    return f"{value[:10]} {value[11:16]}Z" if value else "—"


def _when(value: str | None) -> Cell:
    """A date or time, never broken across lines."""
    return Cell(_time(value) if value and "T" in value else (value or "—"), "nowrap")


def _yes_no(value) -> str:
    return "—" if value is None else ("yes" if value else "no")


def table(headers: list[str], rows: list[list], classes: list[str] | None = None) -> Table:
    """A table from cells that are ``Cell`` or plain values."""
    return Table(headers, [[c if isinstance(c, Cell) else Cell(str(c)) for c in row] for row in rows], classes or [])


def route_table(rows: list[dict]) -> Table:
    headers = ["scenario", "vessel (ice class)", "date", "status", "distance nm", "× great circle", "ETA",
               "max ice", "mean risk", "baseline nm", "total to final destination", "days on persisted conditions",
               "hours waiting", "passes", "notes"]
    cells, classes = [], []
    for row in rows:
        vessel = f"{row['vessel']} ({row['ice_class']})"
        if row["status"] != "ok":
            cells.append([row["scenario"], vessel, _when(row["date"]), f"{row['status']}: {row['reason']}",
                          *[Cell("—", "num")] * 6, "—", Cell("—", "num"), Cell("—", "num"), "—",
                          "; ".join(row["warnings"])])
            classes.append("bad")
            continue
        total = (f"{_fmt(row['total_distance_nm'], 0)} nm to {row['final_destination']}, ETA {_time(row['total_eta'])}"
                 if row.get("total_distance_nm") is not None else "—")
        cells.append([row["scenario"], vessel, _when(row["date"]), "ok", _num(row["distance_nm"], 0),
                      _num(row["distance_ratio"], 2), _when(row["eta"]), _num(row["max_sic"], 2),
                      _num(row["mean_risk"], 3), _num(row["baseline_nm"], 0), total, persisted_cell(row),
                      _num(row.get("waiting_h"), 1), " → ".join(row["passes"]) or "—",
                      "; ".join(row["warnings"])])
        classes.append("")
    return table(headers, cells, classes)


def persisted_cell(row: dict) -> Cell:
    """Days the voyage sails on persisted conditions (past the daily layers and the ice forecast),
    with the days on the forecast beside them; flagged when there are any."""
    days = row.get("persistence_days")
    if days is None:
        return Cell("—", "num")
    forecast = f" ({row['forecast_days']:.1f} on the forecast)" if row.get("forecast_days") else ""
    return Cell(f"{days:.1f}{forecast}", "num persisted" if days > 0 else "num")


def explanation_table(rows: list[dict]) -> Table:
    cells = []
    for row in rows:
        if row["status"] != "ok":
            continue
        cost = row.get("cost_h") or {}
        total = sum(cost.values()) or 1.0
        shares = ", ".join(f"{name} {100 * cost.get(key, 0) / total:.0f} %" for key, name in
                           (("open", "transit"), ("ice", "ice"), ("wave", "waves"), ("risk", "risk")))
        cells.append([row["scenario"], _num(row.get("ice_nm"), 0), _num(row.get("elevated_risk_nm"), 0),
                      _num(row.get("min_rio"), 0), shares, "\n".join(row.get("segments") or []) or "—"])
    return table(["scenario", "in ice nm", "POLARIS elevated nm", "lowest RIO", "cost shares",
                  "longest stretches"], cells)


def rules_table(rows: list[dict]) -> Table:
    """Per route: the sea-area rules' verdict, the areas under escort with their miles, each area
    entered (its type of ice conditions and mode) and the miles sailed on assumed ice types."""
    cells, classes = [], []
    for row in rows:
        verdict = row.get("rules") or {}
        if not verdict and row["status"] == "ok":
            continue
        areas = "\n".join(f"{a['name']}: {a['nm']:,.0f} nm, " + (f"{a['ice_conditions']}, " if "ice_conditions" in a else "")
                          + a["mode"] for a in verdict.get("areas", [])) or "—"
        escort = (f"{verdict['escort_nm']:,.0f} nm: " + ", ".join(verdict["escort_areas"])
                  if verdict.get("escort_areas") else "—")
        text = verdict.get("verdict", "not permitted" if row["status"] == "REFUSED" else "—")
        if verdict.get("ignored") and text == "not permitted":
            text += " (IGNORED: --ignore-rules study)"
        notes = list(verdict.get("refused_by", [])) or ([row["reason"]] if row["status"] == "REFUSED" else [])
        notes += verdict.get("notices", [])
        assumed = row.get("assumed_type_nm")
        basis = ", ".join(f"{k} {v:,.0f}" for k, v in (row.get("assumed_type_basis_nm") or {}).items())
        age = row.get("assumed_type_max_age_days")
        assumed_text = ("—" if assumed is None else f"{assumed:,.0f} nm" + (f" ({basis})" if basis else "")
                        + (f"; carried types up to {age} d old" if age is not None else ""))
        cells.append([row["scenario"], text, escort, areas, assumed_text, "\n".join(notes) or "—"])
        classes.append("bad" if text.startswith("not permitted") else "")
    return table(["scenario", "rules verdict", "icebreaker escort", "sea areas entered", "on assumed ice types",
                  "rules and notices"], cells, classes)


def freshness_table(rows: list[dict]) -> Table:
    cells = [[row["layer"], row["day"] or "none this month", _num(row["age_days"]), _yes_no(row["synthetic"])]
             for row in rows]
    return table(["layer", "newest day", "age (days)", "synthetic"], cells)


def provenance_table(rows: list[dict]) -> Table:
    cells = [[Cell(r["logical_id"], "mono"), _num(r["version"]), Cell(r["sha256"], "mono"), r["command"] or "—",
              Cell(r["created_at"] or "—", "nowrap"), _yes_no(r["synthetic"]), r["source_url"] or "—", r["license"] or "—"]
             for r in rows]
    return table(["logical id", "version", "sha256", "producer", "created (UTC)", "synthetic", "source URL",
                  "licence"], cells)


def runs_table(rows: list[dict]) -> Table:
    cells = [[r["command"] or "—", Cell(r["run_id"] or "—", "mono"), r["status"] or "—", _num(r["exit_code"]),
              _num(r["duration_s"], 2), _num(r["warnings"])] for r in rows]
    return table(["command", "run id", "status", "exit code", "duration (s)", "warnings"], cells)


@dataclass(frozen=True)
class PageInfo:
    """What the page says about its own making."""

    grid_name: str
    profile: str
    generated_at: datetime
    run_id: str
    git_sha: str


@dataclass(frozen=True)
class Section:
    """One ``<section>`` of the page: a heading, a note, and a paragraph, a calibration block or a table."""

    title: str
    note: str = ""
    text: str = ""
    table: Table | None = None
    calibration: dict | None = None


def calibration_section(title: str, note: str, calibration: dict, png: bytes | None, month: str) -> Section:
    if calibration["status"] != "ok":
        return Section(title, note, text=calibration["reason"])

    def num(value, digits=4):
        return "—" if value is None else f"{value:.{digits}g}"

    synthetic = " (synthetic incidents, drawn from a known risk function)" if calibration["synthetic_incidents"] else ""
    facts = (f"{calibration['cell_days']:,} sea cell-days of {len(calibration['days'])} days, {calibration['events']} "
             f"with incidents{synthetic}. Brier score {num(calibration['brier'])}; climatology (the incident rate of "
             f"the model's training months, {num(calibration['climatology'])}) {num(calibration['brier_climatology'])}; "
             f"Brier skill {num(calibration['brier_skill'])}, "
             f"{skill_interval_text(calibration.get('brier_skill_interval'))}. The model ({calibration['model']}, "
             f"fitted on {', '.join(calibration['model_training_months'] or [])}) scored "
             f"{num(calibration['model_heldout_brier_skill'])} on its held-out months "
             f"({', '.join(calibration['model_heldout_months'] or [])}; "
             f"{skill_interval_text(calibration.get('model_heldout_brier_skill_interval'))}), where weighted, "
             f"calibrated to a probability, scored {num(calibration['weighted_heldout_brier_skill'])}.")
    weights = ", ".join(f"{k} {v:+.2f}" for k, v in calibration["coefficients"].items())
    rows = [[f"{b['low']:.0e}–{b['high']:.0e}", _num(b["cell_days"]), Cell(num(b["mean_predicted"], 3), "num"),
             _num(b["events"]), Cell(num(b["observed_frequency"], 3), "num")]
            for b in calibration["bins"] if b["cell_days"]]
    block = {"facts": facts, "weights": weights, "month": month, "png": _base64(png) if png else None,
             "model_kind": calibration.get("model_kind") or "logistic, on normalised hazards",
             "caveat": SYNTHETIC_LABELS_CAVEAT if calibration.get("synthetic_labels") else None}
    return Section(title, note, calibration=block,
                   table=table(["predicted probability", "cell-days", "mean predicted", "events", "observed frequency"],
                               rows))


def _base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


@lru_cache(maxsize=2)
def _template(name: str = "report.html.j2"):
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(loader=PackageLoader("arcticroute.report", "templates"), autoescape=True,
                              undefined=StrictUndefined)
    return environment.get_template(name)


def table_html(t: Table) -> str:
    """One table as the page draws it (the ``table`` macro of ``report_macros.html.j2``)."""
    return str(_template("report_macros.html.j2").module.table(t))


def render_html(inputs: ReportInputs, info: PageInfo, png: bytes | None, run_records: list[dict], *,
                include: tuple[str, ...] = ("routes", "layers", "calibration", "freshness", "runs"),
                calibration: dict | None = None, calibration_png: bytes | None = None) -> str:
    """The whole page as one string: no external resources, every text escaped."""
    month = f"{inputs.year:04d}-{inputs.month:02d}"
    rows = [route_row(r.document) for r in inputs.routes]
    sections = []
    if "routes" in include:
        sections.append(Section("Routes", "Newest plan of each scenario in the month. Distances in nautical miles; "
                                "ETA in UTC; ice as concentration 0..1; baseline = shortest path within the same "
                                "hard limits.", **({"table": route_table(rows)} if inputs.routes
                                                   else {"text": "No routes planned this month."})))
        if inputs.routes:
            sections.append(Section(
                "Route explanation", "Per route: distance in ice, distance in POLARIS elevated risk (speed limited), "
                "the lowest Risk Index Outcome met, the share of each cost term (transit time, ice and wave speed loss, "
                "risk penalty) and the longest stretches; the route document holds every segment.",
                table=explanation_table(rows)))
            sections.append(Section(
                "Sea-area rules and assumed ice types", "Per route: the verdict of the sea-area rules "
                "(config/sea_area_rules.yaml: NSR admission criteria by ice class, area and type of ice conditions, "
                "seasons; Canadian zones), the areas needing icebreaker escort with their miles, each area entered, "
                "and the miles sailed on ice of assumed type (no valid classification: carried forward, multi-year "
                "zone or thick first-year default; docs/route-model.md).", table=rules_table(rows)))
            for route in inputs.routes:
                if not has_route(route.document):
                    continue
                note = ("Waypoints in degrees and decimal minutes (WGS84); each leg a great circle within 0.05 nm of "
                        "the planned line; course true, times UTC; ice, RIO and waves the voyage model met on the leg. "
                        "The same legs as the RTZ beside the route (route.export).")
                try:
                    sections.append(Section(f"Passage plan: {route.scenario}", note,
                                            table=passage_table(route.document)))
                except ArcticRouteError as exc:
                    sections.append(Section(f"Passage plan: {route.scenario}", note, text=f"{exc} ({exc.hint})"))
    if calibration is not None:
        title = "Calibration" + (" (synthetic incidents)" if calibration.get("synthetic_incidents") else "")
        sections.append(calibration_section(
            title, f"Predicted incident probability (risk.fuse --method stacking) against the incidents of {month}, "
            "per sea cell and day; an event is a cell-day with at least one incident.", calibration, calibration_png,
            month))
    if "freshness" in include:
        sections.append(Section("Data freshness", f"Newest day of each layer in {month}; age in days at generation time.",
                                table=freshness_table(freshness_rows(inputs.latest, info.generated_at))))
    sections.append(Section("Provenance", "Every artifact this report was made from (the sidecars in the catalog).",
                            table=provenance_table([provenance_row(m) for m in inputs.metas()])))
    if "runs" in include:
        sections.append(Section("Recent runs", f"The last {len(run_records)} command runs before this report, newest "
                                "first.", table=runs_table([run_row(r) for r in run_records])))
    map_caption = (f"EPSG:3413 polar stereographic, grid {info.grid_name}. Left: sea-ice concentration of the newest "
                   f"day; right: mean fused risk of the month with the ice edge. Route solid, distance-only baseline "
                   f"dashed, onward leg beyond the grid dotted (clipped at the grid edge).")
    page = _template().render(
        title=f"ArcticRoute monthly report {month}",
        banner={"notice": DEMO_NOTICE, "profile": info.profile} if inputs.synthetic else None,
        page=info, generated=iso_utc(info.generated_at),
        map_png=_base64(png) if png is not None and "layers" in include else None, map_caption=map_caption,
        sections=sections)
    return page + "\n"
