"""What every page of the UI shares: the settings, the synthetic banner, errors with their hint."""

from __future__ import annotations

import streamlit as st

from arcticroute.config import Settings, load_settings
from arcticroute.errors import ArcticRouteError
from arcticroute.planner import DEMO_NOTICE

EMPTY_HINT = "No data yet. Run `just demo` (synthetic demo data, offline) or `just pull` then `just fuse`."


def settings_or_stop() -> Settings:
    """The configuration from the server's environment; a bad value stops the page with its hint."""
    try:
        return load_settings()
    except ArcticRouteError as exc:
        show_error(exc)
        st.stop()


def show_error(exc: ArcticRouteError) -> None:
    st.error(str(exc))
    if exc.hint:
        st.info(f"What to do: {exc.hint}")


def synthetic_banner(synthetic: bool) -> None:
    if synthetic:
        st.warning(f"**DEMO DATA — NOT FOR NAVIGATION.** What this page shows is synthetic ({DEMO_NOTICE}).",
                   icon="⚠️")
