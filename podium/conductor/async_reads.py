"""Power sync's reads that no thread waits for.

With ``[conductor] power_read_mode = async``, the read units of a cycle
(:class:`~podium.conductor.sync_plan.Unit`) whose power interface offers
``start_power_read`` are started on the drivers' read loop
(:mod:`podium.drivers.modules.aio_loop`) instead of on the worker pool.
A read in flight costs a socket, not a thread, so a cycle absorbs any
number of hung BMCs: each read ends at its own deadline (the read
timeout, or a suspect BMC's short probe timeout) and the healthy nodes'
reads never wait behind them.

:class:`Dispatcher` keeps what the threaded path keeps:

- each BMC's request budget (``bmc_max_concurrent_requests``, one for a
  suspect): a unit starts once its BMC has a free slot
  (:meth:`bmc_health.Registry.try_take`), waiting no longer than its
  timeout, after which it fails with the same ``BudgetExhausted`` error;
- a safety net: a read whose driver ignores its deadline is reported as
  timed out ``grace`` seconds after it and no longer waited for;
- results reach the caller's callback in the caller's thread, one at a
  time, with the seconds the read took (for the BMC health records and
  metrics), as the pool's fan-out delivers them.

A cycle's reads do not all start at once: at most ``window`` are in
their busy part at a time (``[conductor] async_reads_in_flight``).
Starting a read costs CPU (a connection opened or taken, a request
written), and so does its answer (read, parsed, reported); waiting in
between costs none. With ten thousand reads started together the loop
could not even write their requests before their deadlines (every read
of a 10,000-node cycle ended at its deadline, almost none reaching a
BMC); and with reads let go as soon as their requests were written,
thousands of answers came back together and waited for the loop past
their deadlines. So a read holds a place in the window until it ends, or
until ``settle_sent`` seconds (:data:`SETTLE_SENT`) after its driver
says its request is on its way
(:func:`podium.drivers.base.request_sent`), or ``settle`` seconds
(:data:`SETTLE`) after it got its place if the driver never says so (a
BMC that accepts no connection). A hung BMC thus holds a place for a
fraction of a second, and the number of reads merely waiting stays
unbounded. (Freeing places only at the BMC probe timeout instead, 1,000
probes of hung BMCs held a 512-read window for two timeouts before any
healthy read started.) A read's timeout runs from the moment it gets its
place, as a threaded read's runs from the moment a worker takes it. And
no read gets a place while the loop lags more than ``max_lag`` behind
(its CPU share is short: the machine is busy), so that the reads it has
are served before their deadlines rather than all failing together.

Nodes the driver declines (``start_power_read`` returns None, or leaves
a node of a one-node read out) are handed back for the threaded path,
which reads them and reports their errors as before.
"""

import collections
import dataclasses
import functools
import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from oslo_log import log

from podium.conductor import bmc_health, fan_out, sync_plan

LOG = log.getLogger(__name__)

#: Seconds after which a read gives up its place in the window even if
#: its driver never said its request was sent (a BMC that accepts no
#: connection, a driver that does not tell; module doc).
SETTLE = 1.0

#: Seconds a read whose request is sent keeps its place, waiting for
#: the answer, before it counts as merely waiting (module doc).
SETTLE_SENT = 0.5

#: Seconds between looks at the loop's lag while reads are held back.
LAG_POLL = 0.02

#: ``on_result(unit, result, error, seconds)`` of a dispatcher.
ResultCallback = Callable[
    [sync_plan.Unit, dict[int, Any] | None, BaseException | None, float],
    None]


@dataclasses.dataclass(eq=False)
class _Read:
    unit: sync_plan.Unit
    queued: float
    started: float | None = None
    future: Any = None
    #: Reported (or about to be): nothing more happens to it.
    done: bool = False
    #: Started and past its timeout: the safety net's grace runs.
    overdue: bool = False
    #: Holds a place in the window (admitted, neither ended nor settled).
    placed: bool = False
    #: When it gives its place up if still holding it.
    settle_at: float = 0.0


class Dispatcher:
    """The non-blocking reads of one sync cycle (module doc)."""

    def __init__(self, health: bmc_health.Registry, grace: float,
                 observed: Mapping[int, dict[str, Any]] | None = None,
                 window: int | None = None, settle: float = SETTLE,
                 settle_sent: float = SETTLE_SENT,
                 lag: Callable[[], float] | None = None,
                 max_lag: float = 0.1) -> None:
        self._health = health
        self._grace = grace
        #: Reads starting at once at most (None: no limit).
        self._window = window
        #: Seconds after which a waiting read gives up its place.
        self._settle = settle
        self._settle_sent = settle_sent
        #: How far behind the loop the reads run on is, and how far
        #: behind it may be for more reads to start.
        self._lag = lag
        self._max_lag = max_lag
        #: Reads not yet admitted into the window, in order.
        self._queued: collections.deque[_Read] = collections.deque()
        #: Reads holding a place in the window.
        self._placed = 0
        #: (settle time, sequence, read) of the reads holding a place.
        self._settling: list[tuple[float, int, _Read]] = []
        #: Where reads put the settings they see, by node id (nodes
        #: with intended settings; :mod:`.drift`).
        self._observed: Mapping[int, dict[str, Any]] = observed or {}
        self._lock = threading.Lock()
        #: Per thread: reads to start once the current start returns.
        self._local = threading.local()
        #: Reads waiting for their BMC's budget, by endpoint, in order.
        self._waiting: dict[str, list[_Read]] = {}
        #: (deadline, sequence, read) of every read not yet reported.
        self._deadlines: list[tuple[float, int, _Read]] = []
        self._sequence = itertools.count()
        self._events: queue.SimpleQueue[
            tuple[_Read, dict[int, Any] | None, BaseException | None,
                  float]] = queue.SimpleQueue()
        self._outstanding = 0
        #: Units handed back for the threaded path.
        self.declined: list[sync_plan.Unit] = []

    @property
    def outstanding(self) -> int:
        """Reads started or waiting, not yet reported."""
        return self._outstanding

    def add(self, unit: sync_plan.Unit) -> None:
        """Queue ``unit``; start it now if the window has room."""
        self._outstanding += 1
        self._queued.append(_Read(unit, time.monotonic()))
        self._admit()

    def _admit(self) -> None:
        """Give the queued reads the window's free places: each starts
        now if its BMC's budget allows, else waits for its BMC. Runs in
        the caller's thread only (add, run)."""
        if not self._queued:
            return
        oldest = self._queued[0]
        if (self._lag is not None and self._lag() > self._max_lag
                and time.monotonic() - oldest.queued < oldest.unit.timeout):
            # The loop is behind: let it serve what it has. Not for
            # longer than a read's timeout, though: a loop stuck for
            # good would otherwise hold the cycle for ever, where now
            # its reads fail at their deadlines.
            return
        to_launch: list[_Read] = []
        with self._lock:
            while self._queued and (self._window is None or
                                    self._placed < self._window):
                read = self._queued.popleft()
                now = time.monotonic()
                read.queued = now  # its timeout runs from here
                read.placed = True
                self._placed += 1
                sequence = next(self._sequence)
                heapq.heappush(self._deadlines, (
                    now + read.unit.timeout, sequence, read))
                read.settle_at = now + self._settle
                heapq.heappush(self._settling, (
                    read.settle_at, sequence, read))
                endpoint = read.unit.endpoint
                if endpoint is not None and (
                        self._waiting.get(endpoint) or
                        not self._health.try_take(
                            endpoint, read.unit.rows[0].driver)):
                    self._waiting.setdefault(endpoint, []).append(read)
                    continue
                to_launch.append(read)
        for read in to_launch:
            self._launch(read)

    def _sent(self, read: _Read) -> None:
        """``read``'s request is on its way: it keeps its place for
        ``settle_sent`` seconds more, then only waits (called by the
        driver, on its loop's thread)."""
        with self._lock:
            if read.placed:
                read.settle_at = time.monotonic() + self._settle_sent
                heapq.heappush(self._settling, (
                    read.settle_at, next(self._sequence), read))

    def _unplace(self, read: _Read) -> None:
        """``read`` gives up its place. Called with the lock held."""
        if read.placed:
            read.placed = False
            self._placed -= 1

    def _launch(self, read: _Read) -> None:
        """Start ``read``, and the reads that get a BMC slot because a
        read ended while starting (declined, or answered at once), one
        after the other rather than nested: thousands of nodes behind
        one BMC must not grow the stack."""
        pending: list[_Read] | None = getattr(self._local, 'pending', None)
        if pending is not None:
            pending.append(read)  # the outer _launch of this thread will
            return
        pending = self._local.pending = [read]
        try:
            while pending:
                self._start(pending.pop(0))
        finally:
            self._local.pending = None

    def _start(self, read: _Read) -> None:
        """Hand ``read`` to its driver (its budget slot is taken)."""
        unit = read.unit
        now = time.monotonic()
        # What is left of the timeout after waiting for the budget, as
        # the threaded path gives its driver call.
        timeout = sync_plan.remaining(unit.timeout, now - read.queued)
        read.started = now
        tasks = sync_plan.read_tasks(unit.rows, timeout, self._observed)
        sent = functools.partial(self._sent, read)
        for task in tasks:
            task.sent = sent
        try:
            future = unit.power.start_power_read(tasks)
        except Exception as exc:
            self._finish(read, None, exc)
            return
        if future is None:
            self._finish(read, None, None)
            return
        read.future = future
        future.add_done_callback(lambda f: self._completed(read, f))

    def _completed(self, read: _Read, future: Any) -> None:
        """A driver's future is done (on the loop thread, usually)."""
        if future.cancelled():
            return  # reported by the safety net, its slot given back
        error = future.exception()
        self._finish(read, None if error is not None else future.result(),
                     error)

    def _finish(self, read: _Read, result: dict[int, Any] | None,
                error: BaseException | None) -> None:
        """Release the BMC's slot, start the next read waiting for it,
        and queue the outcome for the caller's thread."""
        seconds = time.monotonic() - (read.started or read.queued)
        with self._lock:
            if read.done:
                return
            read.done = True
            self._unplace(read)
            successor = self._release(read.unit.endpoint)
        self._events.put((read, result, error, seconds))
        if successor is not None:
            self._launch(successor)

    def _release(self, endpoint: str | None) -> _Read | None:
        """Give back a slot of ``endpoint``; the read waiting for it
        that got it, to start. Called with the lock held."""
        if endpoint is None:
            return None
        self._health.give(endpoint)
        waiting = self._waiting.get(endpoint)
        successor = None
        while waiting:
            candidate = waiting.pop(0)
            if candidate.done:
                continue
            if self._health.try_take(endpoint,
                                     candidate.unit.rows[0].driver):
                successor = candidate
            else:
                waiting.insert(0, candidate)
            break
        if not waiting:
            self._waiting.pop(endpoint, None)
        return successor

    def run(self, on_result: ResultCallback,
            on_idle: Callable[[], None] | None = None,
            idle_interval: float = 1.0, block: bool = True) -> None:
        """Report outcomes in this thread until every read is reported
        (``block``) or none is ready (not ``block``)."""
        last_idle = time.monotonic()
        while self._outstanding:
            now = time.monotonic()
            with self._lock:
                due = self._deadlines[0][0] if self._deadlines else now + 1
                if self._settling:
                    due = min(due, self._settling[0][0])
                if self._queued:  # held back by the loop's lag, maybe
                    due = min(due, now + LAG_POLL)
            wait = max(0.0, min(due - now,
                                idle_interval - (now - last_idle)))
            try:
                if block:
                    event = self._events.get(timeout=wait)
                else:
                    event = self._events.get_nowait()
            except queue.Empty:
                event = None
            if event is not None:
                self._report(event, on_result)
            self._expire(on_result)
            self._admit()
            if time.monotonic() - last_idle >= idle_interval:
                last_idle = time.monotonic()
                self._retry_waiting()
                if on_idle is not None:
                    on_idle()
            if event is None and not block:
                return

    def _retry_waiting(self) -> None:
        """Start waiting reads whose BMC got a slot back from outside
        this dispatcher (a threaded read of the same BMC, which releases
        its slot without telling us)."""
        started: list[_Read] = []
        with self._lock:
            for endpoint, waiting in list(self._waiting.items()):
                while waiting and (waiting[0].done or self._health.try_take(
                        endpoint, waiting[0].unit.rows[0].driver)):
                    read = waiting.pop(0)
                    if read.done:
                        continue
                    started.append(read)
                if not waiting:
                    del self._waiting[endpoint]
        for read in started:
            self._launch(read)

    def _report(self, event: tuple[_Read, dict[int, Any] | None,
                                   BaseException | None, float],
                on_result: ResultCallback) -> None:
        read, result, error, seconds = event
        self._outstanding -= 1
        unit = read.unit
        if error is None and (result is None or (
                len(unit.rows) == 1 and unit.rows[0].id not in result)):
            self.declined.append(unit)  # the threaded path reads it
            return
        on_result(unit, result, error, seconds)

    def _expire(self, on_result: ResultCallback) -> None:
        """Fail reads past their deadline: one still waiting for its
        BMC's budget at its timeout with ``BudgetExhausted`` (as the
        threaded path's wait), one started ``grace`` seconds later with
        ``StepTimeout`` (the pool's safety net)."""
        now = time.monotonic()
        expired: list[_Read] = []
        successors: list[_Read] = []
        with self._lock:
            while self._settling and self._settling[0][0] <= now:
                at, _, read = heapq.heappop(self._settling)
                if at == read.settle_at:  # not moved since
                    self._unplace(read)
            while self._deadlines and self._deadlines[0][0] <= now:
                _, _, read = heapq.heappop(self._deadlines)
                if read.done:
                    continue
                if read.started is not None and not read.overdue:
                    read.overdue = True
                    heapq.heappush(self._deadlines, (
                        read.queued + read.unit.timeout + self._grace,
                        next(self._sequence), read))
                    continue
                read.done = True
                self._unplace(read)
                expired.append(read)
                if read.started is not None:
                    successor = self._release(read.unit.endpoint)
                    if successor is not None:
                        successors.append(successor)
        for read in expired:
            unit = read.unit
            error: BaseException
            if read.started is None:
                error = bmc_health.BudgetExhausted(
                    timeout=f'{unit.timeout:g}',
                    reason='every request slot of the BMC stayed taken '
                           '([conductor] bmc_max_concurrent_requests)')
            else:
                if read.future is not None:
                    read.future.cancel()
                error = fan_out.StepTimeout(
                    timeout=unit.timeout,
                    reason='the conductor stopped waiting for it')
            self._outstanding -= 1
            on_result(unit, None, error,
                      now - (read.started or read.queued))
        for successor in successors:
            self._launch(successor)
