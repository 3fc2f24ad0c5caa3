"""``incidents``: a CSV or Parquet table of maritime incidents, by URL or path.

Config::

    kind: incidents
    url: https://.../occurrences.csv     # or a path, relative to the data root
    format: csv                          # csv or parquet (default: from the file name)
    columns: {time_utc: OccDate, lat: Latitude, lon: Longitude, type: OccurrenceType}
    source_label: TSB MARSIS             # when the table has no source column
    default_severity: 1                  # when it has no severity column

The table is fetched once per run (conditionally: an unchanged table costs a 304) and kept
in the cache; each day's artifact holds that day's rows, and its identity is a digest of
those rows, so a table that grows by new rows rewrites only the days it changed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ..errors import DataValidationError
from ..grid import to_xy
from ..static import StaticGrid
from .base import FetchResult
from .http import RemoteSource
from .http_client import (
    CorruptDownloadError,
    Download,
    UpstreamMissingError,
    cached,
    validation_error,
)

FIELDS = ("time_utc", "lat", "lon", "type", "severity", "source")
REQUIRED = ("time_utc", "lat", "lon")
SEVERITY_MAX = 32767  # stored as int16 in the day's file (layers.incident_points)


class IncidentsSource(RemoteSource):
    kind = "incidents"
    parallel_days = False  # one table for every day: downloaded and read once, in the command's process

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._table = None
        self._counted = False  # the table's bytes are counted once, not once per day
        self.remote = self.is_url

    @property
    def is_url(self) -> bool:
        return urlsplit(self.config["url"]).scheme in ("http", "https")

    def location(self) -> str:
        if self.is_url:
            return self.config["url"]
        path = Path(self.config["url"])
        base = self.context.cache_dir.parent.parent if self.context.cache_dir else Path.cwd()
        return str(path if path.is_absolute() else base / path)

    def url(self, day: date) -> str:
        return self.location()

    def describe(self, day: date) -> dict:
        return {"source": self.name, "url": self.location() if self.is_url else f"file://{self.location()}",
                "cache": None}

    def _format(self) -> str:
        return self.config.get("format") or ("parquet" if self.location().lower().endswith(".parquet") else "csv")

    def _read(self, path) -> tuple[list[dict], dict]:
        """The table's rows, as point records; CorruptDownloadError/DataValidationError."""
        import pandas as pd

        columns = {k: (self.config.get("columns") or {}).get(k, k) for k in FIELDS}
        try:
            frame = pd.read_parquet(path) if self._format() == "parquet" else pd.read_csv(path)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise CorruptDownloadError(f"table {path} cannot be read ({type(exc).__name__}: {str(exc)[:120]})") from None
        missing = [columns[k] for k in REQUIRED if columns[k] not in frame.columns]
        if missing:
            raise validation_error(f"columns {', '.join(map(str, frame.columns))}"[:300],
                                   f"columns {', '.join(columns[k] for k in REQUIRED)} (mapping: columns: in the config)",
                                   self.name)
        times = pd.to_datetime(frame[columns["time_utc"]], utc=True, errors="coerce")
        lat = pd.to_numeric(frame[columns["lat"]], errors="coerce")
        lon = pd.to_numeric(frame[columns["lon"]], errors="coerce")
        ok = times.notna() & lat.between(-90, 90) & lon.between(-180, 180)
        dropped = int((~ok).sum())
        severity = None
        if columns["severity"] in frame.columns:
            severity = pd.to_numeric(frame[columns["severity"]], errors="coerce")
            self._check_severity(severity, ok, columns["severity"], path)
            severity = severity.fillna(self.config.get("default_severity", 1))
        rows = []
        label = self.config.get("source_label", self.name)
        for index in np.flatnonzero(ok.to_numpy()):
            rows.append({
                "time_utc": times.iloc[index].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "lat": float(lat.iloc[index]), "lon": float(lon.iloc[index]),
                "type": str(frame[columns["type"]].iloc[index]) if columns["type"] in frame.columns else "unknown",
                "severity": int(severity.iloc[index]) if severity is not None else int(self.config.get("default_severity", 1)),
                "source": str(frame[columns["source"]].iloc[index]) if columns["source"] in frame.columns else label,
            })
        return rows, {"dropped": dropped}

    def _check_severity(self, severity, usable, column: str, path) -> None:
        """A severity must fit the stored integer (0..32767); a number outside, or infinite, is
        refused naming the table, the row and the column (a word is taken as no grade)."""
        bad = usable & severity.notna() & ~severity.between(0, SEVERITY_MAX)
        if not bad.any():
            return
        row = int(np.flatnonzero(bad.to_numpy())[0])
        where = f"line {row + 2} of the CSV" if self._format() == "csv" else f"row {row + 1} of the Parquet table"
        raise DataValidationError(
            f"{self.name}: {self.location()} ({path}), {where}, column {column!r}: severity {severity.iloc[row]!r} "
            f"is not a grade between 0 and {SEVERITY_MAX} ({int(bad.sum())} such row(s)); nothing was written "
            "from this table",
            hint=f"correct the severity in that table, or map another column with columns: severity: in the "
                 f"{self.name} source of config/env.yaml",
        )

    def table(self) -> tuple[list[dict], dict, Download]:
        """Rows, notes and the download, once per run (conditional GET into the cache)."""
        with self._lock:
            if self._table is None:
                self._table = self._load()
            return self._table

    def _load(self):
        from ..store import atomic

        if not self.is_url:
            path = Path(self.location())
            if not path.is_file():
                raise UpstreamMissingError(f"{self.name}: no table at {path}")
            download = Download(path, f"file://{path}", None, None, atomic.sha256_file(path), path.stat().st_size, 0, 200)
        else:
            dest = self.context.cache_dir / Path(urlsplit(self.location()).path).name
            if self.context.dry_run:  # no disk writes: the cached copy, if any, stands for the table
                download = cached(dest)
                if download is None:
                    return [], {"dry_run_unknown": True}, None
            else:
                download = self.client().download(self.location(), dest, self._read)
        rows, notes = self._read(download.path)
        return rows, notes, download

    @staticmethod
    def rows_for(rows: list[dict], day: date) -> list[dict]:
        prefix = day.isoformat()
        return sorted((r for r in rows if r["time_utc"].startswith(prefix)), key=lambda r: json.dumps(r, sort_keys=True))

    def identity(self, day: date) -> dict:
        rows, notes, download = self.table()
        if download is None:
            return {"table": "unknown in a dry run (not cached yet)"}
        digest = hashlib.sha256(json.dumps(self.rows_for(rows, day), sort_keys=True).encode()).hexdigest()[:16]
        return {"table": download.url, "rows": digest, "config": self.config_digest()}

    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        rows, notes, download = self.table()
        points, outside = [], 0
        for row in self.rows_for(rows, day):
            x, y = to_xy(row["lon"], row["lat"])
            if static.grid.contains_xy(float(x), float(y)):
                points.append(row)
            else:
                outside += 1
        warnings = []
        if outside:
            warnings.append(f"{outside} incidents of the day lie outside the polar grid and were left out")
        if notes.get("dropped"):
            warnings.append(f"{notes['dropped']} rows of the table have no usable time or position (skipped)")
        logical = f"source://{self.name}/{self.layer}@{day:%Y%m%d}"
        with self._lock:
            transferred = 0 if self._counted else download.transferred_bytes
            self._counted = True
        return FetchResult({}, download.url, points=points, attrs={"source": download.url}, warnings=warnings,
                           identity=self.identity(day), inputs=[download.input_ref(logical)],
                           transferred_bytes=transferred)
