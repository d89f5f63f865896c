"""A failing periodic task backs off and logs sparingly."""

import logging
import time
from typing import Any

import fixtures
import sqlalchemy as sa

from podium.conductor import backoff, periodics, task_manager
from podium.tests import base
from podium.tests.unit.conductor import test_periodics, utils


def outage() -> sa.exc.OperationalError:
    """What SQLAlchemy raises when the database server went away."""
    return sa.exc.OperationalError(
        'SELECT 1', {}, Exception("(2013, 'Lost connection to MySQL server "
                                  "during query')"))


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestBackoff(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(
            name=backoff.__name__, level=logging.INFO))
        self.config(periodic_backoff_max=60, group='conductor')
        self.clock = _Clock()

    def drive(self, streak: backoff.Backoff, seconds: float,
              fail: bool) -> list[float]:
        """Call the task every ``spacing`` seconds as the periodic worker
        does, for ``seconds``; the times it really ran."""
        ran = []
        end = self.clock.now + seconds
        while self.clock.now < end:
            if streak.ready():
                ran.append(self.clock.now)
                if fail:
                    streak.failed(outage())
                else:
                    streak.succeeded()
            self.clock.now += streak.spacing
        return ran

    def test_runs_spread_out_and_log_thins_out(self) -> None:
        streak = backoff.Backoff('Manager._sync', 2, clock=self.clock)
        start = self.clock.now
        ran = self.drive(streak, 300, fail=True)
        gaps = [later - earlier
                for earlier, later in zip(ran, ran[1:], strict=False)]
        # 2 s spacing doubled after each failure, then 60 s at most,
        # instead of 150 attempts.
        self.assertEqual([4, 8, 16, 32, 60, 60, 60], gaps[:7])
        self.assertLessEqual(len(ran), 11)
        lines = self.logs.output.splitlines()
        # The first failure says it all, without a traceback for an
        # outage; then one line at the 2nd, 4th and 8th failure.
        self.assertIn('Periodic task Manager._sync failed (database '
                      'unreachable): (2013, ', lines[0])
        self.assertIn('next try in 4s', lines[0])
        self.assertNotIn('Traceback', self.logs.output)
        self.assertEqual(4, len(lines), lines)
        self.assertIn('still failing: 8 failures in a row over '
                      f'{ran[7] - start:.0f}s; next try in 60s', lines[3])

        # Back: the next attempt succeeds, says so, and the spacing is
        # the task's own again.
        failures = streak.failures
        self.assertEqual(len(ran), failures)
        self.clock.now = ran[-1] + 60
        ran = self.drive(streak, 10, fail=False)
        self.assertEqual([0, 2, 4, 6, 8], [at - ran[0] for at in ran])
        self.assertIn('Periodic task Manager._sync works again after '
                      f'{failures} failure(s)',
                      self.logs.output)

    def test_task_without_backoff_keeps_its_spacing(self) -> None:
        streak = backoff.Backoff('Service._heartbeat', 1, enabled=False,
                                 clock=self.clock)
        ran = self.drive(streak, 100, fail=True)
        self.assertEqual(100, len(ran))
        # Logged at failures 1, 2, 4, ..., 64: seven lines, not 100.
        self.assertEqual(7, len(self.logs.output.splitlines()))

    def test_other_error_logged_with_traceback(self) -> None:
        streak = backoff.Backoff('Manager._check', 5, clock=self.clock)
        try:
            raise KeyError('bug')
        except KeyError as exc:
            streak.failed(exc)
        self.assertIn("Periodic task Manager._check failed: 'bug'; next "
                      "try in 10s", self.logs.output)
        self.assertIn('Traceback', self.logs.output)

    def test_ceiling_never_below_the_spacing(self) -> None:
        self.config(periodic_backoff_max=1, group='conductor')
        streak = backoff.Backoff('Manager._slow', 30, clock=self.clock)
        streak.failed(outage())
        self.assertEqual(30, streak.delay())


class _Failing:
    def __init__(self) -> None:
        self.calls = 0

    @periodics.periodic(0.01)
    def _down(self, context: Any) -> None:
        self.calls += 1
        raise outage()


class TestCollectedTask(base.TestCase):

    def test_collected_task_backs_off_without_raising(self) -> None:
        logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.config(periodic_backoff_max=1, group='conductor')
        owner = _Failing()
        [task] = test_periodics.collect(owner)
        calls = 0
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:
            # The periodic worker would log a raised error itself.
            self.assertIsNone(task.run())
            calls += 1
            time.sleep(0.01)
        # Attempts after 0, 0.02, 0.06, 0.14, 0.30 s (and maybe 0.62):
        # a loaded machine only makes them fewer.
        self.assertGreaterEqual(owner.calls, 2)
        self.assertLessEqual(owner.calls, 6)
        self.assertLess(owner.calls, calls / 4)
        self.assertEqual(1, logs.output.count('failed (database '
                                              'unreachable)'))


class TestNodeTaskOutage(utils.ConductorTestCase):

    def test_outage_stops_the_run_instead_of_failing_each_node(
            self) -> None:
        logs = self.useFixture(fixtures.FakeLogger())
        manager = test_periodics._Manager(self.HOST, self.make_pool(size=6))
        for index in range(20):
            self.create_node(f'node-{index}')
        acquire = self.useFixture(fixtures.MockPatchObject(
            task_manager, 'acquire', side_effect=outage())).mock
        self.assertRaises(sa.exc.OperationalError, manager._per_node,
                          self.context)
        # The steps in flight when the first one failed (parallelism
        # 2), not all twenty.
        self.assertLessEqual(acquire.call_count, 3)
        self.assertNotIn('periodic task "test node task" failed',
                         logs.output)
