"""The read loop thread (``aio_loop``): results, errors, cancellation
and one thread however many coroutines run. Every wait is bounded."""

import asyncio
import threading
import time

from podium.drivers.modules import aio_loop
from podium.tests import base

WAIT = 10.0


class LoopThreadTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.loop = aio_loop.LoopThread('test-aio-loop')
        self.addCleanup(self.loop.stop)

    def test_results_and_errors_of_many_coroutines(self) -> None:
        async def square(n: int) -> int:
            await asyncio.sleep(0.01)
            if n == 7:
                raise ValueError('seven')
            return n * n

        futures = [self.loop.submit(square(n)) for n in range(2000)]
        self.assertEqual(36, futures[6].result(WAIT))
        self.assertRaises(ValueError, futures[7].result, WAIT)
        self.assertEqual(1999 * 1999, futures[-1].result(WAIT))
        # One thread ran them all.
        self.assertEqual(1, sum(1 for t in threading.enumerate()
                                if t.name == 'test-aio-loop'))

    def test_lag_shows_a_loop_behind_its_work(self) -> None:
        self.assertEqual(0.0, self.loop.lag())  # not started
        async def nothing() -> None:
            return None
        self.loop.submit(nothing()).result(WAIT)
        released = threading.Event()
        # A callback that hogs the loop, as thousands of reads starting
        # at once on a busy machine do.
        self.loop.call_soon(lambda: released.wait(WAIT))
        deadline = time.monotonic() + WAIT
        while self.loop.lag() < 0.3 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertGreaterEqual(self.loop.lag(), 0.3)
        released.set()
        deadline = time.monotonic() + WAIT
        # The heartbeat after the hog still reports how late it ran;
        # the ones after it are on time again.
        while self.loop.lag() > 0.1 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertLessEqual(self.loop.lag(), 0.1)

    def test_cancelling_the_future_cancels_the_coroutine(self) -> None:
        started, cancelled = threading.Event(), threading.Event()

        async def wait_forever() -> None:
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        future = self.loop.submit(wait_forever())
        self.assertTrue(started.wait(WAIT))
        self.assertTrue(future.cancel())
        self.assertTrue(cancelled.wait(WAIT))

    def test_stop_ends_the_thread_and_a_new_submit_restarts_it(
            self) -> None:
        async def one() -> int:
            return 1

        self.assertEqual(1, self.loop.submit(one()).result(WAIT))
        self.loop.stop()
        self.assertFalse(self.loop.running)
        self.assertEqual(1, self.loop.submit(one()).result(WAIT))
