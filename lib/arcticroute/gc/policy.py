"""The ``gc:`` section of config/runtime.yaml, with its defaults, as one frozen policy object.

The defaults live here rather than in ``config.DEFAULTS`` because only GC reads them; the
schema (``config_schema.RUNTIME_SCHEMA['properties']['gc']``) checks types and ranges when the
settings are loaded, and ``load_policy`` adds what a schema cannot say: that a cache folder is
not one of the folders artifacts or run records live in.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from ..errors import ConfigError

DEFAULTS: dict = {
    "ttl_days": 14,
    "watermark_disk": 0.85,
    "safety_age_minutes": 120,
    "keep_months": 3,
    "evict_versions": True,
    "cache_folders": [
        {"root": "data", "path": "cache", "owner": "pull"},
        {"root": "data", "path": "*/cv_cache", "owner": "fuse"},
        {"root": "data", "path": ".quarantine", "age": "changed", "ttl_days": 30},
        {"root": "outputs", "path": "cache"},
    ],
    "versions": {
        "default": {"keep_versions": 2, "min_age_days": 7, "evict": True},
        "risk-daily": {"keep_versions": 1, "min_age_days": 3},
        "risk-monthly": {"keep_versions": 1, "min_age_days": 3},
        "report": {"keep_versions": 3, "min_age_days": 30, "evict": False},
    },
}
# Top-level folders that hold artifacts or bookkeeping: never a cache folder, whatever the config says.
RESERVED = {"data": {"env", "risk", "static"},
            "outputs": {"routes", "runs", "logs", "alerts", "locks", "catalog"}}
DAY_S = 86_400.0
clock = time.time  # every GC decision reads the time here once per run; tests fake it


def now() -> float:
    return clock()


@dataclass(frozen=True)
class CacheFolder:
    """Folders under a root whose files are a cache: removed by age, evicted under pressure."""

    root: str  # "data" or "outputs"
    parts: tuple[str, ...]  # "*" stands for any one folder name not starting with "."
    owner: str | None  # the command family that writes here; its running runs make GC skip it
    age: str  # "modified": newest of mtime and atime; "changed": ctime too (moves count)
    ttl_days: float

    @property
    def label(self) -> str:
        return f"{self.root}:{'/'.join(self.parts)}"

    @property
    def hidden(self) -> bool:
        """A dot-folder (e.g. ``.quarantine``): the catalog never reads it, so nothing in it is
        a catalogued artifact and every file there is fair game."""
        return self.parts[-1].startswith(".")

    def matches(self, parts: tuple[str, ...]) -> bool:
        if len(parts) != len(self.parts):
            return False
        return all(p == want or (want == "*" and not p.startswith("."))
                   for p, want in zip(parts, self.parts, strict=True))


@dataclass(frozen=True)
class KindPolicy:
    """How many versions of a logical id of one kind stay, and when the rest may go."""

    keep_versions: int  # the newest N versions are never removed, by any GC
    min_age_days: float  # cache.gc evicts a superseded version only this long after it was superseded
    evict: bool  # cache.gc may evict this kind's superseded versions to reach the watermark


@dataclass(frozen=True)
class GcPolicy:
    ttl_days: float
    watermark: float
    safety_age_s: float
    keep_months: int
    evict_versions: bool
    folders: tuple[CacheFolder, ...]
    kinds: dict[str, KindPolicy] = field(default_factory=dict)

    def kind(self, kind: str | None) -> KindPolicy:
        return self.kinds.get(kind or "", self.kinds["default"])

    def floors(self) -> dict[str, int]:
        return {name: k.keep_versions for name, k in self.kinds.items()}


def merged(section: dict | None) -> dict:
    """The ``gc:`` section over the defaults: scalars and the folder list replace, kinds merge."""
    result = copy.deepcopy(DEFAULTS)
    section = section or {}
    for key, value in section.items():
        if key == "versions":
            for kind, rule in value.items():
                result["versions"][kind] = {**result["versions"].get(kind, {}), **rule}
        else:
            result[key] = copy.deepcopy(value)
    return result


def load_policy(settings, *, ttl_days: float | None = None, watermark: float | None = None,
                keep_months: int | None = None) -> GcPolicy:
    """The policy of ``settings`` (config/runtime.yaml ``gc:``), command-line values first.

    ``ttl_days`` given on the command line applies to every cache folder, overriding their own.
    """
    cfg = merged(settings.runtime.get("gc"))
    where = f"{settings.config_dir / 'runtime.yaml'}: key gc.cache_folders"
    folders = []
    for index, item in enumerate(cfg["cache_folders"]):
        parts = tuple(str(item["path"]).split("/"))
        problem = _folder_problem(item["root"], parts)
        if problem:
            raise ConfigError(f"{where}[{index}].path: {item['path']!r} {problem}",
                              hint="name a folder that holds only cache files, e.g. cache or */cv_cache")
        folders.append(CacheFolder(
            root=item["root"], parts=parts, owner=item.get("owner"), age=item.get("age", "modified"),
            ttl_days=float(ttl_days if ttl_days is not None else item.get("ttl_days", cfg["ttl_days"]))))
    default = cfg["versions"]["default"]
    kinds = {name: KindPolicy(keep_versions=int(rule.get("keep_versions", default["keep_versions"])),
                              min_age_days=float(rule.get("min_age_days", default["min_age_days"])),
                              evict=bool(rule.get("evict", default["evict"])))
             for name, rule in cfg["versions"].items()}
    return GcPolicy(
        ttl_days=float(ttl_days if ttl_days is not None else cfg["ttl_days"]),
        watermark=float(watermark if watermark is not None else cfg["watermark_disk"]),
        safety_age_s=float(cfg["safety_age_minutes"]) * 60.0,
        keep_months=int(keep_months if keep_months is not None else cfg["keep_months"]),
        evict_versions=bool(cfg["evict_versions"]),
        folders=tuple(folders),
        kinds=kinds,
    )


def _folder_problem(root: str, parts: tuple[str, ...]) -> str | None:
    if any(p in ("", ".", "..") or "\\" in p or ("*" in p and p != "*") for p in parts):
        return "is not a relative folder path (segments separated by /, no '..', '*' only as a whole segment)"
    if parts[-1] == "*":
        return "ends in '*': that would make every folder there a cache folder"
    if parts[0] in RESERVED.get(root, set()):
        return f"is inside {parts[0]}/, where {root} keeps artifacts or run records, not caches"
    return None
