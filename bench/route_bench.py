#!/usr/bin/env python3
"""Route planning against a bare ``skimage.graph.route_through_array`` call, side by side.

For each grid resolution the bench plans the Murmansk -> Bering Strait route of
config/scenarios.yaml (vessel pc5_cargo) on synthetic late-summer conditions and times,
interleaved in one process:

  bare skimage   route_through_array(cost, start, end, fully_connected=True, geometric=True)
                 on the cost array routing.cost_surface builds (built once, not timed)
  route core     routing.blocked_masks + routing.cost_surface + routing.least_cost_path:
                 one route including cost building (what the issue's targets are about)
  plan_path      routing.plan_path end to end: snapping, the risk-aware route and the
                 distance-only baseline route (two MCP runs), each smoothed into straight legs
  smoothing      routing.smooth_path of the route core's grid path alone (issue 14): straight
                 legs within the limits, checked against the land data, costing no more
  route core, voyage day
                 the route core on the first of VOYAGE_DAYS daily layers of a PC5 winter
                 passage (VOYAGE_DAY): the baseline of the two time-dependent cases
  time-dependent core (, waiting)
                 time_search.least_cost_path through those daily layers (each day's surface
                 built when the search first needs it), without and with waiting (issue 23)

It prints the median of each, the ratio of medians against the bare call, and each case's
peak memory, measured in a fresh child process that loads the static layers from a file
(building them loads a ~1 GB land array, which is not the planner's own memory), then per
grid the length of the route and of the distance-only baseline before and after smoothing,
the smoothing's time as a share of the route core's, and the one-time read of the land data
the smoothing checks legs against (once per process, not in the medians).

Targets (issue 8): a 6.25 km route including cost building in under 1.5 s, at most 1.5x the
bare call, peak memory under 1 GB; (issue 14) smoothing at most 20 % of the route core's time;
(issue 23) the time-dependent search at most 3x the route core on its departure day, peak
memory under 1 GB, every grid.
PASS/MISS is informational; the exit code is 0 either way.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
from _harness import (
    MB,
    REPO,
    child_reply,
    environment,
    import_project,
    interleaved,
    median,
    peak_memory_of,
    progress,
    run_child,
    table,
)
from skimage.graph import route_through_array

import_project("arcticroute")

from arcticroute.config import load_settings  # noqa: E402
from arcticroute.errors import BadInputError  # noqa: E402
from arcticroute.grid import Grid  # noqa: E402
from arcticroute.route import geometry, routing, smoothing  # noqa: E402
from arcticroute.static import StaticGrid  # noqa: E402

# A late-summer day: the ice is near its minimum, so the pc5_cargo vessel (PC5, POLARIS limits)
# has a passage along the Northern Sea Route and the route crosses most of the grid.
DAY = datetime.date(2026, 9, 15)
SCENARIO = "murmansk_bering"  # Murmansk (Kola Bay, 69.10, 33.42) -> Bering Strait (65.80, -168.46), pc5_cargo
CONFIG_DIR = REPO / "config"

BARE, CORE, PLAN, SMOOTH = "bare skimage", "route core", "plan_path", "smoothing"
VOYAGE_CORE, TIMED, TIMED_WAIT = "route core, voyage day", "time-dependent core", "time-dependent core, waiting"
CASES = (BARE, CORE, PLAN, SMOOTH, VOYAGE_CORE, TIMED, TIMED_WAIT)
TARGET_KM = 6.25
TARGETS = {"seconds": 1.5, "ratio": 1.5, "peak_mb": 1000.0}  # for CORE at TARGET_KM
SMOOTH_SHARE = 0.20  # smoothing time / route core time, every grid
# issue 23: the time-dependent search through VOYAGE_DAYS daily layers from VOYAGE_DAY (a PC5
# winter passage of two to three weeks, in ice most of the way) against the static route core on
# VOYAGE_DAY alone, every grid: at most 3x its time, peak memory under 1 GB
VOYAGE_DAY = datetime.date(2026, 2, 15)
VOYAGE_DAYS = 16
TIMED_RATIO, TIMED_PEAK_MB = 3.0, 1000.0
WAIT_HOURS = 48.0  # the waiting case: at most this long at a cell, an hour waited costing an hour


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def scenario_settings() -> dict:
    """The scenario, its vessel, the risk fusion parameters and the route's risk weight."""
    settings = load_settings(CONFIG_DIR, environ={})
    scenario = settings.scenarios["scenarios"][SCENARIO]
    return {
        "origin": scenario["from"],
        "destination": scenario["to"],
        "vessel_name": scenario["vessel"],
        "vessel": settings.scenarios["vessels"][scenario["vessel"]],
        "risk": settings.runtime["risk"],
        "risk_weight": float(settings.runtime["route"]["risk_weight"]),
    }


def synthetic_risk(static: StaticGrid, sic, hs, stage, risk_cfg: dict, day: datetime.date = DAY) -> np.ndarray:
    """The day's risk as risk.fuse builds it from the synthetic layers.

    Incidents are those of the day itself (risk.fuse takes a 30-day window, which changes
    the values, not the work of routing).
    """
    from arcticroute.layers import incident_count
    from arcticroute.risk.fuse import RiskParams, hazards_to_risk, normalised_hazards
    from arcticroute.sources import synthetic_fields as fields

    params = RiskParams.from_runtime({"risk": risk_cfg}, None)
    ais = fields.ais_density(static, day, sic)
    counts = incident_count(static.grid, fields.incidents(static, day, sic, hs, ais))
    hazards = normalised_hazards(params, static.grid.resolution_m, sic=sic, hs=hs, ais=ais, incident_counts=counts,
                                 stage=stage)
    risk = hazards_to_risk(hazards, params).astype(np.float32)
    risk[static.land] = np.nan
    return risk


def day_fields(static: StaticGrid, day: datetime.date, risk_cfg: dict) -> dict:
    """The synthetic sea ice, waves, ice type and fused risk of ``day``."""
    from arcticroute.sources import synthetic_fields as fields

    sic = fields.sea_ice_concentration(static, day)
    hs = fields.wave_height(static, day, sic)
    stage = fields.ice_stage(static, day, sic)
    return {"sic": sic, "hs": hs, "stage": stage, "risk": synthetic_risk(static, sic, hs, stage, risk_cfg, day)}


def voyage_path(path: Path) -> Path:
    """Where the later days' conditions of a case file are kept (one npz per case)."""
    return path.with_name(path.stem + "_days.npz")


def prepare(km: float, path: Path) -> dict:
    """Build the static layers and the day's conditions for ``km`` and save them to ``path``,
    and the conditions of the voyage's days (``VOYAGE_DAYS`` from DAY) beside it.

    Runs in a child process: the land mask loads a ~1 GB array that stays in memory once
    imported, and the processes that time and measure the planning should not carry it.
    """
    settings = scenario_settings()
    static = StaticGrid.compute(Grid.from_km(km))
    first = day_fields(static, DAY, settings["risk"])
    np.savez(path, resolution_m=static.grid.resolution_m, lon=static.lon, lat=static.lat,
             land=static.land, scale=static.scale, depth=static.depth, **first)
    later = {f"{name}_{i}": value for i in range(VOYAGE_DAYS)
             for name, value in day_fields(static, VOYAGE_DAY + datetime.timedelta(days=i), settings["risk"]).items()}
    np.savez(voyage_path(path), **later)
    return {"shape": list(static.grid.shape)}


@dataclass
class Case:
    """Everything the timed calls need, built outside the timing."""

    static: StaticGrid
    conditions: routing.Conditions
    vessel: routing.Vessel
    origin: routing.Place
    destination: routing.Place
    risk_weight: float
    start: tuple[int, int]
    end: tuple[int, int]
    cost: np.ndarray  # routing.cost_surface of the above: the bare call's input
    grid_path: routing.PathResult  # the route core's path: the smoothing case's input
    days: list[routing.Conditions]  # VOYAGE_DAY and the VOYAGE_DAYS - 1 days after it

    def through(self, days: list[routing.Conditions], wait_hours: float = 0.0):
        """The time-dependent search's inputs: ``days`` from VOYAGE_DAY, each loaded as fresh
        Conditions (its ice regime computed in the timing, as a day read from disk would be)."""
        from arcticroute.route import conditions as daily_conditions
        from arcticroute.route import time_search

        first = VOYAGE_DAY
        dates = [first + datetime.timedelta(days=i) for i in range(len(days))]

        def load(day):
            c = days[(day - first).days]
            return routing.Conditions(sic=c.sic, hs=c.hs, risk=c.risk, stage=c.stage), []

        return time_search.ThroughTime(daily_conditions.DailyConditions(first, dates, load),
                                       datetime.datetime(first.year, first.month, first.day, tzinfo=datetime.UTC),
                                       time_search.Waiting(wait_hours, 1.0))

    def core_on(self, conditions: routing.Conditions) -> routing.PathResult | None:
        """The route core (limits, cost, MCP) on one day's conditions, fairway cells filled as
        plan_path and the time-dependent search fill them."""
        c = routing.with_fairways(self.static, routing.Conditions(sic=conditions.sic, hs=conditions.hs,
                                                                  risk=conditions.risk, stage=conditions.stage))
        blocked = routing.blocked_masks(self.static, c, self.vessel)
        cost = routing.cost_surface(self.static, c, self.vessel, self.risk_weight, blocked)
        return routing.least_cost_path(cost, self.start, self.end)

    def timed(self, days: list[routing.Conditions], wait_hours: float = 0.0) -> routing.PathResult | None:
        from arcticroute.route import time_search

        return time_search.least_cost_path(self.static, self.through(days, wait_hours), self.vessel,
                                           self.risk_weight, self.start, self.end)

    def calls(self) -> dict:
        def bare():
            return route_through_array(self.cost, self.start, self.end, fully_connected=True,
                                       geometric=True)

        def fresh():  # new Conditions each call, so the per-cell ice regime is computed in the timing
            c = self.conditions
            return routing.Conditions(sic=c.sic, hs=c.hs, risk=c.risk, stage=c.stage)

        def core():
            conditions = fresh()
            blocked = routing.blocked_masks(self.static, conditions, self.vessel)
            cost = routing.cost_surface(self.static, conditions, self.vessel, self.risk_weight, blocked)
            return routing.least_cost_path(cost, self.start, self.end)

        def plan():
            return routing.plan_path(self.static, fresh(), self.vessel, self.origin,
                                     self.destination, self.risk_weight)

        def smooth():
            path = routing.PathResult(self.grid_path.cells, self.grid_path.cost)
            routing.smooth_path(self.static, path, self.cost, self.origin, self.destination)
            return path

        return {BARE: bare, CORE: core, PLAN: plan, SMOOTH: smooth, VOYAGE_CORE: lambda: self.core_on(self.days[0]),
                TIMED: lambda: self.timed(self.days),
                TIMED_WAIT: lambda: self.timed(self.days, WAIT_HOURS)}

    def lengths(self) -> dict:
        """Length (nm) of the route and of the distance-only baseline before and after smoothing."""
        conditions = routing.with_fairways(self.static, self.conditions)
        blocked = routing.blocked_masks(self.static, conditions, self.vessel)
        distance = routing.cost_surface(self.static, conditions, self.vessel, 0.0, blocked, distance_only=True)
        out = {}
        for role, cost in (("route", self.cost), ("baseline", distance)):
            path = routing.least_cost_path(cost, self.start, self.end)
            routing.smooth_path(self.static, path, cost, self.origin, self.destination)
            for state, vertices in (("grid", routing.route_vertices(self.static, path.cells, self.origin,
                                                                       self.destination)),
                                    ("smoothed", routing.path_vertices(self.static, path, self.origin,
                                                                       self.destination))):
                lon, lat = routing.vertices_lonlat(vertices[0], vertices[1])
                out[f"{role}_{state}_nm"] = float(geometry.segment_metres(lon, lat).sum() / geometry.METRES_PER_NM)
            out[f"{role}_legs"] = path.smoothing["legs"]
        out["great_circle_nm"] = geometry.great_circle_nm(self.origin.lat, self.origin.lon, self.destination.lat,
                                                          self.destination.lon)
        return out


def load_case(path: Path) -> Case:
    settings = scenario_settings()
    with np.load(path) as saved:
        grid = Grid(float(saved["resolution_m"]))
        static = StaticGrid(grid=grid, lon=saved["lon"], lat=saved["lat"], land=saved["land"],
                            scale=saved["scale"], depth_m=saved["depth"])
        conditions = routing.Conditions(sic=saved["sic"], hs=saved["hs"], risk=saved["risk"], stage=saved["stage"])
    with np.load(voyage_path(path)) as saved:
        days = [routing.Conditions(sic=saved[f"sic_{i}"], hs=saved[f"hs_{i}"], risk=saved[f"risk_{i}"],
                                   stage=saved[f"stage_{i}"]) for i in range(VOYAGE_DAYS)]
    vessel = routing.Vessel.from_config(settings["vessel_name"], settings["vessel"])
    origin, destination = (routing.Place(p["name"], float(p["lat"]), float(p["lon"]))
                           for p in (settings["origin"], settings["destination"]))
    start, _ = routing.snap_to_sea(static, grid.index_of(origin.lat, origin.lon), origin)
    end, _ = routing.snap_to_sea(static, grid.index_of(destination.lat, destination.lon), destination)
    filled = routing.with_fairways(static, conditions)  # as plan_path routes (fairway cells opened)
    cost = routing.cost_surface(static, filled, vessel, settings["risk_weight"])
    grid_path = routing.least_cost_path(cost, start, end)
    return Case(static, filled, vessel, origin, destination, settings["risk_weight"], start, end,
                cost, grid_path, days)


# ---------------------------------------------------------------------------
# One resolution
# ---------------------------------------------------------------------------


def check_same_route(case: Case) -> float:
    """The route core and the bare call must find the same minimum cost, or the comparison is void."""
    calls = case.calls()
    _path, bare_cost = calls[BARE]()
    route = calls[CORE]()
    if route is None or not np.isclose(route.cost, bare_cost, rtol=1e-9):
        found = "no route" if route is None else f"{route.cost:.1f}"
        raise click.ClickException(f"route core and bare skimage disagree on {case.static.grid.name}: "
                                   f"cost {found} vs {bare_cost:.1f}; the bench compares different work")
    # on the voyage day's conditions every day, the time-dependent search must be the route core exactly
    alike, voyage_core = case.timed([case.days[0]] * VOYAGE_DAYS), case.core_on(case.days[0])
    if alike is None or alike.cost != voyage_core.cost or not np.array_equal(alike.cells, voyage_core.cells):
        raise click.ClickException(f"the time-dependent search on {VOYAGE_DAYS} days alike differs from the route "
                                   f"core on {case.static.grid.name}; the bench compares different work")
    return float(bare_cost)


def voyage_figures(case: Case) -> dict:
    """What the time-dependent routes do on the voyage's days: ETA, days built, waiting."""
    out = {}
    for name, wait in ((TIMED, 0.0), (TIMED_WAIT, WAIT_HOURS)):
        path = case.timed(case.days, wait)
        out[name] = {"eta_h": float(path.times[-1] / 3600.0), "days_built": path.days_built,
                     "waiting_h": float(path.waits.sum() / 3600.0), "cells": int(len(path.cells))}
    return out


def bench_resolution(km: float, repeat: int, workdir: Path) -> dict:
    label = f"{km:g} km: "
    path = workdir / f"case_{km:g}km.npz"
    progress(f"{label}building static layers and conditions in a child process "
             f"(the land mask loads ~1 GB; 5-20 s)")
    run_child(["--child-prepare", str(km), "--case-file", str(path)], f"preparing {km:g} km")
    case = load_case(path)
    cells = int(case.static.land.size)
    route_cost = check_same_route(case)
    progress(f"{label}{case.static.grid.shape[0]}x{case.static.grid.shape[1]} = {cells:,} cells, "
             f"start {case.start}, end {case.end}; timing {repeat} interleaved rounds")
    case.calls()[SMOOTH]()  # the one-time read of the land data, outside the timing
    land_load_s = smoothing.FINE_LAND.load_seconds
    lengths = case.lengths()
    voyage = voyage_figures(case)
    times = interleaved(case.calls(), repeat, label=label)
    del case

    peaks = {}
    for name in CASES:
        progress(f"{label}peak memory of {name} in a fresh process")
        peaks[name] = run_child(["--child-memory", name, "--case-file", str(path)],
                                f"measuring memory of {name} at {km:g} km")
    path.unlink()
    voyage_path(path).unlink()

    bare_median = median(times[BARE])
    rows = []
    for name in CASES:
        rows.append({
            "resolution_km": km,
            "cells": cells,
            "candidate": name,
            "times_s": [round(t, 6) for t in times[name]],
            "median_s": median(times[name]),
            "bare_median_s": bare_median,
            "ratio": median(times[name]) / bare_median,
            "peak_mb": peaks[name]["peak_bytes"] / MB,
            "peak_method": peaks[name]["method"],
        })
    share = median(times[SMOOTH]) / median(times[CORE])
    timed = {name: {**voyage[name], "ratio_to_route_core": median(times[name]) / median(times[VOYAGE_CORE]),
                    "peak_mb": peaks[name]["peak_bytes"] / MB} for name in (TIMED, TIMED_WAIT)}
    return {"resolution_km": km, "cells": cells, "route_cost_s": route_cost, "rows": rows,
            "smoothing": {**lengths, "share_of_route_core": share, "land_data_load_s": land_load_s},
            "time_dependent": timed}


def target_checks(results: list[dict]) -> list[dict]:
    """PASS/MISS of the route core at the target resolution against each target."""
    checks = []
    for result in results:
        share = result["smoothing"]["share_of_route_core"]
        checks.append({"target": f"{SMOOTH} at {result['resolution_km']:g} km: <= {SMOOTH_SHARE:.0%} of the "
                                 f"{CORE} time", "value": share, "limit": SMOOTH_SHARE,
                       "status": "PASS" if share <= SMOOTH_SHARE else "MISS"})
        for name, figures in result["time_dependent"].items():
            checks.append({"target": f"{name} at {result['resolution_km']:g} km: <= {TIMED_RATIO:g}x the "
                                     f"{VOYAGE_CORE}",
                           "value": figures["ratio_to_route_core"], "limit": TIMED_RATIO,
                           "status": "PASS" if figures["ratio_to_route_core"] <= TIMED_RATIO else "MISS"})
            checks.append({"target": f"{name} at {result['resolution_km']:g} km: peak < {TIMED_PEAK_MB:g} MB",
                           "value": figures["peak_mb"], "limit": TIMED_PEAK_MB,
                           "status": "PASS" if figures["peak_mb"] < TIMED_PEAK_MB else "MISS"})
        if result["resolution_km"] != TARGET_KM:
            continue
        row = next(r for r in result["rows"] if r["candidate"] == CORE)
        for key, figure, limit, unit in (("seconds", row["median_s"], TARGETS["seconds"], "s"),
                                         ("ratio", row["ratio"], TARGETS["ratio"], "x"),
                                         ("peak_mb", row["peak_mb"], TARGETS["peak_mb"], " MB")):
            passed = figure < limit if key != "ratio" else figure <= limit
            bound = "<=" if key == "ratio" else "<"
            checks.append({"target": f"{CORE} at {TARGET_KM:g} km: {key} {bound} {limit:g}{unit}",
                           "value": figure, "limit": limit, "status": "PASS" if passed else "MISS"})
    return checks


def render(results: list[dict], checks: list[dict], env: dict, repeat: int) -> str:
    rows = [
        (f"{r['resolution_km']:g} km", f"{r['cells']:,}", r["candidate"], f"{r['median_s']:.3f}",
         f"{r['bare_median_s']:.3f}", f"{r['ratio']:.2f}x", f"{r['peak_mb']:.0f}")
        for result in results for r in result["rows"]
    ]
    lines = [
        f"route planning vs bare skimage.graph.route_through_array: {SCENARIO}, {DAY}, "
        f"medians of {repeat} interleaved runs",
        f"python {env['python']}, numpy {env['numpy']}, scipy {env.get('scipy')}, "
        f"scikit-image {env.get('skimage')}, {env['cpus']} CPUs, {env['platform']}",
    ]
    if "OPENBLAS_CORETYPE" in env:
        lines.append(f"note: OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} is set in the environment")
    lines += [
        "",
        table(["resolution", "cells", "candidate", "median s", "bare median s", "ratio", "peak MB"],
              rows, right=[False, True, False, True, True, True, True]),
        "",
        "route core = blocked_masks + cost_surface + least_cost_path (one route, cost building "
        "included, not smoothed); plan_path = snapping + route + distance-only baseline (two MCP runs), "
        "both smoothed; smoothing = smooth_path of the route core's path alone.",
        f"peak MB = resident high-water mark during one call in a fresh process minus resident "
        f"size before it (1 MB = 10^6 bytes; {results[0]['rows'][0]['peak_method']}).",
        "",
    ]
    smooth_rows = []
    for result in results:
        sm = result["smoothing"]
        for role in ("route", "baseline"):
            grid_nm, smooth_nm = sm[f"{role}_grid_nm"], sm[f"{role}_smoothed_nm"]
            smooth_rows.append((f"{result['resolution_km']:g} km", role, f"{grid_nm:,.1f}", f"{smooth_nm:,.1f}",
                                f"{smooth_nm / grid_nm - 1:+.2%}", f"{grid_nm / sm['great_circle_nm']:.3f}",
                                f"{smooth_nm / sm['great_circle_nm']:.3f}", str(sm[f"{role}_legs"])))
    lines += [
        "smoothing (issue 14): length before and after, ratio to the great circle between the end points",
        table(["resolution", "path", "grid nm", "smoothed nm", "change", "grid / gc", "smoothed / gc", "legs"],
              smooth_rows, right=[False, False, True, True, True, True, True, True]),
        "",
    ]
    timed_rows = [(f"{r['resolution_km']:g} km", name, f"{f['ratio_to_route_core']:.2f}x", f"{f['peak_mb']:.0f}",
                   str(f["days_built"]), f"{f['eta_h']:.1f}", f"{f['waiting_h']:.1f}")
                  for r in results for name, f in r["time_dependent"].items()]
    lines += [
        f"time-dependent search (issue 23): {VOYAGE_DAYS} daily layers from {VOYAGE_DAY}, each step on the day it "
        f"begins (the last persisted beyond them); ratio to the {VOYAGE_CORE} (the route core on {VOYAGE_DAY} "
        f"alone); waiting: at most {WAIT_HOURS:g} h at a cell",
        table(["resolution", "candidate", "vs route core", "peak MB", "days built", "ETA h", "waiting h"],
              timed_rows, right=[False, False, True, True, True, True, True]),
        "",
    ]
    lines += [f"{r['resolution_km']:g} km: smoothing takes {r['smoothing']['share_of_route_core']:.0%} of the route "
              f"core's time; reading the land data it checks legs against took "
              f"{r['smoothing']['land_data_load_s']:.2f} s once per process (not in the medians)" for r in results]
    lines.append("")
    if checks:
        lines += [f"{c['status']}  {c['target']} (measured {c['value']:.3g})" for c in checks]
    else:
        lines.append(f"targets apply to the {TARGET_KM:g} km grid, which was not run")
    lines.append("(targets are informational: the exit code is 0 either way)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Command
# ---------------------------------------------------------------------------


def _resolutions(_ctx, _param, value: str) -> list[float]:
    try:
        kms = [float(part) for part in value.split(",") if part.strip()]
        for km in kms:
            Grid.from_km(km)
    except (ValueError, BadInputError) as exc:
        raise click.BadParameter(f"expected comma-separated kilometres that divide the NSIDC "
                                 f"extent, e.g. 25,6.25; got {value!r} ({exc})") from exc
    if not kms:
        raise click.BadParameter("give at least one resolution, e.g. 25,6.25")
    return kms


@click.command(name="route.bench")
@click.option("--repeat", default=5, show_default=True, type=click.IntRange(min=1),
              help="Interleaved timed runs of each case per resolution (medians are reported).")
@click.option("--resolutions", default="25,6.25", show_default=True, callback=_resolutions,
              metavar="KM[,KM...]", help="Grid resolutions in km.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON to this file.")
@click.option("--child-prepare", type=float, hidden=True)
@click.option("--child-memory", type=click.Choice(CASES), hidden=True)
@click.option("--case-file", type=click.Path(dir_okay=False, path_type=Path), hidden=True)
def main(repeat, resolutions, json_path, child_prepare, child_memory, case_file):
    """Time route planning against a bare skimage call on the same cost array.

    Prints per resolution the median seconds of each case, the ratio to the bare call and
    the peak memory, then PASS/MISS against the issue's targets. Progress goes to stderr.
    """
    if child_prepare is not None:
        child_reply(prepare(child_prepare, case_file))
        return
    if child_memory is not None:
        case = load_case(case_file)
        if child_memory in (TIMED, TIMED_WAIT):  # numba's import and compiled code: once per process, not the search's
            case.timed(case.days[:1])
        child_reply(peak_memory_of(case.calls()[child_memory]))
        return

    env = environment()
    results = []
    with tempfile.TemporaryDirectory(prefix="route_bench-") as workdir:
        for km in resolutions:
            try:
                results.append(bench_resolution(km, repeat, Path(workdir)))
            except RuntimeError as exc:
                raise click.ClickException(str(exc)) from exc
    checks = target_checks(results)
    click.echo(render(results, checks, env, repeat))
    if json_path:
        from arcticroute.store.atomic import write_text

        payload = {
            "bench": "route", "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "scenario": SCENARIO, "day": DAY.isoformat(), "repeat": repeat, "environment": env,
            "targets": checks, "results": results,
        }
        write_text(json_path, json.dumps(payload, indent=2) + "\n")
        progress(f"results written to {json_path}")


if __name__ == "__main__":
    main()
