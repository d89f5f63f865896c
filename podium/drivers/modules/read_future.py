"""The outcome of one coroutine on the read loop, for another thread.

``concurrent.futures.Future`` builds a ``threading.Condition`` (a
Python-level object over an ``RLock``) for every future, so that any
thread can block on it. Power sync starts thousands of non-blocking
reads a cycle and never blocks on one: it reads each outcome in a done
callback. Building the condition was about 7 % of the conductor's CPU
in a steady 4,000-node async cycle (py-spy). :class:`ReadFuture` offers
the part of the ``concurrent.futures.Future`` interface the dispatcher
and the tests use (``add_done_callback``, ``cancel``, ``cancelled``,
``done``, ``exception``, ``result``), with one plain lock, and an event
made only for a caller that does wait.

Cancelling a future whose coroutine has started cancels its task on the
loop; one not yet started is never started.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from oslo_log import log

LOG = log.getLogger(__name__)

_T = TypeVar('_T')

_PENDING, _CANCELLED, _FINISHED = 0, 1, 2


class ReadFuture(Generic[_T]):
    """A coroutine's outcome (module doc); thread-safe."""

    __slots__ = ('_lock', '_state', '_result', '_error', '_callbacks',
                 '_waiter', '_task', '_loop')

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _PENDING
        self._result: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[ReadFuture[_T]], Any]] = []
        self._waiter: threading.Event | None = None
        #: The task running the coroutine once the loop started it.
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # The loop's side.

    def attach(self, loop: asyncio.AbstractEventLoop,
               task: asyncio.Task[Any]) -> bool:
        """On the loop: the coroutine runs as ``task``; False (and the
        task cancelled) when the future was cancelled first."""
        with self._lock:
            if self._state == _CANCELLED:
                cancelled = True
            else:
                cancelled = False
                self._task, self._loop = task, loop
        if cancelled:
            task.cancel()
            return False
        task.add_done_callback(self._task_done)
        return True

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self.cancel()
            return
        error = task.exception()
        if error is not None:
            self._settle(None, error)
        else:
            self._settle(task.result(), None)

    def _settle(self, result: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._state != _PENDING:
                return  # cancelled by its caller meanwhile
            self._state = _FINISHED
            self._result, self._error = result, error
            self._task = None
        self._finish()

    def _finish(self) -> None:
        """Run the callbacks, then wake a waiter, which so sees what
        they did (the state is final already)."""
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._run(callback)
        with self._lock:
            waiter = self._waiter
        if waiter is not None:
            waiter.set()

    def _run(self, callback: Callable[[ReadFuture[_T]], Any]) -> None:
        try:
            callback(self)
        except Exception:
            LOG.exception('A callback of a read future raised')

    # The caller's side.

    def add_done_callback(self,
                          fn: Callable[[ReadFuture[_T]], Any]) -> None:
        """Call ``fn(self)`` once done (now, if it is)."""
        with self._lock:
            if self._state == _PENDING:
                self._callbacks.append(fn)
                return
        self._run(fn)

    def cancel(self) -> bool:
        """Cancel it (and its task); False when it already finished."""
        with self._lock:
            if self._state == _FINISHED:
                return False
            if self._state == _CANCELLED:
                return True
            self._state = _CANCELLED
            task, loop, self._task = self._task, self._loop, None
        if task is not None and loop is not None and not task.done():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop is closed: nothing runs
                pass
        self._finish()
        return True

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def done(self) -> bool:
        return self._state != _PENDING

    def _wait(self, timeout: float | None) -> None:
        with self._lock:
            if self._state != _PENDING:
                return
            if self._waiter is None:
                self._waiter = threading.Event()
            waiter = self._waiter
        if not waiter.wait(timeout):
            raise concurrent.futures.TimeoutError()

    def exception(self, timeout: float | None = None
                  ) -> BaseException | None:
        """The coroutine's exception (None if it returned).

        :raises concurrent.futures.CancelledError: it was cancelled.
        :raises concurrent.futures.TimeoutError: not done in time.
        """
        self._wait(timeout)
        if self._state == _CANCELLED:
            raise concurrent.futures.CancelledError()
        return self._error

    def result(self, timeout: float | None = None) -> _T:
        """The coroutine's result; raises what it raised (and what
        :meth:`exception` raises)."""
        error = self.exception(timeout)
        if error is not None:
            raise error
        result: _T = self._result
        return result
