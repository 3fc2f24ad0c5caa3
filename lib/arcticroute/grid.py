"""The polar grid every layer is regridded onto: EPSG:3413 at the NSIDC north extent.

Rows run north to south (row 0 holds the largest y), as in NSIDC's own polar
stereographic grids; columns run west to east in x. Providers whose files have
``y`` ascending (Uni Bremen AMSR2) are flipped by their adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from .errors import BadInputError

CRS_EPSG = 3413
# NSIDC polar stereographic north extent, metres (outer cell edges).
X_MIN, X_MAX = -3_850_000.0, 3_750_000.0
Y_MIN, Y_MAX = -5_350_000.0, 5_850_000.0



@cache
def _transformer(source: int, target: int):
    """A pyproj transformer, made on first use: pyproj and its database cost a command ~0.1 s,
    which one that projects nothing (a pull or fuse with nothing to do) need not pay."""
    import pyproj

    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def format_km(resolution_m: float) -> str:
    km = resolution_m / 1000.0
    return f"{km:g}km"


@dataclass(frozen=True)
class Grid:
    """A regular EPSG:3413 grid at ``resolution_m`` over the NSIDC north extent."""

    resolution_m: float

    def __post_init__(self):
        for span in (X_MAX - X_MIN, Y_MAX - Y_MIN):
            cells = span / self.resolution_m
            if self.resolution_m <= 0 or abs(cells - round(cells)) > 1e-9:
                raise BadInputError(
                    f"grid resolution {self.resolution_m / 1000:g} km does not divide the NSIDC "
                    f"extent ({(X_MAX - X_MIN) / 1000:g} x {(Y_MAX - Y_MIN) / 1000:g} km)",
                    hint="use 25, 12.5 or 6.25 km",
                )

    @classmethod
    def from_km(cls, resolution_km: float) -> Grid:
        return cls(float(resolution_km) * 1000.0)

    @property
    def name(self) -> str:
        """Short id used in logical ids and file names, e.g. ``3413-25km``."""
        return f"{CRS_EPSG}-{format_km(self.resolution_m)}"

    @property
    def nx(self) -> int:
        return int(round((X_MAX - X_MIN) / self.resolution_m))

    @property
    def ny(self) -> int:
        return int(round((Y_MAX - Y_MIN) / self.resolution_m))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    @cached_property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates (m), west to east."""
        return X_MIN + (np.arange(self.nx) + 0.5) * self.resolution_m

    @cached_property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates (m), north to south (descending)."""
        return Y_MAX - (np.arange(self.ny) + 0.5) * self.resolution_m

    def describe(self) -> dict:
        """The grid as recorded in artifact metadata."""
        return {
            "name": self.name,
            "crs": f"EPSG:{CRS_EPSG}",
            "resolution_m": self.resolution_m,
            "shape": [self.ny, self.nx],
            "extent_m": [X_MIN, Y_MIN, X_MAX, Y_MAX],
            "row_order": "north_to_south",
        }

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (degrees) of every cell centre, shape ``(ny, nx)``."""
        xx, yy = np.meshgrid(self.x, self.y)
        lon, lat = _transformer(CRS_EPSG, 4326).transform(xx, yy)
        return lon, lat

    def contains_xy(self, x: float, y: float) -> bool:
        return X_MIN <= x < X_MAX and Y_MIN < y <= Y_MAX

    def index_of(self, lat: float, lon: float) -> tuple[int, int]:
        """Row and column of the cell holding ``(lat, lon)``; BadInputError outside the grid."""
        x, y = to_xy(lon, lat)
        if not self.contains_xy(x, y):
            raise BadInputError(
                f"position {lat:.4f},{lon:.4f} lies outside the polar grid {self.name} "
                f"(EPSG:{CRS_EPSG} x {X_MIN / 1000:g}..{X_MAX / 1000:g} km, "
                f"y {Y_MIN / 1000:g}..{Y_MAX / 1000:g} km)",
                hint="choose a position north of about 40°N, or plan the leg outside the grid separately",
            )
        col = int((x - X_MIN) // self.resolution_m)
        row = int((Y_MAX - y) // self.resolution_m)
        return row, col

    def cell_xy(self, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        return self.x[cols], self.y[rows]

    def cell_lonlat(self, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.cell_xy(rows, cols)
        return to_lonlat(x, y)


def to_xy(lon, lat):
    return _transformer(4326, CRS_EPSG).transform(lon, lat)


def to_lonlat(x, y):
    return _transformer(CRS_EPSG, 4326).transform(x, y)


def scale_factor(grid: Grid) -> np.ndarray:
    """Map scale factor k at each cell centre: true distance = projected distance / k."""
    import pyproj

    proj = pyproj.Proj(CRS_EPSG)
    lon, lat = grid.lonlat()
    factors = proj.get_factors(lon.ravel(), lat.ravel())
    return np.asarray(factors.parallel_scale, dtype=np.float32).reshape(grid.shape)
