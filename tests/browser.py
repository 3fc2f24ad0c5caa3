"""A running UI server and a headless chromium for the browser tests and bench/ui_bench.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root, without a sandbox; no background traffic (the machine has no network but loopback).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    """serve on a free loopback port; returns the process and its base URL once it answers."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "scripts" / "serve.py"), "--port", str(port)],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/runs?limit=1", timeout=10).read()
            return proc, base
        except OSError:  # refused, reset or timed out while the server starts
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}") from None
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError("the server did not answer within 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def wait_until_finished(page, timeout_ms: int = 60_000) -> None:
    """Streamlit is done when its app is there and no 'running' status widget shows."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
                 && document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') !== 'running'""",
        timeout=timeout_ms)
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=timeout_ms)
    page.wait_for_timeout(300)


