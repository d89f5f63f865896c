"""Turns every failure into Ironic's error response.

Podium exceptions carry their HTTP status; request validation errors
(FastAPI answers those with 422 by default) become 400 with a message
naming the field; routing errors (404, 405) get the same body shape.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from oslo_log import log
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.responses import Response

from podium.api import responses
from podium.common import exceptions, masking
from podium.db import engine as db_engine

LOG = log.getLogger(__name__)

_HTTP_MESSAGES = {
    404: 'The resource could not be found.',
    405: 'The method is not allowed for this resource.',
}

# The parts of a validation error location that are not field names.
_LOCATION_PREFIXES = ('body', 'query', 'path', 'header')

# Fields whose values are not echoed in messages: they hold credentials.
_SECRET_FIELDS = ('driver_info', 'driver_internal_info')


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    return '.'.join(parts)


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]
                               ) -> str:
    """One message naming every field at fault and what is wrong."""
    messages = []
    for err in errors:
        kind = err.get('type', '')
        field = _field_name(err.get('loc', ()))
        if kind == 'json_invalid':
            reason = (err.get('ctx') or {}).get('error', err.get('msg'))
            messages.append(f'Malformed JSON in request body: {reason}')
        elif kind == 'extra_forbidden':
            messages.append(f'Unknown attribute "{field}"')
        elif kind == 'missing':
            messages.append(f'Mandatory field "{field}" is missing')
        elif kind == 'value_error' and field:
            # Podium's own validators word the whole reason (names the
            # value too); pydantic's "Value error, " prefix adds nothing.
            reason = (err.get('ctx') or {}).get('error', err.get('msg'))
            messages.append(f'Invalid value for field "{field}": {reason}')
        elif field:
            given = err.get('input')
            # Echo short scalar input, never what may be a credential.
            shown = (f' {given!r};' if isinstance(given, (str, int, float))
                     and len(repr(given)) <= 80
                     and not field.startswith(_SECRET_FIELDS)
                     and not masking.is_secret_key(field.rsplit('.', 1)[-1])
                     else '')
            messages.append(f'Invalid value for field "{field}":{shown} '
                            f'{err.get("msg")}')
        else:
            messages.append(f'Invalid request body: {err.get("msg")}')
    return '; '.join(messages) + '.'


def _podium_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, exceptions.PodiumException)
    if exc.code >= 500:
        LOG.error('Request failed: %s', exc)
    return responses.error(exc.code, str(exc))


def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return responses.error(400, describe_validation_errors(exc.errors()))


def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return responses.error(exc.status_code, message, headers=exc.headers)


def _database_error(request: Request, exc: Exception) -> Response:
    """A lost database connection is a temporary failure (503) the
    client may retry; any other database error is a bug (500)."""
    assert isinstance(exc, sa_exc.DBAPIError)
    if not db_engine.is_outage(exc):
        raise exc
    return _podium_error(request, exceptions.DatabaseOutage(
        reason=db_engine.error_reason(exc)))


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(exceptions.PodiumException, _podium_error)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
