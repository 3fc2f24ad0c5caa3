"""Layers: sea ice, waves, AIS density or risk of a chosen day, with a colour bar and land."""

from __future__ import annotations

import streamlit as st
from common import EMPTY_HINT, cached_layer_view, settings_or_stop, show_error, synthetic_banner
from maps import layer_figure

from arcticroute import views
from arcticroute.errors import ArcticRouteError

settings = settings_or_stop()
st.title("Layers")
layer = st.radio("Layer", list(views.VIEW_LAYERS), horizontal=True,
                 format_func=lambda name: views.VIEW_LAYERS[name][1])
days = views.layer_days(settings, layer)
if not days:
    st.info(EMPTY_HINT)
    st.stop()
day = st.select_slider("Day", options=days, value=days[-1]) if len(days) > 1 else days[0]

try:
    meta = views.layer_meta(settings, layer, day)  # the sidecar of this day's artifact, or refused
    if meta is None:
        st.info(f"No {layer} layer for {day} on grid {settings.grid.name} any more: reload the page.")
        st.stop()
    views.check_intact(settings, meta)
    view = cached_layer_view(layer, day, meta["sha256"], str(settings.data_root), settings)
except ArcticRouteError as exc:
    show_error(exc)
    st.stop()
synthetic_banner(view.synthetic)
st.plotly_chart(layer_figure(view), width="stretch")
st.caption(f"{meta['logical_id']} version {meta['version']}, sha256 {meta['sha256'][:12]}…, "
           f"shown every {views.stride_for(settings.grid.shape)}th cell of {settings.grid.shape[1]}×{settings.grid.shape[0]}")
