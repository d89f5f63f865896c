"""The tests' thread pool: results, failures, and no joins on deadlock."""

import threading
import time

from podium.tests import base, threads


class ExecutorTest(base.TestCase):

    def test_results_and_exceptions_reach_the_caller(self) -> None:
        with threads.executor(3) as pool:
            self.assertEqual([0, 1, 4, 9], list(pool.map(lambda n: n * n,
                                                        range(4))))
            failed = pool.submit(int, 'x')
        self.assertIsInstance(failed.exception(), ValueError)
        self.assertTrue(all(not t.is_alive() for t in pool.threads))

    def test_workers_are_daemons(self) -> None:
        with threads.executor(2) as pool:
            pass
        self.assertTrue(all(t.daemon for t in pool.threads))

    def test_failure_does_not_wait_for_stuck_workers(self) -> None:
        release = threading.Event()
        self.addCleanup(release.set)
        started = time.monotonic()

        def leave_with_stuck_worker() -> None:
            with threads.executor(1) as pool:
                pool.submit(release.wait)
                raise RuntimeError('test body failed')

        self.assertRaises(RuntimeError, leave_with_stuck_worker)
        self.assertLess(time.monotonic() - started, 5)

    def test_queued_work_is_cancelled_on_failure(self) -> None:
        release = threading.Event()
        self.addCleanup(release.set)
        try:
            with threads.executor(1) as pool:
                pool.submit(release.wait)
                queued = pool.submit(int, '1')
                raise RuntimeError('test body failed')
        except RuntimeError:
            pass
        self.assertTrue(queued.cancelled())

    def test_normal_exit_fails_naming_a_stuck_worker(self) -> None:
        release = threading.Event()
        self.addCleanup(release.set)

        def leave_normally() -> None:
            with threads.executor(1, join_timeout=0.2) as pool:
                pool.submit(release.wait)

        exc = self.assertRaises(AssertionError, leave_normally)
        self.assertIn('test-worker-0', str(exc))

    def test_submit_after_shutdown_is_refused(self) -> None:
        with threads.executor(1) as pool:
            pass
        self.assertRaises(RuntimeError, pool.submit, int, '1')
