"""A per-test timeout that fires even when threads are deadlocked.

``fixtures.Timeout`` raises once, from a ``SIGALRM`` handler: when the
test is then stuck again (leaving a ``with ThreadPoolExecutor`` block
joins the deadlocked workers) nothing fires a second time and the whole
stestr worker hangs with every test queued behind it. This guard has
three layers:

1. At the deadline the ``SIGALRM`` handler records the stack of every
   thread in the test's ``thread-stacks`` detail and fails the test with
   :class:`TestTimedOut`. It then keeps firing every
   :data:`REPEAT_SECONDS`, so each blocking join or wait that the test's
   exit and clean-ups run into is interrupted as well, and the test ends.
2. When the main thread cannot run Python code at all (signals blocked,
   a C call that never returns), ``faulthandler``'s own C thread dumps
   every stack to stderr and ends the worker process
   :data:`BACKSTOP_SECONDS` after the deadline: the test shows as
   failed, with the dump, instead of the run hanging.
3. A test that timed out may leave non-daemon threads stuck forever;
   the interpreter would join them at exit. From then on the backstop
   is never cancelled, only re-armed, so that worker process still ends.
"""

import faulthandler
import os
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable
from typing import Any

import fixtures
import testtools
from testtools import content

#: ``OS_TEST_TIMEOUT`` (seconds) overrides this, as in OpenStack projects.
DEFAULT_TIMEOUT = 300
TIMEOUT_ENV = 'OS_TEST_TIMEOUT'
#: After the first failure, how often blocked waits are interrupted again.
REPEAT_SECONDS = 2.0
#: How long after the deadline the worker process is ended if the test
#: still has not finished (the environment variable is for the guard's
#: own tests, which cannot wait that long).
BACKSTOP_ENV = 'PODIUM_TEST_TIMEOUT_BACKSTOP'
BACKSTOP_SECONDS = float(os.environ.get(BACKSTOP_ENV) or 30.0)

#: Set once a timed-out test leaves live threads behind (layer 3).
_threads_left_stuck = False


class TestTimedOut(Exception):
    """The test ran past its deadline (the stacks are in its details)."""


def timeout_from_env() -> float:
    """The per-test timeout: ``OS_TEST_TIMEOUT`` or the default.

    ``0`` or a negative value disables the guard, as it does for
    ``fixtures.Timeout`` in OpenStack's test bases.
    """
    raw = os.environ.get(TIMEOUT_ENV, '')
    try:
        return float(raw) if raw.strip() else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


def thread_stacks() -> str:
    """The current stack of every live thread, named, as text."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        name = names.get(ident, '<unknown>')
        stack = ''.join(traceback.format_stack(frame))
        parts.append(f'--- thread {name} ({ident}) ---\n{stack}')
    return '\n'.join(parts)


_SignalHandler = Callable[[int, types.FrameType | None], Any] | int | None


class TestTimeout(fixtures.Fixture):
    """Fail ``test`` after ``seconds`` whatever its threads are doing."""

    def __init__(self, test: testtools.TestCase, seconds: float) -> None:
        super().__init__()
        self._test = test
        self._seconds = seconds
        self._fired = 0
        self._previous: _SignalHandler = None
        self._threads_before: set[threading.Thread] = set()

    def _setUp(self) -> None:
        if self._seconds <= 0:
            return
        if threading.current_thread() is not threading.main_thread():
            # Signals reach only the main thread; the backstop still works.
            self._arm_backstop()
            self.addCleanup(self._disarm_backstop)
            return
        self._threads_before = set(threading.enumerate())
        self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self._seconds)
        self._arm_backstop()
        # Clean-ups run last-in first-out: disarm after everything else,
        # so the test's own clean-ups are covered too.
        self.addCleanup(self._disarm)

    def _arm_backstop(self) -> None:
        faulthandler.dump_traceback_later(
            self._seconds + BACKSTOP_SECONDS, exit=True, file=sys.stderr)

    def _disarm_backstop(self) -> None:
        if _threads_left_stuck:
            # Layer 3: keep a backstop for the interpreter's exit.
            self._arm_backstop()
        else:
            faulthandler.cancel_dump_traceback_later()

    def _disarm(self) -> None:
        global _threads_left_stuck
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)
        if self._fired:
            left = [thread for thread in threading.enumerate()
                    if thread not in self._threads_before
                    and not thread.daemon]
            if left:
                _threads_left_stuck = True
                sys.stderr.write(
                    f'{self._test.id()} timed out and left non-daemon '
                    f'threads running: {[t.name for t in left]}; this worker '
                    f'process will be ended {self._seconds + BACKSTOP_SECONDS}'
                    f's after its last test\n')
        self._disarm_backstop()

    def _on_alarm(self, signum: int, frame: types.FrameType | None) -> None:
        self._fired += 1
        signal.setitimer(signal.ITIMER_REAL, REPEAT_SECONDS)
        if self._fired == 1:
            self._test.addDetail(
                'thread-stacks', content.text_content(thread_stacks()))
            raise TestTimedOut(
                f'test exceeded its {self._seconds:g}s timeout '
                f'({TIMEOUT_ENV}); the stack of every thread is in the '
                f'"thread-stacks" detail')
        raise TestTimedOut(
            f'still running {(self._fired - 1) * REPEAT_SECONDS:g}s after '
            f'its timeout (interrupting a blocked clean-up or join)')
