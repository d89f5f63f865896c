"""Retries on busy answers and the synchronous step driver."""

from typing import TypeVar

import fixtures

from podium.cli import steps
from podium.cli.errors import ApiError
from podium.tests import base

T = TypeVar('T')


class FlakyCall:
    """Raises the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return 'ok'


def drain(gen: steps.Steps[T]) -> tuple[list[float], T]:
    """Run ``gen`` to its end: the delays it asked for, its value."""
    delays = []
    try:
        while True:
            delays.append(next(gen))
    except StopIteration as stop:
        return delays, stop.value


class BusyRetriesTest(base.TestCase):

    def test_locked_and_busy_are_retried_with_backoff(self) -> None:
        call = FlakyCall(ApiError(409, 'locked'), ApiError(503, 'busy'))
        delays, value = drain(steps.busy_retries(call))
        self.assertEqual('ok', value)
        self.assertEqual(3, call.calls)
        self.assertEqual(2, len(delays))
        self.assertLess(delays[0], delays[1])

    def test_other_errors_are_not_retried(self) -> None:
        call = FlakyCall(ApiError(404, 'missing'))
        exc = self.assertRaises(ApiError, drain, steps.busy_retries(call))
        self.assertEqual(404, exc.status)
        self.assertEqual(1, call.calls)

    def test_gives_up_after_the_retries(self) -> None:
        call = FlakyCall(*[ApiError(409, 'locked')] * 5)
        self.assertRaises(ApiError, drain,
                          steps.busy_retries(call, retries=2))
        self.assertEqual(3, call.calls)

    def test_statuses_can_be_narrowed(self) -> None:
        call = FlakyCall(ApiError(409, 'duplicate'))
        self.assertRaises(ApiError, drain, steps.busy_retries(
            call, statuses=(503,)))

    def test_backoff_is_capped_and_jittered(self) -> None:
        for attempt in range(10):
            delay = steps.backoff(attempt, base=0.5, cap=4.0)
            self.assertGreaterEqual(delay, 0.4 * min(1, 2 ** attempt))
            self.assertLessEqual(delay, 4.8)


class RunSyncTest(base.TestCase):

    def test_sleeps_for_each_yield_and_returns(self) -> None:
        slept: list[float] = []
        self.useFixture(fixtures.MonkeyPatch('time.sleep', slept.append))

        def gen() -> steps.Steps[int]:
            yield 0.5
            yield 1.5
            return 7

        self.assertEqual(7, steps.run_sync(gen()))
        self.assertEqual([0.5, 1.5], slept)
