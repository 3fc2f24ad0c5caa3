#!/usr/bin/env python3
"""The Route page in a headless browser: from the request to a finished page with its map.

Two servers (25 km and 6.25 km demo data, the `murmansk_bering` route planned on the newest
day) run side by side. Each round opens, in a fresh browser page, the Route page (map with the
ice layer under the route, stats, download) and the Logs page (no map: the floor of a
Streamlit page on the same server), the cases taking turns, in one browser context (one user's
browser: after the warm-up round the app's JavaScript comes from its cache). Printed: medians, the ratio of
Route to Logs, and the target (Route page at 6.25 km under 3 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
from _harness import REPO, interleaved, median, progress, roots_env, table

sys.path.insert(0, str(REPO))
from tests.browser import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_until_finished  # noqa: E402

TARGET_S = 3.0


def _prepare(base: Path, km: str) -> dict:
    env = {**os.environ, **roots_env(base), "ARCTICROUTE_GRID_KM": km}
    for script, *args in (("ingest_nrt_pull.py", "--ym", "202609", "--since", "2026-09-30"),
                          ("risk_fuse.py", "--ym", "202609"), ("route_plan.py", "--scenario", "murmansk_bering")):
        subprocess.run([sys.executable, str(REPO / "scripts" / script), *args], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return env


def _open(context, url: str):
    def call():
        page = context.new_page()
        page.goto(url)
        wait_until_finished(page)
        if "/route" in url:
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
        page.close()
    return call


@click.command()
@click.option("--repeat", type=click.IntRange(1, 50), default=5, show_default=True, help="Rounds.")
def main(repeat):
    """Time the Route page at 25 km and 6.25 km against the Logs page, in headless chromium."""
    if CHROMIUM is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        servers = {}
        try:
            for km in ("25", "6.25"):
                progress(f"preparing demo data and a route at {km} km")
                servers[km] = start_server(_prepare(Path(tmp) / km, km))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                # one browser context, as one user's browser: the app's scripts are cached after the warm-up
                context = browser.new_context(viewport={"width": 1400, "height": 1400})
                cases = {}
                for km, (_proc, base) in servers.items():
                    cases[f"Logs page, {km} km"] = _open(context, f"{base}/logs")
                    cases[f"Route page, {km} km"] = _open(context, f"{base}/route")
                start = time.perf_counter()
                times = interleaved(cases, repeat=repeat, warmup=1, label="ui ")
                browser.close()
            progress(f"timed in {time.perf_counter() - start:.0f} s")
        finally:
            for proc, _base in servers.values():
                stop_server(proc)
    rows = []
    for km in ("25", "6.25"):
        floor = median(times[f"Logs page, {km} km"])
        for name in (f"Logs page, {km} km", f"Route page, {km} km"):
            rows.append([name, f"{median(times[name]):.2f}", f"{median(times[name]) / floor:.2f}"])
    print(f"request to finished page in headless chromium, median of {repeat} rounds")
    print(table(["case", "median s", "ratio to Logs"], rows, [False, True, True]))
    route = median(times["Route page, 6.25 km"])
    print(f"{'PASS' if route < TARGET_S else 'MISS'} Route page at 6.25 km {route:.2f} s (target < {TARGET_S:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
