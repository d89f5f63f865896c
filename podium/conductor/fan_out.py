"""Fanning per-item steps out to the worker pool, in budgeted lanes.

:meth:`~podium.conductor.pool.WorkerPool.fan_out` runs one list of items
``parallelism`` at a time. Power sync needs more: healthy BMCs read on
``sync_power_state_workers``, suspect BMCs probed at the same time on a
budget of their own, and a read that turns out slow moved off the
healthy budget so it stops holding up healthy reads. A :class:`Lane` is
one such budget: its items, how many of them run at once and how long
each may run. Every lane is dispatched as soon as it has room, whatever
the other lanes do; a step may move from its lane's count to another
lane's (``overflow``) once it has run ``demote_after`` seconds, while
that lane has room.
"""

import dataclasses
import math
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from oslo_log import log

from podium.common import exceptions

LOG = log.getLogger(__name__)

#: ``on_result(item, result, error)`` of a fan-out.
ResultCallback = Callable[[Any, Any, BaseException | None], None]

_END = object()

#: Seconds before a slow step whose overflow lane was full tries again.
DEMOTE_RETRY = 0.1


class StepTimeout(exceptions.BMCTimeout):
    """The pool stopped waiting for a step that outlived its deadline."""


class Workers(Protocol):
    """What a fan-out needs of the worker pool."""

    @property
    def closed(self) -> bool: ...

    def try_spawn_step(self, func: Callable[..., Any], *args: Any) -> Any:
        ...


@dataclasses.dataclass
class Lane:
    """Items sharing one parallelism budget in a fan-out."""

    items: Iterable[Any]
    parallelism: int
    #: Seconds after which a step is reported with :class:`StepTimeout`
    #: and no longer waited for (its worker stays taken until it returns).
    timeout: float | None = None
    #: Seconds after which a step stops counting against this lane and
    #: counts against lane ``overflow`` (an index), if that has room.
    demote_after: float | None = None
    overflow: int | None = None


class _LaneState:
    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.items: Iterator[Any] = iter(lane.items)
        self.parallelism = max(1, lane.parallelism)
        self.counted = 0
        self.done = False

    def has_room(self) -> bool:
        return not self.done and self.counted < self.parallelism


@dataclasses.dataclass
class _Step:
    item: Any
    start: float
    lane: int
    counted_in: int
    deadline: float
    demote_at: float


class FanOut:
    """One fan-out over lanes; see :meth:`WorkerPool.fan_out` for the
    contract (callbacks in the calling thread, one at a time)."""

    def __init__(self, pool: Workers, func: Callable[[Any], Any],
                 lanes: list[Lane], on_result: ResultCallback,
                 on_idle: Callable[[], None] | None,
                 idle_interval: float) -> None:
        self._pool = pool
        self._func = func
        self._lanes = [_LaneState(lane) for lane in lanes]
        self._on_result = on_result
        self._on_idle = on_idle
        self._idle_interval = idle_interval
        # Steps report here rather than through futures: one queue get
        # per result instead of waiting on every future in flight.
        self._done: queue.SimpleQueue[
            tuple[int, Any, BaseException | None]] = queue.SimpleQueue()
        self._in_flight: dict[int, _Step] = {}
        self._next_token = 0
        self._next_due = math.inf
        self._last_idle = time.monotonic()

    def run(self) -> None:
        try:
            while not self._pool.closed:
                self._collect(block=False)
                progressed = self._dispatch_ready()
                if all(lane.done for lane in self._lanes):
                    break
                if not progressed:
                    self._collect(block=True)
            while self._in_flight:
                self._collect(block=True)
        except BaseException:
            # A callback failed (the database went away, say): dispatch
            # nothing more, but do not leave steps behind that nobody
            # waits for; each is bounded by its timeout.
            self._drain()
            raise

    def _dispatch_ready(self) -> bool:
        """Start items of every lane with room; whether any started."""
        progressed = False
        for index, lane in enumerate(self._lanes):
            while lane.has_room() and not self._pool.closed:
                item = next(lane.items, _END)
                if item is _END:
                    lane.done = True
                    break
                self._dispatch(index, item)
                progressed = True
                self._collect(block=False)
        return progressed

    def _drain(self) -> None:
        """Wait for the steps in flight, reporting each result; a
        callback failing again is logged, not raised."""
        while self._in_flight:
            try:
                self._collect(block=True)
            except Exception:
                LOG.exception('Reporting a step of %r failed', self._func)

    def _dispatch(self, index: int, item: Any) -> None:
        """Start ``item`` on a shared worker, waiting for one to free up
        while steps of this fan-out hold workers; inline only as a last
        resort."""
        while True:
            token = self._next_token
            self._next_token += 1
            if self._pool.try_spawn_step(self._step, token,
                                         item) is not None:
                self._track(token, index, item)
                return
            if not self._in_flight or self._pool.closed:
                # Nothing of ours will free a worker: run it here rather
                # than wait on work we cannot see (no deadlock possible).
                self._step_inline(item)
                return
            # Our own steps fill the pool; one ending frees a worker.
            # Waiting beats running the step in the caller's thread, where
            # a hung BMC would stop the dispatching of every other item.
            self._collect(block=True)

    def _track(self, token: int, index: int, item: Any) -> None:
        lane = self._lanes[index]
        now = time.monotonic()
        timeout, demote = lane.lane.timeout, lane.lane.demote_after
        step = _Step(item, now, index, index,
                     math.inf if timeout is None else now + timeout,
                     math.inf if demote is None or lane.lane.overflow is None
                     else now + demote)
        self._in_flight[token] = step
        lane.counted += 1
        self._next_due = min(self._next_due, step.deadline, step.demote_at)

    def _step(self, token: int, item: Any) -> None:
        try:
            result = self._func(item)
        except BaseException as exc:  # reported to on_result
            self._done.put((token, None, exc))
        else:
            self._done.put((token, result, None))

    def _step_inline(self, item: Any) -> None:
        try:
            result = self._func(item)
        except Exception as exc:
            self._on_result(item, None, exc)
        else:
            self._on_result(item, result, None)

    def _wait_time(self) -> float:
        now = time.monotonic()
        wait = self._idle_interval - (now - self._last_idle)
        return max(0.0, min(wait, self._next_due - now))

    def _collect(self, block: bool) -> None:
        """Report finished steps; with ``block``, wait for at least one
        result, an overdue step or an idle tick."""
        while True:
            try:
                if block:
                    token, result, error = self._done.get(
                        timeout=self._wait_time())
                else:
                    token, result, error = self._done.get_nowait()
            except queue.Empty:
                self._check_due()
                self._tick()
                return
            step = self._in_flight.pop(token, None)
            if step is not None:  # else: reported overdue already
                self._lanes[step.counted_in].counted -= 1
                self._on_result(step.item, result, error)
                block = False
            self._tick()

    def _check_due(self) -> None:
        """Report steps past their timeout; move slow steps to their
        overflow lane while it has room."""
        now = time.monotonic()
        if now < self._next_due:
            return
        next_due = math.inf
        for token, step in list(self._in_flight.items()):
            if now >= step.deadline:
                del self._in_flight[token]
                self._lanes[step.counted_in].counted -= 1
                self._on_result(step.item, None, StepTimeout(
                    timeout=self._lanes[step.lane].lane.timeout,
                    reason='the conductor stopped waiting for it'))
                continue
            if now >= step.demote_at:
                self._demote(step)
            next_due = min(next_due, step.deadline, step.demote_at)
        self._next_due = next_due

    def _demote(self, step: _Step) -> None:
        overflow = self._lanes[step.lane].lane.overflow
        assert overflow is not None
        target = self._lanes[overflow]
        if target.counted >= target.parallelism:
            # No room: it keeps counting where it is; try again shortly.
            step.demote_at = time.monotonic() + DEMOTE_RETRY
            return
        self._lanes[step.counted_in].counted -= 1
        target.counted += 1
        step.counted_in = overflow
        step.demote_at = math.inf

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last_idle >= self._idle_interval:
            self._last_idle = now
            if self._on_idle is not None:
                self._on_idle()
