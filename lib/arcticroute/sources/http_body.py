"""A response body undone from its ``Content-Encoding``, piece by bounded piece.

The bytes on the wire are what ``Content-Length`` counts; the decoded bytes are the file. The
client reads the wire bytes itself and decodes them here, so it can check the length on the
wire side and cap the size on the file side, and a compressed bomb never expands in memory
by more than one piece at a time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

ACCEPT_ENCODING = "gzip, deflate"  # what the client asks for: exactly what it can decode
PIECE = 1 << 16  # most decoded bytes held at once per decoder


class UnsupportedEncodingError(ValueError):
    """The server used a Content-Encoding this client did not offer and cannot decode."""


class _Inflater:
    """One ``gzip`` (every member of it) or ``deflate`` (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, coding: str):
        self.gzip = coding in ("gzip", "x-gzip")
        self._obj = zlib.decompressobj(31) if self.gzip else None
        self._head = b""

    def _start_deflate(self, data: bytes) -> bytes | None:
        self._head += data
        if len(self._head) < 2:
            return None
        first, second = self._head[0], self._head[1]
        zlib_wrapped = first & 0x0F == 8 and (first * 256 + second) % 31 == 0
        self._obj = zlib.decompressobj(15 if zlib_wrapped else -15)
        data, self._head = self._head, b""
        return data

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._obj is None:
            data = self._start_deflate(data)
            if data is None:
                return
        while data:
            if self._obj.eof:
                data = self._next_member(data)
                if not data:
                    return
            out = self._obj.decompress(data, PIECE)
            data = self._obj.unconsumed_tail
            if out:
                yield out
            while not data and len(out) == PIECE:  # output may still be pending inside zlib
                out = self._obj.decompress(b"", PIECE)
                if out:
                    yield out
            if self._obj.eof and self._obj.unused_data:
                data = self._obj.unused_data

    def _next_member(self, data: bytes) -> bytes:
        """After a gzip member another may follow (RFC 1952); zero padding is ignored; else an error."""
        if self.gzip and data[:2] == b"\x1f\x8b":
            self._obj = zlib.decompressobj(31)
            return data
        if self.gzip and not data.strip(b"\x00"):
            return b""
        raise zlib.error(f"{len(data)} bytes after the end of the compressed stream")

    def finish(self) -> None:
        if self._obj is None or not self._obj.eof:
            raise zlib.error("the compressed stream ends early")


def decoders(content_encoding: str | None) -> list[_Inflater]:
    """The decoders for a ``Content-Encoding`` header, in the order they apply (last coding first)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    unsupported = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
    if unsupported:
        raise UnsupportedEncodingError(f"Content-Encoding {', '.join(unsupported)} (asked for {ACCEPT_ENCODING})")
    return [_Inflater(c) for c in reversed(codings)]


def decode(chain: list[_Inflater], wire: bytes) -> Iterable[bytes]:
    """The decoded pieces of one block of wire bytes (lazily: stop reading them to stop decoding)."""
    pieces: Iterable[bytes] = (wire,)
    for decoder in chain:
        pieces = _through(decoder, pieces)
    return pieces


def _through(decoder: _Inflater, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)


def finish(chain: list[_Inflater]) -> None:
    """zlib.error when a compressed stream was cut short."""
    for decoder in chain:
        decoder.finish()
