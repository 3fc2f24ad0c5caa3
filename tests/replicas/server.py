"""A loopback site serving replica files like a provider's web server: ETag, Last-Modified,
conditional GET and HEAD (304), 404 for what is not there; faults on demand; and hostile
answers (a Content-Encoding, a body that trickles, raw bytes with any headers)."""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response


@dataclass
class Hit:
    method: str
    path: str
    status: int
    body_bytes: int
    headers: dict = field(default_factory=dict)


class ReplicaSite:
    """Serve ``root`` on a threaded loopback HTTPServer (pytest-httpserver)."""

    def __init__(self, root: Path, latency_s: float = 0.0, port: int = 0):
        self.root = root
        self.latency_s = latency_s
        # url path -> faults consumed one per GET: 500, 503, slow, truncate, trickle
        self.faults: dict[str, list[str]] = {}
        self.slow_s = 3.0
        self.trickle_pieces, self.trickle_pause_s = 8, 0.25  # the body in 8 pieces, a pause before each
        self.hits: list[Hit] = []
        self.encodings: dict[str, str] = {}  # url path -> gzip, deflate (zlib-wrapped) or deflate-raw
        self.raw: dict[str, tuple[bytes, dict]] = {}  # url path -> (body as sent, extra headers)
        self.trickles: dict[str, float] = {}  # url path -> seconds between the body's bytes
        self._lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
        self.server.expect_request(re.compile(r"/.*")).respond_with_handler(self.handle)

    def start(self) -> ReplicaSite:
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.server.port}/{path.lstrip('/')}"

    def fail(self, path: str, *faults: str) -> None:
        self.faults.setdefault("/" + path.lstrip("/"), []).extend(faults)

    def encode(self, path: str, coding: str) -> None:
        self.encodings["/" + path.lstrip("/")] = coding

    def send_raw(self, path: str, body: bytes, **headers: str) -> None:
        self.raw["/" + path.lstrip("/")] = (body, headers)

    def trickle(self, path: str, interval_s: float) -> None:
        self.trickles["/" + path.lstrip("/")] = interval_s

    def body_bytes(self) -> int:
        return sum(h.body_bytes for h in self.hits)

    def _record(self, request: Request, response: Response, body: int) -> Response:
        with self._lock:
            self.hits.append(Hit(request.method, request.path, response.status_code, body, dict(request.headers)))
        return response

    def handle(self, request: Request) -> Response:
        if self.latency_s:
            time.sleep(self.latency_s)
        fault = None
        if request.method == "GET":
            with self._lock:
                queue = self.faults.get(request.path)
                fault = queue.pop(0) if queue else None
        if fault == "500":
            return self._record(request, Response("boom", status=500), 0)
        if fault == "503":
            return self._record(request, Response("busy", status=503), 0)
        if fault == "slow":
            time.sleep(self.slow_s)
        if request.path in self.raw:
            body, headers = self.raw[request.path]
            response = Response(body, mimetype="application/octet-stream", headers=headers)
            return self._record(request, response, 0 if request.method == "HEAD" else len(body))
        if request.path in self.trickles:
            return self._record(request, self._trickled(request.path), 0)
        path = (self.root / request.path.lstrip("/")).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return self._record(request, Response("not found", status=404), 0)
        data = path.read_bytes()
        response = Response(data, mimetype="application/octet-stream")
        response.set_etag(hashlib.sha1(data).hexdigest())
        response.last_modified = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
        response.make_conditional(request)
        if fault == "truncate" and response.status_code == 200:
            response = Response(data[: len(data) // 2], mimetype="application/octet-stream")
            response.headers["Content-Length"] = str(len(data))  # the promise the body breaks
            response.set_etag(hashlib.sha1(data).hexdigest())
        if fault == "trickle" and response.status_code == 200:
            response = Response(self._trickle(data), mimetype="application/octet-stream", direct_passthrough=True)
            response.headers["Content-Length"] = str(len(data))
            response.set_etag(hashlib.sha1(data).hexdigest())
            return self._record(request, response, len(data))
        coding = self.encodings.get(request.path)
        if coding and response.status_code == 200:
            encoded = {"gzip": gzip.compress, "deflate": zlib.compress,
                       "deflate-raw": lambda d: zlib.compress(d, wbits=-15)}[coding](data)
            response.set_data(encoded)  # sets Content-Length: the bytes on the wire
            response.headers["Content-Encoding"] = coding.removesuffix("-raw")
        body = 0 if request.method == "HEAD" or response.status_code == 304 else len(response.get_data())
        return self._record(request, response, body)

    def _trickled(self, path: str) -> Response:
        """One byte per interval, for as long as the client listens (at most a minute)."""
        interval = self.trickles[path]

        def drip():
            for _ in range(int(60 / interval)):
                yield b"\0"
                time.sleep(interval)

        return Response(drip(), mimetype="application/octet-stream", headers={"Content-Length": "1000000"})

    def _trickle(self, data: bytes):
        """The whole body, slowly: a server (or a link) that answers but drips."""
        size = -(-len(data) // self.trickle_pieces)
        for start in range(0, len(data), size):
            time.sleep(self.trickle_pause_s)
            yield data[start:start + size]
