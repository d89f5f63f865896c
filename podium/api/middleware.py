"""The ASGI layer every request passes: paths, versions, last resort,
metrics.

Written as plain ASGI rather than Starlette's ``BaseHTTPMiddleware``,
which costs a task and a stream per request, and as one layer doing all
of this with one wrapper of ``send``, not one layer per concern. It

* serves ``/v1/nodes/`` like ``/v1/nodes`` (ironicclient and the SDK
  add trailing slashes; a redirect would cost a round trip);
* negotiates the microversion and answers 406 when it cannot;
* puts the min/max/negotiated version headers on every response,
  errors included;
* answers an unexpected exception with a 500 in Ironic's shape, the
  traceback going to the log only;
* counts the request and its latency in the API metrics
  (:func:`podium.api.metrics.record_request`) with the status it
  answered, whoever answered it (406 here, 401 from authentication, 500).
"""

import functools
import time
from typing import Any

from oslo_log import log
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podium.api import metrics, responses, versions
from podium.common import exceptions

LOG = log.getLogger(__name__)

_VERSION_HEADER = versions.VERSION_HEADER.lower().encode()
_GENERIC_HEADER = versions.GENERIC_HEADER.lower().encode()
_RANGE_HEADERS = [
    (versions.MIN_HEADER.lower().encode(),
     versions.MIN_VERSION_STRING.encode()),
    (versions.MAX_HEADER.lower().encode(),
     versions.MAX_VERSION_STRING.encode()),
]


@functools.cache
def _response_headers(version: tuple[int, int]
                      ) -> tuple[tuple[bytes, bytes], ...]:
    """The version headers of every response negotiated at ``version``."""
    return (*_RANGE_HEADERS,
            (_VERSION_HEADER, versions.to_string(version).encode()))


def _requested_version(headers: list[tuple[bytes, bytes]]) -> str | None:
    generic = None
    for name, value in headers:
        if name == _VERSION_HEADER:
            return value.decode('latin-1')
        if name == _GENERIC_HEADER:
            generic = versions.from_generic_header(value.decode('latin-1'))
    return generic


class APIMiddleware:
    """Path normalisation, microversions and the last-resort 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        started_at = time.monotonic()
        status = 500
        try:
            status = await self._serve(scope, receive, send)
        finally:
            metrics.record_request(scope, status, started_at)

    async def _serve(self, scope: Scope, receive: Receive,
                     send: Send) -> int:
        """Serve the request; returns the status answered (500 when the
        answer could not be sent)."""
        path = scope['path']
        if len(path) > 1 and path.endswith('/'):
            scope['path'] = path.rstrip('/') or '/'
        try:
            version = versions.parse(_requested_version(scope['headers']))
        except exceptions.NotAcceptable as exc:
            await self._send_error(send, 406, str(exc), list(_RANGE_HEADERS))
            return 406
        extra_headers = _response_headers(version)
        scope.setdefault('state', {})['api_version'] = version
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message['type'] == 'http.response.start':
                status = message['status']
                message['headers'] = [*message.get('headers', ()),
                                      *extra_headers]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            LOG.exception('Unexpected error serving %s %s',
                          scope.get('method'), path)
            if status is None:
                await self._send_error(send, 500,
                                       'Internal server error; see the '
                                       'API log for details.',
                                       list(extra_headers))
                return 500
        return 500 if status is None else status

    @staticmethod
    async def _send_error(send: Send, status: int, message: str,
                          headers: list[tuple[bytes, bytes]]) -> None:
        body = responses.error_body(status, message)
        all_headers: list[Any] = [
            (b'content-type', responses.JSON_MEDIA_TYPE.encode()),
            (b'content-length', str(len(body)).encode())] + headers
        await send({'type': 'http.response.start', 'status': status,
                    'headers': all_headers})
        await send({'type': 'http.response.body', 'body': body})
