"""A per-thread deadline bounding every BMC call a driver makes.

A driver call receives ``task.timeout``: the seconds it may take in all,
however many requests, retries and waits it needs. Passing a shrinking
timeout through every layer (sushy, requests, pyghmi) is not possible, so
the driver opens a :func:`bounded` block and the low layers ask
:func:`remaining` how long they may still wait. Deadlines nest: an inner
block never extends an outer one.

When the time is up, :func:`check` raises :class:`DeadlineExceeded`, a
:class:`~podium.common.exceptions.BMCTimeout` that names the budget the
caller gave, so the error a user sees says "did not answer within N
seconds" whatever layer noticed it.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from podium.common import exceptions

_local = threading.local()


class DeadlineExceeded(exceptions.BMCTimeout):
    """The call's time budget ran out (raised by :func:`check`)."""


def _stack() -> list[tuple[float, float]]:
    try:
        return _local.stack
    except AttributeError:
        _local.stack = []
        return _local.stack


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Run the block with at most ``seconds`` left (nesting keeps the min).
    """
    stack = _stack()
    at = time.monotonic() + max(seconds, 0.0)
    budget = seconds
    if stack and stack[-1][0] <= at:
        at, budget = stack[-1]
    stack.append((at, budget))
    try:
        yield
    finally:
        stack.pop()


@contextlib.contextmanager
def lifted() -> Iterator[None]:
    """Run the block outside every deadline (cleanup that must finish)."""
    saved = _stack()
    _local.stack = []
    try:
        yield
    finally:
        _local.stack = saved


def remaining() -> float | None:
    """Seconds left in the innermost block, None outside any block."""
    stack = _stack()
    if not stack:
        return None
    return stack[-1][0] - time.monotonic()


def budget() -> float | None:
    """The seconds the innermost block was given (for messages)."""
    stack = _stack()
    return stack[-1][1] if stack else None


def check(reason: str) -> float | None:
    """Return the seconds left, or raise when none are.

    :raises DeadlineExceeded: naming the budget and ``reason``.
    """
    left = remaining()
    if left is not None and left <= 0:
        raise exceeded(reason)
    return left


def exceeded(reason: str) -> DeadlineExceeded:
    """The error saying the innermost block's budget ran out."""
    return DeadlineExceeded(timeout=_format(budget()), reason=reason)


def cap(seconds: float) -> float:
    """``seconds``, shortened to what is left of the deadline."""
    left = remaining()
    if left is None:
        return seconds
    return max(min(seconds, left), 0.0)


def _format(seconds: float | None) -> str:
    return 'unknown' if seconds is None else f'{seconds:g}'


def wait_for_state(task: Any, read: Callable[[], str], expected: str,
                   wait: float, interval: float, after: str,
                   label: str | None = None) -> None:
    """Poll ``read()`` until it returns ``expected``, for at most ``wait``
    seconds (and never past the current deadline).

    :param after: what the BMC accepted, for the error message.
    :param label: how the message names ``expected`` (default: itself).
    :raises PowerStateFailure: ``expected`` was not seen in time.
    """
    until = time.monotonic() + cap(wait)
    while True:
        current = read()
        if current == expected:
            return
        left = until - time.monotonic()
        if left <= 0:
            raise exceptions.PowerStateFailure(
                message=f'Node {task.node.name or task.node.uuid}: the BMC '
                        f'accepted {after} but the node did not reach '
                        f'{label or expected} within {wait:g} seconds '
                        f'(last seen: {current}).')
        time.sleep(min(interval, left))
