"""The simulator's Redfish answers: JSON documents, Redfish error
bodies, and the fixed answers every endpoint shares."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from podium.simulator import resources as rf
from podium.simulator.http import Response


def json_response(status: int, doc: Any,
                  headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A response with ``doc`` encoded as JSON."""
    return Response(status, rf.dumps(doc), headers)


def error_response(status: int, message: str,
                   message_id: str = "Base.1.8.GeneralError",
                   headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A response carrying a Redfish error body."""
    return json_response(status, rf.error(message, message_id), headers)


NOT_FOUND_ID = "Base.1.8.ResourceMissingAtURI"
UNAUTHORIZED = error_response(
    401, "Authentication required or credentials rejected.",
    "Base.1.8.NoValidSession",
    headers=(("WWW-Authenticate", 'Basic realm="podium-simulator"'),))
OVERLOADED = error_response(
    503, "Too many concurrent requests.",
    "Base.1.8.ServiceTemporarilyUnavailable",
    headers=(("Retry-After", "1"),))
INJECTED = {
    500: error_response(500, "Simulated internal error.",
                        "Base.1.8.InternalError"),
    503: error_response(503, "Simulated service unavailability.",
                        "Base.1.8.ServiceTemporarilyUnavailable",
                        headers=(("Retry-After", "1"),)),
}
NO_CONTENT = Response(204)


def not_allowed(allow: str) -> Response:
    """405 naming the methods ``allow``ed."""
    return error_response(405, "Method not allowed on this resource.",
                          "Base.1.8.OperationNotAllowed",
                          headers=(("Allow", allow),))


def json_object(body: bytes) -> dict[str, Any] | None:
    """The request body as a JSON object; None when it is not one."""
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None
