"""The oslo.messaging server of a conductor (``rpc_transport = oslo``).

It listens on topic ``podium.conductor`` with the conductor's host as
the server name, so every conductor consumes its own queue and the API
addresses a node's conductor directly. Requests are dispatched on the
threading executor to a versioned endpoint that exposes only the
methods of :data:`podium.conductor.rpcapi.RPC_METHODS`.
"""

from typing import Any

import oslo_messaging as messaging
from oslo_log import log

from podium.common import rpc
from podium.conductor import rpcapi
from podium.conf import CONF

LOG = log.getLogger(__name__)


class _Endpoint:
    """Forwards the RPC API's methods to the manager, and only those."""

    target = messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, manager: Any) -> None:
        self._manager = manager

    def __getattr__(self, name: str) -> Any:
        if name in rpcapi.RPC_METHODS:
            return getattr(self._manager, name)
        raise AttributeError(name)


class RPCServer:
    """Serves one conductor manager over oslo.messaging."""

    def __init__(self, manager: Any, host: str | None = None) -> None:
        self.host = host or getattr(manager, 'host', None) or CONF.host
        target = messaging.Target(topic=rpc.TOPIC, server=self.host,
                                  version=rpcapi.RPC_API_VERSION)
        self._server = messaging.get_rpc_server(
            rpc.get_transport(), target, [_Endpoint(manager)],
            executor='threading', serializer=rpc.get_serializer())

    def start(self) -> None:
        """Start consuming this conductor's queue."""
        self._server.start()
        LOG.info('Conductor %s listening for RPC on topic %s',
                 self.host, rpc.TOPIC)

    def stop(self) -> None:
        """Stop taking new requests; in-flight ones keep running."""
        self._server.stop()

    def wait(self) -> None:
        """Wait for the requests in flight to finish."""
        self._server.wait()
