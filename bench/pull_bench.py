#!/usr/bin/env python3
"""Live pulls: ingest.nrt.pull of 30 daily files from a loopback server with injected latency.

A threaded loopback server (the tests' replica site, pytest-httpserver, in a process of its
own, as a provider's server is not in ours) serves 30 daily
replicas of the Uni Bremen AMSR2 ASI file (6.25 km netCDF-4, the real variables, grid and
compression) and answers every request after ``--latency-ms`` (50 ms). The live profile's
``bremen-asi-amsr2`` source is pointed at it by config. Cases, taking turns, each round into
a fresh data root (so each downloads everything):

- ``pull --jobs 1``: plan, download, check, regrid onto the 25 km grid, write 30 artifacts;
- ``pull --jobs 4``: the same, four downloads at a time;
- ``curl --parallel``: ``curl --parallel --parallel-max 4`` fetching the same 30 URLs to
  files, and nothing else (the floor for moving the bytes).

Ours run in this process (``build_plan`` + ``execute_pull`` inside a Run, like the command);
curl is a process. Then the immediate re-run: the month pulled again with nothing new, in
process and as the command (``scripts/ingest_nrt_pull.py``, interpreter start and imports
included), with the bytes the server sent (target 0) and the seconds (target < 1 s).

Targets: ``--jobs 4`` / ``--jobs 1`` <= 0.35; ``--jobs 4`` / curl <= 1.5; re-run < 1 s, 0 bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import click
from _harness import (
    REPO,
    environment,
    import_project,
    interleaved,
    median,
    progress,
    roots_env,
    table,
)

import_project()
sys.path.insert(0, str(REPO))

from arcticroute.config import load_settings  # noqa: E402
from arcticroute.ingest import build_plan, execute_pull, select_days  # noqa: E402
from arcticroute.ops.runs import Run  # noqa: E402
from arcticroute.timeutil import utc_now  # noqa: E402
from tests.replicas.config import live_config  # noqa: E402
from tests.replicas.files import bremen_asi  # noqa: E402
from tests.replicas.server import ReplicaSite  # noqa: E402

YEAR, MONTH = 2026, 9
PATH = "data.seaice.uni-bremen.de/amsr2/asi_daygrid_swath/n6250/netcdf"
TARGETS = {"jobs": 0.35, "curl": 1.5, "rerun_s": 1.0}


def environ_for(base: Path, config: Path) -> dict:
    return {**roots_env(base, "live"), "ARCTICROUTE_CONFIG_DIR": str(config), "PATH": os.environ.get("PATH", "")}


def serve(root: str, latency_s: float, port: int, port_queue, stop_event) -> None:
    """The replica site in its own process: a provider is not in our process (nor its GIL)."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    site = ReplicaSite(Path(root), latency_s=latency_s, port=port).start()
    port_queue.put(site.server.port)
    stop_event.wait()
    port_queue.put(site.body_bytes())
    site.stop()


class RemoteSite:
    """Start/stop ``serve`` in a child process; ``body_bytes`` asks it how much it sent."""

    def __init__(self, root: Path, latency_s: float, port: int):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.root = root
        self.queue, self.stop_event = context.Queue(), context.Event()
        self.process = context.Process(target=serve, args=(str(root), latency_s, port, self.queue, self.stop_event))
        self.process.start()
        self.port = self.queue.get(timeout=60)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def stop(self) -> int:
        self.stop_event.set()
        sent = self.queue.get(timeout=60)
        self.process.join(timeout=30)
        return sent


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pull(base: Path, config: Path, jobs: int) -> dict:
    settings = load_settings(config, profile="live", environ=environ_for(base, config))
    days = select_days(YEAR, MONTH, None)
    with Run(settings, "ingest.nrt.pull", family="pull", argv=["bench", f"--jobs={jobs}"]) as run:
        plan, sources = build_plan(settings, ["ice.sic"], days, utc_now().date(), jobs=jobs, log=run.log)
        counts = execute_pull(settings, plan, sources, run, jobs=jobs)
    return counts


def fresh_pull(work: Path, config: Path, jobs: int):
    def call():
        base = work / f"jobs{jobs}"
        shutil.rmtree(base, ignore_errors=True)
        counts = pull(base, config, jobs)
        assert counts["written"] == 30, counts
    return call


def curl_case(work: Path, urls: list[str], parallel: int):
    def call():
        folder = work / "curl"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        args = ["curl", "--silent", "--fail", "--parallel", "--parallel-max", str(parallel)]
        for number, url in enumerate(urls):
            args += ["-o", str(folder / f"{number}.nc"), url]
        subprocess.run(args, check=True)
    return call


@click.command()
@click.option("--latency-ms", type=click.IntRange(0, 2000), default=50, show_default=True,
              help="Delay the server adds to every request.")
@click.option("--repeat", type=click.IntRange(1, 50), default=3, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(latency_ms, repeat, json_path):
    """Time a pull of 30 daily files at --jobs 1 and 4 against curl --parallel; print the ratios."""
    if shutil.which("curl") is None:
        raise click.ClickException("curl is not installed: it is the baseline of this bench")
    with tempfile.TemporaryDirectory(prefix="pull-bench-") as tmp:
        work = Path(tmp)
        days = select_days(YEAR, MONTH, None)
        progress(f"making {len(days)} replica files")
        for day in days:
            path = work / "site" / PATH / f"{day:%Y}" / f"asi-AMSR2-n6250-{day:%Y%m%d}-v5.4.nc"
            path.parent.mkdir(parents=True, exist_ok=True)
            bremen_asi(path, day)
        size = sum(p.stat().st_size for p in (work / "site").rglob("*.nc"))
        port = free_port()
        site = RemoteSite(work / "site", latency_ms / 1000.0, port)
        try:
            urls = [site.url(f"{PATH}/{d:%Y}/asi-AMSR2-n6250-{d:%Y%m%d}-v5.4.nc") for d in days]
            config = live_config(work, site.url(), http={"rate_limit_per_s": 0, "timeout_s": 30})
            cases = {"pull --jobs 1": fresh_pull(work, config, 1), "pull --jobs 4": fresh_pull(work, config, 4),
                     "curl --parallel-max 4": curl_case(work, urls, 4)}
            progress(f"timing {len(cases)} cases, {repeat} rounds ({size / 1e6:.1f} MB, {latency_ms} ms latency)")
            times = interleaved(cases, repeat=repeat, warmup=1, label="pull ")
        finally:
            site.stop()

        progress("immediate re-runs with nothing new (a fresh server process counts what it sends)")
        site = RemoteSite(work / "site", latency_ms / 1000.0, port)
        base = work / "jobs4"
        rerun_in_process, rerun_command = [], []
        try:
            for _ in range(repeat):
                start = time.perf_counter()
                counts = pull(base, config, 4)
                rerun_in_process.append(time.perf_counter() - start)
                assert counts["status"] == "no_new_data", counts
                env = {**os.environ, **environ_for(base, config)}
                start = time.perf_counter()
                subprocess.run([sys.executable, str(REPO / "scripts" / "ingest_nrt_pull.py"), "--ym",
                                f"{YEAR}{MONTH:02d}", "--what", "ice.sic", "--jobs", "4"], env=env, check=True,
                               capture_output=True)
                rerun_command.append(time.perf_counter() - start)
        finally:
            rerun_bytes = [site.stop()]
    one, four, curl = (median(times[k]) for k in ("pull --jobs 1", "pull --jobs 4", "curl --parallel-max 4"))
    rows = [[name, f"{median(t):.2f}", f"{median(t) / four:.2f}"] for name, t in times.items()]
    rows += [["re-run, in process (nothing new)", f"{median(rerun_in_process):.2f}", ""],
             ["re-run, the command (with start-up)", f"{median(rerun_command):.2f}", ""]]
    print(f"ingest.nrt.pull of {len(days)} daily 6.25 km files onto 3413-25km, {latency_ms} ms latency, "
          f"median of {repeat} rounds")
    print(table(["case", "median s", "vs --jobs 4"], rows, right=[False, True, True]))
    checks = [("--jobs 4 / --jobs 1", four / one, TARGETS["jobs"]), ("--jobs 4 / curl", four / curl, TARGETS["curl"]),
              ("re-run in process (s)", median(rerun_in_process), TARGETS["rerun_s"])]
    for name, value, target in checks:
        print(f"{'PASS' if value <= target else 'MISS'} {name} {value:.2f} (target <= {target:g})")
    print(f"{'PASS' if max(rerun_bytes) == 0 else 'MISS'} re-run body bytes {max(rerun_bytes)} (target 0)")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "latency_ms": latency_ms, "repeat": repeat,
                                         "seconds": times, "rerun_in_process_s": rerun_in_process,
                                         "rerun_command_s": rerun_command, "rerun_bytes": rerun_bytes,
                                         "month": f"{YEAR}{MONTH:02d}", "day0": str(date(YEAR, MONTH, 1))}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
