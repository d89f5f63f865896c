"""A minimal HTTP/1.1 server protocol for the simulator.

Why not a web framework: the simulator shares the machine with the
conductor it measures, so each request must cost as little CPU as possible,
and thousands of slow or hung requests must cost nothing but memory. An
:class:`asyncio.Protocol` with a hand-rolled parser does both: no task per
connection, no stream objects, one ``write`` per response.

Supported: request line, headers, ``Content-Length`` bodies, keep-alive
(HTTP/1.1 default, ``Connection: close`` honoured) and pipelined requests
(answered in order). Not supported, answered with an error and a close:
chunked request bodies, oversized headers or bodies.

A connection handles one request at a time. The :class:`RequestHandler`
must either call :meth:`HttpConnection.respond` (now or later) or
:meth:`HttpConnection.hang`.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Sequence
from typing import Protocol, cast

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024

_REASONS = {s.value: s.phrase for s in http.HTTPStatus}
_JSON_HEADERS = ("Content-Type: application/json; charset=utf-8\r\n"
                 "OData-Version: 4.0\r\n"
                 "Cache-Control: no-cache\r\n")


class Request:
    """One parsed HTTP request. Header names are lower-case."""

    __slots__ = ("method", "path", "query", "version", "headers", "body",
                 "keep_alive")

    def __init__(self, method: str, path: str, query: str, version: str,
                 headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        conn = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            self.keep_alive = conn != "close"
        else:
            self.keep_alive = conn == "keep-alive"


class Response:
    """A status, a JSON body (already encoded) and extra headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: bytes = b"",
                 headers: Sequence[tuple[str, str]] = ()) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    def encode(self, keep_alive: bool) -> bytes:
        """Status line, headers and body as one buffer."""
        body = self.body
        parts = [f"HTTP/1.1 {self.status} "
                 f"{_REASONS.get(self.status, 'Unknown')}\r\n"
                 f"Content-Length: {len(body)}\r\n"
                 f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"]
        if body:
            parts.append(_JSON_HEADERS)
        for name, value in self.headers:
            parts.append(f"{name}: {value}\r\n")
        parts.append("\r\n")
        return "".join(parts).encode("latin-1") + body


class RequestHandler(Protocol):
    """What an :class:`HttpConnection` calls into."""

    def connection_made(self, conn: HttpConnection) -> None:
        """A client connected."""

    def connection_lost(self, conn: HttpConnection) -> None:
        """A client went away (or the server closed the connection)."""

    def handle(self, conn: HttpConnection, request: Request) -> None:
        """Serve ``request``: call ``conn.respond`` now or later, or
        ``conn.hang()``."""


class HttpConnection(asyncio.Protocol):
    """One client connection."""

    __slots__ = ("handler", "transport", "buffer", "busy", "hung", "closed",
                 "keep_alive", "_processing")

    def __init__(self, handler: RequestHandler) -> None:
        self.handler = handler
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.hung = False
        self.closed = False
        self.keep_alive = True
        self._processing = False

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)
        self.handler.connection_made(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.buffer.clear()
        self.handler.connection_lost(self)

    def data_received(self, data: bytes) -> None:
        if self.hung:
            # Nothing will ever be answered; just do not buffer forever.
            return
        self.buffer += data
        if not self.busy:
            self._process()
        elif len(self.buffer) > MAX_HEADER_BYTES + MAX_BODY_BYTES:
            # A client pipelining far ahead of a slow answer: stop reading
            # until the current request is answered.
            assert self.transport is not None
            self.transport.pause_reading()

    # called by the handler

    def respond(self, response: Response) -> None:
        """Send the answer to the current request."""
        if self.closed or self.transport is None:
            return
        keep_alive = self.keep_alive
        self.transport.write(response.encode(keep_alive))
        self.busy = False
        if not self.transport.is_reading():
            self.transport.resume_reading()
        if not keep_alive:
            self.close()
        elif self.buffer and not self._processing:
            self._process()

    def hang(self) -> None:
        """Never answer: keep the connection open until the client
        closes it."""
        self.hung = True
        self.buffer.clear()

    def close(self) -> None:
        """Close the connection (after pending writes are flushed)."""
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    # parsing

    def _process(self) -> None:
        self._processing = True
        try:
            while not self.busy and not self.closed and not self.hung:
                request = self._parse()
                if request is None:
                    return
                self.busy = True
                self.keep_alive = request.keep_alive
                self.handler.handle(self, request)
        finally:
            self._processing = False

    def _parse(self) -> Request | None:
        buf = self.buffer
        while buf[:2] == b"\r\n":
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                self._fail(431)
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            self._fail(400)
            return None
        if not version.startswith("HTTP/1."):
            self._fail(505)
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            self._fail(501)
            return None
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._fail(400)
            return None
        if length < 0 or length > MAX_BODY_BYTES:
            self._fail(413)
            return None
        total = end + 4 + length
        if len(buf) < total:
            return None
        body = bytes(buf[end + 4:total])
        del buf[:total]
        path, _, query = target.partition("?")
        return Request(method, path, query, version, headers, body)

    def _fail(self, status: int) -> None:
        # A malformed request leaves the stream unparseable: answer, close.
        self.keep_alive = False
        self.busy = True
        self.buffer.clear()
        self.respond(Response(status))
