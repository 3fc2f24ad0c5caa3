"""``ais``: daily AIS archives (NOAA MarineCadastre, Danish Maritime Authority) to vessel-hours.

Config::

    kind: ais
    format: noaa            # noaa: AIS_YYYY_MM_DD.zip (MMSI, BaseDateTime, LAT, LON, ...)
                            # dma:  aisdk-YYYY-MM-DD.zip (# Timestamp, MMSI, Latitude, Longitude, ...)
    url: https://coast.noaa.gov/htdata/CMSP/AISDataHandler/{date:%Y}/AIS_{date:%Y_%m_%d}.zip
    min_lat: 60             # the Arctic box: pings south of it are dropped while streaming
    max_gap_minutes: 60     # a ping counts for the time to the vessel's next ping, at most this
    chunk_rows: 200000      # rows read at a time

A day's archive is hundreds of MB: it is downloaded to the cache in blocks, and its CSV is
read from inside the zip ``chunk_rows`` at a time, keeping only the four columns needed and
only the pings in the box and on the grid, so a day is never held in memory whole.
"""

from __future__ import annotations

import zipfile
from datetime import date

import numpy as np

from ..grid import X_MIN, Y_MAX, to_xy
from ..layers import LAYERS
from ..static import StaticGrid
from .base import FetchResult
from .http import RemoteSource
from .http_client import CorruptDownloadError, UpstreamMissingError, validation_error

FORMATS = {
    # format: (mmsi, time, lat, lon column names; time format)
    "noaa": ("MMSI", "BaseDateTime", "LAT", "LON", "%Y-%m-%dT%H:%M:%S"),
    "dma": ("MMSI", "# Timestamp", "Latitude", "Longitude", "%d/%m/%Y %H:%M:%S"),
}


def _member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
    if len(members) != 1:
        raise CorruptDownloadError(f"zip holds {len(members)} CSV files, expected one")
    return members[0]


class AisSource(RemoteSource):
    kind = "ais"

    def columns(self) -> tuple:
        return FORMATS[self.config["format"]]

    def check(self, path) -> None:
        """A readable zip with one CSV whose header has the format's columns."""
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                if bad is not None:
                    raise CorruptDownloadError(f"zip member {bad} fails its CRC")
                with archive.open(_member(archive)) as handle:
                    header = handle.readline().decode("utf-8-sig", errors="replace").strip().split(",")
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise CorruptDownloadError(f"not a readable zip archive ({exc})") from None
        wanted = self.columns()[:4]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise validation_error(f"CSV columns {', '.join(header[:12])}", f"columns {', '.join(wanted)} "
                                   f"({self.config['format']} format)", self.name)

    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        url = self.url(day)
        try:
            download = self.client().download(url, self.cache_path(day, url), self.check)
        except UpstreamMissingError as exc:
            raise self.not_published(day, exc) from None
        density, pings, kept = self.density(download.path, static, day)
        info = LAYERS[self.layer]
        attrs = {"comment": f"each ping counts for the time to the vessel's next ping, at most "
                            f"{self.config.get('max_gap_minutes', 60)} minutes"}
        logical = f"source://{self.name}/{self.layer}@{day:%Y%m%d}"
        return FetchResult({info.variable: (density, attrs)}, download.url,
                           attrs={"source": download.url, "ais_pings_read": str(pings), "ais_pings_kept": str(kept)},
                           identity=self.download_identity(download), inputs=[download.input_ref(logical)],
                           transferred_bytes=download.transferred_bytes)

    def _check_date(self, seconds: np.ndarray, day: date) -> None:
        """An archive for another day is refused: most of its pings must fall on the day asked
        (a few around midnight may spill over)."""
        days = seconds // 86400
        wanted = (np.datetime64(day, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
        if np.count_nonzero(days == wanted) * 2 >= days.size:
            return
        values, counts = np.unique(days, return_counts=True)
        common = np.datetime64("1970-01-01", "D") + int(values[np.argmax(counts)])
        raise validation_error(f"an archive whose pings are mostly of {common} ({np.count_nonzero(days == wanted)} of "
                               f"{days.size} on {day})", f"the pings of {day}, the day asked for", self.name)

    def density(self, path, static: StaticGrid, day: date) -> tuple[np.ndarray, int, int]:
        import pandas as pd

        mmsi_col, time_col, lat_col, lon_col, time_format = self.columns()
        grid = static.grid
        min_lat = float(self.config.get("min_lat", 60.0))
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        read = 0
        with zipfile.ZipFile(path) as archive, archive.open(_member(archive)) as handle:
            reader = pd.read_csv(handle, usecols=[mmsi_col, time_col, lat_col, lon_col],
                                 chunksize=int(self.config.get("chunk_rows", 200_000)), encoding="utf-8")
            for chunk in reader:
                read += len(chunk)
                lat = pd.to_numeric(chunk[lat_col], errors="coerce").to_numpy(np.float64)
                lon = pd.to_numeric(chunk[lon_col], errors="coerce").to_numpy(np.float64)
                keep = np.isfinite(lat) & np.isfinite(lon) & (lat >= min_lat) & (lat <= 90) & (np.abs(lon) <= 180)
                if not keep.any():
                    continue
                x, y = to_xy(lon[keep], lat[keep])
                cols = np.floor((np.asarray(x) - X_MIN) / grid.resolution_m)
                rows = np.floor((Y_MAX - np.asarray(y)) / grid.resolution_m)
                inside = (cols >= 0) & (cols < grid.nx) & (rows >= 0) & (rows < grid.ny)
                times = pd.to_datetime(chunk[time_col].to_numpy()[keep][inside], format=time_format, errors="coerce")
                seconds = times.to_numpy(dtype="datetime64[s]").astype(np.int64)
                mmsi = pd.to_numeric(chunk[mmsi_col].to_numpy()[keep][inside], errors="coerce")
                ok = ~pd.isna(times) & np.isfinite(mmsi)
                cells = (rows[inside] * grid.nx + cols[inside]).astype(np.int64)
                parts.append((np.asarray(mmsi)[ok].astype(np.int64), seconds[ok], cells[ok]))
        if not parts:
            return np.zeros(grid.shape, dtype=np.float32), read, 0
        mmsi = np.concatenate([p[0] for p in parts])
        seconds = np.concatenate([p[1] for p in parts])
        cells = np.concatenate([p[2] for p in parts])
        self._check_date(seconds, day)
        order = np.lexsort((seconds, mmsi))
        mmsi, seconds, cells = mmsi[order], seconds[order], cells[order]
        gap = np.zeros(len(seconds), dtype=np.float64)
        same = mmsi[1:] == mmsi[:-1]
        gap[:-1] = np.where(same, seconds[1:] - seconds[:-1], 0)
        gap = np.clip(gap, 0, float(self.config.get("max_gap_minutes", 60)) * 60.0)
        hours = np.bincount(cells, weights=gap / 3600.0, minlength=grid.ny * grid.nx)
        return hours.reshape(grid.shape).astype(np.float32), read, len(cells)
