"""The ice forecast: sea-ice concentration and stage of development for the days after the newest
daily layer, as one versioned artifact per issue day.

On disk (docs/artifacts.md, "Ice forecast") beside the daily layers, one file per issue day with
a time axis of its valid days (lead 1..N)::

    data_processed/forecast/ice/<grid>/YYYY/MM/ice_forecast_<issued YYYYMMDD>.nc (+ .meta.json)
    logical id ar://forecast/ice@<issued YYYYMMDD>?grid=<grid>, kind "forecast"

Variables ``sic`` (fraction) and ``stage`` (POLARIS stage code) on (time, y, x), ``sithick`` (m)
where the source gives a thickness; CF ``forecast_reference_time`` (scalar) and
``forecast_period`` (days, along time). The sidecar's ``params`` give ``issued``,
``valid_days`` and the source. ``ingest.nrt.pull --forecast`` writes it from the profile's
``ice.forecast`` source (``sources/forecast.py``); the voyage model uses it past the newest
daily layer (``route/conditions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from . import cf
from .config import Settings
from .layers import LAYERS, grid_dataset, write_netcdf
from .polaris import STAGES
from .store.artifacts import ArtifactSpec, current_meta, write_artifact
from .timeutil import day_span

LAYER = "ice.forecast"  # the source key in a profile's sources (config/env.yaml)
KIND = "forecast"
# WMO thickness ranges of the first-year stages (polaris.STAGES): a forecast thickness below each
# top is that stage; at or above the last it is thick first-year ice. A thickness cannot tell
# old ice from first-year ice: ``with_analysis_stage`` keeps the analysis's older types.
THICKNESS_TOPS_M = (0.10, 0.15, 0.30, 0.50, 0.70, 1.00, 1.20)


def relpath(issued: date, grid_name: str) -> str:
    return f"forecast/ice/{grid_name}/{issued:%Y}/{issued:%m}/ice_forecast_{issued:%Y%m%d}.nc"


def logical_id(issued: date, grid_name: str) -> str:
    return f"ar://forecast/ice@{issued:%Y%m%d}?grid={grid_name}"


@dataclass
class ForecastFields:
    """One issue's fields on the run's grid, per valid day: ``sic``, ``stage`` and ``sithick`` (or None)."""

    issued: date
    valid_days: list[date]
    sic: list[np.ndarray]
    stage: list[np.ndarray]
    sithick: list[np.ndarray] | None = None


def thickness_stage(sic: np.ndarray, thickness_m: np.ndarray) -> np.ndarray:
    """The first-year stage of development of a thickness (0 where there is no ice)."""
    h = np.nan_to_num(np.asarray(thickness_m, dtype=np.float64), nan=0.0)
    stage = (1 + np.searchsorted(np.array(THICKNESS_TOPS_M), h, side="right")).astype(np.int8)
    ice = np.nan_to_num(np.asarray(sic, dtype=np.float64), nan=0.0) > 0
    return np.where(ice, stage, 0).astype(np.int8)


def with_analysis_stage(forecast_stage: np.ndarray, sic: np.ndarray, analysis_stage: np.ndarray | None) -> np.ndarray:
    """The stage a voyage uses on a forecast day: the forecast's, or the newest analysis's where that
    is more severe (old ice the forecast's thickness cannot show), where the forecast has ice."""
    stage = np.asarray(forecast_stage, dtype=np.int16)
    if analysis_stage is None:
        return stage.astype(np.int8)
    analysis = np.where(np.isfinite(analysis_stage), analysis_stage, 0).astype(np.int16)
    ice = np.nan_to_num(np.asarray(sic, dtype=np.float64), nan=0.0) > 0
    return np.where(ice, np.maximum(stage, analysis), stage).astype(np.int8)


def forecast_dataset(settings: Settings, fields: ForecastFields, *, source: str, license: str, synthetic: bool,
                     institution: str = "ArcticRoute"):
    """The issue as a CF-1.8 dataset: one ``grid_dataset`` per valid day, joined along time,
    with the forecast's reference time and period."""
    import xarray as xr

    grid = settings.grid
    latlon = settings.runtime["storage"]["latlon_in_every_file"]
    flags = {"flag_values": [code for code, *_ in STAGES], "flag_meanings": " ".join(key for _c, key, *_ in STAGES)}
    days = []
    for i, valid in enumerate(fields.valid_days):
        variables = {"sic": (np.asarray(fields.sic[i], dtype=np.float32), LAYERS["ice.sic"].cf_attrs()),
                     "stage": (np.asarray(fields.stage[i], dtype=np.int8),
                               {**LAYERS["ice.type"].cf_attrs(), **flags,
                                "comment": "stage of development from the forecast (thickness: first-year stages by "
                                           "WMO range) — docs/route-model.md, \"Time beyond the data\""})}
        if fields.sithick is not None:
            variables["sithick"] = (np.asarray(fields.sithick[i], dtype=np.float32),
                                    {"units": "m", "standard_name": "sea_ice_thickness",
                                     "long_name": "sea-ice thickness (cell mean over the ice)",
                                     "coverage_content_type": "modelResult"})
        days.append(grid_dataset(grid, variables, {}, coverage=(valid, valid), latlon=latlon))
    dataset = xr.concat(days, dim="time", data_vars="minimal", coords="minimal", compat="override")
    first, last = fields.valid_days[0], fields.valid_days[-1]
    reference = cf.day_number(fields.issued)
    dataset = dataset.assign_coords(
        forecast_reference_time=((), reference, {"standard_name": "forecast_reference_time", "units": cf.TIME_UNITS,
                                                 "calendar": cf.CALENDAR, "long_name": "day the forecast was issued"}),
        forecast_period=("time", np.array([(d - fields.issued).days for d in fields.valid_days], dtype=np.float64),
                         {"standard_name": "forecast_period", "units": "days", "long_name": "lead time of each valid day"}))
    dataset.attrs.update(cf.discovery_attrs(
        title=f"ArcticRoute ice forecast issued {fields.issued.isoformat()} on {grid.name}",
        summary=(f"Sea-ice concentration and stage of development forecast for {first.isoformat()}..{last.isoformat()} "
                 f"(issued {fields.issued.isoformat()}) on the {grid.name} grid, from {source}, regridded by "
                 "ArcticRoute's ingest.nrt.pull --forecast."),
        keywords="sea ice, forecast, sea ice concentration, sea ice thickness, Arctic",
        logical_id=logical_id(fields.issued, grid.name), grid=grid, command="ingest.nrt.pull", source=source,
        license=license, synthetic=synthetic, coverage=(first, last), created=cf.date_created(settings.env),
        institution=institution, processing_level="model forecast regridded to the ArcticRoute grid"))
    return dataset


def write_forecast(settings: Settings, fields: ForecastFields, run, *, source_name: str, source_kind: str,
                   source: str, license: str, synthetic: bool, identity: dict, inputs: list[dict],
                   institution: str = "ArcticRoute") -> dict:
    """Write the issue as a new version of its artifact; returns the sidecar."""
    dataset = forecast_dataset(settings, fields, source=source, license=license, synthetic=synthetic,
                               institution=institution)
    spec = ArtifactSpec(
        logical_id=logical_id(fields.issued, settings.grid.name),
        root="data",
        relpath=relpath(fields.issued, settings.grid.name),
        kind=KIND,
        synthetic=synthetic,
        time_coverage=day_span(fields.valid_days[0], fields.valid_days[-1]),
        grid=settings.grid.describe(),
        tags=["forecast", "ice", "synthetic" if synthetic else "live", source_kind],
        inputs=inputs,
        params={"layer": LAYER, "issued": fields.issued.isoformat(),
                "valid_days": [d.isoformat() for d in fields.valid_days], "source_kind": source_kind,
                "source_name": source_name, "source_identity": identity, "license": license},
    )
    meta = write_artifact(settings.roots, spec, lambda path: write_netcdf(dataset, path, digits={"sic": 3, "sithick": 2}),
                          run_id=run.run_id, command=run.command)
    run.artifact(meta)
    return meta


def valid_days(meta: dict) -> list[date]:
    return [date.fromisoformat(d) for d in meta["params"]["valid_days"]]


def newest_issue(settings: Settings, not_after: date, back_days: int = 13) -> dict | None:
    """The sidecar of the newest forecast issued on or before ``not_after`` (looking back
    ``back_days``), or None."""
    for n in range(back_days + 1):
        meta = current_meta(settings.roots, "data", relpath(not_after - timedelta(days=n), settings.grid.name))
        if meta is not None:
            return meta
    return None


class IssueReader:
    """``sic`` and ``stage`` of the valid days of one issue a sidecar describes, for a voyage that
    asks for them many times (the search, the sailing, the explanation): the file is read and
    verified once (``store.integrity.read_verified``: the bytes hashed as read) and each valid day
    decoded once from those bytes (``layers.parse_variables``: the file's own id and days
    checked). Holds the file's bytes and the days decoded (at 6.25 km about 8 MB a day)."""

    def __init__(self, roots: dict, meta: dict):
        self.roots, self.meta = roots, meta
        self.days = valid_days(meta)
        self._data: bytes | None = None
        self._fields: dict[date, dict[str, np.ndarray]] = {}

    def valid_day(self, valid: date) -> dict[str, np.ndarray]:
        from .layers import parse_variables
        from .store.integrity import read_verified

        if valid not in self.days:
            raise ValueError(f"{self.meta['logical_id']} has no valid day {valid} "
                             f"(it covers {self.days[0]}..{self.days[-1]})")
        if valid not in self._fields:
            if self._data is None:
                self._data = read_verified(self.roots, self.meta)
            self._fields[valid] = parse_variables(self.roots, self.meta, self._data, ("sic", "stage"),
                                                  step=self.days.index(valid))
        return self._fields[valid]


def current(settings: Settings, issued: date) -> dict | None:
    """The sidecar of the current version of the forecast issued on ``issued``, or None."""
    return current_meta(settings.roots, "data", relpath(issued, settings.grid.name))


def issue_day(days: list[date], today: date) -> date:
    """The day a pull's forecast is issued on: the newest day pulled, never after today."""
    return min(max(days), today)
