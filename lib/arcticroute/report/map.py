"""The report's map: two EPSG:3413 panels (sea ice; mean risk with the ice edge) with routes, a
latitude/longitude graticule and the names of the seas and straits the routes pass."""

from __future__ import annotations

import io

import numpy as np

from ..graticule import graticule
from ..grid import Grid, to_xy
from ..route.places import route_places
from .inputs import RouteDoc

SIC_SHOWN = 0.15  # ice below this concentration is not drawn
FIGURE_SIZE_IN = (11.0, 7.0)
FIGURE_DPI = 90
LINE_STYLES = {"route": "-", "baseline": "--", "onward": ":"}


def grid_extent(grid: Grid) -> list[float]:
    """``[x_min, x_max, y_min, y_max]`` of the cell edges, for ``imshow(origin="upper")``."""
    half = grid.resolution_m / 2.0
    return [float(grid.x[0] - half), float(grid.x[-1] + half), float(grid.y[-1] - half), float(grid.y[0] + half)]


def route_lines(document: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(role, x, y)`` in EPSG:3413 metres for every line part of every feature."""
    lines = []
    for feature in document.get("features", []):
        geometry = feature.get("geometry") or {}
        parts = {"LineString": [geometry.get("coordinates")],
                 "MultiLineString": geometry.get("coordinates")}.get(geometry.get("type"), [])
        for part in parts:
            lonlat = np.asarray(part, dtype=float)
            x, y = to_xy(lonlat[:, 0], lonlat[:, 1])
            lines.append((feature["properties"].get("role", "route"), np.asarray(x), np.asarray(y)))
    return lines


def draw_graticule(ax) -> None:
    """Parallels and meridians with their labels, under the routes and over the layers."""
    for line in graticule():
        ax.plot(line.x, line.y, color="#3c3c3c", linewidth=0.4, alpha=0.45, zorder=2)
        if line.label_xy is not None:
            ax.text(line.label_xy[0], line.label_xy[1], line.label, fontsize=6, color="#333333", ha="center",
                    va="center", clip_on=True, zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.6, "linewidth": 0})


def draw_map(grid: Grid, land: np.ndarray, sic: np.ndarray | None, risk_mean: np.ndarray,
             routes: list[RouteDoc], titles: tuple[str, str]) -> bytes:
    """Two EPSG:3413 panels (sea ice; mean risk with the ice edge), routes on both; PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    extent = grid_extent(grid)
    land_layer = np.ma.masked_where(~land, np.ones(land.shape))
    grey = ListedColormap(["#b4b4b4"])
    fig = Figure(figsize=FIGURE_SIZE_IN, dpi=FIGURE_DPI, layout="constrained")
    ax_ice, ax_risk = fig.subplots(1, 2, sharex=True, sharey=True)

    if sic is not None:
        shown = np.ma.masked_where(land | ~(np.nan_to_num(sic) > SIC_SHOWN), sic)
        image = ax_ice.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0, origin="upper", extent=extent,
                              interpolation="nearest")
        fig.colorbar(image, ax=ax_ice, shrink=0.8, label=f"sea-ice concentration (> {SIC_SHOWN:g} drawn)")
    risk_top = max(float(np.nanmax(risk_mean)) if np.isfinite(risk_mean).any() else 0.0, 0.05)
    image = ax_risk.imshow(np.ma.masked_invalid(np.where(land, np.nan, risk_mean)), cmap="YlOrRd", vmin=0.0,
                           vmax=risk_top, origin="upper", extent=extent, interpolation="nearest")
    fig.colorbar(image, ax=ax_risk, shrink=0.8, label="monthly mean risk (0..1)")
    if sic is not None:
        ax_risk.contour(grid.x, grid.y, np.nan_to_num(sic), levels=[SIC_SHOWN], colors="#1f4e8c",
                        linewidths=0.8)

    colours = matplotlib.colormaps["tab10"]
    km = FuncFormatter(lambda value, _pos: f"{value / 1000:g}")
    handles = []
    for ax, title in zip((ax_ice, ax_risk), titles, strict=True):
        ax.imshow(land_layer, cmap=grey, origin="upper", extent=extent, interpolation="nearest")
        for index, route in enumerate(routes):
            # Scenarios often share a passage: each later one is drawn narrower, so all stay visible.
            width = max(3.2 - 0.7 * index, 1.2)
            for role, x, y in route_lines(route.document):
                ax.plot(x, y, linestyle=LINE_STYLES.get(role, "-"), color=colours(index % 10),
                        linewidth=width if role == "route" else width * 0.6)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(km)
        ax.yaxis.set_major_formatter(km)
        ax.set_xlabel("x (km, EPSG:3413)", fontsize=8)
    ax_ice.set_ylabel("y (km, EPSG:3413)", fontsize=8)
    handles += [Line2D([], [], color=colours(i % 10), linewidth=2, label=r.scenario) for i, r in enumerate(routes)]
    handles += [Line2D([], [], color="black", linestyle=style, label=role) for role, style in LINE_STYLES.items()]
    handles += [Line2D([], [], color="#1f4e8c", linewidth=0.8, label=f"ice edge (sic {SIC_SHOWN:g})"),
                Line2D([], [], color="#b4b4b4", linewidth=6, label="land")]
    passed = {p.name: p for route in routes for p in route_places(route.document)}
    for ax in (ax_ice, ax_risk):
        draw_graticule(ax)
        for place in passed.values():
            px, py = to_xy(place.lon, place.lat)
            ax.plot([px], [py], marker="o", markersize=2.5, color="#0b2545")
            ax.annotate(place.name, (float(px), float(py)), xytext=(3, 3), textcoords="offset points", fontsize=6.5,
                        color="#0b2545", clip_on=True)
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return buffer.getvalue()


