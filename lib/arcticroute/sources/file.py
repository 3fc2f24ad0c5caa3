"""``file``: a drop folder or glob, for gridded data that arrives by other means (rsync, a mount).

Config::

    kind: file
    path: incoming/ice/*{date:%Y%m%d}*.nc   # glob template; relative to the data root
    variable: z ... (the gridded-file expectations of gridded.py)

The newest match (by name) of the day's glob is read; its size, mtime and sha256 are its
identity, so a replaced file is pulled again. No match for a recent day is "not yet
available"; for an older day the day is missing.
"""

from __future__ import annotations

import glob
from datetime import date
from pathlib import Path

from ..static import StaticGrid
from ..store import atomic
from . import gridded
from .base import FetchResult, Source
from .http import finish, not_published, render_url
from .http_client import Download, UpstreamMissingError


class FileSource(Source):
    kind = "file"

    def pattern(self, day: date) -> str:
        template = render_url(self.config["path"], day)
        base = self.context.cache_dir.parent.parent if self.context.cache_dir else Path.cwd()
        return template if Path(template).is_absolute() else str(base / template)

    def match(self, day: date) -> Path:
        found = sorted(glob.glob(self.pattern(day)))
        if not found:
            raise not_published(self, day, UpstreamMissingError(f"{self.name}: no file matches {self.pattern(day)}"))
        return Path(found[-1])

    def describe(self, day: date) -> dict:
        return {"source": self.name, "url": f"file://{self.pattern(day)}", "cache": None}

    def identity(self, day: date) -> dict:
        path = self.match(day)
        stat = path.stat()
        return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "config": self.config_digest()}

    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        path = self.match(day)
        identity = self.identity(day)
        field = gridded.read_field(path, self.config, self.name, static.grid, day)
        download = Download(path, f"file://{path}", None, None, atomic.sha256_file(path), path.stat().st_size, 0, 200)
        result = finish(self, day, static, field, download)
        result.identity = identity
        return result
