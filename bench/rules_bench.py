#!/usr/bin/env python3
"""What the sea-area rules and the ice-type resolution cost a route, side by side (issue 20).

On the 25 km grid (``--grid-km`` for another), synthetic conditions of one day and the
Murmansk -> Bering Strait end points of config/scenarios.yaml, interleaved in one process:

  route core          routing.blocked_masks + cost_surface + least_cost_path, no rules (the baseline)
  route core + rules  the same with the NSR closures of config/sea_area_rules.yaml
                      (Conditions.closed_for: season, criteria over a 30 nm corridor)
  assess              rules.conditions_map + rules.assess of the sailed route's steps
  resolve types       ice_regime.resolve with every ice cell of unknown type (OSI SAF's summer)

It prints the median of each and its ratio to the route core. Informational; exit 0.
"""

from __future__ import annotations

import datetime
from datetime import UTC

import click
import numpy as np
from _harness import REPO, environment, import_project, interleaved, median, progress, table

import_project("arcticroute")

from arcticroute import polaris  # noqa: E402
from arcticroute.grid import Grid  # noqa: E402
from arcticroute.route import ice_regime, routing, rules  # noqa: E402
from arcticroute.route.routing import Conditions, Place, Vessel  # noqa: E402
from arcticroute.sources import synthetic_fields as fields  # noqa: E402
from arcticroute.static import StaticGrid  # noqa: E402

MURMANSK = Place("Murmansk", 69.10, 33.42)
BERING = Place("Bering Strait", 65.80, -168.46)
VESSEL = Vessel("pc5_cargo", "PC5", speed_kn=13.0, max_wave_m=7.0)


@click.command()
@click.option("--grid-km", default=25.0, show_default=True, help="Grid cell size (25, 12.5 or 6.25).")
@click.option("--day", default="2026-11-29", show_default=True, help="Synthetic conditions of this day.")
@click.option("--repeat", default=7, show_default=True, help="Timed rounds.")
def main(grid_km: float, day: str, repeat: int) -> None:
    when = datetime.date.fromisoformat(day)
    progress(f"static layers and conditions on {grid_km:g} km for {when}")
    static = StaticGrid.compute(Grid.from_km(grid_km))
    sic = fields.sea_ice_concentration(static, when)
    hs = fields.wave_height(static, when, sic)
    stage = fields.ice_stage(static, when, sic)
    risk = np.clip(0.6 * sic + 0.4 * hs / 6.0, 0, 1).astype(np.float32)
    table_ = rules.load(REPO / "config")
    start = routing.snap_to_sea(static, static.grid.index_of(MURMANSK.lat, MURMANSK.lon), MURMANSK)[0]
    end = routing.snap_to_sea(static, static.grid.index_of(BERING.lat, BERING.lon), BERING)[0]

    def closed_for(conditions, vessel):
        return rules.closed_cells(table_, vessel.ice_class, when, static.lon, static.lat, conditions.sic,
                                  conditions.stage, static.grid.resolution_m)

    def core(with_rules: bool):
        conditions = routing.with_fairways(static, Conditions(sic=sic, hs=hs, risk=risk, stage=stage,
                                                              closed_for=closed_for if with_rules else None))
        blocked = routing.blocked_masks(static, conditions, VESSEL)
        return routing.least_cost_path(routing.cost_surface(static, conditions, VESSEL, 2.0, blocked), start, end)

    path = core(True)
    if path is None:
        raise click.ClickException(f"no route on {when} with the rules: choose another --day")
    lon, lat = routing.vertices_lonlat(*static.grid.cell_xy(path.cells[:, 0], path.cells[:, 1]))
    seg = np.full(len(path.cells) - 1, static.grid.resolution_m, dtype=np.float64)
    starts = [datetime.datetime(when.year, when.month, when.day, tzinfo=UTC)] * seg.size

    def assess():
        conditions = rules.conditions_map(table_, sic, stage, static.grid.resolution_m)
        condition = conditions[path.cells[:-1, 0], path.cells[:-1, 1]]
        return rules.assess(table_, VESSEL.ice_class, lon[:-1], lat[:-1], seg, condition, starts)

    unknown = np.where(sic >= polaris.TYPED_FROM, polaris.UNKNOWN_CODE, stage).astype(np.float32)

    def resolve():
        return ice_regime.resolve(static.grid, when, sic, unknown)

    cases = {"route core": lambda: core(False), "route core + rules": lambda: core(True),
             "assess": assess, "resolve types": resolve}
    times = interleaved(cases, repeat)
    base = median(times["route core"])
    rows = [[name, f"{median(t):.3f}", f"{median(t) / base:.2f}"] for name, t in times.items()]
    print(f"rules_bench: grid {static.grid.name}, day {when}, {repeat} rounds; {environment()['python']}")
    print(table(["case", "median s", "x route core"], rows, [False, True, True]))


if __name__ == "__main__":
    main()
