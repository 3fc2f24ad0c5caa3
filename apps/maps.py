"""Interactive maps in the polar stereographic projection (EPSG:3413, km), drawn with plotly:
no tile server, so they work offline, and the pole is where it belongs. A latitude/longitude
graticule with labels is drawn over the layer, and the cursor shows latitude and longitude (on a
route also its leg, ETA and POLARIS RIO)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from arcticroute.graticule import cell_lonlat, graticule
from arcticroute.grid import to_xy
from arcticroute.route.places import Passed
from arcticroute.views import LayerView

LAND_COLOUR = "#b8b2a7"
GRATICULE_COLOUR = "rgba(60, 60, 60, 0.35)"
COLOURS = {"ice.sic": "Blues", "wave.hs": "Viridis", "ais.density": "Magma", "risk": "YlOrRd"}
LINE_STYLE = {"route": (3, "solid", "#d62728"), "baseline": (2, "dash", "#111111"), "onward": (2, "dot", "#111111")}


def _lat_lon_text(lat: float, lon: float) -> str:
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def _graticule_traces(figure: go.Figure) -> None:
    label_x, label_y, labels = [], [], []
    for line in graticule():
        figure.add_trace(go.Scatter(x=line.x / 1000.0, y=line.y / 1000.0, mode="lines", hoverinfo="skip",
                                    showlegend=False, line={"width": 0.7, "color": GRATICULE_COLOUR}))
        if line.label_xy is not None:
            label_x.append(line.label_xy[0] / 1000.0)
            label_y.append(line.label_xy[1] / 1000.0)
            labels.append(line.label)
    figure.add_trace(go.Scatter(x=label_x, y=label_y, mode="text", text=labels, hoverinfo="skip", showlegend=False,
                                textfont={"size": 11, "color": "#333333"}, name="graticule"))


def _route_trace(name: str, points) -> go.Scatter:
    width, dash, colour = LINE_STYLE.get(name, (2, "dash", "#111111"))
    if isinstance(points, tuple):  # plain (x km, y km)
        return go.Scatter(x=points[0], y=points[1], mode="lines", name=name, line={"width": width, "dash": dash,
                                                                                   "color": colour})
    where = [(_lat_lon_text(a, b) if np.isfinite(a) else "") for a, b in zip(points["lat"], points["lon"], strict=True)]
    custom = np.array([[w, "" if leg is None else str(leg), t or "", "" if rio is None else f"{rio:g}"]
                       for w, leg, t, rio in zip(where, points["leg"], points["time"], points["rio"], strict=True)],
                      dtype=object)
    template = f"<b>{name}</b> %{{customdata[0]}}"
    if any(points["leg"]):
        template += "<br>leg %{customdata[1]}"
    if any(points["time"]):
        template += "<br>ETA %{customdata[2]}"
    if any(r is not None for r in points["rio"]):
        template += "<br>POLARIS RIO %{customdata[3]}"
    return go.Scatter(x=points["x_km"], y=points["y_km"], mode="lines", name=name, customdata=custom,
                      hovertemplate=template + "<extra></extra>", line={"width": width, "dash": dash, "color": colour})


def _place_labels(figure: go.Figure, places: list[Passed]) -> None:
    if not places:
        return
    x, y = to_xy(np.array([p.lon for p in places]), np.array([p.lat for p in places]))
    figure.add_trace(go.Scatter(
        x=np.asarray(x) / 1000.0, y=np.asarray(y) / 1000.0, mode="markers+text", name="seas and straits passed",
        text=[p.name for p in places], textposition="top right", marker={"size": 6, "color": "#1f4e8c"},
        textfont={"size": 12, "color": "#0b2545"}, customdata=[_lat_lon_text(p.lat, p.lon) for p in places],
        hovertemplate="%{text}: entered at %{customdata}<extra></extra>"))


def layer_figure(view: LayerView, lines: dict | None = None, height: int = 640,
                 places: list[Passed] | None = None) -> go.Figure:
    """The layer over land with the graticule; ``lines``: role -> ``views.route_line_points`` (or
    plain (x km, y km)); ``places``: the seas and straits a route passes, labelled."""
    figure = go.Figure()
    lon, lat = cell_lonlat(view.x_km * 1000.0, view.y_km * 1000.0)
    where = np.stack([lat, lon], axis=-1).round(2)
    land = np.where(view.land, 1.0, np.nan)
    figure.add_trace(go.Heatmap(x=view.x_km, y=view.y_km, z=land, showscale=False, customdata=where,
                                colorscale=[[0, LAND_COLOUR], [1, LAND_COLOUR]], name="land",
                                hovertemplate="land, lat %{customdata[0]:.2f}° lon %{customdata[1]:.2f}°<extra></extra>"))
    low, high = view.value_range or (0.0, float(np.nanmax(view.values)) if np.isfinite(view.values).any() else 1.0)
    figure.add_trace(go.Heatmap(
        x=view.x_km, y=view.y_km, z=view.values, zmin=low, zmax=high, colorscale=COLOURS.get(view.layer, "Viridis"),
        colorbar={"title": {"text": view.unit}}, name=view.layer, customdata=where,
        hovertemplate=(f"lat %{{customdata[0]:.2f}}° lon %{{customdata[1]:.2f}}°<br>{view.layer} %{{z:.2f}} {view.unit}"
                       "<extra></extra>")))
    _graticule_traces(figure)
    for name, points in (lines or {}).items():
        figure.add_trace(_route_trace(name, points))
    _place_labels(figure, places or [])
    figure.update_layout(title=view.title + (" — SYNTHETIC" if view.synthetic else ""), height=height,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h"},
                         plot_bgcolor="#f4f7fa", hovermode="closest")
    figure.update_xaxes(title="x (km, EPSG:3413; latitude and longitude on the graticule)", showgrid=False,
                        zeroline=False)
    figure.update_yaxes(title="y (km)", scaleanchor="x", showgrid=False, zeroline=False)
    return figure
