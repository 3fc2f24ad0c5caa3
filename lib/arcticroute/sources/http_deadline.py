"""An overall deadline for one download, enforced on the socket itself.

requests' ``timeout`` bounds each read, not the whole transfer: a server that sends one byte
every few seconds never trips it. While a ``Deadline`` is active in a thread, every connection
that thread's session sends a request on is remembered; when the deadline passes, a timer
shuts those sockets down, so the blocked read (status line, headers or body) returns at once
and the download fails. Sessions opt in with ``deadline_session`` (pools whose connections
report themselves to the active deadline).
"""

from __future__ import annotations

import socket
import threading

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_ACTIVE = threading.local()


class Deadline:
    """``with Deadline(seconds):`` cuts this thread's connections once ``seconds`` have passed."""

    def __init__(self, seconds: float):
        self.seconds = max(0.0, seconds)
        self.expired = False
        self._lock = threading.Lock()
        self._connections: list[HTTPConnection] = []
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._outer = getattr(_ACTIVE, "deadline", None)
        _ACTIVE.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        _ACTIVE.deadline = self._outer

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            if self.expired:
                _cut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                _cut(connection)


def expired() -> bool:
    """Whether this thread's active deadline has passed (a body that "ended" then was cut short)."""
    deadline = getattr(_ACTIVE, "deadline", None)
    return deadline is not None and deadline.expired


def _cut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return  # not connected yet: _Watched.connect cuts it as soon as it is
    try:
        # the plain socket's shutdown, also under TLS: the reading thread gets end-of-file now
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        return  # already closed by its owner: nothing left to interrupt


class _Watched:
    """A connection that reports itself to the thread's active deadline on every request."""

    def request(self, *args, **kwargs):
        deadline = getattr(_ACTIVE, "deadline", None)
        if deadline is not None:
            deadline.watch(self)
        return super().request(*args, **kwargs)

    def connect(self):
        super().connect()
        deadline = getattr(_ACTIVE, "deadline", None)
        if deadline is not None and deadline.expired:
            _cut(self)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def deadline_session() -> requests.Session:
    """A requests session whose connections obey the thread's active ``Deadline``."""
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _WatchedAdapter())
    return session
