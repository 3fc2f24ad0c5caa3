"""The interface every source adapter implements, and what adapters share."""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from ..static import StaticGrid


@dataclass
class FetchResult:
    """One day of one layer on the run's grid, ready to be written as an artifact."""

    variables: dict[str, tuple[np.ndarray, dict]]  # netCDF grid variables: name -> (array, attrs)
    source_url: str | None  # where it came from, without credentials; None for synthetic data
    points: list[dict] | None = None  # point records (incidents), stored beside the grid
    attrs: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    identity: dict | None = None  # what was fetched, as ``identity`` describes it (None: ask ``identity``)
    inputs: list[dict] | None = None  # [{logical_id, sha256, source_url, etag, last_modified, size_bytes}]
    transferred_bytes: int = 0  # bytes received over the network for this item


@dataclass
class SourceContext:
    """What an adapter needs from the run: where its cache is, the environment, the clock."""

    name: str  # the source's name: its cache folder is <data>/cache/<name>/
    cache_dir: Path | None
    env: Mapping[str, str] = field(default_factory=dict)
    today: date | None = None
    dry_run: bool = False  # no disk writes (the cache included); network only to list
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("arcticroute.sources"))
    pull: Mapping[str, float] = field(default_factory=dict)  # config/runtime.yaml pull: (deadlines, size cap)
    run_deadline_at: float | None = None  # when the run must end (time.time()); downloads stop then
    sleep: Callable[[float], None] | None = None  # injected by tests
    random: Callable[[], float] | None = None


class Source(ABC):
    """An adapter for one layer. ``identity`` must change whenever the fetched content would."""

    kind: str = ""
    synthetic: bool = False
    remote: bool = False  # identity needs the network (a HEAD request, a search)
    parallel_days: bool = True  # days may be fetched in separate worker processes (ingest.execute_pull)

    def __init__(self, layer: str, config: dict, context: SourceContext | None = None):
        self.layer = layer
        self.config = config
        self.context = context or SourceContext(name=config.get("name", self.kind), cache_dir=None)

    @property
    def name(self) -> str:
        return self.context.name

    @property
    def license(self) -> str | None:
        """The licence of the source's data as its configuration states it (None: not stated)."""
        return self.config.get("license")

    @abstractmethod
    def identity(self, day: date) -> dict:
        """Cheap description of what ``fetch`` would return (URL + ETag, generator version...)."""

    @abstractmethod
    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        """Fetch, validate and regrid one day; NotYetAvailableError if it is not published yet."""

    def describe(self, day: date) -> dict:
        """Where a day comes from and where its raw download is kept, for a dry run's plan."""
        return {"source": self.name, "url": None, "cache": None}

    def config_digest(self) -> str:
        """A short digest of what in the config shapes the result (not the politeness settings)."""
        shaping = {k: v for k, v in self.config.items() if k not in ("http", "description", "name", "license", "institution")}
        return hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()[:16]
