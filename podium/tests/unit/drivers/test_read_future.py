"""ReadFuture: the loop's outcome for another thread. Every wait is
bounded."""

import asyncio
import concurrent.futures
import threading

from podium.drivers.modules import aio_loop
from podium.drivers.modules.read_future import ReadFuture
from podium.tests import base

WAIT = 10.0


class ReadFutureTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.loop = aio_loop.LoopThread('test-read-future')
        self.addCleanup(self.loop.stop)

    def test_callbacks_see_result_and_error(self) -> None:
        results: list[object] = []
        errors: list[object] = []
        done, ok_done = threading.Event(), threading.Event()

        async def fail() -> None:
            raise ValueError('no')

        ok = self.loop.submit(asyncio.sleep(0.01, result=5))
        bad = self.loop.submit(fail())
        ok.add_done_callback(lambda f: (results.append(f.result()),
                                        ok_done.set()))
        bad.add_done_callback(lambda f: (errors.append(f.exception()),
                                         done.set()))
        self.assertEqual(5, ok.result(WAIT))
        self.assertTrue(done.wait(WAIT))
        self.assertTrue(ok_done.wait(WAIT))
        self.assertEqual([5], results)
        self.assertEqual(1, len(errors))
        self.assertIsInstance(errors[0], ValueError)
        self.assertRaises(ValueError, bad.result, WAIT)
        # A callback added once done runs at once, in the caller.
        late: list[int] = []
        ok.add_done_callback(lambda f: late.append(f.result()))
        self.assertEqual([5], late)
        self.assertFalse(ok.cancel())
        self.assertFalse(ok.cancelled())

    def test_result_times_out_while_pending(self) -> None:
        future = self.loop.submit(asyncio.sleep(3600))
        self.assertRaises(concurrent.futures.TimeoutError,
                          future.result, 0.05)
        self.assertFalse(future.done())
        self.assertTrue(future.cancel())
        self.assertRaises(concurrent.futures.CancelledError,
                          future.result, WAIT)

    def test_cancel_before_the_loop_starts_it(self) -> None:
        started = threading.Event()

        async def mark() -> None:
            started.set()

        future: ReadFuture[None] = ReadFuture()
        called: list[bool] = []
        future.add_done_callback(lambda f: called.append(f.cancelled()))
        self.assertTrue(future.cancel())
        self.assertEqual([True], called)

        # The loop side, later: the task is cancelled before it runs.
        async def attach() -> bool:
            task = asyncio.get_running_loop().create_task(mark())
            attached = future.attach(asyncio.get_running_loop(), task)
            await asyncio.gather(task, return_exceptions=True)
            return attached

        self.assertFalse(self.loop.submit(attach()).result(WAIT))
        self.assertFalse(started.is_set())

    def test_a_raising_callback_does_not_stop_the_others(self) -> None:
        future = self.loop.submit(asyncio.sleep(0, result=1))
        got: list[int] = []

        def boom(_f: object) -> None:
            raise RuntimeError('callback bug')

        future.result(WAIT)
        future.add_done_callback(boom)
        future.add_done_callback(lambda f: got.append(f.result()))
        self.assertEqual([1], got)
