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
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from oslo_log import log

LOG = log.getLogger(__name__)

_T = TypeVar('_T')

#: The loop thread's name (thread-count tests and py-spy show it).
THREAD_NAME = 'podium-aio-reads'


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

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop,
             ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def submit(self, coro: Coroutine[Any, Any, _T]
               ) -> concurrent.futures.Future[_T]:
        """Run ``coro`` on the loop; cancelling the future cancels it."""
        return asyncio.run_coroutine_threadsafe(coro, self._started())

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
