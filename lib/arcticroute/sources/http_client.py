"""Polite, resumable HTTP downloads into a per-source cache.

Every request names the project in its User-Agent, waits its turn under a per-host rate
limit, and is conditional when the cache holds an earlier copy (``If-None-Match`` with the
ETag, ``If-Modified-Since`` with the Last-Modified date), so an unchanged file costs a 304
and no body. A download goes to a temporary file in the cache folder, is checked (length
against ``Content-Length``, then the caller's ``check``, which opens it), and only then is
renamed into place beside a small ``.http.json`` record of its validators and sha256.
Timeouts, connection errors, 5xx, 429 and truncated or unreadable bodies are retried with
exponential backoff and full jitter, a bounded number of times. A 404 is not retried: the
caller decides whether it means "not yet published" or "missing upstream".

``sleep`` and ``random`` are injected so tests neither wait nor guess.
"""

from __future__ import annotations

import hashlib
import json
import os
import random as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from .. import __version__
from ..errors import ArcticRouteError, DataValidationError
from ..redact import redact_known, redact_url
from ..store import atomic

USER_AGENT = f"ArcticRoute/{__version__} (Arctic route-planning ops stack; python-requests)"
RECORD_SUFFIX = ".http.json"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class FetchError(ArcticRouteError):
    """A download failed after its retries (network, server errors, corrupt bodies)."""


class UpstreamMissingError(ArcticRouteError):
    """The provider answered 404 Not Found for a URL."""


class CorruptDownloadError(Exception):
    """A downloaded body is truncated or cannot be opened: retried, never kept."""


@dataclass(frozen=True)
class HttpPolicy:
    """How politely and how persistently to talk to one source's hosts."""

    timeout_s: float = 30.0
    retries: int = 4  # attempts after the first
    backoff_s: float = 0.5  # first backoff; doubles each retry, with full jitter
    backoff_max_s: float = 30.0
    rate_limit_per_s: float = 0.0  # requests per second per host; 0 = unlimited
    user_agent: str = USER_AGENT

    @classmethod
    def from_config(cls, config: dict) -> HttpPolicy:
        http = config.get("http") or {}
        return cls(**{k: http[k] for k in ("timeout_s", "retries", "backoff_s", "backoff_max_s", "rate_limit_per_s")
                      if k in http})


@dataclass(frozen=True)
class Download:
    """A file in the cache and what the server said about it."""

    path: Path
    url: str  # redacted
    etag: str | None
    last_modified: str | None
    sha256: str
    size_bytes: int
    transferred_bytes: int  # body bytes received by this call (0 on a 304 or a cache hit)
    status: int  # 200, or 304 when the cached copy was confirmed

    def identity(self) -> dict:
        return {"url": self.url, "etag": self.etag, "last_modified": self.last_modified, "sha256": self.sha256}

    def input_ref(self, logical_id: str) -> dict:
        return {"logical_id": logical_id, "sha256": self.sha256, "source_url": self.url, "etag": self.etag,
                "last_modified": self.last_modified, "size_bytes": self.size_bytes}


@dataclass(frozen=True)
class Probe:
    """What a HEAD request says about a URL without downloading it."""

    url: str
    status: int
    etag: str | None
    last_modified: str | None
    size_bytes: int | None


class _HostLimiter:
    """At most ``rate`` request starts per second per host, shared by all threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, rate: float, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        if rate <= 0:
            return
        with self._lock:
            now = clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + 1.0 / rate
        if start > now:
            sleep(start - now)


_LIMITER = _HostLimiter()


def read_record(path: Path) -> dict | None:
    """The cache record beside ``path`` if the cached file still matches it."""
    record_path = path.with_name(path.name + RECORD_SUFFIX)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if path.stat().st_size != record.get("size_bytes"):
            return None
    except (OSError, ValueError):
        return None
    return record


class HttpClient:
    """One source's downloads: a requests session, its policy, optional extra headers."""

    def __init__(self, policy: HttpPolicy, headers: dict | None = None, *, log=None,
                 sleep: Callable[[float], None] = time.sleep, random: Callable[[], float] = _random.random,
                 clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self.headers = {"User-Agent": policy.user_agent, **(headers or {})}
        self.log = log
        self.sleep = sleep
        self.random = random
        self.clock = clock
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self.headers)
        return session

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return self.random() * min(self.policy.backoff_max_s, self.policy.backoff_s * (2 ** attempt))

    def _request(self, method: str, url: str, **kwargs) -> requests.Response:
        _LIMITER.wait(urlsplit(url).netloc, self.policy.rate_limit_per_s, self.sleep, self.clock)
        return self.session.request(method, url, timeout=self.policy.timeout_s, allow_redirects=True, **kwargs)

    def _say(self, message: str, *args) -> None:
        if self.log is not None:
            self.log.info(message, *args)

    def probe(self, url: str) -> Probe:
        """HEAD the URL (retried like a download); 404 raises UpstreamMissingError."""
        shown = redact_url(url)
        response = self._with_retries(shown, lambda: self._response_or_reason("HEAD", url))
        if response.status_code == 404:
            raise UpstreamMissingError(f"{shown}: 404 Not Found")
        if response.status_code >= 400:
            raise FetchError(f"{shown}: HTTP {response.status_code} {response.reason}",
                             hint="check the source's URL template and credentials in config/env.yaml and .env")
        length = response.headers.get("Content-Length")
        return Probe(shown, response.status_code, response.headers.get("ETag"), response.headers.get("Last-Modified"),
                     int(length) if length and length.isdigit() else None)

    def _with_retries(self, shown: str, once: Callable[[], object], *, kept: str = "",
                      hint: str = "the provider may be down; the next scheduled run tries again"):
        """Call ``once`` until it returns a result; a string it returns, a network error or a
        corrupt body is the reason to try again, after a backoff with jitter."""
        reason = ""
        for attempt in range(self.policy.retries + 1):
            try:
                result = once()
            except CorruptDownloadError as exc:
                reason = str(exc)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                reason = f"{type(exc).__name__}: {redact_known(str(exc))[:200]}"
            else:
                if not isinstance(result, str):
                    return result
                reason = result
            if attempt < self.policy.retries:
                pause = self.backoff(attempt)
                self._say("%s: %s; retry %d/%d in %.2f s", shown, reason, attempt + 1, self.policy.retries, pause)
                self.sleep(pause)
        raise FetchError(f"{shown}: {reason} (gave up after {self.policy.retries + 1} attempts{kept})", hint=hint)

    def _response_or_reason(self, method: str, url: str) -> requests.Response | str:
        response = self._request(method, url)
        if response.status_code not in _RETRY_STATUS:
            return response
        response.close()
        return f"HTTP {response.status_code} {response.reason}"

    def download(self, url: str, dest: Path, check: Callable[[Path], None] | None = None) -> Download:
        """Fetch ``url`` into ``dest`` (conditionally when ``dest`` is cached), checked, atomically.

        ``check(path)`` opens the temporary file and raises CorruptDownloadError for a body
        that cannot be read (retried) or DataValidationError for one that reads but is not
        what the source promises (not retried). Neither leaves a file behind.
        """
        shown = redact_url(url)
        dest.parent.mkdir(parents=True, exist_ok=True)

        def once() -> Download | str:
            record = read_record(dest)
            headers = {}
            if record and record.get("etag"):
                headers["If-None-Match"] = record["etag"]
            if record and record.get("last_modified"):
                headers["If-Modified-Since"] = record["last_modified"]
            return self._attempt(url, shown, dest, headers, record, check)

        return self._with_retries(shown, once, kept="; nothing was kept",
                                  hint="the provider may be down or serving damaged files; the next run tries again")

    def _attempt(self, url, shown, dest: Path, headers, record, check) -> Download | str:
        """One try: a Download, or a string saying why it should be retried."""
        with self._request("GET", url, headers=headers, stream=True) as response:
            if response.status_code == 304 and record:
                return Download(dest, shown, record.get("etag"), record.get("last_modified"), record["sha256"],
                                record["size_bytes"], 0, 304)
            if response.status_code == 404:
                raise UpstreamMissingError(f"{shown}: 404 Not Found")
            if response.status_code in _RETRY_STATUS:
                return f"HTTP {response.status_code} {response.reason}"
            if response.status_code >= 400 or response.status_code == 304:
                raise FetchError(f"{shown}: HTTP {response.status_code} {response.reason}",
                                 hint="check the source's URL template and credentials in config/env.yaml and the environment")
            expected = response.headers.get("Content-Length")
            digest = hashlib.sha256()
            received = 0
            with atomic.atomic_path(dest) as tmp:
                with open(tmp, "wb") as handle:
                    try:
                        for block in response.iter_content(1 << 16):
                            handle.write(block)
                            digest.update(block)
                            received += len(block)
                    except requests.exceptions.ChunkedEncodingError:
                        raise CorruptDownloadError(f"truncated body: the connection closed after {received} of "
                                                   f"{expected or 'unknown'} bytes") from None
                    handle.flush()
                    os.fsync(handle.fileno())
                if expected and expected.isdigit() and int(expected) != received:
                    raise CorruptDownloadError(f"truncated body: {received} of {expected} bytes")
                if received == 0:
                    raise CorruptDownloadError("empty body")
                if check is not None:
                    check(tmp)
                # the old record goes first: a record never describes bytes it was not made from
                dest.with_name(dest.name + RECORD_SUFFIX).unlink(missing_ok=True)
            record = {"url": shown, "etag": response.headers.get("ETag"),
                      "last_modified": response.headers.get("Last-Modified"), "sha256": digest.hexdigest(),
                      "size_bytes": received, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            atomic.write_json(dest.with_name(dest.name + RECORD_SUFFIX), record)
            return Download(dest, shown, record["etag"], record["last_modified"], record["sha256"], received, received, 200)


def cached(dest: Path) -> Download | None:
    """The cached copy of a file as a Download (no request), or None."""
    record = read_record(dest)
    if record is None:
        return None
    return Download(dest, record["url"], record.get("etag"), record.get("last_modified"), record["sha256"],
                    record["size_bytes"], 0, 304)


def validation_error(found: str, expected: str, source: str) -> DataValidationError:
    """The one wording for a file that is not what its source promises."""
    return DataValidationError(
        f"{source}: found {found}; expected {expected}; the file was refused and nothing was written",
        hint="the provider may have changed its format: compare with docs/sources.md and adjust config/env.yaml",
    )
