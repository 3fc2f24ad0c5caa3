"""The environmental layers: names, file locations, logical ids and their netCDF form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ArcticRouteError
from .grid import CRS_EPSG, Grid
from .integrity import check_unchanged, verified_path
from .polaris import STAGES

if TYPE_CHECKING:  # xarray (0.25 s with pandas) is imported where files are read or written, not by every command
    import xarray as xr


@dataclass(frozen=True)
class LayerInfo:
    layer: str  # logical layer id, e.g. "ice.sic"
    variable: str  # netCDF variable holding the grid
    units: str
    long_name: str
    digits: int | None = None  # decimal digits kept when stored (least_significant_digit); None: exact


LAYERS = {
    "ice.sic": LayerInfo("ice.sic", "sic", "1", "sea-ice concentration (fraction 0..1)", 3),
    "ice.type": LayerInfo("ice.type", "stage", "1", "sea-ice stage of development (POLARIS ice type code 0..11)"),
    "wave.hs": LayerInfo("wave.hs", "hs", "m", "significant wave height", 2),
    "ais.density": LayerInfo("ais.density", "density", "vessel-hours per cell per day", "AIS traffic density", 3),
    "incidents": LayerInfo("incidents", "count", "incidents per cell per day", "maritime incidents"),
}
ALIASES = {"ice": "ice.sic", "wave": "wave.hs", "ais": "ais.density", "incidents": "incidents"}
# "ice" means sea ice as routing needs it: its concentration and its stage of development.
ALIAS_EXTRA = {"ice": ("ice.type",)}


def _stage_attrs() -> dict:
    return {"units": "1", "long_name": "sea-ice stage of development (dominant type in the cell)",
            "flag_values": [code for code, *_ in STAGES],
            "flag_meanings": " ".join(key for _code, key, *_ in STAGES),
            "comment": "ice types of IMO MSC.1/Circ.1519 (POLARIS) Table 1.3, WMO sea-ice nomenclature"}


STAGE_ATTRS = _stage_attrs()


def resolve_layers(what: str) -> list[str]:
    """``ice,wave`` (aliases or full ids) to layer ids, in registry order; ValueError names the bad one."""
    wanted = []
    for token in (t.strip() for t in what.split(",")):
        if not token:
            continue
        layer = ALIASES.get(token, token)
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {token!r}; expected any of {', '.join(ALIASES)}")
        wanted += [layer, *ALIAS_EXTRA.get(token, ())]
    if not wanted:
        raise ValueError("no layer given; expected any of " + ", ".join(ALIASES))
    return [layer for layer in LAYERS if layer in wanted]


def layer_relpath(layer: str, day: date, grid_name: str) -> str:
    """Where a day's layer lives; the grid is a folder level, so grids coexist."""
    return f"env/{layer}/{grid_name}/{day:%Y}/{day:%m}/{layer.replace('.', '_')}_{day:%Y%m%d}.nc"


def layer_logical_id(layer: str, day: date, grid: Grid) -> str:
    return f"ar://env/{layer}@{day:%Y%m%d}?grid={grid.name}"


def incident_count(grid: Grid, points: list[dict]) -> np.ndarray:
    """Incidents per cell from point records with ``lat`` and ``lon``."""
    count = np.zeros(grid.shape, dtype=np.float32)
    for point in points:
        count[grid.index_of(point["lat"], point["lon"])] += 1
    return count


def crs_variable() -> xr.DataArray:
    import xarray as xr

    return xr.DataArray(
        np.int32(0),
        attrs={
            "grid_mapping_name": "polar_stereographic",
            "latitude_of_projection_origin": 90.0,
            "standard_parallel": 70.0,
            "straight_vertical_longitude_from_pole": -45.0,
            "semi_major_axis": 6378137.0,
            "inverse_flattening": 298.257223563,
            "epsg_code": f"EPSG:{CRS_EPSG}",
        },
    )


def grid_dataset(grid: Grid, variables: dict[str, tuple[np.ndarray, dict]], attrs: dict) -> xr.Dataset:
    """A CF-style dataset on ``grid``; ``variables`` maps name to ``(array, attrs)``."""
    import xarray as xr

    data_vars = {
        name: xr.DataArray(values, dims=("y", "x"), attrs={**var_attrs, "grid_mapping": "crs"})
        for name, (values, var_attrs) in variables.items()
    }
    data_vars["crs"] = crs_variable()
    return xr.Dataset(
        data_vars,
        coords={
            "x": ("x", grid.x, {"units": "m", "standard_name": "projection_x_coordinate"}),
            "y": ("y", grid.y, {"units": "m", "standard_name": "projection_y_coordinate"}),
        },
        attrs={"Conventions": "CF-1.8", **attrs},
    )


# Storage (bench/README.md, "Storage"): deflate level 1 with the shuffle filter over 256 x 256
# tiles. A reader of a region or a downsampled view decompresses only the tiles it touches, and
# level 1 costs a fraction of level 4's time for nearly the same size once the values are
# quantized. Changing any of these changes the bytes written: FORMAT_VERSION goes up with them.
FORMAT_VERSION = 2  # 1: zlib 4, one whole-grid chunk, full float precision
CHUNK = 256
COMPLEVEL = 1


def write_netcdf(dataset: xr.Dataset, path: Path, *, digits: dict[str, int] | None = None) -> None:
    """Write ``dataset`` compressed and tiled; ``digits`` maps a float variable to the decimal
    digits it keeps (netCDF4's ``least_significant_digit``: values are rounded to a power of two
    finer than 10^-digits, which the file records as an attribute of the variable)."""
    encoding = {}
    for name, var in dataset.data_vars.items():
        if var.ndim == 0 or var.dtype.kind not in "fiub":
            continue
        enc = {"zlib": True, "complevel": COMPLEVEL, "shuffle": True}
        if var.ndim == 2:
            enc["chunksizes"] = tuple(min(CHUNK, n) for n in var.shape)
        if digits and digits.get(name) is not None and var.dtype.kind == "f":
            enc["least_significant_digit"] = int(digits[name])
        encoding[name] = enc
    dataset.to_netcdf(path, engine="netcdf4", encoding=encoding)


def read_variables(roots: dict[str, Path], meta: dict, variables: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Variables of the artifact version a sidecar describes, verified against the sidecar."""
    import xarray as xr

    path, identity = verified_path(roots, meta)
    with xr.open_dataset(path, engine="netcdf4", cache=False) as ds:
        values = {name: ds[name].values for name in variables}
    check_unchanged(meta, path, identity)
    return values


def read_artifact(roots: dict[str, Path], meta: dict, variable: str) -> np.ndarray:
    """A variable of the artifact version a sidecar describes, verified against the sidecar."""
    return read_variables(roots, meta, (variable,))[variable]


def require_grid(metas: list[dict], grid: Grid) -> None:
    """Refuse to combine artifacts made on another grid than this run's (same file names!)."""
    other = [f"{m['logical_id']} is on {(m.get('grid') or {}).get('name')}" for m in metas
             if (m.get("grid") or {}).get("name") != grid.name]
    if other:
        raise ArcticRouteError(
            f"inputs on another grid than this run's {grid.name}: " + "; ".join(other[:3])
            + (f" (and {len(other) - 3} more)" if len(other) > 3 else ""),
            hint=f"pass --grid-km matching the data, or pull and fuse again on {grid.name}",
        )
