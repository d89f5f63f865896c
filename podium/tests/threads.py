"""Thread pools for tests that can never hang the test run.

``with concurrent.futures.ThreadPoolExecutor(...)`` joins every worker on
the way out, failure or not, and its workers are non-daemon threads the
interpreter joins again at exit: one deadlocked worker hangs the test
past its timeout and then the whole stestr worker process. Use
:func:`executor` instead: its workers are daemon threads; leaving the
block after a failure cancels what has not started and joins nothing;
leaving it normally joins with a deadline and fails the test, naming
the threads, if any worker is still busy.
"""

import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

#: How long a normal exit waits for the workers to finish.
JOIN_TIMEOUT = 30.0

_STOP = object()


class DaemonExecutor(concurrent.futures.Executor):
    """A fixed set of daemon worker threads, started up front."""

    def __init__(self, workers: int, name: str = 'test-worker') -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._shutdown = False
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, name=f'{name}-{index}',
                             daemon=True)
            for index in range(workers)]
        for thread in self.threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any,
               **kwargs: Any) -> concurrent.futures.Future[Any]:
        with self._lock:
            if self._shutdown:
                raise RuntimeError('submit after shutdown')
            future: concurrent.futures.Future[Any] = (
                concurrent.futures.Future())
            self._queue.put((future, fn, args, kwargs))
            return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: B036 - handed to the caller
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *,
                 cancel_futures: bool = False) -> None:
        with self._lock:
            if not self._shutdown:
                self._shutdown = True
                if cancel_futures:
                    self._cancel_queued()
                for _ in self.threads:
                    self._queue.put(_STOP)
        if wait:
            self.join(JOIN_TIMEOUT)

    def _cancel_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                item[0].cancel()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` in all; fail naming the busy workers."""
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        busy = [thread.name for thread in self.threads if thread.is_alive()]
        if busy:
            raise AssertionError(
                f'workers still busy {timeout:g}s after the pool was shut '
                f'down (deadlocked or hung?): {busy}')


@contextlib.contextmanager
def executor(workers: int, join_timeout: float = JOIN_TIMEOUT,
             ) -> Iterator[DaemonExecutor]:
    """A :class:`DaemonExecutor` for a ``with`` block (see module doc)."""
    pool = DaemonExecutor(workers)
    try:
        yield pool
    except BaseException:
        # Never wait on workers that may be the reason for the failure.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=False)
    pool.join(join_timeout)
