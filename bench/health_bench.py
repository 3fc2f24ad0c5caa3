#!/usr/bin/env python3
"""health.check and /api/health: how fast an operator, a timer and an orchestrator get a verdict.

1. ``health.check`` end to end as a new process (interpreter start and imports included),
   interleaved with ``python -c "import psutil"`` (the floor of any Python probe); the ratio
   of medians is printed, and the target is under 1 s wall.
2. ``/api/health`` latency: the UI server (``serve``) on a free loopback port answers
   ``--requests`` sequential GETs from a local client while an ``ingest.nrt.pull`` of a
   6.25 km month runs beside it; p50, p95 and max are printed (target p95 < 50 ms).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
from _harness import REPO, environment, interleaved, median, progress, roots_env, table

TARGET_WALL_S = 1.0
TARGET_P95_MS = 50.0


def _roots(base: Path) -> dict:
    return {**os.environ, **roots_env(base)}


def _script(name: str) -> str:
    return str(REPO / "scripts" / name)


def _run(argv: list[str], env: dict) -> None:
    subprocess.run(argv, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # an answer (503 when the stack is unhealthy)
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not answer within {seconds:.0f} s")


def _latencies(url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        try:
            urllib.request.urlopen(url, timeout=30).read()
        except urllib.error.HTTPError as error:  # 503 is an answer too
            error.read()
        times.append((time.perf_counter() - start) * 1000)
    return times


@click.command()
@click.option("--repeat", type=click.IntRange(1, 50), default=7, show_default=True, help="Rounds of the process timing.")
@click.option("--requests", "count", type=click.IntRange(10, 10000), default=500, show_default=True,
              help="GET /api/health requests.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(repeat, count, json_path):
    """Time health.check against a bare Python probe, and /api/health under a running pull."""
    with tempfile.TemporaryDirectory(prefix="health-bench-") as tmp:
        env = _roots(Path(tmp))
        progress("preparing two days of demo data (25 km)")
        _run([sys.executable, _script("ingest_nrt_pull.py"), "--ym", "current", "--since", "-P1D"], env)
        _run([sys.executable, _script("risk_fuse.py"), "--ym", "current"], env)
        _run([sys.executable, _script("report_build.py"), "--ym", "current"], env)
        out = Path(tmp) / "health.json"
        cases = {
            "python -c 'import psutil'": lambda: _run([sys.executable, "-c", "import psutil"], env),
            "health.check": lambda: _run([sys.executable, _script("health_check.py"), "--out", str(out)], env),
        }
        times = interleaved(cases, repeat=repeat, warmup=1, label="process ")
        status = json.loads(out.read_text())["status"]

        port = _free_port()
        server = subprocess.Popen([sys.executable, _script("serve.py"), "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}/api/health"
        try:
            _wait_for(url)
            pull = subprocess.Popen([sys.executable, _script("ingest_nrt_pull.py"), "--ym", "current",
                                     "--grid-km", "6.25"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(2)
            progress(f"{count} GET /api/health while a 6.25 km pull runs (pid {pull.pid})")
            latencies = _latencies(url, count)
            pull_running = pull.poll() is None
            pull.terminate()
            pull.wait()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    base, probe = median(times["python -c 'import psutil'"]), median(times["health.check"])
    print(f"health.check end to end (verdict {status}), median of {repeat} rounds")
    print(table(["case", "median s", "ratio"],
                [[name, f"{median(t):.3f}", f"{median(t) / base:.2f}"] for name, t in times.items()], [False, True, True]))
    print(f"{'PASS' if probe < TARGET_WALL_S else 'MISS'} health.check {probe:.3f} s wall (target < {TARGET_WALL_S:g} s)")
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[18]
    print(f"/api/health over {count} requests{' while the pull ran' if pull_running else ' (the pull ended early)'}: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(latencies):.1f} ms")
    print(f"{'PASS' if p95 < TARGET_P95_MS else 'MISS'} p95 {p95:.1f} ms (target < {TARGET_P95_MS:g} ms)")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "process_s": times,
                                         "latency_ms": latencies}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
