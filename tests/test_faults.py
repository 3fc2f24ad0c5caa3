"""Faults leave the data consistent: a pull killed at a random moment, then run again."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import run_command

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_killed_pull_leaves_a_verifiable_catalog_and_the_next_run_completes(roots):
    pull = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "ingest_nrt_pull.py"), "--ym", "202609"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(roots.data.rglob("*_adv_v1.nc"))) < 10:
        time.sleep(0.05)
    pull.send_signal(signal.SIGKILL)
    pull.wait()
    assert pull.returncode == -signal.SIGKILL, "the pull finished before it could be killed"

    (killed,) = [json.loads(p.read_text()) for p in (roots.outputs / "runs").glob("*.json")]
    assert killed["status"] == "running" and killed["pid"] == pull.pid

    verify = run_command("catalog.verify")
    assert verify.exit_code == 0, verify.output
    again = run_command("ingest.nrt.pull", "--ym", "202609")
    assert again.exit_code == 0, again.output
    assert "0 not yet available" in again.stdout
    assert json.loads((roots.outputs / "runs" / f"{killed['run_id']}.json").read_text())["status"] == "interrupted"
    assert not list(roots.data.rglob(".tmp-*"))
    repaired = run_command("catalog.verify", "--repair")
    assert repaired.exit_code == 0 and "WARN" not in repaired.stdout, repaired.output
    for layer in ("ice.sic", "wave.hs", "ais.density", "incidents"):
        canonical = sorted((roots.data / "env" / layer / "3413-25km" / "2026" / "09").glob("*_202609[0-3][0-9].nc"))
        assert len(canonical) == 30, layer
