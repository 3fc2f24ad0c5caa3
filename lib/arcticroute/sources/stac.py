"""``stac``: search a STAC API (pystac-client) for a day's item and read one of its assets.

Config::

    kind: stac
    url: https://cmr.earthdata.nasa.gov/stac/NSIDC_CPRD     # the STAC API root
    collections: [NSIDC-0803_2]
    asset: data                       # the asset key to download
    bbox: [-180, 30, 180, 90]         # optional
    token_env: EARTHDATA_TOKEN        # optional bearer token (searches and downloads)
    ... and the gridded-file expectations of gridded.py (variable, units, scale, ...)

The first item of the day (by datetime, then id) is used; its id, ``updated`` time and
the asset's href are the identity, so a re-processed item is pulled again.
"""

from __future__ import annotations

from datetime import date

from ..errors import ArcticRouteError
from ..redact import redact_known, redact_url
from ..static import StaticGrid
from .base import FetchResult
from .http import RemoteSource, fetch_gridded, finish
from .http_client import FetchError, UpstreamMissingError


class StacSource(RemoteSource):
    kind = "stac"

    def url(self, day: date) -> str:
        return self.config["url"]

    def describe(self, day: date) -> dict:
        return {"source": self.name, "url": f"{redact_url(self.config['url'])} (search "
                f"{','.join(self.config['collections'])} {day})", "cache": None}

    def _item(self, day: date):
        from pystac_client import Client
        from pystac_client.exceptions import APIError

        headers = dict(self.client().headers)
        try:
            catalog = Client.open(self.config["url"], headers=headers)
            search = catalog.search(collections=list(self.config["collections"]),
                                    datetime=f"{day.isoformat()}T00:00:00Z/{day.isoformat()}T23:59:59Z",
                                    bbox=self.config.get("bbox"), max_items=50)
            items = sorted(search.items(), key=lambda i: (str(i.datetime), i.id))
        except (APIError, OSError, ValueError) as exc:
            raise FetchError(f"{redact_url(self.config['url'])}: STAC search failed: "
                             f"{redact_known(str(exc))[:200]}") from None
        if not items:
            raise UpstreamMissingError(f"{redact_url(self.config['url'])}: no item in "
                                       f"{','.join(self.config['collections'])} for {day}")
        item = items[0]
        asset = item.assets.get(self.config["asset"])
        if asset is None:
            raise ArcticRouteError(f"{self.name}: item {item.id} has no asset {self.config['asset']!r} "
                                   f"(it has {', '.join(item.assets)})", hint="set asset: in the source's config")
        return item, asset

    def identity(self, day: date) -> dict:
        try:
            item, asset = self._item(day)
        except UpstreamMissingError as exc:
            raise self.not_published(day, exc) from None
        return {"item": item.id, "updated": item.properties.get("updated"), "href": redact_url(asset.href),
                "config": self.config_digest()}

    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        try:
            item, asset = self._item(day)
        except UpstreamMissingError as exc:
            raise self.not_published(day, exc) from None
        download, field = fetch_gridded(self, asset.href, self.cache_path(day, asset.href), static, day)
        result = finish(self, day, static, field, download)
        result.identity = {"item": item.id, "updated": item.properties.get("updated"),
                           "href": redact_url(asset.href), "config": self.config_digest()}
        result.attrs["stac_item"] = item.id
        return result
