"""The report page: pure table rows from sidecars and documents, and the HTML around them.

No external resources: the map is an inline PNG, the style is inline CSS, every text is escaped.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from html import escape

from .artifacts import input_ref
from .planner import DEMO_NOTICE
from .report_inputs import ReportInputs, meta_day
from .timeutil import iso_utc


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
    if info.get("status") == "no-route":
        return {**row, "status": "NO ROUTE", "reason": info.get("reason")}
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
        "segments": compact_segments(_feature(document, "route")),
    }


def compact_segments(feature: dict | None, limit: int = 4) -> list[str]:
    """The longest stretches of a route, one line each: distance, ice, POLARIS, speed, what cost most."""
    segments = (feature or {}).get("properties", {}).get("segments") or []
    longest = sorted(segments, key=lambda g: -g.get("distance_nm", 0))[:limit]
    lines = []
    for seg in sorted(longest, key=segments.index):
        ice = (f"{seg['ice_type']} {round(seg['sic_mean'] * 10):d}/10" if seg.get("sic_mean", 0) >= 0.05
               else "open water")
        limit_text = f", limit {seg['speed_limit_kn']:g} kn" if seg.get("speed_limit_kn") else ""
        lines.append(f"{seg['distance_nm']:,.0f} nm {ice}, RIO ≥ {seg['rio_min']:g} ({seg['polaris']}{limit_text}), "
                     f"{seg['speed_kn'] or 0:.1f} kn, risk {seg['risk_mean']:.2f}; most cost: {seg['dominant']}")
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


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:0 16px 32px;color:#1d232a;line-height:1.4}
h1{font-size:1.6em;margin:18px 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #d5dae0}
.banner{background:#b3261e;color:#fff;padding:12px 16px;margin:0 -16px;font-size:1.05em}
.banner strong{font-size:1.25em;text-transform:uppercase;letter-spacing:.03em;display:block}
.meta{color:#4a5560;font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.85em}
th,td{border:1px solid #d5dae0;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere;
white-space:pre-line}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fdecea}.mono{font-family:ui-monospace,Consolas,monospace;font-size:.95em}
figure{margin:0}img{max-width:100%;height:auto}figcaption{color:#4a5560;font-size:.85em}
.note{color:#4a5560;font-size:.85em}
"""


@dataclass(frozen=True)
class Cell:
    """A table cell: text (escaped on output) and an optional CSS class."""

    text: str
    css: str = ""


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


def _yes_no(value) -> str:
    return "—" if value is None else ("yes" if value else "no")


def html_table(headers: list[str], rows: list[list], row_classes: list[str] | None = None) -> str:
    """A table; cells are ``Cell`` or plain values, all text escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        cells = [c if isinstance(c, Cell) else Cell(str(c)) for c in row]
        css = row_classes[index] if row_classes else ""
        tds = "".join(f'<td class="{c.css}">{escape(c.text)}</td>' if c.css else f"<td>{escape(c.text)}</td>"
                      for c in cells)
        body.append(f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def section(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{note_html}{body}</section>"


def banner_html(profile: str) -> str:
    return (f'<div class="banner" role="alert"><strong>{escape(DEMO_NOTICE)}</strong>'
            f"The data in this report are synthetic (generated, not observed; profile "
            f"&ldquo;{escape(profile)}&rdquo;) and describe no real ice, sea or ship.</div>")


def route_table_html(rows: list[dict]) -> str:
    headers = ["scenario", "vessel (ice class)", "date", "status", "distance nm", "× great circle", "ETA",
               "max ice", "mean risk", "baseline nm", "total to final destination", "notes"]
    cells, classes = [], []
    for row in rows:
        vessel = f"{row['vessel']} ({row['ice_class']})"
        if row["status"] != "ok":
            cells.append([row["scenario"], vessel, row["date"], f"NO ROUTE: {row['reason']}",
                          *[Cell("—", "num")] * 6, "—", "; ".join(row["warnings"])])
            classes.append("bad")
            continue
        total = (f"{_fmt(row['total_distance_nm'], 0)} nm to {row['final_destination']}, ETA {_time(row['total_eta'])}"
                 if row.get("total_distance_nm") is not None else "—")
        cells.append([row["scenario"], vessel, row["date"], "ok", _num(row["distance_nm"], 0),
                      _num(row["distance_ratio"], 2), _time(row["eta"]), _num(row["max_sic"], 2),
                      _num(row["mean_risk"], 3), _num(row["baseline_nm"], 0), total, "; ".join(row["warnings"])])
        classes.append("")
    return html_table(headers, cells, classes)


def explanation_table_html(rows: list[dict]) -> str:
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
    return html_table(["scenario", "in ice nm", "POLARIS elevated nm", "lowest RIO", "cost shares",
                       "longest stretches"], cells)


def freshness_table_html(rows: list[dict]) -> str:
    cells = [[row["layer"], row["day"] or "none this month", _num(row["age_days"]), _yes_no(row["synthetic"])]
             for row in rows]
    return html_table(["layer", "newest day", "age (days)", "synthetic"], cells)


def provenance_table_html(rows: list[dict]) -> str:
    cells = [[Cell(r["logical_id"], "mono"), _num(r["version"]), Cell(r["sha256"], "mono"), r["command"] or "—",
              r["created_at"] or "—", _yes_no(r["synthetic"]), r["source_url"] or "—", r["license"] or "—"]
             for r in rows]
    return html_table(["logical id", "version", "sha256", "producer", "created (UTC)", "synthetic", "source URL",
                       "licence"], cells)


def runs_table_html(rows: list[dict]) -> str:
    cells = [[r["command"] or "—", Cell(r["run_id"] or "—", "mono"), r["status"] or "—", _num(r["exit_code"]),
              _num(r["duration_s"], 2), _num(r["warnings"])] for r in rows]
    return html_table(["command", "run id", "status", "exit code", "duration (s)", "warnings"], cells)


@dataclass(frozen=True)
class PageInfo:
    """What the page says about its own making."""

    grid_name: str
    profile: str
    generated_at: datetime
    run_id: str
    git_sha: str


def calibration_html(calibration: dict, png: bytes | None, month: str) -> str:
    if calibration["status"] != "ok":
        return f"<p>{escape(calibration['reason'])}</p>"

    def num(value, digits=4):
        return "—" if value is None else f"{value:.{digits}g}"

    synthetic = " (synthetic incidents, drawn from a known risk function)" if calibration["synthetic_incidents"] else ""
    facts = (f"{calibration['cell_days']:,} sea cell-days of {len(calibration['days'])} days, {calibration['events']} "
             f"with incidents{synthetic}. Brier score {num(calibration['brier'])}; climatology (the incident rate of "
             f"the model's training months, {num(calibration['climatology'])}) {num(calibration['brier_climatology'])}; "
             f"Brier skill {num(calibration['brier_skill'])}. The model ({calibration['model']}, fitted on "
             f"{', '.join(calibration['model_training_months'] or [])}) scored {num(calibration['model_heldout_brier_skill'])} "
             f"on its held-out months ({', '.join(calibration['model_heldout_months'] or [])}), where weighted, calibrated "
             f"to a probability, scored {num(calibration['weighted_heldout_brier_skill'])}.")
    weights = ", ".join(f"{k} {v:+.2f}" for k, v in calibration["coefficients"].items())
    rows = [[f"{b['low']:.0e}–{b['high']:.0e}", _num(b["cell_days"]), Cell(num(b["mean_predicted"], 3), "num"),
             _num(b["events"]), Cell(num(b["observed_frequency"], 3), "num")]
            for b in calibration["bins"] if b["cell_days"]]
    image = (f'<figure><img alt="reliability diagram {escape(month)}" src="data:image/png;base64,'
             f'{base64.b64encode(png).decode("ascii")}"><figcaption>Observed incident frequency against the mean '
             "predicted probability of each bin (log-log), dashed: perfect calibration; numbers: events behind each "
             "point.</figcaption></figure>") if png else ""
    return (f"<p>{escape(facts)}</p><p class=\"note\">Learned weights (logistic, on normalised hazards): "
            f"{escape(weights)}.</p>{image}"
            + html_table(["predicted probability", "cell-days", "mean predicted", "events", "observed frequency"], rows))


def render_html(inputs: ReportInputs, info: PageInfo, png: bytes | None, run_records: list[dict], *,
                include: tuple[str, ...] = ("routes", "layers", "calibration", "freshness", "runs"),
                calibration: dict | None = None, calibration_png: bytes | None = None) -> str:
    """The whole page as one string: no external resources, every text escaped."""
    month = f"{inputs.year:04d}-{inputs.month:02d}"
    title = f"ArcticRoute monthly report {month}"
    caption = (f"EPSG:3413 polar stereographic, grid {info.grid_name}. Left: sea-ice concentration of the newest "
               f"day; right: mean fused risk of the month with the ice edge. Route solid, distance-only baseline "
               f"dashed, onward leg beyond the grid dotted (clipped at the grid edge).")
    figure = (f'<figure><img alt="{escape(title)}: sea ice, risk and routes" '
              f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
              f"<figcaption>{escape(caption)}</figcaption></figure>") if png is not None and "layers" in include else ""
    rows = [route_row(r.document) for r in inputs.routes]
    calibration_title = "Calibration" + (" (synthetic incidents)" if calibration and calibration.get("synthetic_incidents")
                                         else "")
    parts = [
        banner_html(info.profile) if inputs.synthetic else "",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">grid {escape(info.grid_name)} · profile {escape(info.profile)} · generated '
        f"{escape(iso_utc(info.generated_at))} · run {escape(info.run_id)} · git "
        f'<span class="mono">{escape(info.git_sha)}</span></p>',
        figure,
        section("Routes", route_table_html(rows) if inputs.routes else "<p>No routes planned this month.</p>",
                "Newest plan of each scenario in the month. Distances in nautical miles; ETA in UTC; "
                "ice as concentration 0..1; baseline = shortest path within the same hard limits.")
        if "routes" in include else "",
        section("Route explanation", explanation_table_html(rows),
                "Per route: distance in ice, distance in POLARIS elevated risk (speed limited), the lowest Risk "
                "Index Outcome met, the share of each cost term (transit time, ice and wave speed loss, risk "
                "penalty) and the longest stretches; the route document holds every segment.")
        if inputs.routes and "routes" in include else "",
        section(calibration_title, calibration_html(calibration, calibration_png, month),
                f"Predicted incident probability (risk.fuse --method stacking) against the incidents of {month}, per "
                "sea cell and day; an event is a cell-day with at least one incident.")
        if calibration is not None else "",
        section("Data freshness", freshness_table_html(freshness_rows(inputs.latest, info.generated_at)),
                f"Newest day of each layer in {month}; age in days at generation time.")
        if "freshness" in include else "",
        section("Provenance", provenance_table_html([provenance_row(m) for m in inputs.metas()]),
                "Every artifact this report was made from (the sidecars in the catalog)."),
        section("Recent runs", runs_table_html([run_row(r) for r in run_records]),
                f"The last {len(run_records)} command runs before this report, newest first.")
        if "runs" in include else "",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")
