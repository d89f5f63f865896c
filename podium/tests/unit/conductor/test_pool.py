"""The worker pool: bounded, split between actions and periodic work."""

import threading
import time
from unittest import mock

from podium.common import exceptions
from podium.conductor import pool as pool_mod
from podium.tests import base
from podium.tests.unit.conductor.utils import wait_for


class _Gate:
    """Work that blocks until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Semaphore(0)

    def work(self, *_args: object) -> str:
        self.entered.release()
        self.opened.wait(30)
        return 'done'

    def wait_entered(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=20), 'work did not start'


class PoolTestCase(base.TestCase):

    def make_pool(self, size: int, reserved: int,
                  periodic_slots: int = 0) -> pool_mod.WorkerPool:
        pool = pool_mod.WorkerPool(size, reserved)
        pool.reserve_periodic_slots(periodic_slots)
        self.addCleanup(pool.shutdown)
        return pool

    def gate(self) -> _Gate:
        gate = _Gate()
        self.addCleanup(gate.opened.set)
        return gate


class TestSizing(PoolTestCase):

    def test_reserved_share_rounds_up_and_keeps_one(self) -> None:
        self.assertEqual(5, pool_mod.reserved_workers(100, 5))
        self.assertEqual(1, pool_mod.reserved_workers(10, 5))
        self.assertEqual(1, pool_mod.reserved_workers(10, 0))
        self.assertEqual(2, pool_mod.reserved_workers(3, 50))

    def test_from_config(self) -> None:
        self.config(workers_pool_size=40,
                    reserved_workers_pool_percentage=10, group='conductor')
        pool = pool_mod.WorkerPool.from_config()
        self.addCleanup(pool.shutdown)
        self.assertEqual((40, 4), (pool.size, pool.reserved))

    def test_periodic_minimum_must_fit(self) -> None:
        pool = self.make_pool(4, 2)
        error = self.assertRaises(exceptions.ConfigInvalid,
                                  pool.reserve_periodic_slots, 3)
        self.assertIn('workers_pool_size=4', str(error))
        self.assertIn('3 periodic tasks', str(error))
        pool.reserve_periodic_slots(2)
        self.assertEqual(0, pool.shared_slots)


class TestSpawn(PoolTestCase):

    def test_spawn_runs_on_a_worker(self) -> None:
        pool = self.make_pool(3, 1)
        future = pool.spawn(threading.get_ident)
        self.assertNotEqual(threading.get_ident(), future.result(10))

    def test_full_pool_refuses_at_once(self) -> None:
        pool = self.make_pool(4, 1, periodic_slots=1)
        gate = self.gate()
        futures = [pool.spawn(gate.work) for _ in range(3)]
        gate.wait_entered(3)
        # The periodic slot is not the actions' to take.
        self.assertRaises(exceptions.NoFreeConductorWorker,
                          pool.spawn, gate.work)
        gate.opened.set()
        for future in futures:
            self.assertEqual('done', future.result(10))
        wait_for(lambda: pool.busy == 0, what='idle pool')
        self.assertEqual('done', pool.spawn(gate.work).result(10))

    def test_periodic_steps_never_take_the_reserved_workers(self) -> None:
        pool = self.make_pool(5, 2, periodic_slots=1)
        gate = self.gate()
        steps = [pool.try_spawn_step(gate.work) for _ in range(3)]
        self.assertIsNotNone(steps[0])
        self.assertIsNotNone(steps[1])
        self.assertIsNone(steps[2])
        gate.wait_entered(2)
        # However many BMCs hang, the operator still gets two workers.
        actions = [pool.spawn(gate.work), pool.spawn(gate.work)]
        self.assertRaises(exceptions.NoFreeConductorWorker,
                          pool.spawn, gate.work)
        gate.opened.set()
        for future in [*steps[:2], *actions]:
            assert future is not None
            self.assertEqual('done', future.result(10))

    def test_actions_in_the_shared_part_limit_steps(self) -> None:
        pool = self.make_pool(3, 1, periodic_slots=1)
        gate = self.gate()
        pool.spawn(gate.work)
        pool.spawn(gate.work)
        gate.wait_entered(2)
        # One action took the reserved worker, the other the only
        # shared one: nothing left for periodic steps.
        self.assertIsNone(pool.try_spawn_step(gate.work))

    def test_closed_pool_refuses(self) -> None:
        pool = self.make_pool(3, 1)
        pool.close()
        error = self.assertRaises(exceptions.NoFreeConductorWorker,
                                  pool.spawn, lambda: None)
        self.assertIn('shutting down', str(error))
        self.assertIsNone(pool.try_spawn_step(lambda: None))

    def test_wait_idle(self) -> None:
        pool = self.make_pool(3, 1)
        gate = self.gate()
        pool.spawn(gate.work)
        gate.wait_entered(1)
        self.assertFalse(pool.wait_idle(0.01))
        gate.opened.set()
        self.assertTrue(pool.wait_idle(20))

    def test_threads_follow_the_work(self) -> None:
        pool = self.make_pool(20, 1)
        before = threading.active_count()
        for burst in (20, 7, 20, 3, 20):
            gate = self.gate()
            for _ in range(burst):
                pool.spawn(gate.work)
            gate.wait_entered(burst)
            # Every task runs at once, never on more threads than the
            # pool's size.
            self.assertLessEqual(pool.threads, pool.size)
            self.assertLessEqual(threading.active_count(),
                                 before + pool.size)
            gate.opened.set()
            self.assertTrue(pool.wait_idle(20))
        # Idle, the pool falls back to a thread or two.
        wait_for(lambda: (pool.maintain(), pool.threads <= 2)[1],
                 what='idle threads to stop')
        wait_for(lambda: threading.active_count() <= before + 2,
                 what='stopped threads to exit')

    def test_concurrent_work_bounded_then_falls_back(self) -> None:
        # Actions and fan-outs submitted from several threads at once,
        # with the heartbeat shrinking the pool meanwhile: the pool never
        # runs more threads than its size, and falls back once idle.
        size = 12
        pool = self.make_pool(size, 2, periodic_slots=1)
        before = threading.active_count()
        stop = threading.Event()
        peak = [0]  # pool workers alive
        peak_threads = [0]  # threads, counting stopped ones not yet ended

        def tiny(_item: object = None) -> None:
            time.sleep(0.002)

        def submitter() -> None:
            while not stop.is_set():
                pool.fan_out(tiny, range(20), 6, lambda *args: None)
                for _ in range(5):
                    try:
                        pool.spawn(tiny)
                    except exceptions.NoFreeConductorWorker:
                        pass

        def heartbeat() -> None:
            while not stop.is_set():
                pool.maintain()
                time.sleep(0.01)

        def sampler() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], pool.threads)
                peak_threads[0] = max(peak_threads[0],
                                      threading.active_count() - helpers
                                      - before)
                time.sleep(0.001)

        workers = [threading.Thread(target=submitter, daemon=True)
                   for _ in range(4)]
        workers += [threading.Thread(target=heartbeat, daemon=True),
                    threading.Thread(target=sampler, daemon=True)]
        helpers = len(workers)
        for thread in workers:
            thread.start()
        time.sleep(1.5)
        stop.set()
        for thread in workers:
            thread.join(20)
            self.assertFalse(thread.is_alive())
        self.assertTrue(pool.wait_idle(20))
        # Busy, it used threads; never more workers than the pool's size.
        self.assertGreater(peak[0], 2)
        self.assertLessEqual(peak[0], size)
        # Workers the heartbeat stopped end within a second of it; with
        # this test's heartbeat every 10 ms, a loaded machine may hold as
        # many stopped ones as live ones for a moment, never more.
        self.assertLessEqual(peak_threads[0], 2 * size, peak_threads)
        wait_for(lambda: (pool.maintain(), pool.threads <= 2)[1],
                 what='idle threads to stop')
        wait_for(lambda: threading.active_count() <= before + 2,
                 what='stopped threads to exit')

    def test_shrinking_keeps_track_of_busy_threads(self) -> None:
        executor = pool_mod._DynamicExecutor(max_workers=4)
        self.addCleanup(executor.shutdown, wait=False)
        workers = [mock.Mock(idle=idle) for idle in (False, True, False)]
        executor._workers = list(workers)
        executor._shrinking = True
        self.assertTrue(executor._drop_thread())
        # futurist's own _drop_thread forgets workers[0] here.
        self.assertEqual([workers[0], workers[2]], executor._workers)
        workers[1].stop.assert_called_once_with()
        executor._workers = [mock.Mock(idle=False)]
        self.assertFalse(executor._drop_thread())


class TestFanOut(PoolTestCase):

    def test_every_item_reported_once_in_calling_thread(self) -> None:
        pool = self.make_pool(10, 1)
        caller = threading.get_ident()
        reported: list[tuple[int, int, int]] = []

        def on_result(item: int, result: int,
                      error: BaseException | None) -> None:
            self.assertIsNone(error)
            reported.append((item, result, threading.get_ident()))

        pool.fan_out(lambda item: item * 2, range(50), 4, on_result)
        self.assertEqual([(i, 2 * i) for i in range(50)],
                         sorted((i, r) for i, r, _ in reported))
        self.assertEqual({caller}, {thread for _, _, thread in reported})

    def test_parallelism_is_bounded(self) -> None:
        pool = self.make_pool(20, 1)
        lock = threading.Lock()
        running = [0]
        peak = [0]
        release = threading.Event()

        def step(_item: int) -> None:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                if running[0] == 3:
                    release.set()
            release.wait(10)
            with lock:
                running[0] -= 1

        pool.fan_out(step, range(30), 3, lambda *args: None)
        self.assertEqual(3, peak[0])

    def test_full_pool_runs_steps_inline_without_deadlock(self) -> None:
        # Every worker but the reserved one is a periodic slot: no
        # shared worker is left for steps.
        pool = self.make_pool(3, 1, periodic_slots=2)
        threads: set[int] = set()
        pool.fan_out(lambda item: threads.add(threading.get_ident()),
                     range(10), 4, lambda *args: None)
        self.assertEqual({threading.get_ident()}, threads)

    def test_full_pool_waits_for_own_steps_not_inline(self) -> None:
        # Two shared workers, parallelism above that: while both hold a
        # slow step, the next item waits for one of them instead of
        # running in the caller's thread (where a hung BMC would stop
        # every other item from being dispatched).
        pool = self.make_pool(4, 1, periodic_slots=1)
        gate = self.gate()
        caller = threading.get_ident()
        threads: list[int] = []

        def step(item: int) -> None:
            if item < 2:
                gate.work()
            threads.append(threading.get_ident())

        opener = threading.Thread(target=lambda: (gate.wait_entered(2),
                                                  gate.opened.set()))
        opener.start()
        self.addCleanup(opener.join, 10)
        pool.fan_out(step, range(6), 10, lambda *args: None)
        self.assertEqual(6, len(threads))
        self.assertNotIn(caller, threads)

    def test_errors_are_reported_not_raised(self) -> None:
        pool = self.make_pool(5, 1)
        errors: dict[int, BaseException | None] = {}

        def step(item: int) -> int:
            if item == 2:
                raise ValueError('bad item')
            return item

        pool.fan_out(step, range(4), 2,
                     lambda item, _r, error: errors.update({item: error}))
        self.assertIsInstance(errors.pop(2), ValueError)
        self.assertEqual({0: None, 1: None, 3: None}, errors)

    def test_failing_callback_leaves_no_step_in_flight(self) -> None:
        # on_result failing (a database write, say) stops the dispatch,
        # but fan_out returns only once the steps it started are done.
        pool = self.make_pool(10, 1)
        gate = self.gate()
        lock = threading.Lock()
        running = [0]
        reported: list[int] = []

        def step(item: int) -> int:
            with lock:
                running[0] += 1
            try:
                if item:
                    gate.work()
                else:  # ends once the next three are running
                    gate.wait_entered(3)
                return item
            finally:
                with lock:
                    running[0] -= 1

        def on_result(item: int, _result: int,
                      _error: BaseException | None) -> None:
            reported.append(item)
            if item == 0:
                # The others are running now; let them end a bit later.
                opener = threading.Timer(0.2, gate.opened.set)
                opener.start()
                self.addCleanup(opener.join, 10)
                raise RuntimeError('database gone')

        exc = self.assertRaises(RuntimeError, pool.fan_out, step, range(10),
                                4, on_result)
        self.assertEqual('database gone', str(exc))
        self.assertEqual(0, running[0])
        # The three in flight were reported; nothing else was started.
        self.assertEqual([0, 1, 2, 3], sorted(reported))

    def test_overdue_step_no_longer_waited_for(self) -> None:
        pool = self.make_pool(5, 1)
        gate = self.gate()
        order: list[tuple[int, str]] = []

        def step(item: int) -> str:
            return gate.work() if item == 0 else 'fast'

        def on_result(item: int, result: str | None,
                      error: BaseException | None) -> None:
            order.append((item, type(error).__name__ if error else
                          str(result)))

        pool.fan_out(step, range(4), 4, on_result, timeout=0.2)
        self.assertEqual((0, 'StepTimeout'), order[-1])
        self.assertEqual([(1, 'fast'), (2, 'fast'), (3, 'fast')],
                         sorted(order[:-1]))
        # The hung step still holds its worker until it returns.
        self.assertEqual(1, pool.busy)
        gate.opened.set()
        self.assertTrue(pool.wait_idle(20))

    def test_closing_stops_dispatch(self) -> None:
        pool = self.make_pool(5, 1)
        seen: list[int] = []

        def step(item: int) -> None:
            seen.append(item)
            if item == 1:
                pool.close()

        pool.fan_out(step, range(10), 1, lambda *args: None)
        self.assertEqual([0, 1], seen)

    def test_on_idle_called_while_waiting(self) -> None:
        pool = self.make_pool(5, 1)
        gate = self.gate()
        ticks = threading.Semaphore(0)

        def on_idle() -> None:
            ticks.release()
            if ticks._value >= 3:  # enough ticks seen: let the step end
                gate.opened.set()

        pool.fan_out(lambda _item: gate.work(), [0], 1, lambda *args: None,
                     on_idle=on_idle, idle_interval=0.01)
        self.assertTrue(gate.opened.is_set())
