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

The body is read as it comes off the wire and decoded here (``Content-Encoding`` gzip or
deflate, http_body.py): its length is checked against ``Content-Length`` on the wire side and
the file it decodes to is capped at ``max_bytes``. Every download, retries included, ends by
its deadline (http_deadline.py cuts the socket, however slowly the server trickles), and by
the run's. A download stopped at a limit (size, deadline) is not retried: a bomb or a
tar-pit answers the same the next time.

``sleep`` and ``random`` are injected so tests neither wait nor guess.
"""

from __future__ import annotations

import hashlib
import json
import os
import random as _random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

from .. import __version__
from ..errors import ArcticRouteError, DataValidationError
from ..redact import redact_known, redact_url
from ..store import atomic
from . import http_body, http_deadline
from .http_deadline import Deadline, deadline_session

USER_AGENT = f"ArcticRoute/{__version__} (Arctic route-planning ops stack; python-requests)"
RECORD_SUFFIX = ".http.json"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class FetchError(ArcticRouteError):
    """A download failed after its retries (network, server errors, corrupt bodies)."""


class LimitExceededError(FetchError):
    """A download stopped at a limit (its deadline, the run's, the size cap): not retried."""


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
    deadline_s: float = 1800.0  # one download, every attempt and backoff included
    max_bytes: int = 2 << 30  # the decoded file; a larger one is refused
    run_deadline_at: float | None = None  # the whole run's end (time.time()); None: no such limit

    @classmethod
    def from_config(cls, config: dict, pull: dict | None = None, run_deadline_at: float | None = None) -> HttpPolicy:
        """The source's ``http:`` settings over the run's ``pull:`` defaults (config/runtime.yaml)."""
        http = config.get("http") or {}
        pull = pull or {}
        limits = {"deadline_s": http.get("deadline_s", pull.get("download_deadline_s")),
                  "max_bytes": int(float(http.get("max_mb", pull.get("max_download_mb", 0))) * (1 << 20)) or None}
        return cls(**{k: http[k] for k in ("timeout_s", "retries", "backoff_s", "backoff_max_s", "rate_limit_per_s")
                      if k in http}, **{k: v for k, v in limits.items() if v is not None},
                   run_deadline_at=run_deadline_at)


@dataclass(frozen=True)
class Download:
    """A file in the cache and what the server said about it."""

    path: Path
    url: str  # redacted
    etag: str | None
    last_modified: str | None
    sha256: str
    size_bytes: int
    transferred_bytes: int  # body bytes received by this call, on the wire (0 on a 304 or a cache hit)
    status: int  # 200, or 304 when the cached copy was confirmed
    wire_bytes: int | None = None  # the body as sent (Content-Encoding applied); None: as size_bytes

    @property
    def listed_size(self) -> int:
        """The size the server gives for the file (its Content-Length): what a HEAD is compared with."""
        return self.wire_bytes if self.wire_bytes is not None else self.size_bytes

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
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time):
        self.policy = policy
        self.headers = {"User-Agent": policy.user_agent, "Accept-Encoding": http_body.ACCEPT_ENCODING,
                        **(headers or {})}
        self.wall = wall
        self.log = log
        self.sleep = sleep
        self.random = random
        self.clock = clock
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = deadline_session()
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
        response = self._with_retries(shown, lambda: self._response_or_reason("HEAD", url), self._deadline(shown))
        if response.status_code == 404:
            raise UpstreamMissingError(f"{shown}: 404 Not Found")
        if response.status_code >= 400:
            raise FetchError(f"{shown}: HTTP {response.status_code} {response.reason}",
                             hint="check the source's URL template and credentials in config/env.yaml and .env")
        length = response.headers.get("Content-Length")
        return Probe(shown, response.status_code, response.headers.get("ETag"), response.headers.get("Last-Modified"),
                     int(length) if length and length.isdigit() else None)

    def _deadline(self, shown: str) -> tuple[float, str]:
        """The seconds one download may take and the limit that sets them (its own or the run's)."""
        seconds = self.policy.deadline_s
        what = f"its deadline of {seconds:g} s (http.deadline_s, or pull.download_deadline_s in config/runtime.yaml)"
        if self.policy.run_deadline_at is not None:
            left = self.policy.run_deadline_at - self.wall()
            if left < seconds:
                seconds, what = left, "the run's deadline (pull.run_deadline_s in config/runtime.yaml)"
        if seconds <= 0:
            raise LimitExceededError(f"{shown}: not started: {what} has passed", hint=_LIMIT_HINT)
        return seconds, what

    def _with_retries(self, shown: str, once: Callable[[], object], deadline: tuple[float, str], *, kept: str = "",
                      hint: str = "the provider may be down; the next scheduled run tries again"):
        """Call ``once`` until it returns a result; a string it returns, a network error or a
        corrupt body is the reason to try again, after a backoff with jitter. All of it ends
        by ``deadline`` (seconds, and what sets them)."""
        seconds, what = deadline
        reason = ""
        started = time.monotonic()
        with Deadline(seconds) as watch:
            for attempt in range(self.policy.retries + 1):
                try:
                    result = once()
                except (CorruptDownloadError, requests.ConnectionError, requests.Timeout,
                        requests.exceptions.ChunkedEncodingError) as exc:
                    if watch.expired:
                        raise LimitExceededError(f"{shown}: stopped at {what}{kept}", hint=_LIMIT_HINT) from None
                    reason = str(exc) if isinstance(exc, CorruptDownloadError) else \
                        f"{type(exc).__name__}: {redact_known(str(exc))[:200]}"
                else:
                    if not isinstance(result, str):
                        return result
                    reason = result
                if attempt < self.policy.retries:
                    pause = self.backoff(attempt)
                    if time.monotonic() - started + pause >= seconds:
                        raise LimitExceededError(f"{shown}: {reason}; no time left for another attempt before "
                                                 f"{what}{kept}", hint=_LIMIT_HINT)
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

        return self._with_retries(shown, once, self._deadline(shown), kept="; nothing was kept",
                                  hint="the provider may be down or serving damaged files; the next run tries again")

    def _attempt(self, url, shown, dest: Path, headers, record, check) -> Download | str:
        """One try: a Download, or a string saying why it should be retried."""
        with self._request("GET", url, headers=headers, stream=True) as response:
            if response.status_code == 304 and record:
                return Download(dest, shown, record.get("etag"), record.get("last_modified"), record["sha256"],
                                record["size_bytes"], 0, 304, record.get("wire_bytes"))
            if response.status_code == 404:
                raise UpstreamMissingError(f"{shown}: 404 Not Found")
            if response.status_code in _RETRY_STATUS:
                return f"HTTP {response.status_code} {response.reason}"
            if response.status_code >= 400 or response.status_code == 304:
                raise FetchError(f"{shown}: HTTP {response.status_code} {response.reason}",
                                 hint="check the source's URL template and credentials in config/env.yaml and the environment")
            digest = hashlib.sha256()
            with atomic.atomic_path(dest) as tmp:
                with open(tmp, "wb") as handle:
                    received, wire = self._body(response, shown, handle, digest)
                    handle.flush()
                    os.fsync(handle.fileno())
                if check is not None:
                    check(tmp)
                # the old record goes first: a record never describes bytes it was not made from
                dest.with_name(dest.name + RECORD_SUFFIX).unlink(missing_ok=True)
            record = {"url": shown, "etag": response.headers.get("ETag"),
                      "last_modified": response.headers.get("Last-Modified"), "sha256": digest.hexdigest(),
                      "size_bytes": received, "wire_bytes": wire,
                      "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            atomic.write_json(dest.with_name(dest.name + RECORD_SUFFIX), record)
            return Download(dest, shown, record["etag"], record["last_modified"], record["sha256"], received, wire, 200,
                            wire)

    def _body(self, response: requests.Response, shown: str, handle, digest) -> tuple[int, int]:
        """Write the decoded body to ``handle``; its size decoded and on the wire. Lengths are
        checked on the wire side of the Content-Encoding, the size cap on the file side."""
        expected = response.headers.get("Content-Length")
        expected = int(expected) if expected and expected.isdigit() else None
        try:
            chain = http_body.decoders(response.headers.get("Content-Encoding"))
        except http_body.UnsupportedEncodingError as exc:
            raise FetchError(f"{shown}: {exc}; nothing was kept",
                             hint="the server ignores Accept-Encoding; report it to the provider") from None
        wire = received = 0
        cap = self.policy.max_bytes
        if not chain and expected is not None and expected > cap:
            raise LimitExceededError(f"{shown}: refused before reading: it is {_size(expected)}, over the size cap of "
                                     f"{_size(cap)} (http.max_mb, or pull.max_download_mb in config/runtime.yaml); "
                                     "nothing was kept", hint=_CAP_HINT)
        try:
            for block in response.raw.stream(1 << 16, decode_content=False):
                wire += len(block)
                for piece in http_body.decode(chain, block):
                    received += len(piece)
                    if received > cap:
                        raise LimitExceededError(
                            f"{shown}: stopped at the size cap of {_size(cap)} (http.max_mb, or pull.max_download_mb "
                            f"in config/runtime.yaml) after {_size(wire)} on the wire; nothing was kept",
                            hint=_CAP_HINT)
                    handle.write(piece)
                    digest.update(piece)
            http_body.finish(chain)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.Timeout(str(exc)) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError, OSError):
            raise CorruptDownloadError(f"truncated body: the connection closed after {wire} of "
                                       f"{expected if expected is not None else 'unknown'} bytes") from None
        except zlib.error as exc:
            raise CorruptDownloadError(f"damaged {response.headers.get('Content-Encoding')} body after {wire} "
                                       f"bytes on the wire ({exc})") from None
        if http_deadline.expired():  # a body without a length "ends" when its socket is cut
            raise CorruptDownloadError(f"body cut at the deadline after {wire} bytes")
        if expected is not None and expected != wire:
            raise CorruptDownloadError(f"truncated body: {wire} of {expected} bytes")
        if received == 0:
            raise CorruptDownloadError("empty body")
        return received, wire


_CAP_HINT = ("a larger file than the source should send (a decompression bomb?); raise the cap only if the "
             "provider's files really are this large")
_LIMIT_HINT = ("the server is too slow or sends too much; the next run tries again; if the provider is just slow, raise "
               "the deadline (http.deadline_s in config/env.yaml, pull.* in config/runtime.yaml)")


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n} bytes"


def cached(dest: Path) -> Download | None:
    """The cached copy of a file as a Download (no request), or None."""
    record = read_record(dest)
    if record is None:
        return None
    return Download(dest, record["url"], record.get("etag"), record.get("last_modified"), record["sha256"],
                    record["size_bytes"], 0, 304, record.get("wire_bytes"))


def validation_error(found: str, expected: str, source: str) -> DataValidationError:
    """The one wording for a file that is not what its source promises."""
    return DataValidationError(
        f"{source}: found {found}; expected {expected}; the file was refused and nothing was written",
        hint="the provider may have changed its format: compare with docs/sources.md and adjust config/env.yaml",
    )
