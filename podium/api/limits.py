"""Limits on what a request may carry, for every route at once.

An ASGI middleware, so routes added later are covered without doing
anything. Before a route sees a request:

* a body larger than ``[api] max_request_body_size`` is refused with a
  413: at once when ``Content-Length`` says so, before anything is read;
  otherwise (chunked uploads) as soon as the bytes read pass the limit,
  so no more than the limit plus one chunk is ever held in memory;
* a JSON body is parsed once here and refused with a 400 naming the
  problem when it is malformed, nested deeper than ``max_json_depth``,
  has a member (object or string) whose JSON text is larger than
  ``max_field_size``, or has a control character in a key or a string
  (tab, line feed and carriage return are fine in values), or an
  integer that does not fit in 64 bits. A NUL that reached PostgreSQL
  would otherwise be a 500, a lone surrogate a failed write, and a huge
  integer a node stored but never shown (the answer cannot encode it);
* a control character in the path or the query string is a 400.

Every refusal has Ironic's error body; the microversion headers are
added by the outer :class:`~podium.api.middleware.APIMiddleware`.
"""

import dataclasses
import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podium.api import responses

#: Control characters refused anywhere in a JSON key.
_KEY_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
#: Control characters refused in a JSON string value.
_VALUE_CONTROL = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
#: Control bytes refused in a path or a query string once unquoted.
_URL_CONTROL = re.compile(rb'[\x00-\x1f\x7f]')

_BODY_METHODS = frozenset({'POST', 'PUT', 'PATCH', 'DELETE'})

#: The integers a response can carry (orjson's range: signed or unsigned
#: 64 bits).
_MIN_INT, _MAX_INT = -2 ** 63, 2 ** 64 - 1
#: A run of digits that may be an integer beyond that range.
_LONG_DIGITS = re.compile(rb'\d{19,}')


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may carry."""

    max_body_size: int
    max_json_depth: int
    max_field_size: int

    @classmethod
    def from_config(cls, conf: Any) -> 'Limits':
        return cls(max_body_size=conf.api.max_request_body_size,
                   max_json_depth=conf.api.max_json_depth,
                   max_field_size=conf.api.max_field_size)


class RequestRefused(Exception):
    """The request breaks a limit; ``status`` says how to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _where(path: tuple[str | int, ...]) -> str:
    if not path:
        return 'the request body'
    return 'field "' + '.'.join(str(part) for part in path) + '"'


def _printable(key: str) -> str:
    return _KEY_CONTROL.sub('?', key)[:80]


def check_document(document: Any, limits: Limits) -> None:
    """Refuse a parsed JSON body that breaks a depth, size or character
    limit; the message names the field.

    :raises RequestRefused: with status 400.
    """
    # Iterative, so a hostile depth cannot exhaust the Python stack.
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > limits.max_json_depth:
            raise RequestRefused(
                400, f'The request body is nested deeper than '
                     f'{limits.max_json_depth} levels at {_where(path)}.')
        if isinstance(value, str):
            if _VALUE_CONTROL.search(value):
                raise RequestRefused(
                    400, f'Invalid value for {_where(path)}: control '
                         f'characters are not allowed.')
            if len(value) > limits.max_field_size:
                raise RequestRefused(
                    400, f'Invalid value for {_where(path)}: longer than '
                         f'{limits.max_field_size} characters.')
        elif isinstance(value, dict):
            for key, item in value.items():
                if _KEY_CONTROL.search(key):
                    raise RequestRefused(
                        400, f'Invalid key "{_printable(key)}" in '
                             f'{_where(path)}: control characters are '
                             f'not allowed.')
                child = (*path, key)
                if isinstance(item, dict) and item and \
                        len(orjson.dumps(item)) > limits.max_field_size:
                    raise RequestRefused(
                        400, f'Invalid value for {_where(child)}: larger '
                             f'than {limits.max_field_size} bytes as '
                             f'JSON.')
                stack.append((item, child))
        elif isinstance(value, list):
            stack.extend((item, (*path, index))
                         for index, item in enumerate(value))


def _checked_int(text: str) -> int:
    value = int(text)
    if not _MIN_INT <= value <= _MAX_INT:
        raise RequestRefused(
            400, f'Invalid number {text[:40]} in the request body: '
                 f'integers must fit in 64 bits.')
    return value


def check_integers(body: bytes) -> None:
    """Refuse a JSON body with an integer beyond 64 bits (orjson, which
    checked the rest, reads such a number as a float; the route reads it
    as an integer and could store what no answer can encode).

    :raises RequestRefused: with status 400.
    """
    if _LONG_DIGITS.search(body):  # else every integer fits
        json.loads(body, parse_int=_checked_int)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b'content-type':
            media = value.split(b';', 1)[0].strip().lower()
            return media == b'application/json' or media.endswith(b'+json')
    # FastAPI reads a body without a Content-Type as JSON too.
    return True


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b'content-length':
            try:
                return int(value)
            except ValueError:
                raise RequestRefused(
                    400, 'Invalid Content-Length header.') from None
    return None


def check_url(scope: Scope) -> None:
    """Refuse a control character in the path or the query string.

    :raises RequestRefused: with status 400.
    """
    raw_path = scope.get('raw_path') or scope['path'].encode('utf-8',
                                                             'replace')
    if _URL_CONTROL.search(unquote_to_bytes(raw_path)):
        raise RequestRefused(
            400, 'Control characters are not allowed in the URL path.')
    query = scope.get('query_string', b'')
    if query and _URL_CONTROL.search(unquote_to_bytes(query)):
        raise RequestRefused(
            400, 'Control characters are not allowed in query parameters.')


async def read_body(receive: Receive, max_size: int) -> bytes:
    """The whole request body, read no further than ``max_size`` + one
    chunk.

    :raises RequestRefused: with status 413 beyond ``max_size``.
    """
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message['type'] == 'http.disconnect':
            raise RequestRefused(400, 'The client went away.')
        chunk = message.get('body', b'')
        size += len(chunk)
        if size > max_size:
            raise _too_large(max_size)
        chunks.append(chunk)
        if not message.get('more_body', False):
            return b''.join(chunks)


def _too_large(max_size: int) -> RequestRefused:
    return RequestRefused(
        413, f'Request body is larger than the limit of {max_size} bytes '
             f'([api] max_request_body_size).')


class LimitsMiddleware:
    """Applies :class:`Limits` to every HTTP request."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        try:
            body = await self._checked_body(scope, receive)
        except RequestRefused as exc:
            await _refuse(send, exc)
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                # What follows the body: wait for the client to go away.
                return await receive()
            replayed = True
            return {'type': 'http.request', 'body': body,
                    'more_body': False}

        await self.app(scope, replay, send)

    async def _checked_body(self, scope: Scope,
                            receive: Receive) -> bytes | None:
        """The body, checked, or None when the request carries none."""
        check_url(scope)
        headers = scope['headers']
        length = _content_length(headers)
        if length is not None and length > self.limits.max_body_size:
            raise _too_large(self.limits.max_body_size)
        if scope['method'] not in _BODY_METHODS or length == 0:
            return None
        body = await read_body(receive, self.limits.max_body_size)
        if body and _is_json(headers):
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise RequestRefused(
                    400, f'Malformed JSON in request body: {exc}') from None
            check_document(document, self.limits)
            check_integers(body)
        return body


async def _refuse(send: Send, exc: RequestRefused) -> None:
    body = responses.error_body(exc.status, str(exc))
    await send({'type': 'http.response.start', 'status': exc.status,
                'headers': [
                    (b'content-type', responses.JSON_MEDIA_TYPE.encode()),
                    (b'content-length', str(len(body)).encode()),
                    # The rest of an unread body cannot be skipped.
                    (b'connection', b'close')]})
    await send({'type': 'http.response.body', 'body': body})
