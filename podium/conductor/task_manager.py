"""Node locks: every driver call happens inside a task.

``acquire`` loads a node and its driver under a lock. An exclusive lock
is the node's ``reservation`` column, taken by one conditional UPDATE
(atomic on every supported database) and retried a bounded number of
times before ``NodeLocked``; a shared lock takes no reservation and
writes nothing. The lock is released when the ``with`` block ends,
whatever happens inside it, unless the block handed the task to a pool
worker with :meth:`TaskManager.spawn_after`: then the worker owns the
lock and releases it when it is done. This lets an RPC call take the
lock synchronously (the caller learns of ``NodeLocked`` at once) and
answer while the slow BMC work goes on in the background.

A worker that finished its BMC work while the database is unreachable
cannot record the outcome. :meth:`TaskManager.write_outcome` keeps that
write and the lock: the conductor's heartbeat applies the write once
the database answers, then releases the lock. Without this the node
would keep its ``target_power_state`` (or its transient provision state)
for ever, and power sync skips such nodes.
"""

import collections
import concurrent.futures
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.db import models, node_locks
from podium.drivers import driver_factory

LOG = log.getLogger(__name__)

#: ``spawn(func, *args)`` as offered by ``WorkerPool.spawn``.
Spawner = Callable[..., 'concurrent.futures.Future[Any]']

#: A write that records what a task did; retried until the database takes it.
OutcomeWrite = Callable[[], None]


class _Holdings:
    """The exclusive locks this process holds, and those it failed to
    release.

    Shutdown must not release a lock that a live worker still holds,
    and a release that failed (the database was down) must be retried:
    the dead-conductor sweep never clears a live conductor's own locks,
    so the node would answer 409 until a restart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: collections.Counter[tuple[str, int]] = (
            collections.Counter())
        self._unreleased: set[tuple[str, int]] = set()
        # Outcome writes to apply, in order, before the lock is released.
        self._pending: dict[tuple[str, int], list[OutcomeWrite]] = {}

    def taken(self, host: str, node_id: int) -> None:
        with self._lock:
            self._held[(host, node_id)] += 1
            self._unreleased.discard((host, node_id))

    def dropped(self, host: str, node_id: int, released: bool) -> None:
        with self._lock:
            self._held[(host, node_id)] -= 1
            if self._held[(host, node_id)] <= 0:
                del self._held[(host, node_id)]
            if not released:
                self._unreleased.add((host, node_id))

    def held_by(self, host: str) -> set[int]:
        with self._lock:
            return {node_id for (owner, node_id) in self._held
                    if owner == host}

    def unreleased(self, host: str) -> set[int]:
        with self._lock:
            return {node_id for (owner, node_id) in self._unreleased
                    if owner == host}

    def forget_unreleased(self, host: str, node_id: int) -> None:
        with self._lock:
            self._unreleased.discard((host, node_id))

    def defer(self, host: str, node_id: int, write: OutcomeWrite) -> None:
        with self._lock:
            self._pending.setdefault((host, node_id), []).append(write)

    def has_pending(self, host: str, node_id: int) -> bool:
        with self._lock:
            return (host, node_id) in self._pending

    def pending(self, host: str, node_id: int) -> list[OutcomeWrite]:
        with self._lock:
            return list(self._pending.get((host, node_id), ()))

    def written(self, host: str, node_id: int) -> None:
        """The oldest pending write of the node was applied."""
        with self._lock:
            writes = self._pending[(host, node_id)]
            writes.pop(0)
            if not writes:
                del self._pending[(host, node_id)]


_holdings = _Holdings()


def reset_holdings() -> None:
    """Forget every lock this process holds (for tests)."""
    global _holdings
    _holdings = _Holdings()


def held_node_ids(host: str) -> set[int]:
    """Ids of the nodes whose lock a live task of ``host`` holds."""
    return _holdings.held_by(host)


def _apply_pending(host: str, node_id: int) -> bool:
    """Apply the outcome writes kept for a node; whether all are done."""
    for write in _holdings.pending(host, node_id):
        try:
            write()
        except Exception as exc:
            LOG.warning('Node %s: the outcome of a task of %s still cannot '
                        'be recorded: %s', node_id, host,
                        db_engine.error_reason(exc))
            return False
        _holdings.written(host, node_id)
        LOG.info('Node %s: recorded the outcome of a task of %s that '
                 'ended while the database was unreachable', node_id, host)
    return True


def retry_failed_releases(host: str) -> int:
    """Record the outcomes kept by :meth:`TaskManager.write_outcome`, then
    release again the locks of ``host`` whose release failed or waited
    for them; returns how many locks are now released. Called by the
    conductor's heartbeat."""
    released = 0
    for node_id in sorted(_holdings.unreleased(host)):
        if node_id in _holdings.held_by(host):
            continue  # taken again since: that task releases it
        if not _apply_pending(host, node_id):
            continue
        try:
            db_api.release_node(host, node_id)
        except Exception as exc:
            LOG.warning('Node %s: the lock of %s still cannot be released: '
                        '%s', node_id, host, exc)
            continue
        _holdings.forget_unreleased(host, node_id)
        LOG.info('Node %s: released the lock of %s that failed to be '
                 'released earlier', node_id, host)
        released += 1
    return released


def _reserve(host: str, node_id: str | int) -> models.Node:
    """Take the reservation, retrying while someone else holds it."""
    attempts = CONF.conductor.node_locked_retry_attempts + 1
    attempt = 1
    while True:
        try:
            return db_api.reserve_node(host, node_id)
        except exceptions.NodeLocked:
            if attempt >= attempts:
                raise
        attempt += 1
        time.sleep(CONF.conductor.node_locked_retry_interval)


class TaskManager:
    """A node, its driver and a lock on it; a ``drivers.base.Task``."""

    #: The node as an ORM object (typed loosely: SQLAlchemy's mapped
    #: attributes do not satisfy the read-write ``NodeView`` protocol).
    node: Any

    def __init__(self, context: podium_context.RequestContext,
                 node_id: str | int, shared: bool = False,
                 purpose: str = '', timeout: float | None = None,
                 host: str | None = None,
                 reserved: models.Node | None = None) -> None:
        self.context = context
        self.shared = shared
        self.purpose = purpose or 'unspecified action'
        self.timeout = float(timeout if timeout is not None
                             else CONF.conductor.action_timeout)
        self.host = host or CONF.host
        self._spawn: tuple[Spawner, Callable[..., Any], tuple[Any, ...],
                           dict[str, Any]] | None = None
        self._on_spawn_error: Callable[[Exception], None] | None = None
        #: What :meth:`spawn_after` started, once the block has ended.
        self.future: concurrent.futures.Future[Any] | None = None
        self._released = shared
        if shared:
            self.node = db_api.get_node(node_id)
        else:
            # ``reserved``: the caller locked the node for this host
            # already (many nodes at once, see :func:`adopt`).
            self.node = (reserved if reserved is not None
                         else _reserve(self.host, node_id))
            _holdings.taken(self.host, self.node.id)
            LOG.debug('Node %s locked by %s for %s', self.node.ident,
                      self.host, self.purpose)
        try:
            self.driver = driver_factory.get_registry().for_node(self.node)
        except Exception:
            self.release()
            raise

    @property
    def node_ident(self) -> str:
        return self.node.ident

    def save(self, **values: Any) -> None:
        """Write ``values`` to the node and to ``self.node``.

        Under an exclusive lock the write is one UPDATE that happens only
        while this task still holds the reservation (``NodeLocked``
        otherwise); a shared task re-reads the node it wrote.
        """
        if self.shared:
            self.node = db_api.update_node(self.node.id, values)
            return
        db_api.write_locked_node(self.host, self.node.id, values)
        self._apply(values)

    def finish(self, **values: Any) -> None:
        """Write the task's last ``values`` and drop the exclusive lock,
        in one statement (the end of a power action, say)."""
        if self.shared:
            raise RuntimeError('a shared task holds no lock to finish with')
        db_api.write_locked_node(self.host, self.node.id, values,
                                 release=True)
        self._apply(values)
        if not self._released:
            self._released = True
            _holdings.dropped(self.host, self.node.id, released=True)

    def _apply(self, values: dict[str, Any]) -> None:
        """Keep ``self.node`` what the database now holds."""
        for key, value in values.items():
            setattr(self.node, key, value)

    def write_outcome(self, write: OutcomeWrite) -> None:
        """Run ``write``, which records what this task did; if the
        database is unreachable, keep it and the lock, to be applied and
        released by the heartbeat (:func:`retry_failed_releases`).

        For the last writes of work on a pool worker, whose outcome must
        not be lost: the BMC already acted. Other errors propagate.
        """
        if self.shared or not _holdings.has_pending(self.host,
                                                      self.node.id):
            try:
                write()
                return
            except Exception as exc:
                if self.shared or not db_engine.is_outage(exc):
                    raise
                LOG.warning('Node %s: the database is unreachable, so the '
                            'outcome of %s is recorded when it answers '
                            'again (the node stays locked until then): %s',
                            self.node.ident, self.purpose,
                            db_engine.error_reason(exc))
        # Queued behind an earlier kept write, so they apply in order.
        _holdings.defer(self.host, self.node.id, write)

    def release(self) -> None:
        """Drop the exclusive lock (idempotent; no-op when shared).

        With outcome writes still kept, the lock stays until the
        heartbeat has applied them."""
        if self._released:
            return
        self._released = True
        if _holdings.has_pending(self.host, self.node.id):
            _holdings.dropped(self.host, self.node.id, released=False)
            return
        released = False
        try:
            if not db_api.release_node(self.host, self.node.id):
                LOG.warning('Node %s: lock of %s was already gone when %s '
                            'ended', self.node.ident, self.host,
                            self.purpose)
            released = True
        except Exception:
            # The conductor's heartbeat retries it (retry_failed_releases).
            LOG.exception('Node %s: failed to release the lock of %s; '
                          'retrying at the next heartbeat',
                          self.node.ident, self.host)
        finally:
            _holdings.dropped(self.host, self.node.id, released)

    def spawn_after(self, spawn: Spawner, func: Callable[..., Any],
                    *args: Any, **kwargs: Any) -> None:
        """On a clean exit of the ``with`` block, run ``func(self, *args,
        **kwargs)`` through ``spawn``; the worker then owns the lock (if
        the task holds one), and :attr:`future` is its outcome."""
        self._spawn = (spawn, func, args, kwargs)

    def set_spawn_error_hook(self, hook: Callable[[Exception], None]
                             ) -> None:
        """Call ``hook(error)`` (lock still held) if spawning fails."""
        self._on_spawn_error = hook

    def _run_spawned(self, func: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
        try:
            return func(self, *args, **kwargs)
        except exceptions.PodiumException:
            raise  # recorded by func, or reported to whoever waits for it
        except Exception:
            LOG.exception('Node %s: %s failed', self.node.ident,
                          self.purpose)
            raise
        finally:
            self.release()

    def __enter__(self) -> 'TaskManager':
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc_type is not None or self._spawn is None:
            self.release()
            return
        spawn, func, args, kwargs = self._spawn
        self._spawn = None
        try:
            self.future = spawn(self._run_spawned, func, args, kwargs)
        except Exception as error:
            try:
                if self._on_spawn_error is not None:
                    self._on_spawn_error(error)
            finally:
                self.release()
            raise


def adopt(context: podium_context.RequestContext, node: models.Node,
          purpose: str, timeout: float | None, host: str) -> TaskManager:
    """A task over ``node``, which ``host`` has locked already (by
    :func:`podium.db.node_locks.reserve_nodes`); the task owns that lock
    from now on, exactly as if :func:`acquire` had taken it.

    :raises: what loading the node's driver raises; the lock is released
        then.
    """
    return TaskManager(context, node.id, purpose=purpose, timeout=timeout,
                       host=host, reserved=node)


def save_many(host: str, tasks: Sequence[TaskManager],
              values: dict[str, Any]) -> list[TaskManager]:
    """:meth:`TaskManager.save` of the same ``values`` for many tasks of
    ``host`` at once, in one statement; returns the tasks whose lock
    was gone (nothing was written to their node)."""
    written = node_locks.write_locked_nodes(
        host, {task.node.id: values for task in tasks})
    lost = []
    for task in tasks:
        if task.node.id in written:
            task._apply(values)
        else:
            lost.append(task)
    return lost


def finish_many(host: str,
                outcomes: Sequence[tuple[TaskManager, dict[str, Any]]]
                ) -> None:
    """:meth:`TaskManager.finish` for many tasks of ``host`` at once:
    each task's last values written and its lock dropped, in one
    transaction (:func:`podium.db.node_locks.write_locked_nodes`).

    A task with an outcome write already kept, or every task when the
    database is unreachable, goes the single-node way
    (:meth:`TaskManager.write_outcome`), which keeps the write and the
    lock for the heartbeat. A task whose lock was gone meanwhile is
    logged, as :meth:`TaskManager.release` logs it.
    """
    bulk: dict[int, tuple[TaskManager, dict[str, Any]]] = {}
    for task, values in outcomes:
        if task.shared:
            raise RuntimeError('a shared task holds no lock to finish with')
        if _holdings.has_pending(host, task.node.id):
            _finish_one(task, values)
        else:
            bulk[task.node.id] = (task, values)
    if not bulk:
        return
    try:
        written = node_locks.write_locked_nodes(
            host, {node_id: values for node_id, (_, values) in bulk.items()},
            release=True)
    except Exception as exc:
        if not db_engine.is_outage(exc):
            raise
        for task, values in bulk.values():
            _finish_one(task, values)
        return
    for node_id, (task, values) in bulk.items():
        task._apply(values)
        if node_id not in written:
            LOG.warning('Node %s: lock of %s was gone when %s ended; its '
                        'outcome was not recorded', task.node.ident, host,
                        task.purpose)
        task._released = True
        _holdings.dropped(host, node_id, released=True)


def _finish_one(task: TaskManager, values: dict[str, Any]) -> None:
    """One task's outcome written the single-node way; its lock is
    dropped, or kept with the write for the heartbeat."""
    try:
        task.write_outcome(lambda: task.finish(**values))
    except Exception:
        LOG.exception('Node %s: the outcome of %s could not be recorded',
                      task.node.ident, task.purpose)
    finally:
        task.release()


def release_many(host: str, tasks: Sequence[TaskManager]) -> None:
    """:meth:`TaskManager.release` for many tasks of ``host`` at once,
    in one statement; on a database error each task is released the
    single-node way (which leaves a failed release to the heartbeat)."""
    mine = [task for task in tasks if not task._released and
            not _holdings.has_pending(host, task.node.id)]
    try:
        node_locks.release_nodes(host, [task.node.id for task in mine])
    except Exception:
        LOG.exception('Failed to release %d lock(s) of %s at once; '
                      'releasing them one by one', len(mine), host)
        for task in tasks:
            task.release()
        return
    for task in mine:
        task._released = True
        _holdings.dropped(host, task.node.id, released=True)
    for task in tasks:
        task.release()  # the ones with kept writes: no-op or kept


def acquire(context: podium_context.RequestContext, node_id: str | int,
            shared: bool = False, purpose: str = '',
            timeout: float | None = None,
            host: str | None = None) -> TaskManager:
    """Lock a node for ``purpose``; use as a context manager.

    :param shared: read-only use; no reservation is taken.
    :param timeout: seconds the driver calls of this task may take in
        all (default ``[conductor] action_timeout``).
    :param host: the lock owner (default ``[DEFAULT] host``).
    :raises NodeNotFound: no such node.
    :raises NodeLocked: another holder kept the lock through every retry.
    """
    return TaskManager(context, node_id, shared=shared, purpose=purpose,
                       timeout=timeout, host=host)
