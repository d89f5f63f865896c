"""The one worker pool of a conductor process, and how work shares it.

Every piece of conductor work runs on one futurist
``DynamicThreadPoolExecutor`` of at most ``[conductor] workers_pool_size``
threads, as in Ironic: threads are started as the work grows and stopped
when it falls (on submissions, and at every :meth:`WorkerPool.maintain`,
which the conductor's heartbeat calls), so a busy minute does not leave
hundreds of idle threads behind. Nothing
is ever queued behind a busy pool: a submission either gets a worker now
or is refused (operator actions get ``NoFreeConductorWorker``; a
periodic task fanning out per-node steps waits for one of its own steps
to free a worker).

The pool is split three ways, by accounting only (any thread serves any
slot):

* **reserved** workers (``reserved_workers_pool_percentage``, at least
  one) that only operator actions may take, so periodic work on hung
  BMCs can never take the last worker a power action needs;
* one **periodic-run** slot per periodic task, so every task can start
  on schedule whatever the others do;
* the **shared** rest, taken first come first served by operator
  actions and by the per-node steps periodic tasks fan out.

A periodic task waits for its per-node steps. When the pool is full it
waits for one of its *own* steps to end (each is bounded by its timeout)
rather than run the next step in its own thread, where one hung BMC would
stop it from dispatching any other node; only when none of its steps
holds a worker does it run a step inline. Steps never wait for other
work, so a full pool slows a task down but can never deadlock it.
"""

import concurrent.futures
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import futurist
from oslo_log import log

from podium.common import exceptions, metrics
from podium.conductor import fan_out as fan_out_mod
from podium.conf import CONF

LOG = log.getLogger(__name__)

_T = TypeVar('_T')
_R = TypeVar('_R')

#: ``on_result(item, result, error)`` of :meth:`WorkerPool.fan_out`.
ResultCallback = fan_out_mod.ResultCallback
#: Reported for a step that outlived the fan-out's timeout.
StepTimeout = fan_out_mod.StepTimeout
#: One budget of :meth:`WorkerPool.fan_out_lanes`.
Lane = fan_out_mod.Lane


class _DynamicExecutor(futurist.DynamicThreadPoolExecutor):
    """futurist's dynamic pool with its shrinking fixed.

    ``DynamicThreadPoolExecutor._drop_thread`` (futurist 3.x) keeps only
    the workers *after* the idle one it stops and forgets the busy ones
    before it: they run on untracked, so the pool starts new threads
    beyond ``max_workers`` and ``shutdown`` never stops the lost ones.
    This keeps every other worker. It also shrinks only in
    :meth:`maintain`: on a submission during a burst, a worker that has
    just taken an item still looks idle, and stopping it then would only
    start another thread next to it.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self._shrinking = False

    def maintain(self) -> None:
        """Stop idle workers down to what the work needs.

        Unlike futurist's, this does not join the stopped workers: it runs
        on a worker itself (the heartbeat), which may be one of them, and
        a worker that took an item just as it was stopped finishes that
        item first. Stopped workers are daemons and end on their own.
        """
        self._shrinking = True
        try:
            while not self._shutdown:
                with self._shutdown_lock:
                    if not self._maybe_spin_up():
                        break
        finally:
            self._shrinking = False
        with self._shutdown_lock:
            self._dead_workers = []

    def _drop_thread(self) -> bool:
        if not self._shrinking:
            return False
        for index, worker in enumerate(self._workers):
            if worker.idle:
                worker.stop()
                self._workers = (self._workers[:index]
                                 + self._workers[index + 1:])
                self._dead_workers.append(worker)
                return True
        LOG.debug('No idle worker thread to stop in %r', self)
        return False


def reserved_workers(size: int, percentage: int) -> int:
    """Workers kept for operator actions: ``percentage`` of ``size``,
    rounded up, at least one."""
    return max(1, math.ceil(size * percentage / 100))


class WorkerPool:
    """A bounded thread pool with slots for actions and periodic work."""

    def __init__(self, size: int, reserved: int) -> None:
        if not 0 < reserved < size:
            raise exceptions.ConfigInvalid(
                reason=f'the conductor pool of {size} workers cannot keep '
                       f'{reserved} of them for operator actions')
        self.size = size
        self.reserved = reserved
        self.periodic_slots = 0
        self._executor = _DynamicExecutor(max_workers=size)
        self._cond = threading.Condition()
        self._actions = 0
        self._steps = 0
        self._runs = 0
        self._closed = False

    @classmethod
    def from_config(cls) -> 'WorkerPool':
        size = CONF.conductor.workers_pool_size
        return cls(size, reserved_workers(
            size, CONF.conductor.reserved_workers_pool_percentage))

    # Accounting ----------------------------------------------------------

    @property
    def shared_slots(self) -> int:
        return self.size - self.reserved - self.periodic_slots

    def reserve_periodic_slots(self, count: int) -> None:
        """Dedicate one slot to each of ``count`` periodic tasks.

        :raises ConfigInvalid: when the pool minus its reserved workers
            cannot run every periodic task at once.
        """
        if self.size - self.reserved < count:
            raise exceptions.ConfigInvalid(
                reason=f'[conductor] workers_pool_size={self.size} keeps '
                       f'{self.reserved} worker(s) for operator actions '
                       f'and leaves {self.size - self.reserved} for '
                       f'periodic work, but {count} periodic tasks must '
                       f'be able to run at once; raise workers_pool_size '
                       f'or lower reserved_workers_pool_percentage')
        with self._cond:
            self.periodic_slots = count

    @property
    def busy(self) -> int:
        """Workers taken right now, by any kind of work."""
        with self._cond:
            return self._actions + self._steps + self._runs

    def busy_by_kind(self) -> dict[str, int]:
        """Workers taken right now, by kind of work."""
        with self._cond:
            return {'actions': self._actions, 'steps': self._steps,
                    'periodic_runs': self._runs}

    @property
    def threads(self) -> int:
        """Worker threads alive in the executor now."""
        return int(self._executor.num_workers)

    def maintain(self) -> None:
        """Stop idle threads beyond what the current work needs and reap
        the stopped ones (each stops within a second of going idle)."""
        if not self._closed:
            self._executor.maintain()

    @property
    def closed(self) -> bool:
        return self._closed

    def _submit(self, counter: str, func: Callable[..., _R], *args: Any,
                **kwargs: Any) -> 'concurrent.futures.Future[_R]':
        """Run ``func`` on a worker; the caller has already counted it."""

        def run() -> _R:
            try:
                return func(*args, **kwargs)
            finally:
                with self._cond:
                    setattr(self, counter, getattr(self, counter) - 1)
                    self._cond.notify_all()

        try:
            return self._executor.submit(run)
        except BaseException:
            with self._cond:
                setattr(self, counter, getattr(self, counter) - 1)
                self._cond.notify_all()
            raise

    # Submissions ---------------------------------------------------------

    def spawn(self, func: Callable[..., _R], *args: Any,
              **kwargs: Any) -> 'concurrent.futures.Future[_R]':
        """Run an operator action on a free worker, now.

        :raises NoFreeConductorWorker: every worker an action may use is
            taken, or the conductor is stopping.
        """
        with self._cond:
            if self._closed:
                raise exceptions.NoFreeConductorWorker(
                    'The conductor is shutting down and takes no new '
                    'actions.')
            if self._actions + self._steps >= self.size - self.periodic_slots:
                metrics.POOL_REFUSED.labels('action').inc()
                raise exceptions.NoFreeConductorWorker()
            self._actions += 1
        return self._submit('_actions', func, *args, **kwargs)

    def try_spawn_step(self, func: Callable[..., _R], *args: Any,
                       **kwargs: Any
                       ) -> 'concurrent.futures.Future[_R] | None':
        """Run one step of periodic work on a shared worker, if one is
        free; None (run it yourself, or skip it) otherwise."""
        with self._cond:
            if self._closed:
                return None
            actions_in_shared = max(0, self._actions - self.reserved)
            if self._steps + actions_in_shared >= self.shared_slots:
                return None
            self._steps += 1
        return self._submit('_steps', func, *args, **kwargs)

    def _spawn_periodic_run(self, func: Callable[..., _R], *args: Any,
                            **kwargs: Any) -> 'concurrent.futures.Future[_R]':
        with self._cond:
            if self._closed or self._runs >= self.periodic_slots:
                if not self._closed:
                    metrics.POOL_REFUSED.labels('periodic').inc()
                raise futurist.RejectedSubmission(
                    'no periodic slot free' if not self._closed
                    else 'the conductor is shutting down')
            self._runs += 1
        return self._submit('_runs', func, *args, **kwargs)

    def periodic_executor(self) -> concurrent.futures.Executor:
        """An executor for ``futurist.periodics.PeriodicWorker`` that runs
        each periodic task on its dedicated slot of this pool."""
        return _PeriodicRunExecutor(self)

    # Fan-out -------------------------------------------------------------

    def fan_out(self, func: Callable[[_T], Any], items: Iterable[_T],
                parallelism: int, on_result: ResultCallback,
                timeout: float | None = None,
                on_idle: Callable[[], None] | None = None,
                idle_interval: float = 1.0) -> None:
        """Call ``func(item)`` for every item, ``parallelism`` at a time.

        Items go to shared workers; when none is free the caller waits for
        one of its own steps to end, and runs an item inline only when
        none of its steps holds a worker. ``on_result(item, result, error)``
        is called in the calling thread, one result at a time, so it
        needs no locking. A step still running ``timeout`` seconds after
        it started is reported with :class:`StepTimeout` and no longer
        waited for (its worker stays taken until it returns).
        ``on_idle`` is called at least every ``idle_interval`` seconds
        while the caller waits. Stops dispatching once the pool closes.
        When ``on_result`` or ``on_idle`` raises, nothing more is
        dispatched; the steps in flight are waited for (up to their
        timeout) and reported, then the error is raised.
        """
        self.fan_out_lanes(func, [Lane(items, parallelism, timeout)],
                           on_result, on_idle, idle_interval)

    def fan_out_lanes(self, func: Callable[[Any], Any],
                      lanes: list['fan_out_mod.Lane'],
                      on_result: ResultCallback,
                      on_idle: Callable[[], None] | None = None,
                      idle_interval: float = 1.0) -> None:
        """:meth:`fan_out` over several lanes at once, each with its own
        parallelism and timeout (see :mod:`podium.conductor.fan_out`);
        a lane with room is dispatched whatever the others do."""
        fan_out_mod.FanOut(self, func, lanes, on_result, on_idle,
                           idle_interval).run()

    # Shutdown ------------------------------------------------------------

    def close(self) -> None:
        """Refuse every new submission; running work goes on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None) -> bool:
        """Wait until no work runs; False when ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._actions + self._steps + self._runs:
                remaining = (None if deadline is None
                             else deadline - time.monotonic())
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def shutdown(self) -> None:
        """Close the pool and let its threads end once idle."""
        self.close()
        self._executor.shutdown(wait=False)


class _PeriodicRunExecutor(concurrent.futures.Executor):
    """Adapts :class:`WorkerPool` to what ``PeriodicWorker`` submits to."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool

    def submit(self, fn: Callable[..., _R], /, *args: Any,
               **kwargs: Any) -> 'concurrent.futures.Future[_R]':
        return self._pool._spawn_periodic_run(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *,
                 cancel_futures: bool = False) -> None:
        """The pool outlives the periodic worker; nothing to do."""
