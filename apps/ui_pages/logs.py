"""Logs: the tail of each command's log, and the run records."""

from __future__ import annotations

import streamlit as st
from common import settings_or_stop

from arcticroute import views
from arcticroute.ops.runs import last_runs

settings = settings_or_stop()
st.title("Logs")
commands = views.log_commands(settings)
if commands:
    command = st.selectbox("Command", commands)
    lines = st.slider("Lines", 20, 1000, 200, step=20)
    st.code(views.log_tail(settings, command, lines) or "(empty)", language="log")
else:
    st.info("No logs yet: every command writes outputs/logs/<command>.log when it runs.")
st.subheader("Run records")
runs = last_runs(settings.outputs_root, 100)
if runs:
    st.dataframe([{k: r.get(k) for k in ("start", "command", "status", "exit_code", "duration_s", "run_id")}
                  | {"error": (r.get("error") or {}).get("message")} for r in runs], hide_index=True, width="stretch")
else:
    st.write("No runs yet.")
