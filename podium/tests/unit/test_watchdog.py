"""The per-test timeout ends deliberately deadlocked tests.

Each case runs a small test module in a child process with a 2 s
``OS_TEST_TIMEOUT``: what is checked is that the child finishes at all,
how, and what it says.
"""

import os
import subprocess
import sys
import textwrap
import time

import fixtures

from podium.tests import base, watchdog

_TIMEOUT = 2
_BACKSTOP = 3

#: Two threads that take two locks in opposite order: a real deadlock.
_DEADLOCK = '''
import concurrent.futures
import threading

from podium.tests import base
from podium.tests import threads

first, second = threading.Lock(), threading.Lock()
both_hold_one = threading.Barrier(2)


def grab_in_order(one, other):
    with one:
        both_hold_one.wait()
        with other:
            return 'never'
'''

#: The shape that hung CI: the deadlock inside ``with ThreadPoolExecutor``.
_STDLIB_POOL = _DEADLOCK + '''

class DeadlockTest(base.TestCase):

    def test_a_deadlocked(self):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(grab_in_order, first, second),
                       pool.submit(grab_in_order, second, first)]
            [future.result() for future in futures]

    def test_b_runs_after(self):
        print('test_b ran')
'''

_TEST_POOL = _DEADLOCK + '''

class DeadlockTest(base.TestCase):

    def test_a_deadlocked(self):
        with threads.executor(2) as pool:
            futures = [pool.submit(grab_in_order, first, second),
                       pool.submit(grab_in_order, second, first)]
            [future.result() for future in futures]

    def test_b_runs_after(self):
        print('test_b ran')
'''

#: The main thread cannot run a signal handler: only the backstop helps.
_SIGNALS_BLOCKED = '''
import signal
import threading

from podium.tests import base


class BlockedTest(base.TestCase):

    def test_signals_blocked(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
        threading.Event().wait()
'''


class WatchdogTest(base.TestCase):

    def _run(self, module_text: str,
             ) -> tuple[subprocess.CompletedProcess[str], float]:
        directory = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(directory, 'stuck_tests.py'), 'w',
                  encoding='utf-8') as handle:
            handle.write(textwrap.dedent(module_text))
        env = dict(os.environ)
        # The backstop ends the child without flushing its buffers: an
        # unbuffered child has printed everything it wrote by then.
        env.update({watchdog.TIMEOUT_ENV: str(_TIMEOUT),
                    watchdog.BACKSTOP_ENV: str(_BACKSTOP),
                    'PYTHONUNBUFFERED': '1',
                    'PYTHONPATH': os.pathsep.join(
                        [directory, *sys.path])})
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, '-m', 'testtools.run', 'stuck_tests'],
            cwd=directory, env=env, capture_output=True, text=True,
            timeout=120, check=False)
        return result, time.monotonic() - started

    def test_stdlib_pool_deadlock_fails_then_next_test_runs(self) -> None:
        result, _ = self._run(_STDLIB_POOL)
        output = result.stdout + result.stderr
        self.assertIn('TestTimedOut', output)
        # The stack of every thread, deadlocked workers included.
        self.assertIn('thread-stacks', output)
        self.assertIn('grab_in_order', output)
        self.assertIn('test_b ran', output)
        # The stdlib pool's workers are not daemons and never finish: the
        # backstop ends the process with a dump instead of a hang.
        self.assertIn('left non-daemon threads running', output)
        self.assertIn('Timeout (', result.stderr)
        self.assertNotEqual(0, result.returncode)

    def test_test_pool_deadlock_fails_and_process_exits(self) -> None:
        result, elapsed = self._run(_TEST_POOL)
        output = result.stdout + result.stderr
        self.assertIn('TestTimedOut', output)
        self.assertIn('grab_in_order', output)
        self.assertIn('test_b ran', output)
        # Daemon workers: no backstop needed, the process just ends.
        self.assertNotIn('Timeout (', result.stderr)
        self.assertIn('FAILED (failures=1)', output)
        self.assertEqual(1, result.returncode)
        self.assertLess(elapsed, 60)

    def test_backstop_ends_a_main_thread_that_ignores_signals(self) -> None:
        result, _ = self._run(_SIGNALS_BLOCKED)
        self.assertIn('Timeout (', result.stderr)
        self.assertIn('test_signals_blocked', result.stderr)
        self.assertNotEqual(0, result.returncode)
