"""The bulk runner: bounded concurrency, waiting without threads, results."""

import threading
from collections.abc import Callable

from podium.cli import bulk
from podium.cli.errors import ApiError, CliError
from podium.cli.output import Column
from podium.cli.steps import Steps
from podium.cli.targets import Target
from podium.tests import base
from podium.tests.unit.cli.recording import RecordingReporter


def targets(*names: str) -> list[Target]:
    return [Target(n, n) for n in names]


class BulkRunnerTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.reporter = RecordingReporter()

    def run_action(self, action: bulk.Action, items: list[Target],
                   concurrency: int = 4) -> list[bulk.Result]:
        runner = bulk.BulkRunner('act', action, self.reporter, concurrency)
        return runner.run(items)

    def test_results_in_target_order_with_failures(self) -> None:
        def action(ident: str, note: Callable[[str], None]
                   ) -> Steps[bulk.Outcome]:
            note(f'working on {ident}')
            if ident == 'bad':
                raise ApiError(404, f'Node {ident} could not be found.')
            if ident == 'bug':
                raise ValueError('oops')
            yield 0.0
            return bulk.Outcome(True, 'done', {'extra': ident})

        items = targets('a', 'bad', 'bug') + [
            Target('junk', None, 'no node has this name')]
        results = self.run_action(action, items)
        self.assertEqual(['a', 'bad', 'bug', 'junk'],
                         [r.host for r in results])
        self.assertEqual([True, False, False, False],
                         [r.ok for r in results])
        self.assertEqual('Node bad could not be found. (HTTP 404)',
                         results[1].reason)
        self.assertEqual("unexpected error: ValueError('oops')",
                         results[2].reason)
        self.assertEqual('no node has this name', results[3].reason)
        row = results[0].row()
        self.assertEqual({'extra': 'a', 'host': 'a', 'action': 'act',
                          'result': 'SUCCESSFUL', 'reason': 'done'},
                         {k: v for k, v in row.items() if k != 'duration'})
        self.assertTrue(row['duration'].endswith('s'))
        self.assertIn(('note', 'a', 'working on a'), self.reporter.events)
        self.assertNotIn(('note', 'junk', 'working on junk'),
                         self.reporter.events)
        self.assertEqual(('start', '4'), self.reporter.events[0])
        self.assertEqual(('close',), self.reporter.events[-1])
        self.assertTrue(bulk.any_failed(results))

    def test_runs_concurrency_steps_at_once(self) -> None:
        # Every job's first step waits for two others: this only passes
        # when three steps really are in flight together.
        barrier = threading.Barrier(3, timeout=10)
        active = []
        peak = []
        lock = threading.Lock()

        def action(ident: str, note: Callable[[str], None]
                   ) -> Steps[bulk.Outcome]:
            with lock:
                active.append(ident)
                peak.append(len(active))
            barrier.wait()
            with lock:
                active.remove(ident)
            return bulk.Outcome(True)
            yield

        results = self.run_action(action, targets(*'abcdef'),
                                  concurrency=3)
        self.assertTrue(all(r.ok for r in results), results)
        self.assertEqual(3, max(peak))

    def test_a_waiting_node_holds_no_worker(self) -> None:
        # One worker: 'slow' waits between its steps; 'fast' must run in
        # that gap instead of queuing behind it.
        def action(ident: str, note: Callable[[str], None]
                   ) -> Steps[bulk.Outcome]:
            if ident == 'slow':
                yield 0.3
            return bulk.Outcome(True)

        self.run_action(action, targets('slow', 'fast'), concurrency=1)
        self.assertEqual(['fast', 'slow'], self.reporter.finish_order())

    def test_concurrency_must_be_positive(self) -> None:
        self.assertRaises(CliError, bulk.BulkRunner, 'x',
                          lambda i, n: iter(()), self.reporter, 0)

    def test_summary_columns_put_action_columns_before_result(self) -> None:
        extra = bulk.summary_columns(
            [Column('Power State', 'power_state')])
        self.assertEqual(['Host', 'Action', 'Power State', 'Result',
                          'Reason', 'Duration'], [c.header for c in extra])
