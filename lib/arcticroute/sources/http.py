"""``http``: one gridded netCDF file per day at a templated URL (Uni Bremen AMSR2 ASI, OSI SAF).

Config (``config/env.yaml``; see docs/sources.md)::

    kind: http
    name: bremen-asi-amsr2           # cache folder data_processed/cache/<name>/
    url: https://.../{date:%Y}/asi-AMSR2-n6250-{date:%Y%m%d}-v5.4.nc
    available_after_days: 1          # a 404 for a newer day is "not yet available"
    token_env: NAME                  # optional: send "Authorization: Bearer $NAME"
    fill_km: 100                     # fill sea gaps (pole hole, coast) from the nearest value within this
    http: {timeout_s, retries, backoff_s, backoff_max_s, rate_limit_per_s, deadline_s, max_mb}
    ... and the gridded-file expectations of ``gridded.py`` (variable, units, scale, ...).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from ..errors import ConfigError, NotYetAvailableError
from ..layers import LAYERS
from ..polaris import UNKNOWN_CODE
from ..redact import redact_url
from ..static import StaticGrid
from .base import FetchResult, Source
from .http_client import CorruptDownloadError, HttpClient, HttpPolicy, UpstreamMissingError

if TYPE_CHECKING:
    from .gridded import Field


def render_url(template: str, day: date) -> str:
    """``{date:%Y%m%d}`` and friends; ``{date}`` alone is ISO 8601 (YYYY-MM-DD)."""
    moment = datetime(day.year, day.month, day.day)
    return template.replace("{date}", "{date:%Y-%m-%d}").format(date=moment)


class RemoteSource(Source):
    """What every adapter that downloads shares: the client, credentials, the cache, 404s."""

    remote = True

    def client(self) -> HttpClient:
        headers = {}
        token_env = self.config.get("token_env")
        if token_env:
            token = self.context.env.get(token_env)
            if not token:
                raise ConfigError(f"source {self.name!r} needs a token in environment variable {token_env}, which is unset",
                                  hint=f"set {token_env} in the environment or .env (never in config/env.yaml)")
            headers["Authorization"] = f"Bearer {token}"
        kwargs = {k: v for k, v in (("sleep", self.context.sleep), ("random", self.context.random)) if v is not None}
        if not hasattr(self, "_client"):
            policy = HttpPolicy.from_config(self.config, self.context.pull, self.context.run_deadline_at)
            self._client = HttpClient(policy, headers, log=self.context.log, **kwargs)
        return self._client

    def cache_path(self, day: date, url: str):
        filename = PurePosixPath(urlsplit(url).path).name or f"{day:%Y%m%d}"
        return self.context.cache_dir / f"{day:%Y}" / f"{day:%m}" / filename

    def not_published(self, day: date, exc: UpstreamMissingError) -> Exception:
        return not_published(self, day, exc)

    def url(self, day: date) -> str:
        return render_url(self.config["url"], day)

    def describe(self, day: date) -> dict:
        url = self.url(day)
        return {"source": self.name, "url": redact_url(url), "cache": str(self.cache_path(day, url))}

    def identity(self, day: date) -> dict:
        """The day's file as the server describes it now (a HEAD request), and our config."""
        probe = self.client().probe(self.url(day))
        return {"url": probe.url, "etag": probe.etag, "last_modified": probe.last_modified,
                "size": probe.size_bytes, "config": self.config_digest()}

    def download_identity(self, download) -> dict:
        """The same description, from the download itself (what the sidecar records)."""
        return {"url": download.url, "etag": download.etag, "last_modified": download.last_modified,
                "size": download.listed_size, "config": self.config_digest()}


def not_published(source: Source, day: date, exc: UpstreamMissingError) -> Exception:
    """A 404: "not yet available" for a recent day, else the provider has no such file."""
    today = source.context.today or date.today()
    if day >= today - timedelta(days=int(source.config.get("available_after_days", 1))):
        return NotYetAvailableError(f"{source.name}: {day} is not published yet ({exc})")
    return exc


class HttpSource(RemoteSource):
    kind = "http"

    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        url = self.url(day)
        try:
            download, field = fetch_gridded(self, url, self.cache_path(day, url), static, day)
        except UpstreamMissingError as exc:
            raise self.not_published(day, exc) from None
        return finish(self, day, static, field, download)


def fetch_gridded(source: RemoteSource, url: str, dest, static: StaticGrid, day: date):
    """Download (or confirm the cached copy of) a gridded file and read it, once.

    The download's check reads and regrids the new file before it is renamed into the cache;
    that result is used, so a new file is read once. A cached copy that went bad on disk is
    fetched afresh.
    """
    # xarray (~0.3 s): imported by the fetch, not by a run with nothing to fetch
    from . import gridded

    held = {}

    def check(path):
        held["field"] = gridded.read_field(path, source.config, source.name, static.grid, day)

    download = source.client().download(url, dest, check)
    if "field" in held:
        return download, held["field"]
    try:
        return download, gridded.read_field(download.path, source.config, source.name, static.grid, day)
    except CorruptDownloadError:
        dest.unlink(missing_ok=True)
        held.clear()
        download = source.client().download(url, dest, check)
        return download, held.get("field") or gridded.read_field(download.path, source.config, source.name,
                                                                  static.grid, day)


def finish(source: Source, day: date, static: StaticGrid, field: Field, download) -> FetchResult:
    """The layer's variable from a regridded field: land NaN, sea gaps filled, provenance kept."""
    from . import regrid  # scipy: imported by the fetch, as gridded is

    info = LAYERS[source.layer]
    values, filled, left = regrid.fill_sea(field.values, static.land, static.grid.resolution_m,
                                          float(source.config.get("fill_km", 100)))
    categorical = bool(source.config.get("categories"))
    warnings = []
    if filled:
        warnings.append(f"{filled} sea cells without data (pole hole, coast) filled from the nearest value "
                        f"within {source.config.get('fill_km', 100)} km")
    if left:
        warnings.append(f"{left} sea cells beyond the source's coverage left without data (NaN)")
    # the layer's CF attributes (units, names, flags) are added when the file is written (layers.LAYERS)
    attrs = {"source_crs": field.crs, "regrid_method": regrid.METHOD}
    if categorical:  # codes: land is 0 (ice free / none); sea beyond the coverage 0, or unknown for ice types
        unknown = UNKNOWN_CODE if source.layer == "ice.type" else 0
        values = np.where(np.isfinite(values), values, np.where(static.land, 0, unknown)).astype(np.int8)
        attrs = {"source_crs": field.crs, "regrid_method": "majority of the source pixels' categories per target cell",
                 "source_categories": json.dumps(source.config["categories"], sort_keys=True)}
    logical = f"source://{source.name}/{source.layer}@{day:%Y%m%d}"
    return FetchResult(
        {info.variable: (values, attrs)}, download.url,
        attrs={"source": download.url, **{f"source_{k}": v for k, v in field.attrs.items()}},
        warnings=warnings,
        identity={"url": download.url, "etag": download.etag, "last_modified": download.last_modified,
                  "size": download.listed_size, "config": source.config_digest()},  # = RemoteSource.identity
        inputs=[download.input_ref(logical)],
        transferred_bytes=download.transferred_bytes,
    )
