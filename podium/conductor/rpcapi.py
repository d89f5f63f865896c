"""The client side of the conductor RPC API, used by the API service.

Every method mirrors a :class:`~podium.conductor.manager.ConductorManager`
method. With ``[DEFAULT] rpc_transport = local`` the call goes straight
to the manager registered in this process (the all-in-one service);
with ``oslo`` it goes over oslo.messaging to the conductor the hash
ring assigns the node to, and a conductor that does not answer within
``[DEFAULT] rpc_response_timeout`` gives :class:`ConductorUnreachable`
(HTTP 503) rather than a hang.
"""

import threading
from collections.abc import Callable
from typing import Any

import oslo_messaging as messaging

from podium.common import context as podium_context
from podium.common import exceptions, metrics, rpc
from podium.conf import CONF
from podium.db import api as db_api

#: Version of the conductor RPC API. Bump the minor version for an
#: additive change and pin the client when a server may be older.
#: 1.1: get_metrics. 1.2: get_bmc_health. 1.3: set_boot_mode,
#: set_secure_boot. 1.4: get_node_with_token, heartbeat (installer
#: call-backs). 1.5: start_batch. 1.6: get_sensors_data. 1.7:
#: inject_nmi, reset_bmc, vendor_passthru, get_vendor_passthru_methods.
#: 1.8: attach_virtual_media, detach_virtual_media. 1.9:
#: change_nodes_power_state (a batch's power action, a chunk of nodes
#: per call).
RPC_API_VERSION = '1.9'

#: The version chunked power actions are sent at.
BULK_POWER_CALL_VERSION = '1.9'

#: The version management actions (NMI, BMC reset, vendor passthru)
#: are sent at.
MANAGEMENT_CALL_VERSION = '1.7'

#: The version installer call-backs are sent at.
CALLBACK_CALL_VERSION = '1.4'

#: The version node calls are sent at: every conductor since 1.0 takes
#: them, so an API upgraded first still reaches older conductors.
NODE_CALL_VERSION = '1.0'

#: Manager methods callable over RPC; nothing else is exposed.
RPC_METHODS = frozenset({
    'change_node_power_state', 'set_boot_device', 'get_boot_device',
    'get_supported_boot_devices', 'set_maintenance',
    'validate_driver_interfaces', 'do_provisioning_action',
    'get_clean_steps', 'get_metrics', 'get_bmc_health', 'set_boot_mode',
    'set_secure_boot', 'get_node_with_token', 'heartbeat',
    'start_batch', 'get_sensors_data', 'inject_nmi', 'reset_bmc',
    'vendor_passthru', 'get_vendor_passthru_methods',
    'attach_virtual_media', 'detach_virtual_media',
    'change_nodes_power_state',
})

_local_lock = threading.Lock()
_local_manager: Any = None


def register_local_manager(manager: Any) -> None:
    """Serve ``rpc_transport = local`` calls with ``manager``."""
    global _local_manager
    with _local_lock:
        _local_manager = manager


def unregister_local_manager() -> None:
    """Stop serving local calls (the conductor is shutting down)."""
    global _local_manager
    with _local_lock:
        _local_manager = None


def _clean_remote(exc: exceptions.PodiumException
                  ) -> exceptions.PodiumException:
    """The exception a conductor raised, without oslo's remote wrapper.

    oslo.messaging rebuilds a remote exception as a subclass whose
    message carries the conductor's traceback; API clients get the
    original class and message only.
    """
    if not type(exc).__name__.endswith('_Remote'):
        return exc
    original = type(exc).__mro__[1]
    message = exc.args[0] if exc.args else None
    return original(message, **getattr(exc, 'kwargs', {}))


def _conductor_failure(host: str, exc_type: str | None,
                       value: object) -> exceptions.PodiumException:
    return exceptions.PodiumException(
        f'Conductor {host} failed: {exc_type}: {value}')


class ConductorAPI:
    """Calls conductor actions for the API."""

    def __init__(self) -> None:
        self._local = CONF.rpc_transport == 'local'
        self._client: messaging.RPCClient | None = None
        self._ring: Any = None
        if not self._local:
            target = messaging.Target(topic=rpc.TOPIC,
                                      version=NODE_CALL_VERSION)
            self._client = messaging.get_rpc_client(
                rpc.get_transport(), target,
                serializer=rpc.get_serializer())

    def get_topic_for(self, node: Any) -> str:
        """The conductor host that manages ``node`` (ORM object or row).

        :raises NoValidHost: no alive conductor can take the node.
        """
        if self._local:
            return str(CONF.host)
        if self._ring is None:
            from podium.common import hash_ring
            self._ring = hash_ring.HashRingManager()
        return str(self._ring.get_conductor(node.uuid,
                                            node.conductor_group or ''))

    def _call(self, context: podium_context.RequestContext, method: str,
              node_id: str, topic: str | None,
              version: str = NODE_CALL_VERSION, **kwargs: Any) -> Any:
        return self._counted(method, lambda: self._send(
            context, method, node_id, topic, version, **kwargs))

    @staticmethod
    def _counted(method: str, send: Callable[[], Any]) -> Any:
        """``send()``, counted and timed in the RPC metrics."""
        outcome = 'error'
        try:
            with metrics.RPC_CALL_DURATION.labels(method).time():
                result = send()
            outcome = 'ok'
            return result
        except exceptions.ConductorUnreachable:
            outcome = 'unreachable'
            raise
        finally:
            metrics.RPC_CALLS.labels(method, outcome).inc()

    def _send(self, context: podium_context.RequestContext, method: str,
              node_id: str, topic: str | None, version: str,
              **kwargs: Any) -> Any:
        if self._local:
            return getattr(self._local_manager(), method)(
                context, node_id, **kwargs)
        host = topic or self.get_topic_for(db_api.get_node(node_id))
        return self._dispatch(context, host, method, version,
                              node_id=node_id, **kwargs)

    @staticmethod
    def _local_manager() -> Any:
        manager = _local_manager
        if manager is None:
            raise exceptions.ConductorUnreachable(
                host=CONF.host, reason='no conductor runs in this process')
        return manager

    def _dispatch(self, context: podium_context.RequestContext, host: str,
                  method: str, version: str, **kwargs: Any) -> Any:
        """Call ``method`` on conductor ``host`` over oslo.messaging,
        turning every messaging failure into a Podium exception."""
        assert self._client is not None
        timeout = CONF.rpc_response_timeout
        # A bounded send: by default oslo.messaging retries sending for
        # ever while the broker is down, and the request would hang.
        cctxt = self._client.prepare(server=host, timeout=timeout,
                                     retry=CONF.rpc_send_retries,
                                     version=version)
        try:
            return cctxt.call(context, method, **kwargs)
        except exceptions.PodiumException as exc:
            raise _clean_remote(exc) from None
        except messaging.UnsupportedVersion as exc:
            raise exceptions.RPCVersionUnsupported(
                host=host, reason=str(exc) or type(exc).__name__) from None
        except messaging.MessagingTimeout:
            raise exceptions.ConductorUnreachable(
                host=host,
                reason=f'no answer within {timeout} seconds') from None
        except messaging.RemoteError as exc:
            raise _conductor_failure(host, exc.exc_type, exc.value) from None
        except messaging.MessagingException as exc:
            raise exceptions.ConductorUnreachable(
                host=host, reason=str(exc) or type(exc).__name__) from None
        except Exception as exc:
            # A built-in exception, which oslo.messaging always rebuilds:
            # a conductor bug, reported without its remote traceback.
            name = type(exc).__name__.removesuffix('_Remote')
            raise _conductor_failure(
                host, name, exc.args[0] if exc.args else '') from None

    def get_metrics(self, context: podium_context.RequestContext,
                    host: str) -> str:
        """Conductor ``host``'s Prometheus exposition, for an API that
        runs no conductor of its own (the dashboard's pool, periodic
        and power sync figures).

        :raises ConductorUnreachable: no answer, or (in-process
            transport) ``host`` is not this process's conductor.
        """
        def send() -> Any:
            if not self._local:
                return self._dispatch(context, host, 'get_metrics', '1.1')
            if host != CONF.host:
                raise exceptions.ConductorUnreachable(
                    host=host, reason='not served by this process')
            return self._local_manager().get_metrics(context)

        return str(self._counted('get_metrics', send))

    def get_bmc_health(self, context: podium_context.RequestContext,
                       host: str, endpoints: list[str] | None = None
                       ) -> list[dict[str, Any]]:
        """Conductor ``host``'s BMC health records (of ``endpoints``
        only, when given).

        :raises ConductorUnreachable: no answer, or (in-process
            transport) ``host`` is not this process's conductor.
        """
        def send() -> Any:
            if not self._local:
                return self._dispatch(context, host, 'get_bmc_health',
                                      '1.2', endpoints=endpoints)
            if host != CONF.host:
                raise exceptions.ConductorUnreachable(
                    host=host, reason='not served by this process')
            return self._local_manager().get_bmc_health(context,
                                                        endpoints)

        return list(self._counted('get_bmc_health', send))

    def start_batch(self, context: podium_context.RequestContext,
                    host: str, batch_uuid: str) -> None:
        """Have conductor ``host`` run a batch assigned to it (RPC 1.5);
        returns once its runner started.

        :raises ConductorUnreachable, NoFreeConductorWorker:
        """
        def send() -> Any:
            if not self._local:
                return self._dispatch(context, host, 'start_batch', '1.5',
                                      batch_uuid=batch_uuid)
            return self._local_manager().start_batch(context, batch_uuid)

        self._counted('start_batch', send)

    def change_node_power_state(self, context: podium_context.RequestContext,
                                node_id: str, new_state: str,
                                timeout: int | None = None,
                                topic: str | None = None) -> None:
        """Start a power action; returns once the node is locked."""
        self._call(context, 'change_node_power_state', node_id, topic,
                   new_state=new_state, timeout=timeout)

    def change_nodes_power_state(self,
                                 context: podium_context.RequestContext,
                                 node_ids: list[str], new_state: str,
                                 timeout: int | None, topic: str
                                 ) -> dict[str, list[str] | None]:
        """Start a power action on a chunk of conductor ``topic``'s nodes
        (UUIDs) in one call (RPC 1.9); each node's result: None when
        started, else ``[exception class name, message]``.

        :raises RPCVersionUnsupported: ``topic`` runs an older release.
        :raises ConductorUnreachable, InvalidParameterValue:
        """
        def send() -> Any:
            if not self._local:
                return self._dispatch(
                    context, topic, 'change_nodes_power_state',
                    BULK_POWER_CALL_VERSION, node_ids=node_ids,
                    new_state=new_state, timeout=timeout)
            return self._local_manager().change_nodes_power_state(
                context, node_ids, new_state, timeout=timeout)

        return dict(self._counted('change_nodes_power_state', send))

    def set_boot_device(self, context: podium_context.RequestContext,
                        node_id: str, device: str, persistent: bool = False,
                        topic: str | None = None) -> None:
        self._call(context, 'set_boot_device', node_id, topic,
                   device=device, persistent=persistent)

    def get_boot_device(self, context: podium_context.RequestContext,
                        node_id: str, topic: str | None = None
                        ) -> dict[str, Any]:
        return dict(self._call(context, 'get_boot_device', node_id, topic))

    def get_supported_boot_devices(
            self, context: podium_context.RequestContext, node_id: str,
            topic: str | None = None) -> list[str]:
        return list(self._call(context, 'get_supported_boot_devices',
                               node_id, topic))

    def set_boot_mode(self, context: podium_context.RequestContext,
                      node_id: str, mode: str,
                      topic: str | None = None) -> None:
        self._call(context, 'set_boot_mode', node_id, topic, '1.3',
                   mode=mode)

    def set_secure_boot(self, context: podium_context.RequestContext,
                        node_id: str, state: bool,
                        topic: str | None = None) -> None:
        self._call(context, 'set_secure_boot', node_id, topic, '1.3',
                   state=state)

    def get_sensors_data(self, context: podium_context.RequestContext,
                         node_id: str, topic: str | None = None
                         ) -> dict[str, Any]:
        """A node's sensor readings, as the conductor's cache has them
        (RPC 1.6)."""
        return dict(self._call(context, 'get_sensors_data', node_id,
                               topic, '1.6'))

    def attach_virtual_media(self, context: podium_context.RequestContext,
                             node_id: str, device_type: str, image_url: str,
                             topic: str | None = None) -> None:
        self._call(context, 'attach_virtual_media', node_id, topic, '1.8',
                   device_type=device_type, image_url=image_url)

    def detach_virtual_media(self, context: podium_context.RequestContext,
                             node_id: str,
                             device_types: list[str] | None = None,
                             topic: str | None = None) -> None:
        self._call(context, 'detach_virtual_media', node_id, topic, '1.8',
                   device_types=device_types)

    def set_maintenance(self, context: podium_context.RequestContext,
                        node_id: str, maintenance: bool,
                        reason: str | None = None,
                        topic: str | None = None) -> None:
        self._call(context, 'set_maintenance', node_id, topic,
                   maintenance=maintenance, reason=reason)

    def validate_driver_interfaces(
            self, context: podium_context.RequestContext, node_id: str,
            topic: str | None = None) -> dict[str, dict[str, Any]]:
        return dict(self._call(context, 'validate_driver_interfaces',
                               node_id, topic))

    def do_provisioning_action(self, context: podium_context.RequestContext,
                               node_id: str, target: str,
                               clean_steps: list[dict[str, Any]] | None = None,
                               topic: str | None = None) -> None:
        self._call(context, 'do_provisioning_action', node_id, topic,
                   target=target, clean_steps=clean_steps)

    def get_clean_steps(self, context: podium_context.RequestContext,
                        node_id: str, topic: str | None = None
                        ) -> list[dict[str, Any]]:
        return list(self._call(context, 'get_clean_steps', node_id, topic))

    def get_node_with_token(self, context: podium_context.RequestContext,
                            node_id: str, topic: str | None = None
                            ) -> dict[str, Any]:
        """An installer's lookup of its node (RPC 1.4)."""
        return dict(self._call(context, 'get_node_with_token', node_id,
                               topic, version=CALLBACK_CALL_VERSION))

    def heartbeat(self, context: podium_context.RequestContext,
                  node_id: str, agent_token: str | None,
                  agent_status: str | None,
                  agent_status_message: str | None,
                  topic: str | None = None) -> str:
        """An installer's report on its node (RPC 1.4); returns the new
        provision state."""
        return str(self._call(
            context, 'heartbeat', node_id, topic,
            version=CALLBACK_CALL_VERSION, agent_token=agent_token,
            agent_status=agent_status,
            agent_status_message=agent_status_message))

    def inject_nmi(self, context: podium_context.RequestContext,
                   node_id: str, topic: str | None = None) -> None:
        """Send the node an NMI (RPC 1.7); returns once the BMC took it."""
        self._call(context, 'inject_nmi', node_id, topic,
                   MANAGEMENT_CALL_VERSION)

    def reset_bmc(self, context: podium_context.RequestContext,
                  node_id: str, topic: str | None = None) -> None:
        """Restart the node's BMC (RPC 1.7)."""
        self._call(context, 'reset_bmc', node_id, topic,
                   MANAGEMENT_CALL_VERSION)

    def vendor_passthru(self, context: podium_context.RequestContext,
                        node_id: str, driver_method: str, http_method: str,
                        info: dict[str, Any] | None = None,
                        topic: str | None = None) -> Any:
        """Call a vendor passthru method on the node (RPC 1.7)."""
        return self._call(context, 'vendor_passthru', node_id, topic,
                          MANAGEMENT_CALL_VERSION,
                          driver_method=driver_method,
                          http_method=http_method, info=info)

    def get_vendor_passthru_methods(
            self, context: podium_context.RequestContext, node_id: str,
            topic: str | None = None) -> dict[str, dict[str, Any]]:
        """The node's vendor passthru methods (RPC 1.7)."""
        return dict(self._call(context, 'get_vendor_passthru_methods',
                               node_id, topic, MANAGEMENT_CALL_VERSION))
