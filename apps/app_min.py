"""ArcticRoute UI (Streamlit): the state of the stack at a glance.

Run through apps/asgi.py (which adds the /api/* routes on the same port). Reads everything
through lib/arcticroute, as the commands do.
"""

from __future__ import annotations

import json

import streamlit as st

from arcticroute import health
from arcticroute.config import load_settings
from arcticroute.errors import ArcticRouteError
from arcticroute.planner import DEMO_NOTICE
from arcticroute.runs import last_runs

BADGE = {"pass": ":green-badge[PASS]", "warn": ":orange-badge[WARN]", "fail": ":red-badge[FAIL]"}

st.set_page_config(page_title="ArcticRoute", layout="wide")


@st.cache_data(ttl=15, show_spinner=False)
def _health() -> dict:
    return health.health_check()


def _recent_alerts(settings, limit: int = 10) -> list[dict]:
    folder = settings.outputs_root / "alerts"
    alerts = []
    for path in sorted(folder.glob("*.json"), reverse=True)[:limit] if folder.is_dir() else []:
        try:
            alerts.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return alerts


def overview() -> None:
    try:
        settings = load_settings()
    except ArcticRouteError as exc:
        st.error(f"Configuration error: {exc}")
        if exc.hint:
            st.info(exc.hint)
        return
    result = _health()
    if settings.synthetic or any(c[0].get("synthetic") for c in result["checks"].values()):
        st.warning(f"**DEMO DATA — NOT FOR NAVIGATION.** Profile `{settings.profile}` shows synthetic data "
                   f"({DEMO_NOTICE}).")
    st.title("ArcticRoute")
    st.markdown(f"Health {BADGE[result['status']]} — {len(result['checks'])} checks, "
                f"{len(result['warnings'])} not passing, {result['disk_free_gb']} GB free, "
                f"grid `{settings.grid.name}`, version {result['version']} ({result['git_sha'][:10]})")
    for warning in result["warnings"]:
        box = st.error if warning["status"] == "fail" else st.warning
        box(f"**{warning['check']}**: {warning['message']}\n\n→ {warning['hint']}")
    st.subheader("Data freshness")
    st.dataframe([{"layer": name.split(":")[1], "status": c[0]["status"], "age (h)": c[0].get("observedValue"),
                   "synthetic": c[0].get("synthetic"), "detail": c[0]["output"]}
                  for name, c in result["checks"].items() if name.startswith("data:")], hide_index=True)
    st.subheader("Last runs")
    st.dataframe([{k: r.get(k) for k in ("start", "command", "status", "duration_s", "run_id")}
                  for r in last_runs(settings.outputs_root, 30)], hide_index=True)
    st.subheader("Recent alerts")
    alerts = _recent_alerts(settings)
    if alerts:
        st.dataframe([{k: a.get(k) for k in ("created_at", "severity", "command", "what", "hint")} for a in alerts],
                     hide_index=True)
    else:
        st.write("No alerts.")


overview()
