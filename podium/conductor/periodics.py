"""Periodic tasks: how they are declared, collected and run.

:func:`periodic` marks a method of the conductor manager (called with a
request context) or of a driver interface (called with the manager and a
request context) as periodic; its spacing is a number of seconds or the
name of the option that holds it (``'conductor.sync_power_state_interval'``,
where 0 disables the task, as in Ironic). :func:`node_periodic` goes one
step further for per-node work: the driver author writes the body for
one node and the helper finds the nodes, locks each and fans them out to
the worker pool.

:func:`collect` gathers the tasks at start-up and refuses, naming the
task, a literal spacing that is not positive, an unknown option and a
method whose signature cannot take the arguments it will be given.
:func:`make_worker` builds the ``futurist.periodics.PeriodicWorker`` that
runs them on the conductor's pool.
"""

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from futurist import periodics as futurist_periodics
from oslo_config import cfg
from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, hash_ring, metrics
from podium.conductor import backoff as backoff_mod
from podium.conductor import pool as pool_mod
from podium.conductor import task_manager
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.drivers import base, driver_factory

LOG = log.getLogger(__name__)

_SPEC_ATTR = '_podium_periodic'
_BODY_ATTR = '_podium_node_body'

#: Nodes a per-node task skips unless its ``filters`` say otherwise.
DEFAULT_NODE_FILTERS = {'maintenance': False, 'reserved': False}


class Conductor(Protocol):
    """What periodic tasks use of the conductor manager."""

    host: str
    pool: pool_mod.WorkerPool
    ring: hash_ring.HashRingManager


@dataclasses.dataclass(frozen=True)
class _Spec:
    spacing: float | str
    enabled: bool
    backoff: bool


@dataclasses.dataclass(frozen=True)
class PeriodicTask:
    """A collected task, ready for the periodic worker."""

    name: str
    spacing: float
    run: Callable[[], Any]


def periodic(spacing: float | str, enabled: bool = True,
             backoff: bool = True
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a method as a periodic task.

    A task that fails is logged and backs off (see
    :mod:`podium.conductor.backoff`) rather than failing again every
    ``spacing`` seconds with a traceback.

    :param spacing: seconds between two runs, or a config option name
        ``'group.option'`` holding them (0 there disables the task).
    :param enabled: False leaves the task out.
    :param backoff: False keeps the spacing while the task fails (its
        failures are still logged sparingly).
    """
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, _SPEC_ATTR, _Spec(spacing, enabled, backoff))
        return func
    return decorator


def node_periodic(purpose: str, spacing: float | str, enabled: bool = True,
                  filters: dict[str, Any] | None = None,
                  predicate: Callable[[Any], bool] | None = None,
                  parallelism: int | None = None,
                  shared_task: bool = True
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark ``body(self, task, context)`` as periodic work for each node.

    Every run lists the nodes this conductor owns that match ``filters``
    (:data:`DEFAULT_NODE_FILTERS` by default, merged with the given
    ones) and, on a driver interface, whose driver uses this very
    interface; keeps those for which ``predicate(row)`` is true; and runs
    ``body`` for each under a lock (shared unless ``shared_task`` is
    False), ``parallelism`` nodes at a time (default ``[conductor]
    periodic_max_workers``). A node whose body fails is logged with its
    name and the others go on; a locked node is skipped this run. A lost
    database connection stops the run instead (the task fails once and
    backs off, rather than logging the outage for every node).
    """
    node_filters = dict(DEFAULT_NODE_FILTERS, **(filters or {}))

    def decorator(body: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(body)
        def run_for_nodes(self: Any, *args: Any) -> None:
            # A manager's task gets (context); an interface's gets
            # (manager, context), the same as plain periodic tasks.
            manager: Conductor = self if len(args) == 1 else args[0]
            context = args[-1]
            rows = _nodes_for(self, manager, node_filters, predicate)
            _fan_out_nodes(self, manager, context, body, rows, purpose,
                           shared_task, parallelism)

        setattr(run_for_nodes, _BODY_ATTR, body)
        return periodic(spacing, enabled)(run_for_nodes)
    return decorator


def _nodes_for(owner: Any, manager: Conductor, filters: dict[str, Any],
               predicate: Callable[[Any], bool] | None) -> list[Any]:
    rows = manager.ring.owned(manager.host,
                              db_api.list_node_rows(filters=filters))
    return [row for row in rows if _served_by(row, owner)
            and (predicate is None or predicate(row))]


def _served_by(row: Any, owner: Any) -> bool:
    """Whether the node's driver loads here and, for an interface's task,
    uses that very interface."""
    try:
        driver = driver_factory.get_registry().for_node(row)
    except exceptions.PodiumException:
        return False  # a node of a disabled driver is not ours to touch
    if isinstance(owner, base.BaseInterface):
        return getattr(driver, owner.interface_type) is owner
    return True


def _fan_out_nodes(owner: Any, manager: Conductor,
                   context: podium_context.RequestContext,
                   body: Callable[..., Any], rows: list[Any], purpose: str,
                   shared: bool, parallelism: int | None) -> None:
    def step(row: Any) -> None:
        with task_manager.acquire(context, row.id, shared=shared,
                                  purpose=purpose,
                                  host=manager.host) as task:
            body(owner, task, context)

    def on_result(row: Any, _result: Any,
                  error: BaseException | None) -> None:
        label = base.node_label(row)
        if isinstance(error, exceptions.NodeLocked | exceptions.NodeNotFound):
            LOG.debug('Node %s skipped by periodic task "%s": %s', label,
                      purpose, error)
        elif error is not None and db_engine.is_outage(error):
            # Every other node would fail the same way: stop here and
            # let the task's back-off log it once.
            raise error
        elif error is not None:
            LOG.error('Node %s: periodic task "%s" failed: %s', label,
                      purpose, error,
                      exc_info=(type(error), error, error.__traceback__))

    manager.pool.fan_out(step, rows,
                         parallelism or CONF.conductor.periodic_max_workers,
                         on_result)


# Collection --------------------------------------------------------------

def _resolve_spacing(name: str, spacing: Any) -> float:
    """Seconds between runs; 0 (from an option only) means disabled."""
    if isinstance(spacing, str):
        group, _, option = spacing.rpartition('.')
        try:
            value = getattr(CONF[group], option) if group else CONF[option]
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError,
                AttributeError):
            raise exceptions.PeriodicTaskInvalid(
                task=name,
                reason=f'its spacing names the unknown option '
                       f'"{spacing}"') from None
        return max(0.0, float(value))
    if isinstance(spacing, bool) or not isinstance(spacing, int | float):
        raise exceptions.PeriodicTaskInvalid(
            task=name, reason=f'spacing must be a number of seconds or an '
                              f'option name, got {spacing!r}')
    if spacing <= 0:
        raise exceptions.PeriodicTaskInvalid(
            task=name, reason=f'spacing must be positive, got {spacing}')
    return float(spacing)


def _check_signature(name: str, func: Callable[..., Any],
                     args: tuple[Any, ...], expected: str) -> None:
    try:
        inspect.signature(func).bind(*args)
    except TypeError as exc:
        raise exceptions.PeriodicTaskInvalid(
            task=name, reason=f'it must accept {expected} ({exc})') from None


def _tasks_of(owner: Any, label: str, args: tuple[Any, ...],
              expected: str) -> Iterable[tuple[Callable[..., Any],
                                               PeriodicTask | None]]:
    """``(function, task or None when disabled)`` for each marked method
    of ``owner``."""
    for attr in sorted(dir(type(owner))):
        func = inspect.getattr_static(type(owner), attr, None)
        spec = getattr(func, _SPEC_ATTR, None)
        if not isinstance(spec, _Spec) or not callable(func):
            continue
        name = f'{label}.{attr}'
        bound = getattr(owner, attr)
        body = getattr(func, _BODY_ATTR, None)
        if body is not None:
            _check_signature(name, body, (owner, None, None),
                             '(self, task, context)')
        else:
            _check_signature(name, bound, args, expected)
        spacing = _resolve_spacing(name, spec.spacing)
        if not spec.enabled or spacing <= 0:
            yield func, None
            continue
        yield func, PeriodicTask(name, spacing, _runnable(
            name, spacing, bound, args,
            backoff_mod.Backoff(name, spacing, spec.backoff)))


def _runnable(name: str, spacing: float, bound: Callable[..., Any],
              args: tuple[Any, ...], streak: backoff_mod.Backoff
              ) -> Callable[[], Any]:
    timed = metrics.timed_periodic(name, spacing, lambda: bound(*args))

    def run() -> Any:
        # Failures end here, logged by the back-off: the periodic
        # worker would log each one with a traceback.
        if not streak.ready():
            return None
        try:
            result = timed()
        except Exception as exc:
            streak.failed(exc)
            return None
        streak.succeeded()
        return result
    run.__name__ = run.__qualname__ = name
    return futurist_periodics.periodic(spacing)(run)


def collect(manager: Conductor, others: Iterable[Any] = (),
            registry: driver_factory.DriverRegistry | None = None
            ) -> list[PeriodicTask]:
    """Every enabled periodic task of the manager, of ``others`` (called
    like the manager's: with a context) and of every loaded interface.

    An interface class enabled under several names contributes its
    tasks once.

    :raises PeriodicTaskInvalid: naming the task at fault.
    """
    context = podium_context.get_admin_context()
    tasks: list[PeriodicTask] = []
    for owner in (manager, *others):
        tasks.extend(task for _, task in _tasks_of(
            owner, type(owner).__name__, (context,), '(context)')
            if task is not None)
    seen: set[Callable[..., Any]] = set()
    registry = registry or driver_factory.get_registry()
    for kind, iface_name, iface in registry.all_interfaces():
        label = f'{kind}.{iface_name}.{type(iface).__name__}'
        for func, task in _tasks_of(iface, label, (manager, context),
                                    '(manager, context)'):
            if func in seen:
                continue
            seen.add(func)
            if task is not None:
                tasks.append(task)
    return tasks


def make_worker(tasks: Iterable[PeriodicTask], pool: pool_mod.WorkerPool
                ) -> futurist_periodics.PeriodicWorker:
    """A periodic worker running ``tasks`` on their slots of ``pool``.

    Its scheduling loop needs one thread of its own (``start`` blocks);
    every task run happens on the pool.
    """
    executor = futurist_periodics.ExistingExecutor(
        pool.periodic_executor(), shutdown=False)
    return futurist_periodics.PeriodicWorker(
        [(task.run, None, None) for task in tasks],
        executor_factory=executor, log=LOG.logger,
        schedule_strategy='last_started')
