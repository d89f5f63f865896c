"""Requests that wait on a BMC, kept off the API's request threads.

Getting or setting a boot device, listing supported boot devices and
validating a node wait for the node's conductor, which waits for the
BMC on its worker pool for at most the action's deadline. Run in the
request thread pool (40 threads), sixty such requests against hung BMCs
would take every thread and stop the whole API, ``GET /v1/nodes``
included. These requests therefore wait in threads of their own, at
most ``[api] max_bmc_requests`` at once; one more is refused at once
with 503 rather than queued, as a full conductor pool refuses it.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from podium.common import exceptions

_R = TypeVar('_R')


class BMCRequestLimiter:
    """Admission and threads for requests that wait on a BMC."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # anyio limiters belong to the running event loop: made on first
        # use, inside it.
        self._admission: anyio.CapacityLimiter | None = None
        self._threads: anyio.CapacityLimiter | None = None

    async def run(self, func: Callable[..., _R], *args: Any,
                  **kwargs: Any) -> _R:
        """``func(*args, **kwargs)`` in a BMC-request thread.

        :raises NoFreeConductorWorker: ``capacity`` requests are waiting.
        """
        if self._admission is None or self._threads is None:
            self._admission = anyio.CapacityLimiter(self.capacity)
            self._threads = anyio.CapacityLimiter(self.capacity)
        admission = self._admission
        try:
            admission.acquire_nowait()
        except anyio.WouldBlock:
            raise exceptions.NoFreeConductorWorker(
                f'{self.capacity} requests are already waiting on BMCs; '
                f'try again later.') from None
        try:
            return await anyio.to_thread.run_sync(
                functools.partial(func, *args, **kwargs),
                limiter=self._threads)
        finally:
            admission.release()
