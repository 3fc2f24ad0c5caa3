"""Ice of unknown type errs safe: the type route planning assumes where ice has none.

Where the concentration is at least ``polaris.TYPED_FROM`` and the ``ice.type`` layer gives no
valid stage of development (no layer, the unknown code, a fill value) or an inconsistent one
("ice free" under 6/10 of ice), the type used is the most severe plausible one, in this order:

1. the last valid classification of the cell in the earlier daily ``ice.type`` artifacts of the
   grid (at most ``CARRY_DAYS`` back), carried forward with its age: first-year ice that has
   lived through a 1 October since is second-year ice, second-year ice light multi-year ice
   (the WMO sea-ice nomenclature's ageing of old ice), and never less than thick first-year ice
   (the ice has grown since it was typed);
2. else, inside the conservative multi-year ice zones of ``MYI_ZONES``, heavy multi-year ice;
3. else thick first-year ice (``polaris.UNKNOWN_STAGE``).

Each assumed cell keeps its basis (``BASIS``) and, for a carried type, its age in days, so the
route reports the miles it sailed on assumed types (docs/route-model.md, "Ice of unknown type").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import polaris
from ..grid import Grid

CARRY_DAYS = 200  # covers OSI SAF's summer gap (mid-May to 30 September) with a margin
BASIS = {0: "observed", 1: "carried forward", 2: "multi-year climatology", 3: "thick first-year default"}

# Conservative multi-year ice zones: (west lon, east lon, southern latitude) in degrees; ice of
# unknown type north of the latitude inside the longitudes is taken as heavy multi-year ice. They
# enclose, with a margin, where ice that survived the summer minimum lies in the September
# climatology of ice age (NSIDC-0611 EASE-Grid Sea Ice Age v4, Tschudi et al. 2019, 2000-2020
# means of ice aged 2 years and more) and the multi-year ice fraction maps of Kwok (2018,
# Environ. Res. Lett. 13 105005): the Canadian Arctic Archipelago and the Lincoln Sea, the
# Beaufort gyre, the East Greenland Current (old ice exported through Fram Strait), the
# central Arctic, and the Ayon massif's old-ice remnants off the East Siberian coast.
MYI_ZONES = (
    (-141.0, -60.0, 70.0),   # Canadian Arctic Archipelago, Parry Channel, Nares Strait, Lincoln Sea
    (-170.0, -141.0, 72.5),  # Beaufort gyre, Chukchi borderland
    (-45.0, -10.0, 65.0),    # East Greenland Current south of Fram Strait
    (-10.0, 20.0, 79.0),     # Fram Strait and north of Svalbard
    (150.0, 180.0, 74.0),    # eastern East Siberian Sea (Ayon massif), Wrangel Island
    (-180.0, -170.0, 72.0),  # north of the Chukchi Sea
    (-180.0, 180.0, 84.0),   # the central Arctic Ocean, every longitude
)


@dataclass(frozen=True)
class Resolved:
    """Stage codes with every needed type filled, and per cell how it was found."""

    stage: np.ndarray  # int8 codes 0..11
    basis: np.ndarray  # int8: 0 observed, else a key of BASIS
    age_days: np.ndarray  # float32: days since a carried classification, NaN elsewhere


@lru_cache(maxsize=4)
def _lonlat(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = grid.lonlat()
    return np.asarray(lon, dtype=np.float32), np.asarray(lat, dtype=np.float32)


def myi_zone(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Cells inside the conservative multi-year ice zones (``MYI_ZONES``)."""
    inside = np.zeros(np.shape(lat), dtype=bool)
    for west, east, south in MYI_ZONES:
        inside |= (lon >= west) & (lon <= east) & (lat >= south)
    return inside


def aged(code: np.ndarray, typed_on: date, day: date) -> np.ndarray:
    """A classification made on ``typed_on`` as it stands on ``day``: one stage older for each
    1 October passed (first-year to second-year, second-year to light multi-year; heavy stays
    heavy), and never less than thick first-year ice."""
    code = np.asarray(code, dtype=np.int16)
    summers = sum(1 for year in range(typed_on.year, day.year + 1) if typed_on < date(year, 10, 1) <= day)
    second, light = polaris.STAGE_CODES["second_year"], polaris.STAGE_CODES["light_my"]
    if summers:
        older = np.minimum(np.maximum(code, second - 1) + summers, light)
        code = np.maximum(code, older)
    return np.maximum(code, polaris.UNKNOWN_STAGE).astype(np.int8)


def resolve(grid: Grid, day: date, sic: np.ndarray, stage: np.ndarray | None,
            earlier: Iterable[tuple[date, np.ndarray]] = ()) -> Resolved:
    """The stage of every cell that needs one (``polaris.type_unknown``) from ``earlier``
    classifications (newest first: (day, codes)), the multi-year zones or the default."""
    need = polaris.type_unknown(sic, stage)
    codes = np.zeros(grid.shape, dtype=np.int16) if stage is None else np.where(
        np.isfinite(stage) & (stage >= 0) & (stage <= 11), stage, 0).astype(np.int16)
    basis = np.zeros(grid.shape, dtype=np.int8)
    age = np.full(grid.shape, np.nan, dtype=np.float32)
    left = need.copy()
    for typed_on, old in earlier if left.any() else ():
        valid = left & np.isfinite(old) & (old >= 1) & (old <= 11)
        codes[valid] = aged(old[valid], typed_on, day)
        basis[valid] = 1
        age[valid] = (day - typed_on).days
        left &= ~valid
        if not left.any():
            break
    lon, lat = _lonlat(grid)
    zone = left & myi_zone(lon, lat)
    codes[zone] = polaris.STAGE_CODES["heavy_my"]
    basis[zone] = 2
    rest = left & ~zone
    codes[rest] = polaris.UNKNOWN_STAGE
    basis[rest] = 3
    return Resolved(codes.astype(np.int8), basis, age)


def type_days(data_root: Path, grid_name: str) -> list[date]:
    """Days with an ``ice.type`` layer on this grid (from the canonical file names)."""
    folder = data_root / "env" / "ice.type" / grid_name
    days = []
    if folder.is_dir():
        for path in folder.glob("*/*/ice_type_????????.nc"):
            try:
                days.append(datetime.strptime(path.name[len("ice_type_"):-len(".nc")], "%Y%m%d").date())
            except ValueError:
                continue  # not a day: not one of ours
    return sorted(set(days))


def earlier_types(roots: dict[str, Path], grid: Grid, day: date, used: list[dict]
                  ) -> Iterator[tuple[date, np.ndarray]]:
    """The ``ice.type`` classifications of the days before ``day`` (at most ``CARRY_DAYS``),
    newest first, each read (and verified against its sidecar) only when asked for; the sidecar
    of each one read is appended to ``used`` (the route's inputs)."""
    from ..layers import layer_relpath, read_artifact
    from ..store.artifacts import current_meta

    first = day - timedelta(days=CARRY_DAYS)
    for earlier in sorted((d for d in type_days(roots["data"], grid.name) if first <= d < day), reverse=True):
        meta = current_meta(roots, "data", layer_relpath("ice.type", earlier, grid.name))
        if meta is not None:
            used.append(meta)
            yield earlier, read_artifact(roots, meta, "stage").astype(np.float32)


def summary(basis: np.ndarray, age: np.ndarray, seg_m: np.ndarray) -> dict:
    """Route properties from per-step basis and age: the miles on assumed types, by basis."""
    from .geometry import METRES_PER_NM

    assumed = basis > 0
    by_basis = {BASIS[k]: round(float(seg_m[basis == k].sum() / METRES_PER_NM), 1)
                for k in sorted(BASIS) if k and (basis == k).any()}
    carried = age[np.isfinite(age)] if age.size else age
    return {
        "assumed_type_nm": round(float(seg_m[assumed].sum() / METRES_PER_NM), 1),
        **({"assumed_type_basis_nm": by_basis} if by_basis else {}),
        **({"assumed_type_max_age_days": int(carried.max())} if carried.size else {}),
    }
