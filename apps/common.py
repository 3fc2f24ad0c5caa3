"""What every page of the UI shares: the settings, the synthetic banner, errors with their hint."""

from __future__ import annotations

import streamlit as st

from arcticroute.config import Settings, load_settings
from arcticroute.errors import ArcticRouteError
from arcticroute.provenance import DEMO_NOTICE
from arcticroute.views import LayerView, layer_view

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


@st.cache_data(max_entries=32, show_spinner=False)
def cached_layer_view(layer: str, day, sha256: str, data_root: str, _settings: Settings) -> LayerView:
    """A layer's display view, cached by the artifact's sha256: a new version is read again, the
    same one never. Callers check the file first (``views.check_intact``), so a file corrupted
    since is refused rather than drawn from the cache."""
    return layer_view(_settings, layer, day)
