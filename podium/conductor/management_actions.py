"""Conductor actions of the management interface beyond the boot
device and mode: inject an NMI, reset the BMC on an operator's request,
and the persistent boot order through vendor passthru.

Each runs on the worker pool under the node lock (a shared lock for
reads), answers once the BMC did, and writes what it changed to node
history. Bad input (an unknown vendor method, a malformed boot order
request) is refused before the node is locked; a device or MAC the
BMC's options do not have, after reading them and before any change.
"""

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, intended, states
from podium.conductor import drift, task_manager
from podium.db import api as db_api
from podium.drivers import base, boot_order

LOG = log.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VendorMethod:
    """A vendor passthru method: the HTTP methods it answers, whether it
    changes the node (exclusive lock), what it does, and the management
    interface method whose override means the node supports it."""

    http_methods: tuple[str, ...]
    exclusive: bool
    description: str
    needs: str

    def describe(self) -> dict[str, Any]:
        """Ironic's shape of a method in ``vendor_passthru/methods``."""
        return {'http_methods': list(self.http_methods), 'async': False,
                'attach': False, 'description': self.description,
                'require_exclusive_lock': self.exclusive}


#: Podium's vendor passthru methods on nodes.
VENDOR_METHODS: dict[str, VendorMethod] = {
    'get_boot_order': VendorMethod(
        ('GET',), False,
        'The persistent boot order: a list of boot options (ref, name, '
        'device, mac, enabled), first first.', 'get_boot_order'),
    'set_boot_order': VendorMethod(
        ('POST', 'PUT'), True,
        'Set the persistent boot order. Body: {"devices": ["pxe", '
        '"disk"]} (device kinds or boot option references, first first) '
        'or {"mac": "52:54:00:12:34:56"} (that NIC\'s option first).',
        'set_boot_order'),
    'check_boot_order': VendorMethod(
        ('GET', 'POST'), False,
        'Whether the persistent boot order already is what devices or '
        'mac (as for set_boot_order) ask for: {"matches", "expected", '
        '"actual"}, the option references in order.', 'get_boot_order'),
}


def _supports(management: base.ManagementInterface, method: str) -> bool:
    implemented = getattr(type(management), method)
    return implemented is not getattr(base.ManagementInterface, method)


class ManagementActions:
    """Mixed into the conductor manager (which provides the lock and
    pool helpers named below)."""

    host: str

    if TYPE_CHECKING:
        def _acquire(self, context: podium_context.RequestContext,
                     node_id: str, purpose: str, shared: bool = False,
                     timeout: float | None = None
                     ) -> task_manager.TaskManager: ...

        def _call_driver(self, task: task_manager.TaskManager, what: str,
                         call: Callable[[], Any]) -> Any: ...

        def _on_pool(self, task: task_manager.TaskManager,
                     body: Callable[[task_manager.TaskManager], Any]
                     ) -> None: ...

        @staticmethod
        def _wait(task: task_manager.TaskManager) -> Any: ...

    def _management_call(self, context: podium_context.RequestContext,
                         node_id: str, purpose: str, what: str,
                         call: Callable[[task_manager.TaskManager,
                                         base.ManagementInterface], Any],
                         shared: bool = False,
                         check: Callable[[task_manager.TaskManager],
                                         None] | None = None) -> Any:
        """``call(task, management)`` on the pool under the node lock;
        ``check(task)`` first, in the caller's thread (a refusal there
        reaches no BMC)."""
        def body(task: task_manager.TaskManager) -> Any:
            management = task.driver.management
            management.validate(task.node)
            return self._call_driver(task, what,
                                     lambda: call(task, management))

        with self._acquire(context, node_id, purpose, shared=shared) as task:
            if check is not None:
                check(task)
            self._on_pool(task, body)
        return self._wait(task)

    def _history(self, context: podium_context.RequestContext,
                 node_id: str, event: str, event_type: str) -> None:
        node = db_api.get_node(node_id)
        db_api.add_node_history(node.id, event, event_type, states.INFO,
                                self.host, user=context.user_id)
        LOG.info('Node %s: %s', node.uuid, event)

    def inject_nmi(self, context: podium_context.RequestContext,
                   node_id: str) -> None:
        """Send the node a non-maskable interrupt (RPC 1.7); returns
        once the BMC accepted it.

        :raises UnsupportedDriverExtension: the driver or BMC cannot.
        :raises NodeNotFound, NodeLocked, DriverError:
        """
        self._management_call(
            context, node_id, 'injecting an NMI', 'inject an NMI',
            lambda task, management: management.inject_nmi(task))
        self._history(context, node_id, 'NMI injected.', 'inject_nmi')

    def reset_bmc(self, context: podium_context.RequestContext,
                  node_id: str) -> None:
        """Restart the node's BMC on an operator's request (RPC 1.7).
        The BMC may not answer for a while afterwards.

        :raises InvalidState: (409) an action is in flight on the node:
            a power or provision target is set; nothing is sent.
        :raises UnsupportedDriverExtension: the driver cannot.
        :raises NodeNotFound, NodeLocked, DriverError:
        """
        def idle(task: task_manager.TaskManager) -> None:
            node = task.node
            busy = [f'{name} {value}' for name, value in (
                ('target power state', node.target_power_state),
                ('target provision state', node.target_provision_state))
                if value]
            if busy:
                raise exceptions.InvalidState(
                    f'Node {node.ident} has an action in flight '
                    f'({", ".join(busy)}); its BMC is not reset while it '
                    f'runs.')

        self._management_call(
            context, node_id, 'resetting the BMC', 'reset the BMC',
            lambda task, management: management.reset_bmc(task),
            check=idle)
        self._history(context, node_id, 'BMC reset requested by an '
                                        'operator.', 'bmc_reset')

    def get_vendor_passthru_methods(
            self, context: podium_context.RequestContext,
            node_id: str) -> dict[str, dict[str, Any]]:
        """The vendor methods the node's management interface supports,
        in Ironic's shape (RPC 1.7)."""
        with self._acquire(context, node_id, 'listing vendor methods',
                           shared=True) as task:
            management = task.driver.management
            return {name: method.describe()
                    for name, method in VENDOR_METHODS.items()
                    if _supports(management, method.needs)}

    def vendor_passthru(self, context: podium_context.RequestContext,
                        node_id: str, driver_method: str, http_method: str,
                        info: dict[str, Any] | None = None) -> Any:
        """Call a vendor method of :data:`VENDOR_METHODS` (RPC 1.7) and
        return its result.

        :raises InvalidParameterValue: an unknown method, an HTTP method
            it does not take, or bad arguments (before any BMC call).
        :raises UnsupportedDriverExtension, NodeNotFound, NodeLocked,
            DriverError:
        """
        method = VENDOR_METHODS.get(driver_method)
        if method is None:
            raise exceptions.InvalidParameterValue(
                err=f'Unknown vendor passthru method {driver_method!r}; '
                    f'known: {", ".join(VENDOR_METHODS)}.')
        if http_method.upper() not in method.http_methods:
            raise exceptions.InvalidParameterValue(
                err=f'The vendor method {driver_method} does not take '
                    f'HTTP {http_method.upper()}; it takes '
                    f'{", ".join(method.http_methods)}.')
        if driver_method == 'get_boot_order':
            return {'boot_order': self._boot_order(context, node_id)}
        request = boot_order.OrderRequest.from_dict(info)
        if driver_method == 'check_boot_order':
            return self._check_boot_order(context, node_id, request)
        return {'boot_order': self._set_boot_order(context, node_id,
                                                   request)}

    def _boot_order(self, context: podium_context.RequestContext,
                    node_id: str) -> list[dict[str, Any]]:
        options = self._management_call(
            context, node_id, 'reading the boot order',
            'read the boot order',
            lambda task, management: management.get_boot_order(task),
            shared=True)
        return [option.to_dict() for option in options]

    def _check_boot_order(self, context: podium_context.RequestContext,
                          node_id: str, request: boot_order.OrderRequest
                          ) -> dict[str, Any]:
        return dict(self._management_call(
            context, node_id, 'checking the boot order',
            'check the boot order',
            lambda task, management: management.check_boot_order(
                task, request).to_dict(),
            shared=True))

    def _set_boot_order(self, context: podium_context.RequestContext,
                        node_id: str, request: boot_order.OrderRequest
                        ) -> list[dict[str, Any]]:
        recorded: list[str | None] = []

        def set_and_record(task: task_manager.TaskManager,
                           management: base.ManagementInterface
                           ) -> list[boot_order.BootOption]:
            options = management.set_boot_order(task, request)
            recorded.append(drift.record_applied(
                task, boot_order=request.to_dict()))
            return options

        options = self._management_call(
            context, node_id, 'setting the boot order',
            f'set the boot order ({request.describe()})', set_and_record)
        refs = ', '.join(option.ref for option in options)
        self._history(context, node_id,
                      f'Boot order set ({request.describe()}): {refs}.',
                      'boot_order')
        for event in filter(None, recorded):
            self._history(context, node_id, event, intended.EVENT_TYPE)
        return [option.to_dict() for option in options]
