"""A command with nothing to do loads no heavy library: the daily chain's four commands, run
again on a month already done, import neither xarray, pandas, scipy, Dask nor numba (each is
0.2-0.7 s of start-up, paid by every scheduled run; bench/startup_bench.py times the whole)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import REPO, make_roots, run_command

HEAVY = ("xarray", "pandas", "scipy", "dask", "distributed", "numba")
DAILY = (  # the justfile's `daily` recipe (what `just demo` and the daily timer run)
    ("ingest_nrt_pull.py", "--ym", "202609", "--since", "2026-09-28", "--forecast"),
    ("risk_fuse.py", "--ym", "202609"),
    ("route_plan.py", "--scenario", "all", "--date", "latest"),
    ("report_build.py", "--ym", "202609"),
)


def _imported(script: str, args: tuple[str, ...], env: dict) -> set[str]:
    """Top-level packages the command imported, from ``python -X importtime``."""
    done = subprocess.run([sys.executable, "-X", "importtime", str(REPO / "scripts" / script), *args],
                          env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip().split(".")[0]
            for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.slow
def test_the_daily_chain_with_nothing_to_do_loads_no_heavy_library(tmp_path):
    made = make_roots(tmp_path)
    for name, *args in (("ingest.nrt.pull", *DAILY[0][1:]), ("risk.fuse", *DAILY[1][1:]),
                        ("route.plan", *DAILY[2][1:]), ("report.build", *DAILY[3][1:])):
        first = run_command(name, *args, env=made.env)
        assert first.exit_code == 0, f"{name}: {first.output}"
    assert list(made.data.rglob("ice_forecast_*.nc")), "the chain wrote no forecast: the case is not covered"
    for script, *args in DAILY:
        loaded = _imported(script, tuple(args), made.env)
        assert "arcticroute" in loaded, f"{script}: the import list was not read"
        assert not loaded & set(HEAVY), f"{script} with nothing to do imported {sorted(loaded & set(HEAVY))}"
