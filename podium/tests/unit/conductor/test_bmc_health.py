"""BMC health records: percentiles, failure streaks, the request budget
and the lanes power sync reads them on."""

import datetime
import threading
import time
from typing import Any

from podium.conductor import bmc_health
from podium.conductor import pool as pool_mod
from podium.tests import base
from podium.tests.unit.conductor import utils

EP = '10.0.0.1:443'


class TestRecord(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.now = datetime.datetime(2026, 1, 1,
                                     tzinfo=datetime.UTC)
        self.health = bmc_health.Registry(clock=lambda: self.now)

    def test_percentiles_over_a_bounded_window(self) -> None:
        self.config(bmc_health_window=10, group='conductor')
        for ms in range(1, 101):  # 1..100 ms; only 91..100 kept
            self.health.observe(EP, 'redfish', ms / 1000, ok=True)
        [entry] = self.health.snapshot()
        self.assertEqual(10, entry['window'])
        self.assertEqual(100, entry['requests'])
        self.assertEqual(0.095, entry['latency_p50'])
        self.assertEqual(0.1, entry['latency_p99'])

    def test_failure_streaks_and_last_good_read(self) -> None:
        self.health.observe(EP, 'ipmi', 0.01, ok=True)
        good = self.now
        self.now += datetime.timedelta(minutes=1)
        self.health.observe(EP, 'ipmi', 2.0, ok=False, timed_out=True)
        self.health.observe(EP, 'ipmi', 0.1, ok=False)
        [entry] = self.health.snapshot()
        self.assertEqual((2, 0, 2), (entry['consecutive_failures'],
                                     entry['consecutive_timeouts'],
                                     entry['failures']))
        self.assertEqual(good.isoformat(), entry['last_good_read'])
        self.assertEqual(self.now.isoformat(), entry['last_failure'])
        self.assertTrue(entry['suspect'])
        self.health.observe(EP, 'ipmi', 0.01, ok=True)
        self.assertFalse(self.health.suspect(EP))

    def test_suspect_after_configured_failures(self) -> None:
        self.config(bmc_suspect_failures=2, group='conductor')
        self.health.observe(EP, 'ipmi', 1.0, ok=False)
        self.assertFalse(self.health.suspect(EP))
        self.health.observe(EP, 'ipmi', 1.0, ok=False)
        self.assertTrue(self.health.suspect(EP))

    def test_first_contact_timeout_needs_one_failure_more(self) -> None:
        # Never answered, only timed out: maybe the conductor's own
        # start-up storm, so one more read before it is suspect.
        self.health.observe(EP, 'ipmi', 2.0, ok=False, timed_out=True)
        self.assertFalse(self.health.suspect(EP))
        self.health.observe(EP, 'ipmi', 2.0, ok=False, timed_out=True)
        self.assertTrue(self.health.suspect(EP))
        self.assertEqual(1, self.health.suspect_count())

    def test_first_contact_refusal_is_suspect_at_once(self) -> None:
        self.health.observe(EP, 'ipmi', 0.01, ok=False)
        self.assertTrue(self.health.suspect(EP))
        other = 'other:623'
        self.health.observe(other, 'ipmi', 2.0, ok=False, timed_out=True)
        self.health.observe(other, 'ipmi', 0.01, ok=False)
        self.assertTrue(self.health.suspect(other))

    def test_timeout_of_a_bmc_that_answered_is_suspect_at_once(self) -> None:
        self.health.observe(EP, 'ipmi', 0.01, ok=True)
        self.health.observe(EP, 'ipmi', 2.0, ok=False, timed_out=True)
        self.assertTrue(self.health.suspect(EP))

    def test_probe_timeout_follows_a_slow_bmc(self) -> None:
        self.config(bmc_probe_timeout=1.0, power_state_read_timeout=10.0,
                    group='conductor')
        self.assertEqual(1.0, self.health.probe_timeout(EP))
        for _ in range(20):  # Timeouts say nothing of the BMC's speed.
            self.health.observe(EP, 'ipmi', 9.0, ok=False, timed_out=True)
        self.assertEqual(1.0, self.health.probe_timeout(EP))
        for _ in range(20):
            self.health.observe(EP, 'ipmi', 3.0, ok=True)
        self.assertEqual(6.0, self.health.probe_timeout(EP))
        for _ in range(20):
            self.health.observe(EP, 'ipmi', 8.0, ok=True)
        self.assertEqual(10.0, self.health.probe_timeout(EP))

    def test_snapshot_worst_first_and_filtered(self) -> None:
        self.health.observe('a:1', 'ipmi', 0.5, ok=True)
        self.health.observe('b:1', 'ipmi', 0.01, ok=False)
        self.health.observe('c:1', 'ipmi', 0.9, ok=True)
        self.assertEqual(['b:1', 'c:1', 'a:1'], [
            e['endpoint'] for e in self.health.snapshot()])
        self.assertEqual(['a:1'], [
            e['endpoint'] for e in self.health.snapshot(['a:1', 'z:9'])])

    def test_sessions_counted_by_the_driver(self) -> None:
        self.health.observe(EP, 'redfish', 0.1, ok=True,
                            sessions=lambda endpoint: 3)
        self.assertEqual(3, self.health.snapshot(sessions=True)[0][
            'open_sessions'])
        self.assertIsNone(self.health.snapshot()[0]['open_sessions'])

    def test_forget_keeps_what_is_in_use(self) -> None:
        self.health.observe('a:1', 'ipmi', 0.1, ok=True)
        self.health.observe('b:1', 'ipmi', 0.1, ok=True)
        self.health.forget(['a:1'])
        self.assertEqual(['a:1'], [e['endpoint']
                                   for e in self.health.snapshot()])


class TestBudget(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.health = bmc_health.Registry()
        self.config(bmc_max_concurrent_requests=2, group='conductor')

    def test_third_request_waits_then_gives_up(self) -> None:
        with self.health.budget(EP, 'ipmi', 1.0), \
                self.health.budget(EP, 'ipmi', 1.0):
            self.assertRaises(bmc_health.BudgetExhausted,
                              self._enter, EP, 0.05)
            # Another BMC is not affected.
            self._enter('other:1', 0.05)
        self._enter(EP, 0.05)

    def test_suspect_gets_one_request_at_a_time(self) -> None:
        self.health.observe(EP, 'ipmi', 1.0, ok=False)
        with self.health.budget(EP, 'ipmi', 1.0):
            self.assertRaises(bmc_health.BudgetExhausted,
                              self._enter, EP, 0.05)

    def test_waiting_request_gets_the_freed_slot(self) -> None:
        self.config(bmc_max_concurrent_requests=1, group='conductor')
        release = threading.Event()
        holding = threading.Event()

        def hold() -> None:
            with self.health.budget(EP, 'ipmi', 5.0):
                holding.set()
                release.wait(5)

        thread = threading.Thread(target=hold)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.assertTrue(holding.wait(5))
        threading.Timer(0.1, release.set).start()
        self._enter(EP, 5.0)
        self.assertTrue(release.is_set())

    def _enter(self, endpoint: str, timeout: float) -> None:
        with self.health.budget(endpoint, 'ipmi', timeout):
            pass


class TestLanes(utils.ConductorTestCase):
    """The fan-out lanes power sync schedules reads on."""

    def test_lane_dispatched_while_another_is_full(self) -> None:
        pool = self.make_pool(size=10)
        release = threading.Event()
        started: list[str] = []
        lock = threading.Lock()

        def step(item: str) -> str:
            with lock:
                started.append(item)
            if item.startswith('slow'):
                release.wait(5)
            return item

        results: list[str] = []

        def on_result(item: str, result: Any, error: Any) -> None:
            results.append(item)
            if item == 'quick1':
                # Every probe ran while the slow lane was still full.
                release.set()

        pool.fan_out_lanes(step, [
            pool_mod.Lane(['slow0', 'slow1'], 2, 10.0),
            pool_mod.Lane(['quick0', 'quick1'], 1, 10.0)], on_result)
        self.assertEqual({'slow0', 'slow1', 'quick0', 'quick1'},
                         set(results))
        self.assertLess(results.index('quick1'), results.index('slow0'))

    def test_slow_step_moves_to_the_overflow_lane(self) -> None:
        pool = self.make_pool(size=10)
        release = threading.Event()
        order: list[str] = []

        def step(item: str) -> str:
            if item == 'hung':
                release.wait(5)
            return item

        def on_result(item: str, result: Any, error: Any) -> None:
            order.append(item)
            if item == 'ok2':
                release.set()

        started = time.monotonic()
        # One worker in lane 0: 'ok*' can only run once 'hung' moved off.
        pool.fan_out_lanes(step, [
            pool_mod.Lane(['hung', 'ok1', 'ok2'], 1, 10.0,
                          demote_after=0.1, overflow=1),
            pool_mod.Lane([], 1, 10.0)], on_result)
        self.assertEqual(['ok1', 'ok2', 'hung'], order)
        self.assertLess(time.monotonic() - started, 5)

    def test_no_move_while_the_overflow_lane_is_full(self) -> None:
        pool = self.make_pool(size=10)
        release = threading.Event()
        order: list[str] = []

        started_after_release: list[bool] = []

        def step(item: str) -> str:
            if item in ('hung', 'probe'):
                release.wait(5)
            if item == 'ok1':
                started_after_release.append(release.is_set())
            return item

        def on_result(item: str, result: Any, error: Any) -> None:
            order.append(item)

        timer = threading.Timer(1.0, release.set)
        timer.start()
        self.addCleanup(timer.cancel)
        pool.fan_out_lanes(step, [
            pool_mod.Lane(['hung', 'ok1'], 1, 10.0,
                          demote_after=0.05, overflow=1),
            pool_mod.Lane(['probe'], 1, 10.0)], on_result)
        # 'ok1' waited for a slot of its own lane: nothing to move to.
        self.assertEqual([True], started_after_release)
        self.assertEqual({'hung', 'ok1', 'probe'}, set(order))
