"""oslo.messaging plumbing shared by the RPC client and server.

One transport per process, built from ``[DEFAULT] transport_url`` when
``[DEFAULT] rpc_transport = oslo``. Contexts travel as dicts and come
back as :class:`~podium.common.context.RequestContext`; exceptions from
:mod:`podium.common.exceptions` raised by a conductor are rebuilt with
their own class on the caller's side (``allowed_remote_exmods``).
"""

import socket
import threading
import time
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions
from podium.conf import CONF

LOG = log.getLogger(__name__)

#: Transports spoken over AMQP 0-9-1, checked with a real login.
_AMQP_TRANSPORTS = frozenset({'rabbit', 'kombu', 'amqp'})

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


def _shown(url: messaging.TransportURL) -> str:
    """The transport URL with its passwords hidden, for messages."""
    hosts = ','.join(
        (f'{host.username}:***@' if host.username else '')
        + f'{host.hostname}:{host.port}' for host in url.hosts)
    return f'{url.transport}://{hosts}/{url.virtual_host or ""}'


def _reach(url: messaging.TransportURL, host: Any, timeout: float,
           ssl: bool) -> None:
    """One attempt to reach ``host``: an AMQP login, else a TCP connect.

    :raises ConfigInvalid: the broker refused the login (retrying cannot
        help).
    :raises OSError: or a kombu connection error, when it cannot be
        reached (yet).
    """
    if url.transport not in _AMQP_TRANSPORTS:
        socket.create_connection((host.hostname, host.port),
                                 timeout=timeout).close()
        return
    import amqp.exceptions
    import kombu

    connection = kombu.Connection(
        hostname=host.hostname, port=host.port or 5672,
        userid=host.username or 'guest', password=host.password or 'guest',
        virtual_host=url.virtual_host or '/', connect_timeout=timeout,
        ssl=ssl)
    try:
        connection.connect()
    except amqp.exceptions.AccessRefused as exc:
        raise exceptions.ConfigInvalid(
            reason=f'[DEFAULT] transport_url {_shown(url)}: the broker '
                   f'refused the login: {exc}') from None
    finally:
        connection.release()


def check_transport(conf: cfg.ConfigOpts = CONF) -> None:
    """Reach the message broker at start-up, within ``[DEFAULT]
    rpc_connect_timeout`` seconds, logging each failed attempt.

    oslo.messaging itself retries for ever without a word at start-up;
    a process that cannot reach its broker should rather say so and
    exit.

    :raises ConfigInvalid: naming ``transport_url`` when no host of it
        answered in time, or the broker refused the login.
    """
    try:
        url = messaging.TransportURL.parse(conf, conf.transport_url)
    except messaging.InvalidTransportURL as exc:
        raise exceptions.ConfigInvalid(
            reason=f'[DEFAULT] transport_url: {exc}') from None
    if not url.hosts:
        return  # an in-process transport (fake://): nothing to reach
    ssl = bool(conf.oslo_messaging_rabbit.ssl)
    deadline = time.monotonic() + conf.rpc_connect_timeout
    attempt = 0
    while True:
        attempt += 1
        errors = []
        for host in url.hosts:
            remaining = max(0.5, min(5.0, deadline - time.monotonic()))
            try:
                _reach(url, host, remaining, ssl)
                return
            except exceptions.ConfigInvalid:
                raise
            except Exception as exc:
                errors.append(f'{host.hostname}:{host.port}: '
                              f'{exc or type(exc).__name__}')
        reason = '; '.join(errors)
        if time.monotonic() >= deadline:
            raise exceptions.ConfigInvalid(
                reason=f'[DEFAULT] transport_url {_shown(url)}: the message '
                       f'broker could not be reached within '
                       f'{conf.rpc_connect_timeout:g}s ([DEFAULT] '
                       f'rpc_connect_timeout): {reason}')
        LOG.warning('Message broker not reachable (attempt %d): %s',
                    attempt, reason)
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
