"""The one event loop thread on which non-blocking BMC reads wait.

A read that waits for a BMC on a worker thread holds that thread for its
whole timeout, so the number of hung BMCs a power-sync cycle absorbs is
bounded by the worker budget. Reads that run as coroutines on this loop
cost a socket and a few KB while they wait, not a thread: thousands can
be in flight at once, each with its own deadline.

The loop runs on one dedicated daemon thread, started on first use and
kept for the life of the process, rather than on a worker of the
conductor's pool: the kept-alive connections belong to the loop, so it
must outlive each sync cycle, and a pool worker taken for ever would
shrink the shared budget by one and show as permanently busy in the
pool's metrics. The IPMI reactor thread is the same kind of thread. The
conductor's thread count grows by this one thread, whatever the number
of reads in flight.

The loop is uvloop's when uvloop is importable (it is not a dependency):
about a fifth less CPU per read in ``bench/aio_client.py``.
"""

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from oslo_log import log

from podium.drivers.modules import read_future

LOG = log.getLogger(__name__)

_T = TypeVar('_T')

#: The loop thread's name (thread-count tests and py-spy show it).
THREAD_NAME = 'podium-aio-reads'

#: Seconds between the loop's heartbeats, by which :meth:`LoopThread.lag`
#: sees how far behind the loop is.
BEAT = 0.05


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class LoopThread:
    """An asyncio loop on its own daemon thread, started on first use."""

    def __init__(self, name: str = THREAD_NAME) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pending_lock = threading.Lock()
        self._pending: list[tuple[Coroutine[Any, Any, Any],
                                  read_future.ReadFuture[Any]]] = []
        self._wake_scheduled = False
        #: When the next heartbeat is due, and how late the last ran.
        self._next_beat: float | None = None
        self._late = 0.0

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or not self.running:
                loop = _new_loop()
                ready = threading.Event()
                thread = threading.Thread(target=self._run,
                                          args=(loop, ready),
                                          name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, loop: asyncio.AbstractEventLoop,
             ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        self._next_beat = None
        loop.call_soon(ready.set)
        loop.call_soon(self._beat, loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: note how late this heartbeat ran, plan the next.
        """
        now = time.monotonic()
        if self._next_beat is not None:
            self._late = max(0.0, now - self._next_beat)
        self._next_beat = now + BEAT
        loop.call_later(BEAT, self._beat, loop)

    def lag(self) -> float:
        """Seconds the loop is behind its work: how late its last
        heartbeat ran, or how overdue the next one is (0 when the loop
        is not running). Callers that feed the loop (power sync's
        dispatcher) hold back new work while it lags, so that work
        already started is served before its deadlines."""
        next_beat = self._next_beat
        if next_beat is None or not self.running:
            return 0.0
        return max(self._late, time.monotonic() - next_beat)

    def submit(self, coro: Coroutine[Any, Any, _T]
               ) -> read_future.ReadFuture[_T]:
        """Run ``coro`` on the loop; cancelling the future cancels it.

        Like ``asyncio.run_coroutine_threadsafe``, but coroutines
        submitted while the loop has not yet taken the earlier ones wake
        it once, not once each: power sync submits thousands in a row,
        and a wake-up (a write to the loop's self-pipe) each cost more
        than the read itself. The future is a
        :class:`~.read_future.ReadFuture`, cheaper to make than a
        ``concurrent.futures.Future``.
        """
        loop = self._started()
        future: read_future.ReadFuture[_T] = read_future.ReadFuture()
        with self._pending_lock:
            self._pending.append((coro, future))
            wake, self._wake_scheduled = not self._wake_scheduled, True
        if wake:
            try:
                loop.call_soon_threadsafe(self._take_pending)
            except RuntimeError:  # closed meanwhile
                with self._pending_lock:
                    self._wake_scheduled = False
                coro.close()
                future.cancel()
        return future

    def _take_pending(self) -> None:
        """On the loop: start every submitted coroutine."""
        with self._pending_lock:
            pending, self._pending = self._pending, []
            self._wake_scheduled = False
        loop = asyncio.get_running_loop()
        for coro, future in pending:
            if future.cancelled():
                coro.close()
                continue
            future.attach(loop, loop.create_task(coro))

    def call_soon(self, func: Callable[[], Any]) -> None:
        """Run ``func`` on the loop thread, if the loop runs at all."""
        loop = self._loop
        if loop is not None and self.running:
            try:
                loop.call_soon_threadsafe(func)
            except RuntimeError:  # closed meanwhile
                pass

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (tests; the process's end needs nothing)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks()
                     if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop)
        except RuntimeError:
            return
        thread.join(timeout)
        if thread.is_alive():
            LOG.warning('The %s loop did not stop within %ss', self._name,
                        timeout)


#: The process-wide loop every non-blocking BMC read runs on.
LOOP = LoopThread()
