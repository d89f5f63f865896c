"""The dispatcher of non-blocking power reads (``async_reads``): BMC
budgets, deadlines and what is handed back to the threaded path.

The driver here is a stand-in whose futures the test completes (or
never completes); every wait is bounded by the dispatcher's deadlines.
"""

import concurrent.futures
import time
from collections.abc import Sequence
from typing import Any

from podium.conductor import async_reads, bmc_health, fan_out, sync_plan
from podium.drivers import base as drivers_base
from podium.tests import base


class _Row:
    def __init__(self, node_id: int) -> None:
        self.id = node_id
        self.driver = 'stand-in'


class _Power(drivers_base.PowerInterface):
    """start_power_read hands out futures the test controls."""

    def __init__(self, answer: str | None = 'power on',
                 decline: bool = False) -> None:
        self.answer = answer
        self.decline = decline
        self.futures: list[concurrent.futures.Future[Any]] = []
        self.timeouts: list[float] = []
        #: When each read reached the driver.
        self.started: list[float] = []

    def get_power_state(self, task: drivers_base.Task) -> str:
        raise AssertionError('not on the threaded path')

    def set_power_state(self, task: drivers_base.Task, power_state: str,
                        timeout: float | None = None) -> None:
        raise AssertionError('no actions here')

    def reboot(self, task: drivers_base.Task,
               timeout: float | None = None) -> None:
        raise AssertionError('no actions here')

    def start_power_read(self, tasks: Sequence[drivers_base.Task]
                         ) -> concurrent.futures.Future[Any] | None:
        if self.decline:
            return None
        self.timeouts.extend(task.timeout for task in tasks)
        self.started.append(time.monotonic())
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self.answer is not None:
            future.set_result({task.node.id: self.answer for task in tasks})
        self.futures.append(future)
        return future


class _Sending(_Power):
    """Says each request is sent, then never answers (a hung BMC that
    accepts connections)."""

    def __init__(self) -> None:
        super().__init__(answer=None)

    def start_power_read(self, tasks: Sequence[drivers_base.Task]
                         ) -> concurrent.futures.Future[Any] | None:
        future = super().start_power_read(tasks)
        for task in tasks:
            drivers_base.request_sent(task)
        return future


class DispatcherTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(bmc_max_concurrent_requests=1, group='conductor')
        self.health = bmc_health.Registry()
        self.results: list[tuple[int, Any, BaseException | None, float]] = []

    def unit(self, power: _Power, node_id: int, timeout: float = 5.0,
             endpoint: str | None = 'bmc:443') -> sync_plan.Unit:
        return sync_plan.Unit(power, [_Row(node_id)], endpoint, timeout)

    def on_result(self, unit: sync_plan.Unit, result: Any,
                  error: BaseException | None, seconds: float) -> None:
        self.results.append((unit.rows[0].id, result, error, seconds))

    def test_answers_reported_and_budget_released(self) -> None:
        power = _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.5)
        for node_id in range(3):
            reads.add(self.unit(power, node_id))
        reads.run(self.on_result)
        self.assertEqual([(n, {n: 'power on'}) for n in range(3)],
                         [(n, r) for n, r, _, _ in self.results])
        self.assertEqual(0, reads.outstanding)
        record = self.health.get('bmc:443')
        assert record is not None
        self.assertEqual(0, record.in_flight)

    def test_read_ignoring_its_deadline_not_waited_for(self) -> None:
        power = _Power(answer=None)
        reads = async_reads.Dispatcher(self.health, grace=0.2)
        started = time.monotonic()
        reads.add(self.unit(power, 1, timeout=0.3))
        reads.run(self.on_result)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 0.45)
        self.assertLess(elapsed, 3)
        [(_, _, error, _)] = self.results
        self.assertIsInstance(error, fan_out.StepTimeout)
        self.assertTrue(power.futures[0].cancelled())
        record = self.health.get('bmc:443')
        assert record is not None
        self.assertEqual(0, record.in_flight)

    def test_read_waits_for_its_bmc_budget_then_gives_up(self) -> None:
        stuck, quick = _Power(answer=None), _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2)
        reads.add(self.unit(stuck, 1, timeout=0.3))
        reads.add(self.unit(quick, 2, timeout=0.3))
        reads.run(self.on_result)
        errors = {node_id: type(error) for node_id, _, error, _
                  in self.results}
        # The second never got the BMC's one slot: the threaded path's
        # budget error, and it never reached the driver.
        self.assertEqual({1: fan_out.StepTimeout,
                          2: bmc_health.BudgetExhausted}, errors)
        self.assertEqual([], quick.futures)

    def test_waiting_read_starts_when_the_slot_frees(self) -> None:
        slow, quick = _Power(answer=None), _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2)
        reads.add(self.unit(slow, 1))
        reads.add(self.unit(quick, 2, timeout=2.0))
        time.sleep(0.2)
        slow.futures[0].set_result({1: 'power off'})
        reads.run(self.on_result)
        self.assertEqual({1: {1: 'power off'}, 2: {2: 'power on'}},
                         {n: r for n, r, _, _ in self.results})
        # It got what was left of its timeout after waiting.
        self.assertLess(quick.timeouts[0], 1.85)

    def test_slot_freed_outside_the_dispatcher_is_used(self) -> None:
        # A threaded read of the same BMC holds its one slot.
        self.assertTrue(self.health.try_take('bmc:443', 'stand-in'))
        power = _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2)
        reads.add(self.unit(power, 1, timeout=5.0))
        self.assertEqual([], power.futures)  # waits for the slot
        self.health.give('bmc:443')  # the threaded read ends
        started = time.monotonic()
        reads.run(self.on_result, idle_interval=0.05)
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual([(1, {1: 'power on'})],
                         [(n, r) for n, r, _, _ in self.results])

    def test_declined_reads_handed_back(self) -> None:
        power = _Power(decline=True)
        partial = _Power(answer='power on')
        partial.start_power_read = (  # type: ignore[method-assign]
            lambda tasks: _done({}))
        reads = async_reads.Dispatcher(self.health, grace=0.2)
        declined = self.unit(power, 1, endpoint=None)
        left_out = self.unit(partial, 2, endpoint='other:443')
        reads.add(declined)
        reads.add(left_out)
        reads.run(self.on_result)
        self.assertEqual([], self.results)
        self.assertEqual([declined, left_out], reads.declined)
        record = self.health.get('other:443')
        assert record is not None
        self.assertEqual(0, record.in_flight)

    def test_thousands_declined_behind_one_bmc_do_not_nest(self) -> None:
        first, rest = _Power(answer=None), _Power(decline=True)
        reads = async_reads.Dispatcher(self.health, grace=0.2)
        reads.add(self.unit(first, 0))
        units = [self.unit(rest, n) for n in range(1, 3001)]
        for unit in units:
            reads.add(unit)  # all wait for the BMC's one slot
        # Its end starts the next, which is declined at once, and so on:
        # 3,000 in a row, in a loop rather than 3,000 frames deep.
        first.futures[0].set_result({0: 'power on'})
        reads.run(self.on_result)
        self.assertEqual(units, reads.declined)
        self.assertEqual([0], [n for n, *_ in self.results])

    def test_window_bounds_the_reads_starting_at_once(self) -> None:
        power = _Power(answer=None)
        reads = async_reads.Dispatcher(self.health, grace=0.2, window=2,
                                       settle=30.0)
        for node_id in range(5):
            reads.add(self.unit(power, node_id, endpoint=f'bmc{node_id}'))
        self.assertEqual(2, len(power.futures))
        self.assertEqual(5, reads.outstanding)
        # One ends: the next queued read takes its place, no more.
        power.futures[0].set_result({0: 'power on'})
        reads.run(self.on_result, block=False)
        self.assertEqual(3, len(power.futures))
        power.futures[1].set_result({})
        reads.run(self.on_result, block=False)
        self.assertEqual(4, len(power.futures))
        self.assertEqual(3, reads.outstanding)  # 2 and 3 start, 4 queued

    def test_a_waiting_read_gives_up_its_place_after_settle(self) -> None:
        hung, quick = _Power(answer=None), _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2, window=1,
                                       settle=0.1)
        reads.add(self.unit(hung, 1, timeout=1.0, endpoint='hung'))
        reads.add(self.unit(quick, 2, timeout=1.0, endpoint='quick'))
        self.assertEqual([], quick.futures)  # no place yet
        started = time.monotonic()
        reads.run(self.on_result)
        errors = {n: type(e) for n, _, e, _ in self.results}
        # The quick read started once the hung one had waited 0.1 s,
        # long before the hung one ended at its deadline.
        self.assertEqual({1: fan_out.StepTimeout, 2: type(None)}, errors)
        self.assertEqual(2, self.results[0][0])
        self.assertGreaterEqual(time.monotonic() - started, 1.0)

    def test_timeout_runs_from_the_start_not_the_queueing(self) -> None:
        slow, later = _Power(answer=None), _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2, window=1,
                                       settle=30.0)
        reads.add(self.unit(slow, 1, timeout=2.0, endpoint='slow'))
        reads.add(self.unit(later, 2, timeout=0.5, endpoint='later'))
        time.sleep(0.6)  # longer than the queued read's whole timeout
        slow.futures[0].set_result({1: 'power on'})
        reads.run(self.on_result)
        self.assertEqual({1: {1: 'power on'}, 2: {2: 'power on'}},
                         {n: r for n, r, _, _ in self.results})
        self.assertGreater(later.timeouts[0], 0.4)

    def test_a_read_whose_request_is_sent_keeps_its_place_a_while(
            self) -> None:
        waiting, later = _Sending(), _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2, window=1,
                                       settle=30.0, settle_sent=0.2)
        reads.add(self.unit(waiting, 1, timeout=10.0, endpoint='hung'))
        reads.add(self.unit(later, 2, timeout=10.0, endpoint='quick'))
        # Its answer, when it comes, costs CPU too: the place is kept.
        self.assertEqual([], later.futures)
        started = time.monotonic()
        deadline = started + 8.0
        while not later.started and time.monotonic() < deadline:
            reads.run(self.on_result, block=False)
            time.sleep(0.01)
        # The second started about 0.2 s after the first's request went
        # out: not 30 s later, nor when the first ended.
        self.assertEqual(1, len(later.started))
        self.assertGreaterEqual(later.started[0] - started, 0.15)
        self.assertFalse(waiting.futures[0].done())
        waiting.futures[0].set_result({1: 'power on'})
        reads.run(self.on_result)
        self.assertEqual([2, 1], [n for n, *_ in self.results])

    def test_no_read_starts_while_the_loop_lags(self) -> None:
        power = _Power()
        lag = [1.0]
        reads = async_reads.Dispatcher(self.health, grace=0.2,
                                       lag=lambda: lag[0], max_lag=0.1)
        reads.add(self.unit(power, 1, endpoint='a'))
        reads.add(self.unit(power, 2, endpoint='b'))
        self.assertEqual([], power.futures)
        lag[0] = 0.01  # caught up
        reads.run(self.on_result)
        self.assertEqual({1, 2}, {n for n, *_ in self.results})

    def test_a_loop_lagging_for_good_holds_reads_no_longer_than_their_timeout(
            self) -> None:
        power = _Power()
        reads = async_reads.Dispatcher(self.health, grace=0.2,
                                       lag=lambda: 60.0, max_lag=0.1)
        started = time.monotonic()
        reads.add(self.unit(power, 1, timeout=0.3))
        reads.run(self.on_result)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertLess(time.monotonic() - started, 3)
        self.assertEqual([1], [n for n, *_ in self.results])

    def test_offered_only_by_drivers_that_implement_it(self) -> None:
        self.assertTrue(drivers_base.offers_power_read_start(_Power()))
        from podium.drivers.modules import fake
        self.assertFalse(drivers_base.offers_power_read_start(
            fake.FakePower()))


def _done(result: Any) -> concurrent.futures.Future[Any]:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_result(result)
    return future
