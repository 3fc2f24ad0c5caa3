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

import base64
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path

import numpy as np

from .artifacts import ArtifactSpec, current_meta, input_ref, write_artifact
from .config import Settings
from .errors import ArcticRouteError
from .grid import Grid, to_xy
from .layers import LAYERS, layer_relpath, read_grid_variable
from .planner import DEMO_NOTICE
from .provenance import git_sha
from .risk import daily_relpath, monthly_relpath
from .runs import last_runs
from .static import load_static, static_relpath
from .timeutil import iso_utc, month_days, utc_now

KIND = "report"
DAILY_LAYERS = (*LAYERS, "risk")  # "risk" is the daily fused layer
RUN_LIMIT = 15
SIC_SHOWN = 0.15  # ice below this concentration is not drawn
FIGURE_SIZE_IN = (11.0, 7.0)
FIGURE_DPI = 90
_ROUTE_FILE = re.compile(r"^(?P<scenario>.+)_(?P<day>\d{8})\.geojson$")
_LINE_STYLES = {"route": "-", "baseline": "--", "onward": ":"}


@dataclass(frozen=True)
class RouteDoc:
    """The newest route document of one scenario in the month, with its sidecar."""

    scenario: str
    day: date
    meta: dict
    document: dict


@dataclass(frozen=True)
class ReportInputs:
    """Everything a month's report is made from; ``latest`` maps layer to its newest sidecar."""

    year: int
    month: int
    monthly_risk: dict
    latest: dict[str, dict | None]
    routes: list[RouteDoc]
    static: dict

    def metas(self) -> list[dict]:
        """Sidecars of every input, each once."""
        metas = [self.monthly_risk, *(m for m in self.latest.values() if m), *(r.meta for r in self.routes),
                 self.static]
        return list({m["logical_id"]: m for m in metas}.values())

    @property
    def synthetic(self) -> bool:
        return any(m.get("synthetic") for m in self.metas())

    @property
    def map_day(self) -> date | None:
        """The newest day with routes: the routes drawn on the map."""
        return max((r.day for r in self.routes), default=None)


@dataclass(frozen=True)
class ReportResult:
    outcome: str  # "written" or "unchanged"
    path: Path  # the canonical report file
    meta: dict


# -- names ----------------------------------------------------------------------------------------

# Bump when the page or figure changes, so existing reports are rebuilt with the new layout.
LAYOUT_VERSION = 2


def report_relpath(year: int, month: int) -> str:
    return f"{year:04d}{month:02d}/report_{year:04d}{month:02d}.html"


def report_logical_id(year: int, month: int) -> str:
    return f"ar://report/monthly@{year:04d}{month:02d}"


def month_coverage(year: int, month: int) -> dict:
    days = month_days(year, month)
    return {"start": f"{days[0]}T00:00:00Z", "end": f"{days[-1]}T23:59:59Z"}


def daily_layer_relpath(layer: str, day: date) -> str:
    return daily_relpath(day) if layer == "risk" else layer_relpath(layer, day)


def meta_day(meta: dict) -> date:
    return date.fromisoformat(meta["time_coverage"]["start"][:10])


# -- gathering ------------------------------------------------------------------------------------

def newest_in_month(roots: dict[str, Path], layer: str, year: int, month: int) -> dict | None:
    """Sidecar of the newest day of ``layer`` in the month, or None if the month has none."""
    for day in reversed(month_days(year, month)):
        meta = current_meta(roots, "data", daily_layer_relpath(layer, day))
        if meta is not None:
            return meta
    return None


def newest_route_files(outputs_root: Path, year: int, month: int) -> dict[str, tuple[date, str]]:
    """Scenario name to ``(day, relpath)`` of its newest canonical route file in the month."""
    newest: dict[str, tuple[date, str]] = {}
    folder = outputs_root / "routes"
    if not folder.is_dir():
        return newest
    for path in folder.glob(f"*_{year:04d}{month:02d}[0-9][0-9].geojson"):
        match = _ROUTE_FILE.match(path.name)
        if not match:
            continue
        day = datetime.strptime(match["day"], "%Y%m%d").date()
        if match["scenario"] not in newest or day > newest[match["scenario"]][0]:
            newest[match["scenario"]] = (day, f"routes/{path.name}")
    return newest


def load_routes(roots: dict[str, Path], year: int, month: int) -> list[RouteDoc]:
    """The newest route document of every scenario in the month, by scenario name."""
    docs = []
    for scenario, (day, relpath) in sorted(newest_route_files(roots["outputs"], year, month).items()):
        meta = current_meta(roots, "outputs", relpath)
        if meta is None:
            continue  # a canonical file without a sidecar is not an artifact
        document = json.loads((roots["outputs"] / meta["path"]).read_text(encoding="utf-8"))
        docs.append(RouteDoc(scenario, day, meta, document))
    return docs


def gather_inputs(settings: Settings, year: int, month: int) -> ReportInputs:
    """Find the month's inputs; ArcticRouteError when the month has no risk summary or grid."""
    roots, grid = settings.roots, settings.grid
    ym = f"{year:04d}{month:02d}"
    monthly = current_meta(roots, "data", monthly_relpath(year, month))
    if monthly is None:
        raise ArcticRouteError(
            f"no monthly risk layer for {year:04d}-{month:02d} "
            f"({roots['data'] / monthly_relpath(year, month)}); nothing to report, no file written",
            hint=f"run ingest.nrt.pull --ym {ym} and risk.fuse --ym {ym} first (just pull, just fuse)",
        )
    found_grid = (monthly.get("grid") or {}).get("name")
    if found_grid != grid.name:
        raise ArcticRouteError(
            f"the monthly risk layer for {ym} is on grid {found_grid}, this run uses grid {grid.name}",
            hint="pass --grid-km (or ARCTICROUTE_GRID_KM) matching the data, or fuse the month again on this grid",
        )
    static = current_meta(roots, "data", static_relpath(grid))
    if static is None:
        raise ArcticRouteError(f"static layers for grid {grid.name} are missing",
                               hint=f"run ingest.nrt.pull --ym {ym} (it builds them)")
    latest = {layer: newest_in_month(roots, layer, year, month) for layer in DAILY_LAYERS}
    return ReportInputs(year, month, monthly, latest, load_routes(roots, year, month), static)


def inputs_digest(metas: list[dict]) -> str:
    """Digest of the inputs' identities and contents and of the page layout; independent of order."""
    payload = json.dumps({"layout": LAYOUT_VERSION, "inputs": sorted((m["logical_id"], m["sha256"]) for m in metas)})
    return hashlib.sha256(payload.encode()).hexdigest()


# -- table rows (pure) ----------------------------------------------------------------------------

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
    }


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


# -- figure ---------------------------------------------------------------------------------------

def grid_extent(grid: Grid) -> list[float]:
    """``[x_min, x_max, y_min, y_max]`` of the cell edges, for ``imshow(origin="upper")``."""
    half = grid.resolution_m / 2.0
    return [float(grid.x[0] - half), float(grid.x[-1] + half), float(grid.y[-1] - half), float(grid.y[0] + half)]


def route_lines(document: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(role, x, y)`` in EPSG:3413 metres for every line part of every feature."""
    lines = []
    for feature in document.get("features", []):
        geometry = feature.get("geometry") or {}
        parts = {"LineString": [geometry.get("coordinates")],
                 "MultiLineString": geometry.get("coordinates")}.get(geometry.get("type"), [])
        for part in parts:
            lonlat = np.asarray(part, dtype=float)
            x, y = to_xy(lonlat[:, 0], lonlat[:, 1])
            lines.append((feature["properties"].get("role", "route"), np.asarray(x), np.asarray(y)))
    return lines


def draw_map(grid: Grid, land: np.ndarray, sic: np.ndarray | None, risk_mean: np.ndarray,
             routes: list[RouteDoc], titles: tuple[str, str]) -> bytes:
    """Two EPSG:3413 panels (sea ice; mean risk with the ice edge), routes on both; PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    extent = grid_extent(grid)
    land_layer = np.ma.masked_where(~land, np.ones(land.shape))
    grey = ListedColormap(["#b4b4b4"])
    fig = Figure(figsize=FIGURE_SIZE_IN, dpi=FIGURE_DPI, layout="constrained")
    ax_ice, ax_risk = fig.subplots(1, 2, sharex=True, sharey=True)

    if sic is not None:
        shown = np.ma.masked_where(land | ~(np.nan_to_num(sic) > SIC_SHOWN), sic)
        image = ax_ice.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0, origin="upper", extent=extent,
                              interpolation="nearest")
        fig.colorbar(image, ax=ax_ice, shrink=0.8, label=f"sea-ice concentration (> {SIC_SHOWN:g} drawn)")
    risk_top = max(float(np.nanmax(risk_mean)) if np.isfinite(risk_mean).any() else 0.0, 0.05)
    image = ax_risk.imshow(np.ma.masked_invalid(np.where(land, np.nan, risk_mean)), cmap="YlOrRd", vmin=0.0,
                           vmax=risk_top, origin="upper", extent=extent, interpolation="nearest")
    fig.colorbar(image, ax=ax_risk, shrink=0.8, label="monthly mean risk (0..1)")
    if sic is not None:
        ax_risk.contour(grid.x, grid.y, np.nan_to_num(sic), levels=[SIC_SHOWN], colors="#1f4e8c",
                        linewidths=0.8)

    colours = matplotlib.colormaps["tab10"]
    km = FuncFormatter(lambda value, _pos: f"{value / 1000:g}")
    handles = []
    for ax, title in zip((ax_ice, ax_risk), titles, strict=True):
        ax.imshow(land_layer, cmap=grey, origin="upper", extent=extent, interpolation="nearest")
        for index, route in enumerate(routes):
            # Scenarios often share a passage: each later one is drawn narrower, so all stay visible.
            width = max(3.2 - 0.7 * index, 1.2)
            for role, x, y in route_lines(route.document):
                ax.plot(x, y, linestyle=_LINE_STYLES.get(role, "-"), color=colours(index % 10),
                        linewidth=width if role == "route" else width * 0.6)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(km)
        ax.yaxis.set_major_formatter(km)
        ax.set_xlabel("x (km, EPSG:3413)", fontsize=8)
    ax_ice.set_ylabel("y (km, EPSG:3413)", fontsize=8)
    handles += [Line2D([], [], color=colours(i % 10), linewidth=2, label=r.scenario) for i, r in enumerate(routes)]
    handles += [Line2D([], [], color="black", linestyle=style, label=role) for role, style in _LINE_STYLES.items()]
    handles += [Line2D([], [], color="#1f4e8c", linewidth=0.8, label=f"ice edge (sic {SIC_SHOWN:g})"),
                Line2D([], [], color="#b4b4b4", linewidth=6, label="land")]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return buffer.getvalue()


def map_png(settings: Settings, inputs: ReportInputs) -> bytes:
    """Read the arrays the map needs and draw it."""
    roots = settings.roots
    static = load_static(roots, settings.grid)
    sic_meta = inputs.latest.get("ice.sic")
    sic = read_grid_variable(roots["data"] / sic_meta["path"], "sic") if sic_meta else None
    risk_mean = read_grid_variable(roots["data"] / inputs.monthly_risk["path"], "risk_mean")
    map_day = inputs.map_day
    shown = [r for r in inputs.routes if r.day == map_day]
    routes_note = f"routes of {map_day}" if map_day else "no routes this month"
    titles = (f"Sea ice {meta_day(sic_meta) if sic_meta else '(none)'}, {routes_note}",
              f"Mean risk {inputs.year:04d}-{inputs.month:02d}, {routes_note}")
    return draw_map(settings.grid, static.land, sic, risk_mean, shown, titles)


# -- HTML -----------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:0 16px 32px;color:#1d232a;line-height:1.4}
h1{font-size:1.6em;margin:18px 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #d5dae0}
.banner{background:#b3261e;color:#fff;padding:12px 16px;margin:0 -16px;font-size:1.05em}
.banner strong{font-size:1.25em;text-transform:uppercase;letter-spacing:.03em;display:block}
.meta{color:#4a5560;font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.85em}
th,td{border:1px solid #d5dae0;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
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


def freshness_table_html(rows: list[dict]) -> str:
    cells = [[row["layer"], row["day"] or "none this month", _num(row["age_days"]), _yes_no(row["synthetic"])]
             for row in rows]
    return html_table(["layer", "newest day", "age (days)", "synthetic"], cells)


def provenance_table_html(rows: list[dict]) -> str:
    cells = [[Cell(r["logical_id"], "mono"), _num(r["version"]), Cell(r["sha256"], "mono"), r["command"] or "—",
              r["created_at"] or "—", _yes_no(r["synthetic"]), r["source_url"] or "—"] for r in rows]
    return html_table(["logical id", "version", "sha256", "producer", "created (UTC)", "synthetic", "source URL"],
                      cells)


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


def render_html(inputs: ReportInputs, info: PageInfo, png: bytes, run_records: list[dict]) -> str:
    """The whole page as one string: no external resources, every text escaped."""
    month = f"{inputs.year:04d}-{inputs.month:02d}"
    title = f"ArcticRoute monthly report {month}"
    image = base64.b64encode(png).decode("ascii")
    caption = (f"EPSG:3413 polar stereographic, grid {info.grid_name}. Left: sea-ice concentration of the newest "
               f"day; right: mean fused risk of the month with the ice edge. Route solid, distance-only baseline "
               f"dashed, onward leg beyond the grid dotted (clipped at the grid edge).")
    parts = [
        banner_html(info.profile) if inputs.synthetic else "",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">grid {escape(info.grid_name)} · profile {escape(info.profile)} · generated '
        f"{escape(iso_utc(info.generated_at))} · run {escape(info.run_id)} · git "
        f'<span class="mono">{escape(info.git_sha)}</span></p>',
        f'<figure><img alt="{escape(title)}: sea ice, risk and routes" src="data:image/png;base64,{image}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>",
        section("Routes", route_table_html([route_row(r.document) for r in inputs.routes])
                if inputs.routes else "<p>No routes planned this month.</p>",
                "Newest plan of each scenario in the month. Distances in nautical miles; ETA in UTC; "
                "ice as concentration 0..1; baseline = shortest path within the same hard limits."),
        section("Data freshness", freshness_table_html(freshness_rows(inputs.latest, info.generated_at)),
                f"Newest day of each layer in {month}; age in days at generation time."),
        section("Provenance", provenance_table_html([provenance_row(m) for m in inputs.metas()]),
                "Every artifact this report was made from (the sidecars in the catalog)."),
        section("Recent runs", runs_table_html([run_row(r) for r in run_records]),
                f"The last {len(run_records)} command runs before this report, newest first."),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")


# -- the command ----------------------------------------------------------------------------------

def build_report(settings: Settings, year: int, month: int, run) -> ReportResult:
    """Write the month's report unless its inputs are unchanged since the current version."""
    roots = settings.roots
    inputs = gather_inputs(settings, year, month)
    metas = inputs.metas()
    digest = inputs_digest(metas)
    relpath = report_relpath(year, month)
    canonical = roots["reports"] / relpath
    previous = current_meta(roots, "reports", relpath)
    if (previous and previous.get("params", {}).get("inputs_digest") == digest
            and (roots["reports"] / previous["path"]).is_file()):
        return ReportResult("unchanged", canonical, previous)

    info = PageInfo(settings.grid.name, settings.profile, utc_now(), run.run_id, git_sha())
    page = render_html(inputs, info, map_png(settings, inputs), last_runs(settings.outputs_root, RUN_LIMIT))
    spec = ArtifactSpec(
        logical_id=report_logical_id(year, month),
        root="reports",
        relpath=relpath,
        kind=KIND,
        synthetic=inputs.synthetic,
        time_coverage=month_coverage(year, month),
        grid=settings.grid.describe(),
        tags=["report", "monthly"] + (["synthetic"] if inputs.synthetic else []),
        inputs=[input_ref(m) for m in metas],
        params={"inputs_digest": digest, "scenarios": [r.scenario for r in inputs.routes],
                "map_day": inputs.map_day.isoformat() if inputs.map_day else None},
    )
    meta = write_artifact(roots, spec, lambda p: p.write_text(page, encoding="utf-8"),
                          run_id=run.run_id, command=run.command)
    run.artifact(meta)
    return ReportResult("written", canonical, meta)
