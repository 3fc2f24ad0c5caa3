"""Sea-area rules beside POLARIS: the NSR admission criteria and Canada's Arctic zones, as data.

``config/sea_area_rules.yaml`` (schema ``config_schema.SEA_RULES_SCHEMA``) holds the regions
(polygons in lon/lat), the vessel class -> RS class map, how the type of ice conditions is
estimated, the seasons and the NSR criteria table, every row citing its source. ``assess``
applies them to a sailed route: each region the route enters, its miles there, the type of ice
conditions met (the most severe of its steps there), and the mode the rules permit:
independent, with icebreaker escort, or not permitted (the rule named). The route's verdict is
the most restrictive of its regions. See docs/route-model.md, "Sea-area rules".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .. import polaris
from ..config import read_config_file
from ..config_schema import SEA_RULES_SCHEMA
from ..errors import ConfigError
from .geometry import METRES_PER_NM

FILE_NAME = "sea_area_rules.yaml"
CONDITIONS = ("open water", "light", "medium", "heavy")  # index = severity
MODES = ("independent", "escort", "not permitted")  # index = restriction
_TABLE_ORDER = {"heavy": 0, "medium": 1, "light": 2}  # position in a criteria string (T S L)


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    regime: str
    polygon: np.ndarray  # (n, 2) lon (0..360 east), lat
    source: str


@dataclass(frozen=True)
class SeaRules:
    data: dict
    path: Path
    sha256: str
    regions: tuple[Region, ...]

    def source_title(self, key: str) -> str:
        return self.data["sources"].get(key, {}).get("title", key).strip()


_CACHE: dict[tuple, SeaRules] = {}


def load(config_dir: Path) -> SeaRules:
    """The rules of ``config_dir``/sea_area_rules.yaml, validated (ConfigError naming the file
    and key); kept per file identity."""
    path = Path(config_dir) / FILE_NAME
    try:
        stat = path.stat()
    except OSError:
        raise ConfigError(f"{path} is missing: route.plan applies the sea-area rules it holds",
                          hint=f"copy {FILE_NAME} from the repository's config/ folder") from None
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key in _CACHE:
        return _CACHE[key]
    data = read_config_file(path, SEA_RULES_SCHEMA)
    problems = _reference_problems(data)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems[:12]), hint="fix the keys named above")
    regions = tuple(Region(r["id"], r["name"], r["regime"], np.asarray(r["polygon"], dtype=np.float64) % [360.0, 1e9],
                           r["source"]) for r in data["regions"])
    rules = SeaRules(data, path, hashlib.sha256(path.read_bytes()).hexdigest(), regions)
    _CACHE.clear()
    _CACHE[key] = rules
    return rules


def _reference_problems(data: dict) -> list[str]:
    """What the schema cannot check: sources, areas and classes named by rows exist."""
    sources, problems = set(data["sources"]), []
    area_ids = {r["id"] for r in data["regions"]}
    nsr_ids = {r["id"] for r in data["regions"] if r["regime"] == "nsr"}
    cited = [("class_map", i, row) for i, row in enumerate(data["class_map"])]
    cited += [(name, i, row) for name in ("regions", "seasons", "nsr_criteria", "notices")
              for i, row in enumerate(data.get(name, []))]
    for name, i, row in cited:
        if row["source"] not in sources:
            problems.append(f"key {name}.{i}.source: {row['source']!r} is not a key of sources")
    if data["ice_conditions"]["source"] not in sources:
        problems.append(f"key ice_conditions.source: {data['ice_conditions']['source']!r} is not a key of sources")
    if len(area_ids) != len(data["regions"]):
        problems.append("key regions: two regions share an id")
    rs_classes = {row["to"] for row in data["class_map"]}
    covered: dict[tuple[str, str], int] = {}
    for i, row in enumerate(data["nsr_criteria"]):
        areas = sorted(nsr_ids) if row["areas"] == "all" else row["areas"]
        for area in areas:
            if area not in nsr_ids:
                problems.append(f"key nsr_criteria.{i}.areas: {area!r} is not an nsr region id")
            elif (row["class"], area) in covered:
                problems.append(f"key nsr_criteria.{i}: {row['class']} in {area} is given again "
                                f"(row {covered[(row['class'], area)]})")
            covered[(row["class"], area)] = i
    for cls in sorted(rs_classes):
        missing = sorted(a for a in nsr_ids if (cls, a) not in covered)
        if missing:
            problems.append(f"key nsr_criteria: no row for class {cls} in {', '.join(missing)}")
    return problems


def rs_class(rules: SeaRules, ice_class: str) -> tuple[str, str]:
    """The RS class whose criteria apply to a vessel of ``ice_class`` and the source of that
    correspondence; ConfigError when the table has no row for it."""
    names = {str(ice_class).strip().lower(), polaris.polaris_class(ice_class).lower()}
    for row in rules.data["class_map"]:
        if names & {name.lower() for name in row["from"]}:
            return row["to"], row["source"]
    raise ConfigError(f"{rules.path}: key class_map: no row maps ice class {ice_class!r}",
                      hint="add the class to a from: list of class_map")


def ice_conditions(rules: SeaRules, sic: np.ndarray, stage: np.ndarray) -> np.ndarray:
    """Per step, the type of ice conditions as an index of ``CONDITIONS``."""
    spec = rules.data["ice_conditions"]
    sic = np.nan_to_num(np.asarray(sic, dtype=np.float64), nan=0.0)
    c = polaris.tenths(sic)
    stage = np.asarray(stage, dtype=np.int16)
    out = np.where(sic < spec["open_below"], 0, 1).astype(np.int8)
    for level, kind in ((2, "medium"), (3, "heavy")):
        for rule in spec[kind]:
            out[(c >= rule["min_tenths"]) & (stage >= rule["min_stage"]) & (sic >= spec["open_below"])] = level
    return out


_MAPS: list[tuple[object, object, float, str, np.ndarray]] = []


def conditions_map(rules: SeaRules, sic: np.ndarray, stage: np.ndarray | None, resolution_m: float) -> np.ndarray:
    """Per grid cell, the type of ice conditions within ``ice_conditions.corridor_nm`` of it (the
    most severe there): the Headquarters type an area's ice, not a ship's track, so a route
    skirting the ice edge meets the conditions of the ice beside it. Kept for the last few
    fields (the same day's conditions serve the closures and the verdict)."""
    for hit_sic, hit_stage, hit_res, digest, out in _MAPS:
        if hit_sic is sic and hit_stage is stage and hit_res == resolution_m and digest == rules.sha256:
            return out
    from scipy import ndimage

    out = ice_conditions(rules, sic, polaris.stage_or_default(sic, stage))
    steps = int(round(rules.data["ice_conditions"]["corridor_nm"] * METRES_PER_NM / resolution_m))
    # the radius as an octagon, within 8 % of the circle: one-cell dilations, alternately over the
    # eight and the four neighbours (a wide circular footprint costs seconds at 6.25 km)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    for i in range(steps):
        out = ndimage.maximum_filter(out, size=3, mode="nearest") if i % 2 == 0 else \
            ndimage.maximum_filter(out, footprint=cross, mode="nearest")
    _MAPS.insert(0, (sic, stage, resolution_m, rules.sha256, out))
    del _MAPS[4:]
    return out


def region_index(rules: SeaRules, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Per point, the index of the first region holding it (-1: none)."""
    lon = np.asarray(lon, dtype=np.float64) % 360.0
    lat = np.asarray(lat, dtype=np.float64)
    out = np.full(lon.shape, -1, dtype=np.int16)
    for k, region in enumerate(rules.regions):
        free = out < 0
        out[free & _inside(region.polygon, lon, lat)] = k
    return out


def _inside(polygon: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon (edges straight in lon/lat)."""
    inside = np.zeros(x.shape, dtype=bool)
    px, py = polygon[:, 0], polygon[:, 1]
    for i in range(len(polygon)):
        x0, y0, x1, y1 = px[i - 1], py[i - 1], px[i], py[i]
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < at)
    return inside


def _criterion(rules: SeaRules, cls: str, area: str) -> dict:
    for row in rules.data["nsr_criteria"]:
        if row["class"] == cls and (row["areas"] == "all" or area in row["areas"]):
            return row
    raise ConfigError(f"{rules.path}: key nsr_criteria: no row for class {cls} in {area}",
                      hint="every class of class_map needs a row for every nsr region")


def nsr_mode(rules: SeaRules, cls: str, area: str, condition: int) -> tuple[int, dict]:
    """Mode (index of ``MODES``) the NSR criteria permit class ``cls`` in ``area`` under the
    type of ice conditions ``condition`` (index of ``CONDITIONS``), and the row deciding it."""
    row = _criterion(rules, cls, area)
    if condition == 0:
        return MODES.index(row.get("open_water", "independent")), row
    where = _TABLE_ORDER[CONDITIONS[condition]]
    if row["independent"][where] == "+":
        return 0, row
    if row["escort"][where] == "+":
        return 1, row
    return 2, row


def _in_season(start: str, end: str, day: date) -> bool:
    mmdd = f"{day:%m-%d}"
    return start <= mmdd <= end if start <= end else (mmdd >= start or mmdd <= end)


def season_refusal(rules: SeaRules, regime: str, cls: str, days: list[date]) -> tuple[dict, date] | None:
    """The season rule barring class ``cls`` from the regime's waters on one of ``days`` (and
    the first such day), or None."""
    for row in rules.data["seasons"]:
        if row["regime"] == regime and cls in row["classes"]:
            for day in days:
                if not _in_season(row["from"], row["to"], day):
                    return row, day
    return None


def _cite(rules: SeaRules, row: dict) -> str:
    checked = "" if row.get("checked", True) else "; row not yet checked against the official text"
    return f"[{row['source']}{checked}]"


def assess(rules: SeaRules, ice_class: str, lon: np.ndarray, lat: np.ndarray, seg_m: np.ndarray,
           condition: np.ndarray, starts: list[datetime]) -> dict:
    """The rules' verdict on a sailed route: per step ``lon``/``lat`` (where it starts),
    ``seg_m`` (its length), ``condition`` (the type of ice conditions met, index of
    ``CONDITIONS``, from ``conditions_map``) and ``starts`` (when it is sailed).

    Returns the document's ``rules`` member (``areas`` in order of entry) and, under ``steps``,
    per step the region index and the mode (indices of ``rules.regions`` / ``MODES``; -1 none).
    """
    cls, class_source = rs_class(rules, ice_class)
    where = region_index(rules, lon, lat)
    condition = np.asarray(condition, dtype=np.int8)
    mode = np.full(where.shape, -1, dtype=np.int8)
    areas, refusals, notices = [], [], []
    order = [int(k) for k in dict.fromkeys(where[where >= 0].tolist())]
    for k in order:
        region = rules.regions[k]
        steps = where == k
        nm = float(seg_m[steps].sum() / METRES_PER_NM)
        days = sorted({s.date() for s, hit in zip(starts, steps, strict=True) if hit})
        entered = next(s for s, hit in zip(starts, steps, strict=True) if hit)
        entry = {"id": region.id, "name": region.name, "regime": region.regime, "nm": round(nm, 1),
                 "entered": entered.strftime("%Y-%m-%dT%H:%MZ")}
        if region.regime == "nsr":
            worst = int(condition[steps].max())
            level, row = nsr_mode(rules, cls, region.id, worst)
            rule = (f"NSR Rules Annex 2: {cls} in the {region.name} in {CONDITIONS[worst]} conditions: "
                    f"{MODES[level]} {_cite(rules, row)}")
            barred = season_refusal(rules, "nsr", cls, days)
            if barred is not None:
                row, day = barred
                level, rule = 2, f"{row['rule'].strip()} (in the {region.name} on {day}) {_cite(rules, row)}"
            mode[steps] = level
            entry.update({"ice_conditions": CONDITIONS[worst], "mode": MODES[level], "rule": rule,
                          "checked": bool(row.get("checked", True))})
            if level == 2:
                refusals.append(rule)
        else:
            mode[steps] = 0
            entry.update({"mode": "independent"})
        areas.append(entry)
    for regime in dict.fromkeys(a["regime"] for a in areas):
        nm = sum(a["nm"] for a in areas if a["regime"] == regime)
        notices += [f"{n['text'].strip()} ({nm:.0f} nm there) [{n['source']}]"
                    for n in rules.data.get("notices", []) if n["regime"] == regime]
    levels = [MODES.index(a["mode"]) for a in areas]
    verdict = MODES[max(levels)] if levels else "independent"
    escort = [a for a in areas if a["mode"] == "escort"]
    return {
        "verdict": verdict if areas else "no rules apply",
        "rs_class": cls,
        "rs_class_source": rules.source_title(class_source),
        "areas": areas,
        "escort_nm": round(sum(a["nm"] for a in escort), 1),
        "escort_areas": [a["name"] for a in escort],
        "refused_by": refusals,
        "notices": notices,
        "table": f"config/{FILE_NAME} (sha256 {rules.sha256[:12]})",
        "ice_conditions_note": rules.source_title(rules.data["ice_conditions"]["source"]),
        "steps": {"region": where, "mode": mode},
    }


_REGIONS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _cell_regions(rules: SeaRules, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """``region_index`` of every grid cell, kept per grid and rules file."""
    key = (rules.sha256, lon.shape)
    hit = _REGIONS.get(key)
    if hit is None or hit[0] is not lon:
        _REGIONS.clear()
        hit = _REGIONS[key] = (lon, region_index(rules, lon, lat))
    return hit[1]


def closed_cells(rules: SeaRules, ice_class: str, day: date, lon: np.ndarray, lat: np.ndarray,
                 sic: np.ndarray, stage: np.ndarray | None, resolution_m: float) -> dict[str, np.ndarray]:
    """The cells the NSR rules close to a vessel of ``ice_class`` on ``day``, by rule: the
    whole water area outside the class's season, else the cells whose type of ice conditions
    (``conditions_map``) the criteria do not permit in their area, even under escort. Keys start
    with ``routing.RULE_MASK_PREFIX`` and name the rule."""
    from .routing import RULE_MASK_PREFIX, SEASON_MASK_PREFIX

    cls, _source = rs_class(rules, ice_class)
    region = _cell_regions(rules, lon, lat)
    nsr = [k for k, r in enumerate(rules.regions) if r.regime == "nsr"]
    barred = season_refusal(rules, "nsr", cls, [day])
    if barred is not None:
        row, _day = barred
        return {f"{SEASON_MASK_PREFIX}{row['rule'].strip()} on {day} {_cite(rules, row)}": np.isin(region, nsr)}
    condition = conditions_map(rules, sic, stage, resolution_m)
    closed = np.zeros(region.shape, dtype=bool)
    where = []
    for k in nsr:
        for level in range(len(CONDITIONS)):
            if nsr_mode(rules, cls, rules.regions[k].id, level)[0] == MODES.index("not permitted"):
                cells = (region == k) & (condition == level)
                if cells.any():
                    closed |= cells
                    where.append(f"{CONDITIONS[level]} ice in the {rules.regions[k].name}")
    if not where:
        return {}
    return {f"{RULE_MASK_PREFIX}NSR Rules Annex 2 criteria for {cls}: not permitted, even under escort, in "
            + ", ".join(where): closed}
