"""oslo.messaging plumbing shared by the RPC client and server.

One transport per process, built from ``[DEFAULT] transport_url`` when
``[DEFAULT] rpc_transport = oslo``. Contexts travel as dicts and come
back as :class:`~podium.common.context.RequestContext`; exceptions from
:mod:`podium.common.exceptions` raised by a conductor are rebuilt with
their own class on the caller's side (``allowed_remote_exmods``).
"""

import threading
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg

from podium.common import context as podium_context
from podium.common import exceptions
from podium.conf import CONF

#: The RPC topic of conductors; each conductor listens on it with its
#: host as the server, which gives it a queue of its own.
TOPIC = 'podium.conductor'

#: Modules whose exceptions are re-raised with their own class.
ALLOWED_EXMODS = [exceptions.__name__]

_lock = threading.Lock()
_transport: messaging.Transport | None = None


class RequestContextSerializer(messaging.Serializer):
    """Sends contexts as dicts; entities are JSON primitives already."""

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return entity

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return entity

    def serialize_context(self, ctxt: podium_context.RequestContext
                          ) -> dict[str, Any]:
        return ctxt.to_dict()

    def deserialize_context(self, ctxt: dict[str, Any]
                            ) -> podium_context.RequestContext:
        return podium_context.RequestContext.from_dict(ctxt)


def get_transport(conf: cfg.ConfigOpts = CONF) -> messaging.Transport:
    """The process-wide RPC transport, built on first use.

    :raises ConfigInvalid: when ``transport_url`` cannot be used.
    """
    global _transport
    if _transport is None:
        with _lock:
            if _transport is None:
                try:
                    _transport = messaging.get_rpc_transport(
                        conf, allowed_remote_exmods=ALLOWED_EXMODS)
                except (messaging.InvalidTransportURL,
                        messaging.DriverLoadFailure) as exc:
                    raise exceptions.ConfigInvalid(
                        reason=f'[DEFAULT] transport_url: {exc}') from None
    return _transport


def cleanup() -> None:
    """Close the transport (at shutdown, and between tests)."""
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
        _transport = None


def get_serializer() -> messaging.Serializer:
    return RequestContextSerializer()
