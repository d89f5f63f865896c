"""Non-blocking kept-alive GETs to one BMC, on the read loop.

The counterpart of :mod:`.lean_get` for reads that wait on
:mod:`podium.drivers.modules.aio_loop` instead of on a thread. It is a
small HTTP/1.1 client on asyncio streams rather than aiohttp or httpx:
``bench/aio_client.py`` (20 BMCs, 4 GETs in flight each, on a shared
2-core machine) measured about 0.03 ms of client CPU per GET for it,
0.08-0.10 ms for aiohttp (not a dependency) and 0.5-2 ms for httpx's
asynchronous client, and at tens of thousands of reads per cycle that is
the conductor's CPU budget.
It parses answers by ``http.client``'s rules: ``Content-Length``,
chunked transfer coding, a body up to the close when neither is given,
no body for 1xx/204/304, ``Connection: close`` and HTTP/1.0 without
keep-alive closing the connection, interim 1xx answers skipped.

Like the lean getter it serves only what it can serve exactly: a proxy
requests would use, a compressed body, a malformed answer or a
connection it cannot open all return None, and the caller reads on the
threaded path, which reports such errors as before. A timeout is left
to the caller's deadline (the coroutine is cancelled), which reports it
as a ``BMCTimeout``.

Requests to one endpoint stay within ``[redfish]
max_concurrent_requests_per_endpoint``, counted together with the
threaded path's requests (:meth:`transport.EndpointLimiter.try_take`).
The sockets it keeps count against the process's :mod:`.socket_budget`,
as the lean getter's do.
"""

import asyncio
import collections
import urllib.parse
from collections.abc import Callable, Mapping

import requests

from podium.conf import CONF
from podium.drivers.modules import aio_loop
from podium.drivers.modules.redfish import lean_get, socket_budget, transport

#: Idle connections kept per BMC; more only under concurrent reads.
MAX_IDLE = lean_get.MAX_IDLE

#: Longest status line plus headers accepted (http.client: 100 headers
#: of 64 KB; a power read's answer has a dozen short ones).
MAX_HEADER_BYTES = 64 * 1024

#: Seconds between tries for an endpoint slot held by threaded requests.
SLOT_POLL = 0.01

_NO_BODY = (204, 304)


class Unservable(Exception):
    """The answer cannot be read exactly like http.client would."""


class _Conn:
    __slots__ = ('reader', 'writer', 'release')

    def __init__(self, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        #: Gives its place in the socket budget back, once kept.
        self.release: Callable[[], None] | None = None

    def close(self) -> None:
        self.writer.close()
        release, self.release = self.release, None
        if release is not None:
            release()


class _Answer:
    __slots__ = ('status', 'headers', 'will_close')

    def __init__(self, status: int, headers: dict[str, str],
                 will_close: bool) -> None:
        self.status = status
        self.headers = headers
        self.will_close = will_close


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    """Status, version and headers (lower-cased names) of a head."""
    try:
        text = head.decode('iso-8859-1')
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes all
        raise Unservable('undecodable head') from None
    lines = text.split('\r\n')
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith('HTTP/'):
        raise Unservable(f'bad status line {lines[0]!r}')
    version = parts[0]
    try:
        status = int(parts[1])
    except ValueError:
        raise Unservable(f'bad status line {lines[0]!r}') from None
    if not 100 <= status <= 999:
        raise Unservable(f'bad status {status}')
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in ' \t':
            raise Unservable('folded header')  # obsolete; not for us
        name, sep, value = line.partition(':')
        if not sep:
            raise Unservable(f'bad header line {line!r}')
        key = name.strip().lower()
        value = value.strip()
        # http.client joins repeated headers with ', ' too.
        headers[key] = (f'{headers[key]}, {value}' if key in headers
                        else value)
    return status, version, headers


def _will_close(version: str, headers: Mapping[str, str]) -> bool:
    """http.client's HTTPResponse._check_close."""
    tokens = {token.strip().lower()
              for token in headers.get('connection', '').split(',')}
    if version == 'HTTP/1.1':
        return 'close' in tokens
    if 'keep-alive' in headers:
        return False
    if 'keep-alive' in tokens:
        return False
    return headers.get('proxy-connection', '').lower() != 'keep-alive'


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b'\r\n')
        size_text = line.split(b';', 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise Unservable(f'bad chunk size {size_text!r}') from None
        if size < 0:
            raise Unservable('negative chunk size')
        if size == 0:
            break
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b'\r\n':
            raise Unservable('chunk not followed by CRLF')
    # Trailers, up to the empty line.
    while (await reader.readuntil(b'\r\n')) != b'\r\n':
        pass
    return b''.join(parts)


async def read_response(reader: asyncio.StreamReader
                        ) -> tuple[_Answer, bytes]:
    """One answer to a GET, read by http.client's rules (module doc).

    :raises Unservable: malformed or not readable exactly.
    :raises asyncio.IncompleteReadError: the peer closed mid-answer.
    """
    while True:
        try:
            head = await reader.readuntil(b'\r\n\r\n')
        except asyncio.LimitOverrunError:
            raise Unservable('oversized head') from None
        status, version, headers = _parse_head(head[:-4])
        if 100 <= status < 200 and status != 101:
            continue  # interim answer: the real one follows
        break
    will_close = _will_close(version, headers)
    encoding = headers.get('transfer-encoding', '').lower()
    if status in _NO_BODY or 100 <= status < 200:
        body = b''
    elif encoding:
        if encoding.split(',')[-1].strip() != 'chunked':
            raise Unservable(f'transfer coding {encoding!r}')
        body = await _read_chunked(reader)
    elif 'content-length' in headers:
        try:
            length = int(headers['content-length'])
        except ValueError:
            raise Unservable('bad Content-Length') from None
        if length < 0:
            raise Unservable('negative Content-Length')
        body = await reader.readexactly(length)
    else:
        body = await reader.read()  # up to the close
        will_close = True
    return _Answer(status, headers, will_close), body


class AioGetter:
    """Kept-alive GETs to one BMC on the read loop.

    Created from any thread; used (and closed) on the loop thread only.
    """

    def __init__(self, address: str, verify: bool | str,
                 limiter: transport.EndpointLimiter = transport.LIMITER,
                 proxied: bool | None = None,
                 budget: socket_budget.SocketBudget | None = None) -> None:
        parts = urllib.parse.urlsplit(address)
        self.endpoint = address
        self._https = parts.scheme == 'https'
        self._host = parts.hostname or ''
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip('/')
        self._context = (lean_get._ssl_context(verify)
                         if self._https else None)
        # Whether requests would use a proxy from the environment (the
        # lean getter of the same BMC knows it already: costly to find).
        self._proxied = (bool(requests.utils.get_environ_proxies(address))
                         if proxied is None else proxied)
        self._host_header = (self._host if parts.port is None
                             else f'{self._host}:{parts.port}')
        if ':' in self._host:  # IPv6 literal
            self._host_header = (f'[{self._host}]' if parts.port is None
                                 else f'[{self._host}]:{parts.port}')
        self._idle: list[_Conn] = []
        self._limiter = limiter
        #: This loop's request slots: the limit (read on first use),
        #: those taken, and the reads waiting for one.
        self._limit: int | None = None
        #: The last request made: (path, headers, its bytes).
        self._last_request: tuple[str, dict[str, str], bytes] | None = None
        self._active = 0
        self._queue: collections.deque[asyncio.Future[None]] = (
            collections.deque())
        self._closed = False
        self._budget = budget or socket_budget.BUDGET

    def serves(self, session: requests.Session) -> bool:
        """Whether requests would send this session's GETs directly."""
        return not (self._proxied and session.trust_env)

    async def _acquire(self) -> None:
        """Take one of the endpoint's request slots: first among this
        loop's reads (first come, first served, no polling), then the
        one shared with threads (polled). An uncontended slot costs no
        await: this is on every read's path."""
        if self._limit is None:
            self._limit = CONF.redfish.max_concurrent_requests_per_endpoint
        if self._active < self._limit and not self._queue:
            self._active += 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._queue.append(waiter)
            try:
                await waiter  # a finishing read hands its slot over
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand_over()  # handed over as it was cancelled
                else:
                    self._queue.remove(waiter)
                raise
        try:
            while not self._limiter.try_take(self.endpoint):
                await asyncio.sleep(SLOT_POLL)
        except BaseException:
            self._hand_over()
            raise

    def _hand_over(self) -> None:
        """Give this loop's slot to the next waiting read, or back."""
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._active -= 1

    async def _open(self) -> _Conn:
        reader, writer = await asyncio.open_connection(
            self._host, self._port, ssl=self._context,
            server_hostname=self._host if self._https else None,
            limit=MAX_HEADER_BYTES)
        return _Conn(reader, writer)

    def _take(self) -> _Conn | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()  # the BMC closed it while idle
        return None

    def _give(self, conn: _Conn) -> None:
        if self._closed or len(self._idle) >= MAX_IDLE:
            conn.close()
        elif conn.release is not None:  # kept before: counted already
            self._budget.used(self)
            self._idle.append(conn)
        elif self._budget.keep(self):
            conn.release = self._released
            self._idle.append(conn)
        else:
            conn.close()

    def _released(self) -> None:
        self._budget.released(self)

    def shed(self) -> None:
        """Close the idle connections soon, on the loop thread
        (:class:`.socket_budget.Holder`; later GETs keep theirs again).
        """
        aio_loop.LOOP.call_soon(self._shed)

    def _shed(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _request(self, path: str, headers: Mapping[str, str]) -> bytes:
        # A BMC is asked the same GET with the same headers cycle after
        # cycle: the bytes are kept until either changes.
        last = self._last_request
        if last is not None and last[0] == path and last[1] == headers:
            return last[2]
        lines = [f'GET {self._prefix}{path} HTTP/1.1',
                 f'Host: {self._host_header}']
        lines += [f'{name}: {value}' for name, value in headers.items()]
        request = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
        self._last_request = (path, dict(headers), request)
        return request

    async def get(self, path: str, headers: Mapping[str, str],
                  on_sent: Callable[[], None] | None = None
                  ) -> tuple[int, bytes] | None:
        """GET ``path`` with ``headers`` (authentication included):
        ``(status, body)``, or None when the threaded path must serve
        it. Bounded by nothing: the caller cancels it at its deadline.
        ``on_sent`` is called once the request is first written.
        """
        if self._closed:
            return None
        try:
            request = self._request(path, headers)
        except UnicodeEncodeError:
            return None  # requests would encode it its own way
        await self._acquire()
        try:
            conn = self._take()
            reused = conn is not None
            for _attempt in (1, 2):
                try:
                    if conn is None:
                        conn = await self._open()
                    conn.writer.write(request)
                    if on_sent is not None:
                        on_sent()
                        on_sent = None
                    answer, body = await read_response(conn.reader)
                except asyncio.CancelledError:
                    if conn is not None:
                        conn.close()  # half a request or answer on it
                    raise
                except (asyncio.IncompleteReadError, ConnectionResetError,
                        BrokenPipeError) as exc:
                    assert conn is not None
                    conn.close()
                    # Stale: nothing of an answer came on a reused one.
                    stale = reused and not (
                        isinstance(exc, asyncio.IncompleteReadError)
                        and exc.partial)
                    if not stale:
                        return None
                    # The BMC closed the kept-alive connection meanwhile:
                    # once more on a fresh one, as http.client does.
                    conn, reused = None, False
                    continue
                except (OSError, Unservable, ValueError,
                        asyncio.LimitOverrunError):
                    if conn is not None:
                        conn.close()
                    return None
                if answer.will_close:
                    conn.close()
                else:
                    self._give(conn)
                if answer.headers.get('content-encoding',
                                      'identity').lower() != 'identity':
                    return None  # requests decodes it; we do not
                return answer.status, body
        finally:
            self._limiter.give(self.endpoint)
            self._hand_over()
        return None

    def close(self) -> None:
        """Close the idle connections; later GETs return None."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
