"""Interactive maps in the polar stereographic projection (EPSG:3413, km), drawn with plotly:
no tile server, so they work offline, and the pole is where it belongs."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from arcticroute.views import LayerView

LAND_COLOUR = "#b8b2a7"
COLOURS = {"ice.sic": "Blues", "wave.hs": "Viridis", "ais.density": "Magma", "risk": "YlOrRd"}


def layer_figure(view: LayerView, lines: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                 height: int = 640) -> go.Figure:
    figure = go.Figure()
    land = np.where(view.land, 1.0, np.nan)
    figure.add_trace(go.Heatmap(x=view.x_km, y=view.y_km, z=land, showscale=False, hoverinfo="skip",
                                colorscale=[[0, LAND_COLOUR], [1, LAND_COLOUR]], name="land"))
    low, high = view.value_range or (0.0, float(np.nanmax(view.values)) if np.isfinite(view.values).any() else 1.0)
    figure.add_trace(go.Heatmap(
        x=view.x_km, y=view.y_km, z=view.values, zmin=low, zmax=high, colorscale=COLOURS.get(view.layer, "Viridis"),
        colorbar={"title": {"text": view.unit}}, name=view.layer,
        hovertemplate="x %{x:.0f} km, y %{y:.0f} km<br>%{z:.2f}<extra></extra>"))
    for name, (xs, ys) in (lines or {}).items():
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name,
                                    line={"width": 3 if name == "route" else 2,
                                          "dash": "solid" if name == "route" else "dash",
                                          "color": "#d62728" if name == "route" else "#111111"}))
    figure.update_layout(title=view.title + (" — SYNTHETIC" if view.synthetic else ""), height=height,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h"},
                         plot_bgcolor="#f4f7fa")
    figure.update_xaxes(title="x (km, EPSG:3413)", showgrid=False)
    figure.update_yaxes(title="y (km)", scaleanchor="x", showgrid=False)
    return figure
