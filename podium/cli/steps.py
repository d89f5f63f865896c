"""Step generators: how a per-node action waits without holding a thread.

An action is written as a generator that makes blocking HTTP calls and
``yield``\\ s a number of seconds whenever it wants to wait (a retry
back-off, the pause between two polls). Its ``return`` value is the
outcome. The bulk runner (:mod:`podium.cli.bulk`) runs the steps of
many such generators on a bounded thread pool and keeps the waiting
ones in a timer heap, so a thousand nodes waiting for power on cost no
threads at all; :func:`run_sync` drives one generator in the calling
thread for single-node commands.
"""

import random
import time
from collections.abc import Callable, Collection, Generator
from typing import TypeVar

from podium.cli.errors import ApiError

T = TypeVar('T')

#: A unit of work: yields seconds to wait, returns its result.
Steps = Generator[float, None, T]

#: HTTP statuses the server uses for "locked" and "no free worker".
BUSY_STATUSES = (409, 503)
DEFAULT_RETRIES = 4


def backoff(attempt: int, base: float = 0.5, cap: float = 4.0) -> float:
    """Exponential back-off with jitter, so retries do not line up."""
    delay = min(cap, base * (2 ** attempt))
    return delay * random.uniform(0.8, 1.2)


def busy_retries(call: Callable[[], T], retries: int = DEFAULT_RETRIES,
                 statuses: Collection[int] = BUSY_STATUSES) -> Steps[T]:
    """Run ``call``, retrying on 409/503 with back-off, ``retries`` times.

    A 409 may also be permanent (a duplicate name); after the retries
    the last error is raised, as ironicclient does.
    """
    attempt = 0
    while True:
        try:
            return call()
        except ApiError as exc:
            if exc.status not in statuses or attempt >= retries:
                raise
        yield backoff(attempt)
        attempt += 1


def run_sync(steps: Steps[T]) -> T:
    """Drive one step generator to its result in this thread."""
    try:
        delay = next(steps)
        while True:
            time.sleep(delay)
            delay = steps.send(None)
    except StopIteration as stop:
        return stop.value
