"""The short soak (tests/soak.py): six simulated days of the scheduled jobs on the live profile
against loopback replicas, every kind of fault injected once at a seeded point, then every
invariant checked. bench/soak.py runs the 30-day version (bench/README.md has its table)."""

from __future__ import annotations

from datetime import date

import pytest

from .soak import FAKETIME_LIB, FAULT_KINDS, Soak, table
from .test_deploy_tools import need


@pytest.mark.slow
def test_six_days_with_faults_keep_every_invariant(tmp_path):
    need("faketime", None if FAKETIME_LIB.exists() else f"{FAKETIME_LIB} is missing (Debian package faketime)")
    # from Oct 30: the chain crosses a month's end, where yesterday's month is not today's
    soak = Soak(tmp_path, days=6, seed=22, start=date(2026, 10, 29))
    try:
        soak.run()
        verdict = soak.check()
    finally:
        soak.close()
    print(table(soak, verdict))
    injected = {f.kind for f in soak.faults if f.outcome != "not injected"}
    expected = set(FAULT_KINDS) if soak.mounted else set(FAULT_KINDS) - {"disk-full"}  # tmpfs needs root
    assert injected == expected, table(soak, verdict)
    broken = {name: detail for name, (holds, detail) in ((k, v) for k, v in verdict.items() if k != "days")
              if not holds}
    assert not broken, table(soak, verdict)
    assert any(d["verdict"] == "artifacts" for d in verdict["days"])
