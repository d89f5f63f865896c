"""The conductor manager: node actions, and the RPC endpoint serving them.

Its public methods are the conductor RPC API (see
``podium.conductor.rpcapi``); they take a request context and a node
UUID or name and raise only Podium exceptions, whose ``code`` the API
returns as the HTTP status. Actions that talk to a BMC for long (power,
provisioning) take the node lock synchronously, so the caller learns at
once that a node is busy or missing, then continue on the worker pool
(``NoFreeConductorWorker`` when it is full) and record the outcome in the
node: the new state, or ``last_error``.
"""

import concurrent.futures
from collections.abc import Callable
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, hash_ring, metrics, states, vmedia
from podium.conductor import (
    batches,
    bulk_power,
    callbacks,
    drift,
    management_actions,
    periodics,
    power_action,
    power_sync,
    provisioning,
    recovery,
    sensor_cache,
    task_manager,
)
from podium.conductor import pool as pool_mod
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import history
from podium.drivers import steps

LOG = log.getLogger(__name__)

#: Seconds a caller waits for a pool worker beyond the task's deadline,
#: which the driver's own timeouts already enforce.
WAIT_GRACE = 5.0


_error_text = provisioning.error_text


class ConductorManager(management_actions.ManagementActions):
    """Serves node actions for one conductor host (NMI, BMC reset and
    the boot order: :mod:`podium.conductor.management_actions`)."""

    def __init__(self, host: str,
                 pool: pool_mod.WorkerPool | None = None) -> None:
        self.host = host
        self.pool = pool or pool_mod.WorkerPool.from_config()
        self.ring = hash_ring.HashRingManager()
        self.power_sync = power_sync.PowerSync(host, self.pool, self.ring)
        self.provisioner = provisioning.Provisioner(self.pool)
        self.batches = batches.BatchKeeper(host, self.pool)
        self.bulk_power = bulk_power.BulkPower(host, self.pool)
        self.sensors = sensor_cache.SensorCache()
        self.drift_check = drift.DriftCheck(host, self.pool, self.ring)

    def _acquire(self, context: podium_context.RequestContext,
                 node_id: str, purpose: str, shared: bool = False,
                 timeout: float | None = None
                 ) -> task_manager.TaskManager:
        return task_manager.acquire(context, node_id, shared=shared,
                                    purpose=purpose, timeout=timeout,
                                    host=self.host)

    def _call_driver(self, task: task_manager.TaskManager, what: str,
                     call: Callable[[], Any]) -> Any:
        """Run a driver call; a failure is recorded as the node's
        ``last_error`` and raised."""
        try:
            return call()
        except exceptions.Invalid:
            raise  # bad input: the caller's error, not the node's
        except Exception as exc:
            message = f'Failed to {what}: {_error_text(exc, task.node)}'
            LOG.error('Node %s: %s', task.node.ident, message)
            db_api.update_node_by_id(task.node.id, {'last_error': message})
            if isinstance(exc, exceptions.PodiumException):
                raise
            raise exceptions.DriverError(reason=message) from exc

    def _on_pool(self, task: task_manager.TaskManager,
                 body: Callable[[task_manager.TaskManager], Any]) -> None:
        """Run ``body(task)`` on a worker once the ``with`` block ends (the
        worker then owns the lock): no RPC or API thread ever calls a BMC.
        :meth:`_wait` gets the result."""
        task.spawn_after(self.pool.spawn, body)

    @staticmethod
    def _wait(task: task_manager.TaskManager) -> Any:
        """The result of what :meth:`_on_pool` started, waited for at most
        the task's deadline (plus a grace)."""
        assert task.future is not None
        try:
            return task.future.result(timeout=task.timeout + WAIT_GRACE)
        except concurrent.futures.TimeoutError:
            raise exceptions.BMCTimeout(
                timeout=task.timeout,
                reason=f'{task.purpose} of node {task.node.ident} is still '
                       f'running') from None

    # Power -----------------------------------------------------------------

    def change_node_power_state(self, context: podium_context.RequestContext,
                                node_id: str, new_state: str,
                                timeout: float | None = None) -> None:
        """Drive a node to ``new_state`` (one of ``states.POWER_TARGETS``)
        in the background; ``timeout`` is how long the driver waits for
        the state to be reached.

        :raises InvalidParameterValue: an unknown target, or one the
            node's power interface does not support.
        :raises NodeNotFound, NodeLocked, NoFreeConductorWorker:
        """
        budget = power_action.check_request(new_state, timeout)
        with self._acquire(context, node_id, 'changing node power state',
                           timeout=budget) as task:
            power_action.check_node(task, new_state)
            task.save(target_power_state=new_state)
            task.set_spawn_error_hook(
                lambda _error: task.save(target_power_state=None))
            task.spawn_after(self.pool.spawn, self._do_power_action,
                             new_state, timeout)

    def _do_power_action(self, task: task_manager.TaskManager,
                         new_state: str, timeout: float | None) -> None:
        values = power_action.drive(task, new_state, timeout)
        task.write_outcome(lambda: task.finish(**values))
        power_action.log_recorded(task, new_state, values)

    def change_nodes_power_state(self,
                                 context: podium_context.RequestContext,
                                 node_ids: list[str], new_state: str,
                                 timeout: float | None = None
                                 ) -> dict[str, list[str] | None]:
        """:meth:`change_node_power_state` for a chunk of nodes (UUIDs)
        at once (RPC 1.9; a batch's power action): ``{uuid: None}`` for
        each node whose action started, ``{uuid: [exception class
        name, message]}`` for the others (``NodeLocked`` for a busy
        node: nothing waits for it here). See
        :mod:`podium.conductor.bulk_power`.

        :raises InvalidParameterValue: an unknown target or timeout.
        """
        return self.bulk_power.start(context, node_ids, new_state, timeout)

    # Boot device -----------------------------------------------------------

    def set_boot_device(self, context: podium_context.RequestContext,
                        node_id: str, device: str,
                        persistent: bool = False) -> None:
        """Boot a node from ``device`` next time (every time if
        ``persistent``).

        :raises InvalidParameterValue: a device the node cannot boot from.
        :raises NodeNotFound, NodeLocked, DriverError:
        """
        def body(task: task_manager.TaskManager) -> None:
            management = task.driver.management
            management.validate(task.node)
            self._call_driver(
                task, f'set the boot device to {device}',
                lambda: management.set_boot_device(task, device,
                                                   persistent=persistent))

        with self._acquire(context, node_id, 'setting boot device') as task:
            self._on_pool(task, body)
        self._wait(task)
        LOG.info('Node %s: boot device set to %s (persistent: %s)',
                 task.node.ident, device, persistent)

    def get_boot_device(self, context: podium_context.RequestContext,
                        node_id: str) -> dict[str, Any]:
        """``{'boot_device': ..., 'persistent': ...}`` of a node."""
        def body(task: task_manager.TaskManager) -> dict[str, Any]:
            management = task.driver.management
            management.validate(task.node)
            result: dict[str, Any] = self._call_driver(
                task, 'get the boot device',
                lambda: management.get_boot_device(task))
            return result

        with self._acquire(context, node_id, 'getting boot device',
                           shared=True) as task:
            self._on_pool(task, body)
        return dict(self._wait(task))

    def get_supported_boot_devices(self,
                                   context: podium_context.RequestContext,
                                   node_id: str) -> list[str]:
        """The boot devices a node can boot from."""
        def body(task: task_manager.TaskManager) -> list[str]:
            management = task.driver.management
            return list(self._call_driver(
                task, 'get the supported boot devices',
                lambda: management.get_supported_boot_devices(task)))

        with self._acquire(context, node_id, 'getting boot devices',
                           shared=True) as task:
            self._on_pool(task, body)
        return list(self._wait(task))

    # Sensors ---------------------------------------------------------------

    def get_sensors_data(self, context: podium_context.RequestContext,
                         node_id: str) -> dict[str, Any]:
        """A node's sensor readings (RPC 1.6): ``{'node_uuid',
        'read_at' (epoch seconds), 'age' (seconds), 'cached',
        'sensors' (reading dicts)}``.

        Served from :attr:`sensors` while younger than ``[conductor]
        sensor_cache_seconds``; otherwise read on a pool worker under a
        shared lock, within ``sensor_read_timeout``. A failed read is
        not written to the node (a scraper would rewrite it every few
        seconds); it is counted in the BMC request metrics.

        :raises NodeNotFound, NoFreeConductorWorker:
        :raises UnsupportedDriverExtension: the driver or BMC has no
            sensors.
        :raises DriverError, BMCTimeout: the BMC failed or did not
            answer.
        """
        node = db_api.get_node(node_id)
        timeout = CONF.conductor.sensor_read_timeout
        snapshot, cached = self.sensors.get(
            node.uuid, lambda: self._read_sensors(context, node.uuid,
                                                  timeout),
            wait=timeout + WAIT_GRACE)
        return {'node_uuid': node.uuid, 'read_at': snapshot.read_at,
                'age': snapshot.age(), 'cached': cached,
                'sensors': [r.to_dict() for r in snapshot.readings]}

    def _read_sensors(self, context: podium_context.RequestContext,
                      node_uuid: str, timeout: float) -> list[Any]:
        def body(task: task_manager.TaskManager) -> list[Any]:
            management = task.driver.management
            management.validate(task.node)
            timer = metrics.Timer()
            failed = True
            try:
                with timer:
                    readings = list(management.get_sensors_data(task))
                failed = False
                return readings
            except exceptions.UnsupportedDriverExtension:
                failed = False  # no BMC request failed
                raise
            except exceptions.PodiumException:
                raise
            except Exception as exc:
                raise exceptions.DriverError(
                    reason=f'Failed to read sensors: '
                           f'{_error_text(exc, task.node)}') from exc
            finally:
                metrics.observe_bmc_request(task.node.driver,
                                            'get_sensors_data',
                                            timer.seconds, failed=failed)

        with self._acquire(context, node_uuid, 'reading sensors',
                           shared=True, timeout=timeout) as task:
            self._on_pool(task, body)
        return list(self._wait(task))

    # Boot mode and secure boot ---------------------------------------------

    def set_boot_mode(self, context: podium_context.RequestContext,
                      node_id: str, mode: str) -> None:
        """Set a node's boot mode (``uefi`` or ``bios``) and record it in
        the node's ``boot_mode``; returns once the BMC reports it.

        :raises InvalidParameterValue: an unknown mode.
        :raises UnsupportedDriverExtension: the node's management
            interface cannot set that mode.
        :raises NodeNotFound, NodeLocked, DriverError:
        """
        if mode not in states.BOOT_MODES:
            raise exceptions.InvalidParameterValue(
                err=f'Invalid boot mode {mode}, valid modes are: '
                    f'{", ".join(states.BOOT_MODES)}.')

        def body(task: task_manager.TaskManager) -> None:
            management = task.driver.management
            management.validate(task.node)
            self._call_driver(task, f'set the boot mode to {mode}',
                              lambda: management.set_boot_mode(task, mode))
            values: dict[str, Any] = {'boot_mode': mode}
            if mode != states.BOOT_MODE_UEFI:
                values['secure_boot'] = self._call_driver(
                    task, 'read the secure boot state',
                    lambda: management.get_secure_boot_state(task))
            task.save(**values)
            recorded.append(drift.record_applied(task, boot_mode=mode))

        recorded: list[str | None] = []
        with self._acquire(context, node_id, 'setting boot mode') as task:
            supported = task.driver.management.get_supported_boot_modes(task)
            if mode not in supported:
                raise exceptions.UnsupportedDriverExtension(
                    extension=f'Boot mode {mode}', node=task.node.ident)
            self._on_pool(task, body)
        self._wait(task)
        db_api.add_node_history(task.node.id, f'Boot mode set to {mode}.',
                                'boot_mode', states.INFO, self.host,
                                user=context.user_id)
        for event in filter(None, recorded):
            db_api.add_node_history(task.node.id, event, drift.EVENT_TYPE,
                                    states.INFO, self.host,
                                    user=context.user_id)
        LOG.info('Node %s: boot mode set to %s', task.node.ident, mode)

    def set_secure_boot(self, context: podium_context.RequestContext,
                        node_id: str, state: bool) -> None:
        """Turn UEFI secure boot on or off and record it in the node's
        ``secure_boot``; returns once the BMC reports it.

        :raises UnsupportedDriverExtension: the BMC has no secure boot.
        :raises InvalidParameterValue: on, outside the uefi boot mode.
        :raises NodeNotFound, NodeLocked, DriverError:
        """
        def body(task: task_manager.TaskManager) -> None:
            management = task.driver.management
            management.validate(task.node)
            self._call_driver(
                task, f'turn secure boot {"on" if state else "off"}',
                lambda: management.set_secure_boot_state(task, state))
            task.save(secure_boot=bool(state))

        with self._acquire(context, node_id, 'setting secure boot') as task:
            self._on_pool(task, body)
        self._wait(task)
        db_api.add_node_history(
            task.node.id, f'Secure boot turned {"on" if state else "off"}.',
            'secure_boot', states.INFO, self.host, user=context.user_id)
        LOG.info('Node %s: secure boot %s', task.node.ident,
                 'on' if state else 'off')

    # Virtual media ---------------------------------------------------------

    def attach_virtual_media(self, context: podium_context.RequestContext,
                             node_id: str, device_type: str,
                             image_url: str) -> None:
        """Insert ``image_url`` into the node's virtual media device of
        ``device_type``; returns once the BMC took it.

        :raises InvalidParameterValue: a bad device type or URL.
        :raises UnsupportedDriverExtension: no virtual media.
        :raises NodeNotFound, NodeLocked, Conflict, DriverError:
        """
        device_type = vmedia.device_type(device_type)
        vmedia.check_image_url(image_url)

        def body(task: task_manager.TaskManager) -> None:
            management = task.driver.management
            management.validate(task.node)
            self._call_driver(
                task, f'attach {device_type} virtual media',
                lambda: management.attach_virtual_media(
                    task, device_type, image_url))

        with self._acquire(context, node_id,
                           'attaching virtual media') as task:
            self._on_pool(task, body)
        self._wait(task)
        db_api.add_node_history(
            task.node.id, f'Virtual media {device_type} attached: '
                          f'{image_url}.',
            'vmedia', states.INFO, self.host, user=context.user_id)

    def detach_virtual_media(self, context: podium_context.RequestContext,
                             node_id: str,
                             device_types: list[str] | None = None) -> None:
        """Eject the node's virtual media of ``device_types`` (every
        type when None); returns once the BMC ejected them.

        :raises InvalidParameterValue: an unknown device type.
        :raises UnsupportedDriverExtension: no virtual media.
        :raises NodeNotFound, NodeLocked, DriverError:
        """
        wanted = (None if not device_types
                  else vmedia.device_types(device_types))

        def body(task: task_manager.TaskManager) -> None:
            management = task.driver.management
            management.validate(task.node)
            self._call_driver(
                task, 'detach virtual media',
                lambda: management.detach_virtual_media(task, wanted))

        with self._acquire(context, node_id,
                           'detaching virtual media') as task:
            self._on_pool(task, body)
        self._wait(task)
        db_api.add_node_history(
            task.node.id, 'Virtual media detached: '
                          f'{", ".join(wanted or ["all"])}.',
            'vmedia', states.INFO, self.host, user=context.user_id)

    # Maintenance -----------------------------------------------------------

    def set_maintenance(self, context: podium_context.RequestContext,
                        node_id: str, maintenance: bool,
                        reason: str | None = None) -> None:
        """Put a node in or out of maintenance.

        Taking it out also clears its fault and the power-sync failure
        count, so a node an operator repaired is synced afresh.
        """
        with self._acquire(context, node_id, 'setting maintenance') as task:
            if maintenance:
                task.save(maintenance=True, maintenance_reason=reason)
            else:
                task.save(maintenance=False, maintenance_reason=None,
                          fault=None)
                self.power_sync.reset_failures(task.node.id)
            db_api.add_node_history(
                task.node.id,
                (f'Maintenance set: {reason}' if reason else
                 'Maintenance set.') if maintenance else
                'Maintenance unset.',
                'maintenance', states.INFO, self.host,
                user=context.user_id)
        LOG.info('Node %s: maintenance %s%s', task.node.ident,
                 'on' if maintenance else 'off',
                 f' ({reason})' if maintenance and reason else '')

    # Validation and inspection ---------------------------------------------

    def validate_driver_interfaces(self,
                                   context: podium_context.RequestContext,
                                   node_id: str) -> dict[str, dict[str, Any]]:
        """``{kind: {'result': bool, 'reason': str | None}}`` for each
        interface of the node."""
        def body(task: task_manager.TaskManager
                 ) -> dict[str, dict[str, Any]]:
            result: dict[str, dict[str, Any]] = {}
            for kind, interface in task.driver.interfaces():
                try:
                    interface.validate(task.node)
                except exceptions.PodiumException as exc:
                    result[kind] = {'result': False,
                                    'reason': _error_text(exc, task.node)}
                else:
                    result[kind] = {'result': True, 'reason': None}
            return result

        with self._acquire(context, node_id, 'validating driver interfaces',
                           shared=True) as task:
            self._on_pool(task, body)
        return dict(self._wait(task))

    # Provisioning ----------------------------------------------------------

    def do_provisioning_action(self, context: podium_context.RequestContext,
                               node_id: str, target: str,
                               clean_steps: list[dict[str, Any]] | None = None
                               ) -> None:
        """Move a node towards ``target`` (an API provision target:
        manage, provide, inspect, clean, active, rebuild, deleted, abort,
        adopt ...); the work runs in the background.

        :raises InvalidStateRequested: an unknown target, or one the
            node's state does not allow.
        :raises InvalidCleanSteps: manual clean steps the node lacks.
        :raises NodeNotFound, NodeLocked, NodeInMaintenance,
            NoFreeConductorWorker:
        """
        with self._acquire(context, node_id,
                           f'provisioning action {target}') as task:
            self.provisioner.start(task, target, context.user_id,
                                   clean_steps=clean_steps)

    def get_bmc_health(self, context: podium_context.RequestContext,
                       endpoints: list[str] | None = None
                       ) -> list[dict[str, Any]]:
        """This conductor's BMC health records (RPC 1.2), of
        ``endpoints`` only when given, worst first."""
        return self.power_sync.health.snapshot(endpoints, sessions=True)

    # Installer call-backs --------------------------------------------------

    def get_node_with_token(self, context: podium_context.RequestContext,
                            node_id: str) -> dict[str, Any]:
        """A booting installer's lookup: its node's lookup fields and
        agent token (see :mod:`podium.conductor.callbacks`).

        :raises NodeNotFound: also when the node waits for no installer.
        :raises NodeLocked:
        """
        with self._acquire(context, node_id, 'installer lookup') as task:
            return callbacks.lookup(task)

    def heartbeat(self, context: podium_context.RequestContext,
                  node_id: str, agent_token: str | None,
                  agent_status: str | None,
                  agent_status_message: str | None) -> str:
        """An installer's report (start, end, error) on its node's
        deploy; returns the node's provision state afterwards.

        :raises InvalidState: the node waits for no call-back.
        :raises InvalidParameterValue: a wrong token or status.
        :raises NodeNotFound, NodeLocked:
        """
        with self._acquire(context, node_id, 'installer heartbeat') as task:
            return callbacks.heartbeat(task, agent_token, agent_status,
                                       agent_status_message)

    def get_metrics(self, context: podium_context.RequestContext) -> str:
        """This process's Prometheus exposition (RPC 1.1), for the API's
        dashboard when the conductor runs apart from the API."""
        return metrics.exposition()[0].decode()

    def start_batch(self, context: podium_context.RequestContext,
                    batch_uuid: str) -> None:
        """Run a batch the API assigned to this conductor (RPC 1.5); its
        runner holds one worker until the batch ends.

        :raises BatchNotFound, NoFreeConductorWorker:
        """
        self.batches.start(batch_uuid)

    def get_clean_steps(self, context: podium_context.RequestContext,
                        node_id: str) -> list[dict[str, Any]]:
        """The clean steps a node's interfaces declare, in the order
        automated cleaning would run them."""
        with self._acquire(context, node_id, 'listing clean steps',
                           shared=True) as task:
            return steps.get_clean_steps(task.driver.interfaces())

    # Periodic tasks --------------------------------------------------------

    @periodics.periodic('conductor.check_provision_state_interval')
    def _check_provision_timeouts(
            self, context: podium_context.RequestContext) -> None:
        recovery.fail_timed_out(context, self.host, self.ring)

    @periodics.periodic('conductor.batch_check_interval')
    def _check_batches(self,
                       context: podium_context.RequestContext) -> None:
        """Run the batches nobody runs (see ``conductor.batches``) and
        purge old finished ones."""
        self.batches.check()
        purged = self.batches.purge()
        if purged:
            LOG.info('Deleted %d finished batch(es).', purged)

    @periodics.periodic('conductor.sync_power_state_interval')
    def _sync_power_states(self,
                           context: podium_context.RequestContext) -> None:
        self.power_sync.run(context)

    @periodics.periodic('conductor.drift_check_interval')
    def _check_drift(self, context: podium_context.RequestContext) -> None:
        """Compare intended settings power sync does not see with the
        BMCs' (see ``conductor.drift``)."""
        self.drift_check.run(context)

    @periodics.periodic('conductor.node_history_cleanup_interval')
    def _manage_node_history(self,
                             context: podium_context.RequestContext) -> None:
        """Keep the history of this conductor's nodes within bounds."""
        owned = self.ring.owned(self.host, db_api.list_node_rows(
            ('id', 'uuid', 'conductor_group')))
        deleted = history.purge(
            [row.id for row in owned],
            max_entries=CONF.conductor.node_history_max_entries,
            minimum_days=CONF.conductor.node_history_minimum_days,
            batch_count=CONF.conductor.node_history_cleanup_batch_count)
        if deleted:
            LOG.info('Deleted %d old node history entries.', deleted)
