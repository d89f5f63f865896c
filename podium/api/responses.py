"""Response helpers: JSON bodies serialised once with orjson, empty
bodies without a Content-Type, and Ironic's error body.

Routes build plain dicts and hand them here; no response model is
validated on the way out, which keeps the hot paths cheap.
"""

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from podium.common import masking

JSON_MEDIA_TYPE = 'application/json'


class JSONResponse(Response):
    """A JSON response serialised by orjson (datetimes included)."""

    media_type = JSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def empty(status_code: int,
          headers: Mapping[str, str] | None = None) -> Response:
    """A bodiless response (202, 204) without a Content-Type.

    ironicclient reads a Content-Type of application/json as a body to
    parse; an empty 202 or 204 must not claim one.
    """
    return Response(status_code=status_code, headers=headers)


def error_body(status_code: int, message: str) -> bytes:
    """Ironic's error document: a JSON string inside a JSON object.

    ironicclient ``json.loads`` the ``error_message`` value and
    openstacksdk reads ``faultstring`` from it; a dict there breaks the
    former and a plain string hides the message from the latter.
    """
    fault = {'faultcode': 'Client' if status_code < 500 else 'Server',
             'faultstring': masking.mask_text(message), 'debuginfo': None}
    return orjson.dumps({'error_message': json.dumps(fault)})


def error(status_code: int, message: str,
          headers: Mapping[str, str] | None = None) -> Response:
    """A complete error response with Ironic's body."""
    return Response(error_body(status_code, message),
                    status_code=status_code, headers=headers,
                    media_type=JSON_MEDIA_TYPE)
