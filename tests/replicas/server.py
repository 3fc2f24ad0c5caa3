"""A loopback site serving replica files like a provider's web server: ETag, Last-Modified,
conditional GET and HEAD (304), 404 for what is not there; faults on demand."""

from __future__ import annotations

import hashlib
import re
import threading
import time
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
        body = 0 if request.method == "HEAD" or response.status_code == 304 else len(response.get_data())
        return self._record(request, response, body)

    def _trickle(self, data: bytes):
        """The whole body, slowly: a server (or a link) that answers but drips."""
        size = -(-len(data) // self.trickle_pieces)
        for start in range(0, len(data), size):
            time.sleep(self.trickle_pause_s)
            yield data[start:start + size]
