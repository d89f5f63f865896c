"""Queued logging: worker threads never wait on a log handler."""

import logging
import threading
import time

import fixtures

from podium.common import log_queue
from podium.tests import base
from podium.tests.unit import process
from podium.tests.unit.conductor.utils import wait_for

#: Upper bound for anything the tests wait for; never reached when the
#: code works.
_DEADLINE = 10.0


class RecordingHandler(logging.Handler):
    """Keeps what it emits and the thread that emitted it.

    ``gate`` lets a test hold the handler (as a slow disk would) until it
    has done what it needs to while records wait in the queue.
    """

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self.unblock = threading.Event()
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.threads: set[threading.Thread] = set()
        self.setFormatter(logging.Formatter('%(levelname)s %(message)s'))
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        self.gate.wait(_DEADLINE)
        if self.delay:
            # Interrupted by ``unblock`` so a test's clean-up does not
            # pay the delay for every record still queued.
            self.unblock.wait(self.delay)
        with self._changed:
            self.records.append(record)
            self.lines.append(self.format(record))
            self.threads.add(threading.current_thread())
            self._changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.records) >= count,
                                          _DEADLINE):
                raise AssertionError(
                    f'{len(self.records)} of {count} records arrived')


class LogQueueTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        # Start from plain handlers even if an earlier test in this
        # process prepared a service (which installs the queue).
        log_queue.uninstall()
        self.root = logging.getLogger()
        saved_handlers, saved_level = list(self.root.handlers), \
            self.root.level
        for handler in saved_handlers:
            self.root.removeHandler(handler)
        self.root.setLevel(logging.DEBUG)

        def restore() -> None:
            for handler in list(self.root.handlers):
                self.root.removeHandler(handler)
            for handler in saved_handlers:
                self.root.addHandler(handler)
            self.root.setLevel(saved_level)

        self.addCleanup(restore)
        self.log = logging.getLogger('podium.tests.log_queue')

    def _install(self, handler: RecordingHandler) -> None:
        self.root.addHandler(handler)
        log_queue.install()
        # Clean-ups run in reverse: let a held handler go, then flush.
        self.addCleanup(log_queue.uninstall)
        self.addCleanup(handler.unblock.set)
        self.addCleanup(handler.gate.set)

    def test_records_pass_through_one_listener_thread(self) -> None:
        handler = RecordingHandler()
        self._install(handler)
        self.assertEqual(1, len(self.root.handlers))
        self.assertIsNot(handler, self.root.handlers[0])

        workers = [threading.Thread(target=self.log.info,
                                    args=('from worker %d', n))
                   for n in range(4)]
        for worker in workers:
            worker.start()
        self.log.info('from the test thread')
        for worker in workers:
            worker.join(_DEADLINE)
        handler.wait_for(5)

        self.assertEqual(1, len(handler.threads))
        (emitter,) = handler.threads
        self.assertIsNot(threading.current_thread(), emitter)
        self.assertNotIn(emitter, workers)
        self.assertEqual(
            sorted(['INFO from the test thread'] +
                   [f'INFO from worker {n}' for n in range(4)]),
            sorted(handler.lines))

    def _time_logging_from_worker(self, calls: int) -> float:
        """Seconds a worker thread spends making ``calls`` log calls."""
        elapsed: list[float] = []

        def work() -> None:
            start = time.monotonic()
            for n in range(calls):
                self.log.info('record %d', n)
            elapsed.append(time.monotonic() - start)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(_DEADLINE * 2)
        self.assertEqual(1, len(elapsed), 'worker did not finish')
        return elapsed[0]

    def test_slow_handler_does_not_block_the_logging_thread(self) -> None:
        # The same 50 ms-per-record handler, first called directly ...
        direct = RecordingHandler(delay=0.05)
        self.root.addHandler(direct)
        direct_calls = 10
        direct_time = self._time_logging_from_worker(direct_calls)
        self.root.removeHandler(direct)
        self.assertGreaterEqual(direct_time, direct_calls * 0.05)

        # ... then behind the queue, with ten times as many records.
        queued = RecordingHandler(delay=0.05)
        self._install(queued)
        queued_time = self._time_logging_from_worker(100)

        # A hundred queued calls cost less than ten direct ones: the
        # worker never waited for the handler (it would need >= 5 s).
        self.assertLess(queued_time, direct_time,
                        f'100 queued calls took {queued_time:.3f}s, 10 '
                        f'direct calls {direct_time:.3f}s')
        queued.unblock.set()
        queued.wait_for(100)
        self.assertEqual([f'INFO record {n}' for n in range(100)],
                         queued.lines)

    def test_message_formatted_when_logged(self) -> None:
        handler = RecordingHandler()
        handler.gate.clear()
        self._install(handler)
        node = {'power_state': 'power on'}
        self.log.info('node is %(power_state)s', node)
        # The handler runs only after the caller has moved on and
        # changed the object it logged.
        node['power_state'] = 'power off'
        handler.gate.set()
        handler.wait_for(1)
        self.assertEqual(['INFO node is power on'], handler.lines)
        self.assertIsNone(handler.records[0].args)

    def test_exception_formatted_when_logged(self) -> None:
        handler = RecordingHandler()
        self._install(handler)
        try:
            raise ValueError('BMC said no')
        except ValueError:
            self.log.exception('power action failed for %s', 'node-1')
        handler.wait_for(1)
        record = handler.records[0]
        # The traceback crossed threads as text, not as live frames.
        self.assertIsNone(record.exc_info)
        self.assertIn('ValueError: BMC said no', record.exc_text or '')
        line = handler.lines[0]
        self.assertTrue(line.startswith(
            'ERROR power action failed for node-1\nTraceback'), line)
        self.assertIn('test_exception_formatted_when_logged', line)

    def test_full_queue_drops_instead_of_blocking(self) -> None:
        handler = RecordingHandler()
        handler.gate.clear()
        self.useFixture(fixtures.MockPatchObject(log_queue, '_QUEUE_SIZE', 2))
        self._install(handler)
        dropped_before = log_queue._DroppingQueueHandler.dropped
        # The handler holds one record; two wait in the queue; the rest
        # are dropped without the caller waiting.
        elapsed = self._time_logging_from_worker(20)
        self.assertLess(elapsed, _DEADLINE)
        dropped = log_queue._DroppingQueueHandler.dropped - dropped_before
        self.assertGreaterEqual(dropped, 17)
        # Stopping waits for the records still queued, even while the
        # queue is full.
        handler.gate.set()
        log_queue.uninstall()
        # What got through, then one warning saying what did not.
        self.assertEqual(20 - dropped + 1, len(handler.records))
        self.assertEqual(
            f'WARNING {dropped} log record(s) were dropped: the log queue '
            f'was full because the log destination is slower than the '
            f'service logs', handler.lines[-1])

    def test_drops_reported_once_the_queue_has_room(self) -> None:
        handler = RecordingHandler()
        handler.gate.clear()
        self.useFixture(fixtures.MockPatchObject(log_queue, '_QUEUE_SIZE', 2))
        self._install(handler)
        dropped_before = log_queue._DroppingQueueHandler.dropped
        for n in range(10):
            self.log.warning('burst %d', n)
        dropped = log_queue._DroppingQueueHandler.dropped - dropped_before
        self.assertGreaterEqual(dropped, 7)
        handler.gate.set()
        [queue_handler] = self.root.handlers
        assert isinstance(queue_handler, log_queue._DroppingQueueHandler)
        wait_for(queue_handler.queue.empty, what='the queue to drain')
        self.log.warning('after the burst')
        handler.wait_for(10 - dropped + 2)
        self.assertEqual(
            [f'WARNING {dropped} log record(s) were dropped: the log queue '
             f'was full because the log destination is slower than the '
             f'service logs', 'WARNING after the burst'],
            handler.lines[-2:])

    def test_uninstall_flushes_and_restores_handlers(self) -> None:
        handler = RecordingHandler()
        handler.gate.clear()
        self._install(handler)
        for n in range(5):
            self.log.warning('queued %d', n)
        handler.gate.set()
        log_queue.uninstall()
        self.assertEqual(5, len(handler.records))
        self.assertEqual([handler], self.root.handlers)


class LogQueueAtExitTest(base.TestCase):

    def test_records_queued_at_exit_are_written(self) -> None:
        # A handler slower than the exit: without the flush at exit the
        # daemon listener thread would die with the line still queued.
        code = (
            'import logging, sys, time\n'
            'from podium.common import log_queue\n'
            'class Slow(logging.StreamHandler):\n'
            '    def emit(self, record):\n'
            '        time.sleep(0.2)\n'
            '        super().emit(record)\n'
            'logging.getLogger().addHandler(Slow(sys.stdout))\n'
            'log_queue.install()\n'
            'logging.getLogger("x").warning("last words")\n'
            'sys.exit(3)\n')
        result = process.run_python('-c', code)
        self.assertEqual(3, result.returncode, result.stderr)
        self.assertEqual('last words\n', result.stdout)
