"""risk.fuse: normalise each hazard to 0..1 and combine them into a daily risk layer.

Hazards (each documented in docs/route-model.md, "Risk"):

- ``ice``: ice concentration times the severity of its stage of development (new ice 0.1 ..
  heavy multi-year ice 1.0, ``ICE_SEVERITY``): older, thicker ice damages hulls and beset ships;
- ``wave``: significant wave height over a reference height (green water, slamming, icing);
- ``incidents``: the rate of the last N days' incidents per vessel-hour of exposure (AIS), both
  smoothed by the same kernel, with a floor of exposure where AIS sees no ship: where things went
  wrong lately *for the ships that were there*, so a lane is not riskier for being busy;
- ``traffic``: AIS density over a reference. Not a hazard by default (weight 0): busy lanes are
  where help is near; an operator who counts exposure to collision may give it a weight.

Methods: ``weighted`` (weights from config/runtime.yaml, hazards with weight 0 left out) and
``max`` (of the hazards with a positive weight). The fusion is incremental: a day whose
inputs and parameters are unchanged is not written again.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .. import cf
from ..config import Settings
from ..errors import ConfigError
from ..layers import (
    FORMAT_VERSION,
    grid_dataset,
    layer_relpath,
    read_artifact,
    require_grid,
    write_netcdf,
)
from ..static import load_static
from ..store.artifacts import ArtifactSpec, current_meta, input_ref, previous_meta, write_artifact
from ..store.integrity import IntegrityError, is_intact, read_json
from ..timeutil import day_span, month_days

METHODS = ("weighted", "max", "stacking")
FALLBACKS = ("weighted",)
HAZARDS = ("ice", "wave", "traffic", "incidents")


@dataclass(frozen=True)
class RiskParams:
    method: str
    weights: dict
    wave_reference_m: float
    traffic_reference: float
    incident_window_days: int
    incident_sigma_km: float
    incident_exposure_floor: float = 0.05  # vessel-hours per 1000 km2 per day assumed where AIS sees none
    incident_rate_reference: float = 1.0  # incidents per 1000 vessel-hours counted as hazard 1 - 1/e
    store_hazards: tuple[str, ...] = ()  # hazards also stored as hazard_<name> in the daily file
    fallback_reason: str | None = None  # set when stacking was refused and "weighted" used instead

    @classmethod
    def from_runtime(cls, runtime: dict, method: str | None) -> RiskParams:
        cfg = runtime["risk"]
        return cls(
            method=method or cfg["method"],
            weights=dict(cfg["weights"]),
            wave_reference_m=float(cfg["wave_reference_m"]),
            traffic_reference=float(cfg["traffic_reference"]),
            incident_window_days=int(cfg["incident_window_days"]),
            incident_sigma_km=float(cfg["incident_sigma_km"]),
            incident_exposure_floor=float(cfg.get("incident_exposure_floor", cls.incident_exposure_floor)),
            incident_rate_reference=float(cfg.get("incident_rate_reference", cls.incident_rate_reference)),
            store_hazards=tuple(cfg.get("store_hazards") or ()),
        )

    def as_dict(self) -> dict:
        values = dict(self.__dict__)
        values["store_hazards"] = list(self.store_hazards)
        return values


def daily_relpath(day: date, grid_name: str) -> str:
    return f"risk/{grid_name}/{day:%Y}/{day:%m}/risk_{day:%Y%m%d}.nc"


def monthly_relpath(year: int, month: int, grid_name: str) -> str:
    return f"risk/{grid_name}/{year:04d}/{month:02d}/risk_{year:04d}{month:02d}.nc"


def daily_logical_id(day: date, grid_name: str) -> str:
    return f"ar://risk/daily@{day:%Y%m%d}?grid={grid_name}"


def monthly_logical_id(year: int, month: int, grid_name: str) -> str:
    return f"ar://risk/monthly@{year:04d}{month:02d}?grid={grid_name}"


# Severity of a full cover of each stage of development (polaris.STAGES codes 0..11), by
# representative thickness relative to heavy multi-year ice, at least 0.1 for any ice.
ICE_SEVERITY = np.array([0.0, 0.1, 0.1, 0.1, 0.15, 0.2, 0.25, 0.3, 0.45, 0.6, 0.75, 1.0], dtype=np.float32)
UNKNOWN_ICE_SEVERITY = 0.45  # thick first-year ice, as POLARIS assumes for ice of unknown type


def ice_hazard(sic: np.ndarray, stage: np.ndarray | None) -> np.ndarray:
    """Concentration times the severity of the ice's stage of development (0..1)."""
    c = np.clip(np.nan_to_num(sic, nan=0.0), 0, 1)
    if stage is None:
        return (c * UNKNOWN_ICE_SEVERITY).astype(np.float32)
    codes = np.where(np.isfinite(stage) & (stage >= 0) & (stage <= 11), stage, 8).astype(np.int16)
    return (c * ICE_SEVERITY[codes]).astype(np.float32)


def hazards_to_risk(hazards: dict[str, np.ndarray], params: RiskParams) -> np.ndarray:
    """Combine 0..1 hazard arrays with the chosen method; only the hazards present with a
    positive weight count."""
    if params.method == "max":
        used = [hazards[name] for name in hazards if params.weights.get(name, 0.0) > 0] or list(hazards.values())
        return np.maximum.reduce(used)
    total = sum(params.weights.get(name, 0.0) for name in hazards)
    if total <= 0:
        raise ConfigError(
            f"config/runtime.yaml: key risk.weights: the weights of the available hazards ({', '.join(hazards)}) "
            "sum to zero; nothing was written",
            hint="give at least one of them a positive weight, or use --method max",
        )
    return sum(params.weights.get(name, 0.0) * hazards[name] for name in hazards) / total


def normalised_hazards(params: RiskParams, resolution_m: float, *, sic: np.ndarray, hs: np.ndarray | None = None,
                       ais: np.ndarray | None = None, incident_counts: np.ndarray | None = None,
                       stage: np.ndarray | None = None, exposure_hours: np.ndarray | None = None,
                       sea: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Each available hazard on 0..1: ice concentration times stage severity, Hs over its
    reference, AIS density per 1000 km2 over its reference (so the scale does not depend on the
    cell size), and the saturating incident rate per vessel-hour (``incident_counts`` and
    ``exposure_hours`` summed over the same ``incident_window_days``; ``sea`` where the exposure
    floor applies, every cell when not given)."""
    hazards = {"ice": ice_hazard(sic, stage)}
    if hs is not None:
        hazards["wave"] = np.clip(hs / params.wave_reference_m, 0, 1)
    if ais is not None:
        cell_area_km2 = (resolution_m / 1000.0) ** 2
        hazards["traffic"] = np.clip(ais * (1000.0 / cell_area_km2) / params.traffic_reference, 0, 1)
    if incident_counts is not None:
        rate = incident_rate(incident_counts, exposure_hours, params, resolution_m, sea)
        hazards["incidents"] = rate_hazard(rate, params)
    return hazards


def exposure_floor_hours(params: RiskParams, resolution_m: float) -> float:
    """Vessel-hours a cell is assumed to see in the incident window where AIS sees none."""
    cell_area_km2 = (resolution_m / 1000.0) ** 2
    return params.incident_exposure_floor * cell_area_km2 / 1000.0 * params.incident_window_days


def incident_rate(counts: np.ndarray, exposure_hours: np.ndarray | None, params: RiskParams, resolution_m: float,
                  sea: np.ndarray | None = None) -> np.ndarray:
    """Incidents per vessel-hour around each cell: the kernel density of the window's incidents
    over the kernel density of its exposure (AIS vessel-hours, plus the floor at sea), the same
    Gaussian kernel for both, so where incidents follow the ships the rate is flat however busy
    the lane. Without AIS the exposure is the floor alone (the rate is then the incident density
    over a constant)."""
    from scipy.ndimage import gaussian_filter

    sigma_cells = params.incident_sigma_km * 1000.0 / resolution_m
    floor = np.full(counts.shape, exposure_floor_hours(params, resolution_m))
    if sea is not None:
        floor[~sea] = 0.0
    hours = floor if exposure_hours is None else floor + np.nan_to_num(np.asarray(exposure_hours, np.float64), nan=0.0)
    smoothed_hours = gaussian_filter(hours, sigma=sigma_cells, mode="constant")
    smoothed_counts = incident_density(counts, params.incident_sigma_km, resolution_m)
    rate = np.zeros(counts.shape, dtype=np.float64)
    np.divide(smoothed_counts, smoothed_hours, out=rate, where=smoothed_hours > 0)
    return rate


def rate_hazard(rate: np.ndarray, params: RiskParams) -> np.ndarray:
    """A rate per vessel-hour on 0..1, saturating: ``incident_rate_reference`` incidents per 1000
    vessel-hours give 1 - 1/e."""
    return (1.0 - np.exp(-rate * 1000.0 / params.incident_rate_reference)).astype(np.float32)


def incident_density(counts: np.ndarray, sigma_km: float, resolution_m: float) -> np.ndarray:
    """Kernel density of incidents (incidents per cell, the sum preserved).

    The density is ``scipy.ndimage.gaussian_filter(counts, sigma, mode="constant")`` (truncated
    at 4 sigma), computed only where it is not zero: the incidents are grouped into clusters
    whose reach (4 sigma around each) overlaps, and each cluster's box is filtered on its own.
    Outside every box the density is exactly 0, and inside a box the filter reads the same
    values in the same order as over the whole grid, so the result is bit for bit the whole-grid
    filter's, at a cost that grows with the number of incidents, not with the grid.
    """
    from scipy.ndimage import gaussian_filter  # 0.2 s to import: only where there are incidents

    sigma_cells = sigma_km * 1000.0 / resolution_m
    density = np.zeros(counts.shape, dtype=np.float64)
    rows, cols = np.nonzero(counts)
    if rows.size == 0:
        return density
    reach = int(4.0 * sigma_cells + 0.5)  # scipy's radius for truncate=4.0
    for r0, r1, c0, c1 in _reach_boxes(rows, cols, reach, counts.shape):
        block = counts[r0:r1, c0:c1].astype(np.float64)
        density[r0:r1, c0:c1] = gaussian_filter(block, sigma=sigma_cells, mode="constant")
    return density


def _reach_boxes(rows: np.ndarray, cols: np.ndarray, reach: int, shape: tuple[int, int]) -> list[tuple]:
    """Disjoint boxes ``(r0, r1, c0, c1)`` (end exclusive, clipped to the grid) covering every
    cell within ``reach`` of an incident: boxes that share a cell are merged until none do."""
    boxes = [(max(r - reach, 0), min(r + reach + 1, shape[0]), max(c - reach, 0), min(c + reach + 1, shape[1]))
             for r, c in sorted(set(zip(rows.tolist(), cols.tolist(), strict=True)))]
    merged = True
    while merged:
        merged = False
        out: list[tuple] = []
        for box in boxes:
            for i, other in enumerate(out):
                if box[0] < other[1] and other[0] < box[1] and box[2] < other[3] and other[2] < box[3]:
                    out[i] = (min(box[0], other[0]), max(box[1], other[1]), min(box[2], other[2]), max(box[3], other[3]))
                    merged = True
                    break
            else:
                out.append(box)
        boxes = out
    return boxes


_INCIDENT_CELLS: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}


def _incident_cells(roots, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices and counts of the cells with incidents, by logical id and sha256.

    Each day's incidents feed the risk of the next ``incident_window_days`` days; keeping
    the few non-zero cells of each verified version avoids reading every file that many times.
    """
    key = (meta["logical_id"], meta["sha256"])
    if key not in _INCIDENT_CELLS:
        count = read_artifact(roots, meta, "count").ravel()
        cells = np.flatnonzero(count)
        _INCIDENT_CELLS[key] = (cells, count[cells])
    return _INCIDENT_CELLS[key]


def _incident_counts(roots, metas: list[dict], shape: tuple[int, int]) -> np.ndarray:
    counts = np.zeros(shape[0] * shape[1], dtype=np.float64)
    for meta in metas:
        cells, values = _incident_cells(roots, meta)
        np.add.at(counts, cells, values)
    return counts.reshape(shape)


_AIS_CACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()


def _exposure_hours(roots, metas: list[dict], params: RiskParams, shape: tuple[int, int]) -> np.ndarray | None:
    """AIS vessel-hours per cell summed over the window's days that have an AIS layer, scaled up
    to the whole window when some days lack one (None without any). Each day's field is kept
    (float16: it is smoothed anyway) for the next days' windows, at most a window's worth."""
    if not metas:
        return None
    total = np.zeros(shape, dtype=np.float64)
    for meta in metas:
        key = (meta["logical_id"], meta["sha256"])
        if key not in _AIS_CACHE:
            _AIS_CACHE[key] = np.nan_to_num(read_artifact(roots, meta, "density"), nan=0.0).astype(np.float16)
            while len(_AIS_CACHE) > params.incident_window_days + 2:
                _AIS_CACHE.popitem(last=False)
        total += _AIS_CACHE[key]
    return total * (params.incident_window_days / len(metas))


def _day_inputs(roots, day: date, window_days: int, grid_name: str, *, shift: int = 0) -> dict[str, list[dict]]:
    """Current sidecars of the inputs of one day's risk (incidents over a window; ``shift`` 1
    ends the window the day before, as stacking's features must: the day's own incidents are
    what it predicts)."""
    found: dict[str, list[dict]] = {}
    for hazard, layer in (("ice", "ice.sic"), ("ice_type", "ice.type"), ("wave", "wave.hs"),
                          ("traffic", "ais.density")):
        meta = current_meta(roots, "data", layer_relpath(layer, day, grid_name))
        if meta is not None:
            found[hazard] = [meta]
    window = [day - timedelta(days=n) for n in range(shift, window_days + shift)]
    incidents = [m for d in window
                 if (m := current_meta(roots, "data", layer_relpath("incidents", d, grid_name)))]
    if incidents:
        found["incidents"] = incidents
        exposure = [m for d in window if (m := current_meta(roots, "data", layer_relpath("ais.density", d, grid_name)))]
        if exposure:
            found["exposure"] = exposure
    return found


# 2: incidents as a rate per vessel-hour of AIS exposure (was: a saturating incident density)
INCIDENT_MODEL = 2
RISK_DIGITS = 4  # decimal digits the stored risk and hazards keep (least_significant_digit)
_UNKNOWN_LICENCE = "unknown for inputs written before artifacts recorded their licence"


def inputs_licence(metas: list[dict]) -> str:
    """The licences of the layers a risk field is made from (their sidecars record them)."""
    return cf.licence_of(m.get("params", {}).get("license") or _UNKNOWN_LICENCE for m in metas)


def _digest(inputs: list[dict], params: dict, grid_name: str) -> str:
    """What a daily or monthly risk file is made from; the storage format is part of it, so a
    new format (different bytes from the same inputs) is written again."""
    payload = {"inputs": sorted((i["logical_id"], i["sha256"]) for i in inputs), "params": params, "grid": grid_name}
    if FORMAT_VERSION > 1:
        payload["format"] = [FORMAT_VERSION, RISK_DIGITS]
    payload["incident_model"] = INCIDENT_MODEL
    payload = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _up_to_date(roots, previous: dict | None, digest: str, force: bool) -> bool:
    """The current version was made from the same inputs and its file is intact."""
    return (not force and previous is not None and previous.get("params", {}).get("inputs_digest") == digest
            and is_intact(roots, previous))


def day_hazards(settings: Settings, found: dict[str, list[dict]], params: RiskParams) -> dict[str, np.ndarray]:
    """The normalised hazards of one day from the sidecars ``_day_inputs`` found, verified on read."""
    roots = settings.roots
    return normalised_hazards(
        params,
        settings.grid.resolution_m,
        sic=read_artifact(roots, found["ice"][0], "sic"),
        hs=read_artifact(roots, found["wave"][0], "hs") if "wave" in found else None,
        ais=read_artifact(roots, found["traffic"][0], "density") if "traffic" in found else None,
        incident_counts=(_incident_counts(roots, found["incidents"], settings.grid.shape)
                         if "incidents" in found else None),
        stage=read_artifact(roots, found["ice_type"][0], "stage") if "ice_type" in found else None,
        exposure_hours=_exposure_hours(roots, found.get("exposure", []), params, settings.grid.shape),
        sea=~load_static(roots, settings.grid).land,
    )


def day_exposure(settings: Settings, found: dict[str, list[dict]], params: RiskParams) -> np.ndarray:
    """Vessel-hours in each cell on the day: its AIS density (0 without a layer) plus the floor."""
    floor = exposure_floor_hours(params, settings.grid.resolution_m) / params.incident_window_days
    if "traffic" not in found:
        return np.full(settings.grid.shape, floor)
    ais = np.nan_to_num(read_artifact(settings.roots, found["traffic"][0], "density"), nan=0.0)
    return ais.astype(np.float64) + floor


@dataclass(frozen=True)
class FuseJob:
    """One day to fuse, as a worker process receives it (its inputs already found and cited)."""

    settings: Settings
    day: date
    params: RiskParams
    found: dict
    inputs: tuple
    digest: str
    model: tuple | None = None


@dataclass
class Fused:
    """A worker's fused day: its temporary netCDF file (unpublished) and what its sidecar needs."""

    day: date
    tmp: str
    hazards: list[str]
    warnings: list[str]
    synthetic: bool
    license: str  # the licences of the inputs, as the file states them


def plan_day(settings: Settings, day: date, params: RiskParams, *, force: bool = False,
             model: tuple[dict, dict] | None = None) -> FuseJob | str:
    """The day's fuse job, or "unchanged" (same inputs, intact current version) or "no-inputs"."""
    roots = settings.roots
    grid_name = settings.grid.name
    found = _day_inputs(roots, day, params.incident_window_days, grid_name, shift=1 if model else 0)
    if "ice" not in found:
        return "no-inputs"
    metas = list({m["logical_id"]: m for group in found.values() for m in group}.values()) + (
        [model[1]] if model else [])
    require_grid(metas, settings.grid)
    inputs = [input_ref(m) for m in metas]
    digest = _digest(inputs, params.as_dict(), grid_name)
    if _up_to_date(roots, previous_meta(roots, "data", daily_relpath(day, grid_name)), digest, force):
        return "unchanged"
    return FuseJob(settings, day, params, found, tuple(inputs), digest, model)


def compute_day(job: FuseJob) -> Fused:
    """Read the day's inputs (verified), fuse them and write the result to a temporary file
    beside its artifact (worker side; ``publish_day`` makes it the artifact)."""
    from ..ingest import _write_temp

    settings, day, params, found, model = job.settings, job.day, job.params, job.found, job.model
    roots = settings.roots
    static = load_static(roots, settings.grid)
    hazards = day_hazards(settings, found, params)
    missing = [f"{name} hazard missing for {day}: risk fused without it" for name in HAZARDS if name not in hazards]
    if "ice_type" not in found:
        missing.append(f"ice.type missing for {day}: ice of unknown type counted as thick first-year ice")
    if params.fallback_reason:
        missing.append(params.fallback_reason)

    variables = {}
    if model:
        from . import stacking

        document = model[0]
        features = stacking.features_matrix(hazards, np.ones(settings.grid.shape, dtype=bool))
        rate = stacking.predict(document, features).reshape(settings.grid.shape)
        exposure = day_exposure(settings, found, params)
        probability = (-np.expm1(-rate * exposure)).astype(np.float32)
        risk = stacking.risk_from_rate(document, rate).astype(np.float32)
        probability[static.land] = np.nan
        rate = rate.astype(np.float32)
        rate[static.land] = np.nan
        variables["probability"] = (probability, {"units": "1", "long_name": "probability of an incident in the cell "
                                                  "on the day (stacking model: rate x the day's exposure)",
                                                  "valid_range": [0.0, 1.0], "coverage_content_type": "modelResult"})
        variables["incident_rate"] = (rate, {"units": "h-1", "long_name": "incidents per vessel-hour in the cell on "
                                             "the day (stacking model)", "coverage_content_type": "modelResult"})
        long_name = "fused risk (stacking): incident rate per vessel-hour over the model's reference, capped at 1"
    else:
        risk = hazards_to_risk(hazards, params).astype(np.float32)
        long_name = f"fused risk ({params.method})"
    risk[static.land] = np.nan
    variables = {"risk": (risk, {"units": "1", "long_name": long_name, "valid_range": [0.0, 1.0], "coverage_content_type": "modelResult"}), **variables}
    for name in params.store_hazards:
        if name not in hazards:
            continue
        hazard = hazards[name].astype(np.float32)
        hazard[static.land] = np.nan
        variables[f"hazard_{name}"] = (hazard, {"units": "1", "long_name": f"{name} hazard, normalised",
                                                "valid_range": [0.0, 1.0], "coverage_content_type": "modelResult"})
    layer_metas = list({m["logical_id"]: m for group in found.values() for m in group}.values())
    synthetic = any(m.get("synthetic") for m in [*layer_metas, *([model[1]] if model else [])])
    licence = inputs_licence(layer_metas)
    attrs = cf.discovery_attrs(
        title=f"ArcticRoute risk {day.isoformat()} on {settings.grid.name}",
        summary=(f"Risk of navigating each cell of the {settings.grid.name} grid on {day.isoformat()} (0 none .. 1 "
                 f"highest), fused by ArcticRoute's risk.fuse ({params.method}) from the day's layers: "
                 f"{', '.join(sorted(hazards))}. Land cells have no value."),
        keywords="sea ice, ship routing, navigation risk, Arctic", logical_id=daily_logical_id(day, settings.grid.name),
        grid=settings.grid, command="risk.fuse", source=f"ArcticRoute risk.fuse ({params.method}) of "
        + ", ".join(sorted(m["logical_id"] for m in layer_metas)),
        license=licence, synthetic=synthetic, processing_level="derived: risk model result",
        created=cf.date_created(settings.env), coverage=(day, day))
    dataset = grid_dataset(settings.grid, variables, attrs, coverage=(day, day),
                           latlon=settings.runtime["storage"]["latlon_in_every_file"])
    target = settings.data_root / daily_relpath(day, settings.grid.name)
    digits = {name: RISK_DIGITS for name in variables if name not in ("probability", "incident_rate")}  # tiny: exact
    tmp = _write_temp(target, lambda path: write_netcdf(dataset, path, digits=digits),
                      daily_logical_id(day, settings.grid.name))
    return Fused(day, str(tmp), sorted(hazards), missing, synthetic, licence)


def publish_day(settings: Settings, job: FuseJob, fused: Fused, run) -> dict:
    """Make a worker's fused day the day's new artifact version (parent side)."""
    import os

    day, params, grid_name = job.day, job.params, settings.grid.name
    for message in fused.warnings:
        run.warn(message)
    spec = ArtifactSpec(
        logical_id=daily_logical_id(day, grid_name),
        root="data",
        relpath=daily_relpath(day, grid_name),
        kind="risk-daily",
        synthetic=fused.synthetic,
        time_coverage=day_span(day),
        grid=settings.grid.describe(),
        tags=["risk", params.method] + (["synthetic"] if fused.synthetic else []),
        inputs=list(job.inputs),
        params={**params.as_dict(), "hazards": fused.hazards, "inputs_digest": job.digest, "license": fused.license,
                **({"model": job.model[1]["logical_id"]} if job.model else {})},
        warnings=fused.warnings,
    )
    meta = write_artifact(settings.roots, spec, lambda path: os.replace(fused.tmp, path),
                          run_id=run.run_id, command=run.command)
    run.artifact(meta)
    return meta


def fuse_day(settings: Settings, day: date, params: RiskParams, run, *, force: bool = False,
             model: tuple[dict, dict] | None = None) -> str:
    """Write the day's risk layer if its inputs changed or its current version is missing or
    corrupt; returns "written", "unchanged" or "no-inputs". ``model`` (document, sidecar) is the
    stacking model when the method is "stacking". One day, in this process (``fuse_month``
    spreads the days over worker processes)."""
    job = plan_day(settings, day, params, force=force, model=model)
    if isinstance(job, str):
        return job
    load_static(settings.roots, settings.grid, run=run)
    fused = compute_day(job)
    try:
        publish_day(settings, job, fused, run)
    finally:
        from pathlib import Path

        Path(fused.tmp).unlink(missing_ok=True)
    return "written"


def model_relpath(year: int, month: int, grid_name: str) -> str:
    return f"risk/{grid_name}/models/stacking_{year:04d}{month:02d}.json"


def model_logical_id(year: int, month: int, grid_name: str) -> str:
    return f"ar://risk/model@{year:04d}{month:02d}?grid={grid_name}"


def stacking_model(settings: Settings, year: int, month: int, params: RiskParams, run, *,
                   force: bool = False) -> tuple[dict, dict]:
    """The month's stacking model (document, sidecar): fitted on the months before it, or the
    current version when its inputs are unchanged. TooFewIncidentsError when it cannot be."""
    from . import stacking

    roots, grid_name = settings.roots, settings.grid.name
    sp = stacking.StackingParams.from_runtime(settings.runtime)
    train_months, held_months = stacking.split_months(year, month, sp)
    train_days = [d for ym in train_months for d in month_days(*ym)]
    held_days = [d for ym in held_months for d in month_days(*ym)]
    found_by_day = {d: _day_inputs(roots, d, params.incident_window_days, grid_name, shift=1)
                    for d in train_days + held_days}
    outcome = {d: current_meta(roots, "data", layer_relpath("incidents", d, grid_name)) for d in found_by_day}
    usable = {d for d, found in found_by_day.items() if "ice" in found and outcome[d] is not None}
    metas = {m["logical_id"]: m for d in sorted(usable)
             for m in [*(m for group in found_by_day[d].values() for m in group), outcome[d]]}
    require_grid(list(metas.values()), settings.grid)
    inputs = [input_ref(m) for m in metas.values()]
    payload = {"inputs": sorted((i["logical_id"], i["sha256"]) for i in inputs), "stacking": sp.as_dict(),
               "risk": {k: v for k, v in params.as_dict().items() if k not in ("method", "fallback_reason")},
               "model_version": stacking.MODEL_VERSION, "grid": grid_name}
    digest = stacking.digest(payload)
    relpath = model_relpath(year, month, grid_name)
    previous = previous_meta(roots, "data", relpath)
    if _up_to_date(roots, previous, digest, force):
        return read_json(roots, previous), previous
    static = load_static(roots, settings.grid, run=run)
    sea = ~static.land

    def load(day: date):
        if day not in usable:
            return None
        hazards = day_hazards(settings, found_by_day[day], params)
        counts = read_artifact(roots, outcome[day], "count")
        exposure = day_exposure(settings, found_by_day[day], params)
        return stacking.DayData(stacking.features_matrix(hazards, sea), counts[sea], exposure[sea])

    document = stacking.fit(sorted(d for d in train_days if d in usable), sorted(d for d in held_days if d in usable),
                            load, sp, params.weights)
    document["training_months"] = [f"{y:04d}-{m:02d}" for y, m in train_months]
    document["heldout_months"] = [f"{y:04d}-{m:02d}" for y, m in held_months]
    synthetic = any(m.get("synthetic") for m in metas.values())
    document["synthetic"] = synthetic
    held, weighted = document["heldout"], document["weighted_heldout"]
    spec = ArtifactSpec(
        logical_id=model_logical_id(year, month, grid_name),
        root="data",
        relpath=relpath,
        kind="risk-model",
        synthetic=synthetic,
        time_coverage=day_span(train_days[0], held_days[-1]),
        grid=settings.grid.describe(),
        tags=["risk", "model", "stacking"] + (["synthetic"] if synthetic else []),
        inputs=inputs,
        params={"inputs_digest": digest, "training_months": document["training_months"],
                "heldout_months": document["heldout_months"], "features": document["features"],
                "coefficients": document["coefficients"], "intercept": document["intercept"],
                "training_incident_cell_days": document["training_incident_cell_days"],
                "heldout_incident_cell_days": held["events"],
                "heldout_skill": {"brier": held["brier"], "brier_climatology": held["brier_climatology"],
                                  "brier_skill": held["brier_skill"],
                                  "brier_skill_interval": held["brier_skill_interval"],
                                  "weighted_brier_skill": weighted["brier_skill"]},
                "stacking": sp.as_dict()},
    )
    text = json.dumps(document, indent=1, allow_nan=False)
    meta = write_artifact(roots, spec, lambda p: p.write_text(text, encoding="utf-8"),
                          run_id=run.run_id, command=run.command)
    run.artifact(meta)
    return document, meta


def monthly_mean_max(days) -> tuple[np.ndarray, np.ndarray]:
    """NaN-ignoring mean and maximum of daily float32 grids, one day in memory at a time.

    The running sum is float32 added day by day, as ``np.nanmean`` over a stack adds along
    its first axis, and the division is the one ``nanmean`` does, so the result is bit for bit
    ``np.nanmean(stack, axis=0)`` and ``np.nanmax(stack, axis=0)`` (NaN where every day is NaN:
    land) without holding the month (850 MB at 6.25 km) in memory.
    """
    total = count = peak = None
    for values in days:
        values = np.asarray(values, dtype=np.float32)
        missing = np.isnan(values)
        if total is None:
            total = np.where(missing, np.float32(0), values)
            count = (~missing).astype(np.intp)
            peak = values.copy()
        else:
            total += np.where(missing, np.float32(0), values)
            count += ~missing
            np.fmax(peak, values, out=peak)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # land cells are NaN on every day
        mean = np.true_divide(total, count, out=total, casting="unsafe")
    return mean, peak


def fuse_monthly(settings: Settings, year: int, month: int, params: RiskParams, run, *, force: bool = False) -> str:
    """Monthly mean and maximum of the daily risk layers; "written", "unchanged" or "no-inputs"."""
    roots = settings.roots
    grid_name = settings.grid.name
    metas = [m for d in month_days(year, month) if (m := current_meta(roots, "data", daily_relpath(d, grid_name)))]
    if not metas:
        return "no-inputs"
    require_grid(metas, settings.grid)
    inputs = [input_ref(m) for m in metas]
    digest = _digest(inputs, params.as_dict(), grid_name)
    if _up_to_date(roots, previous_meta(roots, "data", monthly_relpath(year, month, grid_name)), digest, force):
        return "unchanged"
    mean, peak = monthly_mean_max(read_artifact(roots, m, "risk") for m in metas)
    days = [m["time_coverage"]["start"][:10] for m in metas]
    synthetic = any(m.get("synthetic") for m in metas)
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    over = f"(interval: 1 day comment: {len(days)} daily risk fields of {first.isoformat()}..{last.isoformat()})"
    variables = {
        "risk_mean": (mean.astype(np.float32), {"units": "1", "long_name": "monthly mean risk",
                                                "cell_methods": f"time: mean {over}", "valid_range": [0.0, 1.0], "coverage_content_type": "modelResult"}),
        "risk_max": (peak.astype(np.float32), {"units": "1", "long_name": "monthly maximum risk",
                                               "cell_methods": f"time: maximum {over}", "valid_range": [0.0, 1.0], "coverage_content_type": "modelResult"}),
    }
    licence = inputs_licence(metas)
    attrs = cf.discovery_attrs(
        title=f"ArcticRoute risk {year:04d}-{month:02d} summary on {settings.grid.name}",
        summary=(f"Mean and maximum over {len(days)} days of {year:04d}-{month:02d} of ArcticRoute's daily risk "
                 f"({params.method}) on the {settings.grid.name} grid; the days summarised are the variable day."),
        keywords="sea ice, ship routing, navigation risk, monthly summary, Arctic",
        logical_id=monthly_logical_id(year, month, grid_name), grid=settings.grid, command="risk.fuse",
        source=f"ArcticRoute risk.fuse: summary of the daily risk artifacts ar://risk/daily@{year:04d}{month:02d}..",
        license=licence, synthetic=synthetic, processing_level="derived: risk model result",
        created=cf.date_created(settings.env), coverage=(first, last))
    dataset = grid_dataset(settings.grid, variables, attrs, coverage=(first, last),
                           latlon=settings.runtime["storage"]["latlon_in_every_file"])
    dataset = dataset.assign_coords(day=("day", [cf.day_number(date.fromisoformat(d)) for d in days], {
        "long_name": "days whose daily risk fields are summarised", "units": cf.TIME_UNITS, "calendar": cf.CALENDAR}))
    spec = ArtifactSpec(
        logical_id=monthly_logical_id(year, month, settings.grid.name),
        root="data",
        relpath=monthly_relpath(year, month, grid_name),
        kind="risk-monthly",
        synthetic=synthetic,
        time_coverage=day_span(first, last),
        grid=settings.grid.describe(),
        tags=["risk", "monthly", params.method] + (["synthetic"] if synthetic else []),
        inputs=inputs,
        params={**params.as_dict(), "days": len(days), "inputs_digest": digest, "license": licence},
    )
    digits = {"risk_mean": RISK_DIGITS, "risk_max": RISK_DIGITS}
    meta = write_artifact(roots, spec, lambda p: write_netcdf(dataset, p, digits=digits), run_id=run.run_id,
                          command=run.command)
    run.artifact(meta)
    return "written"


def fuse_month(settings: Settings, year: int, month: int, method: str | None, run, *, force: bool = False,
               fallback: str | None = None, jobs: int | None = None, executor: str = "process",
               scheduler: str | None = None, progress: Callable[[date, str], None] | None = None) -> dict:
    """Fuse every day of the month, then its summary. A day whose inputs fail verification is
    refused (nothing derived from them is written) and the others go on; the run then fails
    naming each refused input and the command that restores it.

    With ``stacking`` the month's model is fitted first (or reused); too few incidents to fit it
    fails the run, unless ``fallback`` is "weighted": then the month is fused with ``weighted``
    and every daily sidecar, the summary and the report say why.

    The days are fused by worker processes, ``jobs`` at a time (default one per core), or on a
    dask cluster with ``executor="dask"`` (see parallel.py); this process plans them, publishes
    each result and writes the summary. ``progress(day, outcome)`` is called once per day."""
    from contextlib import closing
    from dataclasses import replace

    from ..parallel import resolve_jobs, run_tasks
    from .stacking import TooFewIncidentsError

    params = RiskParams.from_runtime(settings.runtime, method)
    counts = {"written": 0, "unchanged": 0, "no-inputs": 0, "refused": 0}
    model = None
    if params.method == "stacking":
        try:
            model = stacking_model(settings, year, month, params, run, force=force)
        except TooFewIncidentsError as exc:
            if fallback != "weighted":
                raise
            reason = f"stacking refused ({exc}); fused with weighted instead (--fallback weighted)"
            run.warn(reason)
            params = replace(params, method="weighted", fallback_reason=reason)
            counts["fallback"] = "weighted"
        else:
            held = model[0]["heldout"]
            counts["model"] = {"logical_id": model[1]["logical_id"], "version": model[1]["version"],
                               "coefficients": model[0]["coefficients"], "heldout_brier_skill": held["brier_skill"],
                               "heldout_brier_skill_interval": held.get("brier_skill_interval"),
                               "weighted_heldout_brier_skill": model[0]["weighted_heldout"]["brier_skill"]}
    refused: list[IntegrityError] = []
    jobs_to_run = []
    for day in month_days(year, month):
        try:
            planned = plan_day(settings, day, params, force=force, model=model)
        except IntegrityError as exc:
            refused.append(exc)
            counts["refused"] += 1
            run.log.error("risk %s not fused: %s", day, exc)
            if progress is not None:
                progress(day, "refused")
            continue
        if isinstance(planned, str):
            counts[planned] += 1
            if progress is not None:
                progress(day, planned)
        else:
            jobs_to_run.append(planned)
    if jobs_to_run:
        load_static(settings.roots, settings.grid, run=run)  # built here, once, before any worker needs it
    folders = [(settings.data_root / daily_relpath(job.day, settings.grid.name)).parent for job in jobs_to_run]
    try:
        with closing(run_tasks(compute_day, jobs_to_run, jobs=resolve_jobs(jobs), run_tag=run.run_id,
                               outputs_root=str(settings.outputs_root), log=run.log, executor=executor,
                               scheduler=scheduler)) as results:
            for job, result in results:
                try:
                    result.reraise()
                except IntegrityError as exc:
                    refused.append(exc)
                    counts["refused"] += 1
                    run.log.error("risk %s not fused: %s", job.day, exc)
                    if progress is not None:
                        progress(job.day, "refused")
                    continue
                publish_day(settings, job, result.value, run)
                counts["written"] += 1
                run.log.info("risk %s written", job.day)
                if progress is not None:
                    progress(job.day, "written")
    finally:
        from ..ingest import remove_run_temporaries

        remove_run_temporaries(folders, run.run_id)
    counts["monthly"] = fuse_monthly(settings, year, month, params, run, force=force)
    if refused:
        run.summary = counts
        raise IntegrityError(
            f"{len(refused)} day(s) not fused because an input failed verification: "
            + "; ".join(str(exc) for exc in refused[:3]) + (" …" if len(refused) > 3 else ""),
            hint=refused[0].hint,
        )
    return counts
