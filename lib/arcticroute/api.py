"""The endpoints the UI's server adds: JSON (``/api/health``, ``/api/runs``, ``/api/catalog``),
Prometheus metrics (``/metrics``) and the static STAC catalog (``/api/stac/...``).

Each endpoint is a function from query parameters to ``Reply`` (HTTP status, body, headers),
free of any web framework, so the tests and the ASGI wrapper (``apps/asgi.py``) share it.
Settings are read when first needed and again after a failure; heavy health checks are
reused for ``health.cache_seconds``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from .config import Settings, load_settings
from .errors import ArcticRouteError
from .ops import health, metrics
from .ops.runs import last_runs
from .redact import redact_known
from .store.catalog import read_index

NO_STORE = {"Cache-Control": "no-store"}
MAX_LIMIT = 1000


@dataclass
class Reply:
    status: int
    body: dict | list | str
    headers: dict = field(default_factory=lambda: dict(NO_STORE))
    media_type: str = "application/json"

    def text(self) -> str:
        return self.body if isinstance(self.body, str) else json.dumps(self.body, indent=1, default=str)


def _error(status: int, message: str, hint: str | None = None) -> Reply:
    return Reply(status, {"error": redact_known(message), "hint": redact_known(hint) if hint else None})


def _limit(query: Mapping[str, str], default: int) -> int:
    raw = query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValueError(f"limit={raw!r} is not a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


class Endpoints:
    """The endpoints over one configuration (the server's environment)."""

    def __init__(self, settings_loader=load_settings):
        self._load = settings_loader
        self._settings: Settings | None = None
        self._lock = threading.Lock()
        self._health: health.HealthCache | None = None

    def settings(self) -> Settings:
        with self._lock:
            if self._settings is None:
                self._settings = self._load()
            return self._settings

    def _health_result(self) -> dict:
        try:
            settings = self.settings()
        except ArcticRouteError:
            return health.health_check()  # reports the config failure as config:valid
        if self._health is None:
            def compute() -> dict:
                result = health.health_check(settings=settings)
                health.record_transition(settings, result)
                return result

            self._health = health.HealthCache(compute, float(settings.runtime["health"]["cache_seconds"]))
        return self._health.get()

    def health(self, query: Mapping[str, str]) -> Reply:
        result = self._health_result()
        headers = {"Cache-Control": "no-cache, max-age=0"}
        return Reply(health.http_status(result), result, headers, health.MEDIA_TYPE)

    def metrics(self, query: Mapping[str, str]) -> Reply:
        """Prometheus text format 0.0.4; the health part is /api/health's (cached) result."""
        try:
            settings = self.settings()
        except ArcticRouteError as exc:
            return _error(503, str(exc), exc.hint)
        text = metrics.exposition(settings, self._health_result()).decode("utf-8")
        return Reply(200, text, dict(NO_STORE), metrics.CONTENT_TYPE)

    def stac(self, path: str) -> Reply:
        """A file of the static STAC catalog (``catalog.show --stac``): ``""`` is catalog.json."""
        try:
            folder = self.settings().stac_folder
        except ArcticRouteError as exc:
            return _error(503, str(exc), exc.hint)
        wanted = (folder / (path or "catalog.json")).resolve()
        inside = wanted.is_relative_to(folder.resolve()) and wanted.suffix == ".json"
        if not inside or not wanted.is_file():
            if not (folder / "catalog.json").is_file():
                return _error(404, f"no STAC catalog in {folder} yet",
                              "run catalog.show --stac (or catalog.verify --stac) to write it")
            return _error(404, f"{path!r} is not a file of the STAC catalog", "start at /api/stac/catalog.json")
        text = wanted.read_text(encoding="utf-8")
        feature = json.loads(text).get("type") == "Feature"  # items are GeoJSON features
        return Reply(200, text, dict(NO_STORE), "application/geo+json" if feature else "application/json")

    def _limit_and_settings(self, query: Mapping[str, str], default: int, example: str) -> tuple[int, Settings] | Reply:
        """The ``limit`` parameter and the settings, or the error reply (400 bad limit, 503 bad config)."""
        try:
            return _limit(query, default), self.settings()
        except ValueError as exc:
            return _error(400, str(exc), f"e.g. {example}")
        except ArcticRouteError as exc:
            return _error(503, str(exc), exc.hint)

    def runs(self, query: Mapping[str, str]) -> Reply:
        found = self._limit_and_settings(query, 50, "/api/runs?limit=20")
        if isinstance(found, Reply):
            return found
        limit, settings = found
        command = query.get("command")
        records = last_runs(settings.outputs_root, limit=limit if not command else MAX_LIMIT)
        if command:
            records = [r for r in records if r.get("command") == command][:limit]
        return Reply(200, {"runs": records, "count": len(records)})

    def catalog(self, query: Mapping[str, str]) -> Reply:
        found = self._limit_and_settings(query, 200, "/api/catalog?prefix=ar://env/ice.sic&limit=50")
        if isinstance(found, Reply):
            return found
        limit, settings = found
        index = read_index(settings.roots, settings.outputs_root)
        prefix, kind = query.get("prefix"), query.get("kind")
        shown = [e for e in index["entries"] if (not prefix or e["logical_id"].startswith(prefix))
                 and (not kind or e.get("kind") == kind)]
        newest = sorted(shown, key=lambda e: e.get("created_at") or "", reverse=True)[:limit]
        return Reply(200, {"entries": newest, "count": len(newest), "total": len(shown),
                           "generated_at": index.get("generated_at"), "problems": index.get("problems", [])})
