"""The conductor service: start-up, heartbeat, takeover and shutdown.

Used by ``podium-conductor`` and by the conductor half of the all-in-one
``podium`` process. Start-up loads the drivers, collects the periodic
tasks (refusing invalid ones and a pool too small to run them), clears
locks a previous life of this host left behind, registers the conductor
and starts the periodic worker and the RPC server. Stopping is the
reverse, with in-flight work given ``graceful_shutdown_timeout`` to end
before every lock of this host is released and it is marked offline.
"""

import threading
from collections.abc import Callable
from typing import Any

from futurist import periodics as futurist_periodics
from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, hash_ring, metrics, open_files
from podium.conductor import manager as manager_mod
from podium.conductor import periodics, recovery, task_manager
from podium.conductor import pool as pool_mod
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers import driver_factory

LOG = log.getLogger(__name__)


class ConductorService:
    """One conductor: its pool, manager, periodic tasks and RPC server."""

    def __init__(self, host: str | None = None) -> None:
        self.host: str = host or CONF.host
        self.manager: manager_mod.ConductorManager | None = None
        self.periodic_tasks: list[periodics.PeriodicTask] = []
        self._pool: pool_mod.WorkerPool | None = None
        self._worker: futurist_periodics.PeriodicWorker | None = None
        self._worker_thread: threading.Thread | None = None
        self._rpc: Any = None
        self._local_rpc = False
        self._state_lock = threading.Lock()
        self._stopping = False
        self._stopped = threading.Event()
        # Only a conductor that registered may release this host's locks
        # and unregister it: a start refused before that (a live
        # namesake, a pool too small) must leave the registry alone.
        self._registered = False
        self._unserved_groups: list[str] = []
        self._stop_metrics: Callable[[], None] | None = None

    # Start -----------------------------------------------------------------

    def start(self) -> None:
        """Bring the conductor up.

        :raises ConfigInvalid: (``PeriodicTaskInvalid`` included) for a
            driver, periodic task or pool size that cannot work.
        """
        LOG.info('Conductor %s may open %d files (RLIMIT_NOFILE): each '
                 'BMC connection it keeps uses one or two', self.host,
                 open_files.raise_limit())
        registry = driver_factory.get_registry()
        pool = pool_mod.WorkerPool.from_config()
        try:
            self.manager = manager_mod.ConductorManager(self.host, pool)
            tasks = periodics.collect(self.manager, [self], registry)
            pool.reserve_periodic_slots(len(tasks))
        except Exception:
            pool.shutdown()
            raise
        self._pool = pool
        self.periodic_tasks = tasks
        LOG.info('Conductor %s periodic tasks: %s', self.host,
                 ', '.join(f'{task.name} (every {task.spacing:g}s)'
                           for task in tasks) or 'none')
        try:
            # Registering first: a live namesake must keep its locks.
            db_api.register_conductor(
                self.host, sorted(registry.hardware_types),
                CONF.conductor.conductor_group,
                refuse_alive_within=CONF.conductor.heartbeat_timeout)
        except Exception:
            pool.shutdown()
            raise
        self._registered = True
        reason = f'conductor {self.host} restarted while it ran'
        stuck = recovery.interrupted(self.host)
        cleared = db_api.clear_node_reservations_for_conductor(
            self.host, interrupted_by=reason)
        if cleared:
            LOG.warning('Conductor %s released %d node lock(s) left by its '
                        'previous run', self.host, cleared)
        recovery.fail_interrupted(podium_context.get_admin_context(),
                                  self.host, stuck, reason)
        hash_ring.HashRingManager.reset()
        try:
            if tasks:
                self._worker = periodics.make_worker(tasks, pool)
                self._worker_thread = threading.Thread(
                    target=self._worker.start, name='podium-periodics',
                    daemon=True)
                self._worker_thread.start()
            self._start_rpc()
            self._start_metrics(pool)
        except Exception:
            # Registered but unable to serve: leave rather than look alive.
            self.stop(graceful=False)
            raise
        LOG.info('Conductor %s started: %d workers (%d reserved for '
                 'operator actions)', self.host, pool.size, pool.reserved)

    def _start_rpc(self) -> None:
        from podium.conductor import rpcapi
        if CONF.rpc_transport == 'oslo':
            from podium.conductor import rpc_server
            self._rpc = rpc_server.RPCServer(self.manager)
            self._rpc.start()
        else:
            rpcapi.register_local_manager(self.manager)
            self._local_rpc = True

    def _start_metrics(self, pool: pool_mod.WorkerPool) -> None:
        metrics.POOLS.register(self.host, pool)
        if self.manager is not None:
            metrics.SENSORS.register(self.host, self.manager.sensors)
        port = CONF.conductor.metrics_port
        if not port:
            return
        try:
            self._stop_metrics = metrics.start_http_server(
                CONF.conductor.metrics_host, port)
        except OSError as exc:
            raise exceptions.ConfigInvalid(
                reason=f'[conductor] metrics_port {port} on '
                       f'{CONF.conductor.metrics_host}: {exc.strerror}'
            ) from None
        LOG.info('Conductor %s serves metrics on http://%s:%d/metrics',
                 self.host, CONF.conductor.metrics_host, port)

    # Periodic work of the service itself -----------------------------------

    @periodics.periodic('conductor.heartbeat_interval', backoff=False)
    def _heartbeat(self, context: podium_context.RequestContext) -> None:
        """Tell the others this conductor lives; free dead ones' locks."""
        try:
            db_api.touch_conductor(self.host)
        except exceptions.ConductorNotFound:
            LOG.warning('Conductor %s was unregistered behind its back; '
                        'registering again', self.host)
            db_api.register_conductor(
                self.host,
                sorted(driver_factory.get_registry().hardware_types),
                CONF.conductor.conductor_group)
        task_manager.retry_failed_releases(self.host)
        if self._pool is not None:
            self._pool.maintain()
        self.release_dead_conductor_locks()
        self._warn_unserved_groups()

    def _warn_unserved_groups(self) -> None:
        """Log, when it changes, which groups' nodes nobody manages."""
        unserved = hash_ring.HashRingManager().unserved_groups(
            db_api.list_node_conductor_groups())
        if unserved != self._unserved_groups:
            if unserved:
                LOG.warning('No alive conductor serves conductor group(s) '
                            '%s: their nodes are not managed (no power '
                            'sync, no actions) until one starts',
                            ', '.join(f'"{group}"' for group in unserved))
            elif self._unserved_groups:
                LOG.info('Every conductor group with nodes is served '
                         'again')
            self._unserved_groups = unserved

    def release_dead_conductor_locks(self) -> int:
        """Clear node locks held by conductors that stopped heartbeating,
        so their nodes can be adopted; returns how many were cleared."""
        holders = {row.reservation for row in db_api.list_node_rows(
            ('reservation',), filters={'reserved': True})}
        if not holders:
            return 0
        alive = {conductor.hostname for conductor in
                 db_api.get_alive_conductors(
                     CONF.conductor.heartbeat_timeout)}
        cleared = 0
        for holder in sorted(holders - alive - {self.host}):
            reason = f'conductor {holder} died while it ran'
            stuck = recovery.interrupted(holder)
            count = db_api.clear_node_reservations_for_conductor(
                holder, interrupted_by=reason)
            if count:
                LOG.warning('Conductor %s is dead; released its %d node '
                            'lock(s)', holder, count)
            recovery.fail_interrupted(podium_context.get_admin_context(),
                                      self.host, stuck, reason)
            cleared += count
        return cleared

    # Reload and stop -------------------------------------------------------

    def reload(self) -> None:
        """Apply reloaded options that are cached outside ``CONF``."""
        hash_ring.HashRingManager.reset()
        LOG.info('Conductor %s reloaded its configuration', self.host)

    def stop(self, graceful: bool = True) -> None:
        """Stop taking work, let in-flight work end (up to
        ``graceful_shutdown_timeout`` when ``graceful``), release every
        lock of this host and mark it offline. Idempotent."""
        with self._state_lock:
            if self._stopping:
                return
            self._stopping = True
        LOG.info('Conductor %s stopping', self.host)
        try:
            self._stop_taking_work()
            self._drain(CONF.conductor.graceful_shutdown_timeout
                        if graceful else 0)
        finally:
            self._leave()

    def _stop_taking_work(self) -> None:
        if self._rpc is not None:
            self._rpc.stop()
        if self._local_rpc:
            from podium.conductor import rpcapi
            rpcapi.unregister_local_manager()
        if self._worker is not None:
            self._worker.stop()
        if self._pool is not None:
            self._pool.close()

    def _drain(self, timeout: float) -> None:
        if self._rpc is not None:
            self._rpc.wait()
        if self._pool is not None and not self._pool.wait_idle(timeout):
            LOG.warning('Conductor %s: %d worker(s) still busy after %ss',
                        self.host, self._pool.busy, timeout)
        if self._worker_thread is not None:
            self._worker_thread.join(timeout=1.0)

    def _leave(self) -> None:
        if not self._registered:
            if self._pool is not None:
                self._pool.shutdown()
            self._stopped.set()
            return
        try:
            # A worker still running keeps its lock: releasing it would let
            # another action start on the node while this one goes on. If
            # the process ends first, the lock is cleared (and its power
            # action reported interrupted) by this host's next start, or by
            # the other conductors once this one is unregistered.
            # Outcomes kept through a database outage get a last chance
            # to be recorded before their locks go.
            task_manager.retry_failed_releases(self.host)
            busy = task_manager.held_node_ids(self.host)
            released = db_api.clear_node_reservations_for_conductor(
                self.host, interrupted_by=f'conductor {self.host} stopped '
                                          f'before it ended', keep=busy)
            if busy:
                LOG.warning('Conductor %s keeps the lock of %d node(s) '
                            'whose action is still running: %s', self.host,
                            len(busy), ', '.join(map(str, sorted(busy))))
            db_api.unregister_conductor(self.host)
            LOG.info('Conductor %s stopped; released %d node lock(s)',
                     self.host, released)
        except Exception:
            LOG.exception('Conductor %s could not release its locks or '
                          'unregister; others take over once its '
                          'heartbeat times out', self.host)
        finally:
            metrics.POOLS.unregister(self.host)
            metrics.SENSORS.unregister(self.host)
            if self._stop_metrics is not None:
                self._stop_metrics()
                self._stop_metrics = None
            if self._pool is not None:
                self._pool.shutdown()
            self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` has finished; False on timeout."""
        return self._stopped.wait(timeout)
