"""The interface every source adapter implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date

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


class Source(ABC):
    """An adapter for one layer. ``identity`` must change whenever the fetched content would."""

    kind: str = ""
    synthetic: bool = False

    def __init__(self, layer: str, config: dict):
        self.layer = layer
        self.config = config

    @abstractmethod
    def identity(self, day: date) -> dict:
        """Cheap description of what ``fetch`` would return (URL + ETag, generator version...)."""

    @abstractmethod
    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        """Fetch, validate and regrid one day; NotYetAvailableError if it is not published yet."""
