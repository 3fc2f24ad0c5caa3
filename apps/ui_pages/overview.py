"""Overview: health badge with warnings and hints, freshness, last runs, recent alerts."""

from __future__ import annotations

import streamlit as st
from common import EMPTY_HINT, settings_or_stop, synthetic_banner

from arcticroute.ops import health
from arcticroute.ops.runs import last_runs
from arcticroute.views import has_data, recent_alerts

BADGE = {"pass": ":green-badge[PASS]", "warn": ":orange-badge[WARN]", "fail": ":red-badge[FAIL]"}

settings = settings_or_stop()


@st.cache_data(ttl=15, show_spinner=False)
def _health(key: str, _settings) -> dict:
    """Reused for 15 s per configuration (``key``); ``_settings`` is not part of the key."""
    return health.health_check(settings=_settings)


result = _health(f"{settings.config_dir}|{settings.roots}|{settings.grid.name}", settings)
freshness = {name.split(":")[1]: c[0] for name, c in result["checks"].items()
             if name.startswith("data:") and name.endswith(":age")}
synthetic_banner(settings.synthetic or any(c.get("synthetic") for c in freshness.values()))
st.title("ArcticRoute")
st.markdown(f"Health {BADGE[result['status']]} — {len(result['checks'])} checks, "
            f"{len(result['warnings'])} not passing, {result['disk_free_gb']} GB free, profile `{settings.profile}`, "
            f"grid `{settings.grid.name}`, version {result['version']} ({str(result['git_sha'])[:10]})")
if not has_data(settings):
    st.info(EMPTY_HINT)
for warning in result["warnings"]:
    box = st.error if warning["status"] == "fail" else st.warning
    box(f"**{warning['check']}**: {warning['message']}\n\n→ {warning['hint']}")

st.subheader("Data freshness")
st.dataframe([{"layer": layer, "status": c["status"], "age (h)": c.get("observedValue"),
               "synthetic": c.get("synthetic"), "detail": c["output"]} for layer, c in freshness.items()],
             hide_index=True, width="stretch")

st.subheader("Last run per command")
runs = last_runs(settings.outputs_root, 200)
latest = {}
for record in runs:
    latest.setdefault(record.get("command"), record)
if latest:
    st.dataframe([{k: r.get(k) for k in ("command", "status", "start", "duration_s", "run_id")}
                  for r in latest.values()], hide_index=True, width="stretch")
else:
    st.write("No runs yet.")

st.subheader("Recent alerts")
alerts = recent_alerts(settings)
if alerts:
    st.dataframe([{k: a.get(k) for k in ("created_at", "severity", "command", "what", "hint")} for a in alerts],
                 hide_index=True, width="stretch")
else:
    st.write("No alerts.")
