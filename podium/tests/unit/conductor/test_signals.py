"""Signal handling shared by podium-conductor and the all-in-one."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import fixtures

from podium.conductor import signals
from podium.conf import CONF
from podium.tests import base
from podium.tests.unit import process
from podium.tests.unit.conductor.utils import wait_for


class _Service:
    def __init__(self) -> None:
        self.stops: list[bool] = []
        self.reloads = 0
        self.stopped = threading.Event()

    def stop(self, graceful: bool = True) -> None:
        self.stops.append(graceful)
        self.stopped.set()

    def reload(self) -> None:
        self.reloads += 1


class TestSignals(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        if threading.current_thread() is not threading.main_thread():
            self.skipTest('signal handlers need the main thread')
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        self.service = _Service()
        self.on_stop = threading.Event()
        # Neither may end the test process.
        self.watchdog = self.useFixture(fixtures.MockPatchObject(
            signals, 'arm_exit_watchdog')).mock
        self.force_exit = self.useFixture(fixtures.MockPatchObject(
            signals, 'force_exit')).mock
        self.begin_stop = signals.install_signal_handlers(
            self.service, self.on_stop.set)

    def test_sigterm_stops_gracefully_then_second_signal_exits(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        self.assertTrue(self.on_stop.wait(20))
        self.assertEqual([True], self.service.stops)
        self.watchdog.assert_called_once_with()
        self.force_exit.assert_not_called()
        os.kill(os.getpid(), signal.SIGINT)
        self.force_exit.assert_called_once_with('SIGINT while stopping')

    def test_begin_stop_arms_once_and_makes_a_signal_final(self) -> None:
        self.begin_stop()
        self.begin_stop()
        self.watchdog.assert_called_once_with()
        os.kill(os.getpid(), signal.SIGTERM)
        self.force_exit.assert_called_once_with('SIGTERM while stopping')

    def test_sighup_reloads_mutable_options(self) -> None:
        path = process.write_config(
            self.state_dir, '[conductor]\nsync_power_state_workers = 5\n')
        CONF(['--config-file', path], project='podium',
             default_config_files=[])
        self.assertEqual(5, CONF.conductor.sync_power_state_workers)
        process.write_config(
            self.state_dir, '[conductor]\nsync_power_state_workers = 7\n')
        os.kill(os.getpid(), signal.SIGHUP)
        wait_for(lambda: self.service.reloads == 1, what='reload')
        self.assertEqual(7, CONF.conductor.sync_power_state_workers)
        self.assertEqual([], self.service.stops)


# A process whose stop leaves a worker stuck in a library call: the
# interpreter's exit would join it for ever.
_STUCK_PROCESS = textwrap.dedent("""
    import concurrent.futures, logging, sys, threading
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    from podium.conf import CONF
    CONF([], project='podium', default_config_files=[])
    CONF.set_override('graceful_shutdown_timeout', 1, group='conductor')
    from podium.conductor import signals
    pool = concurrent.futures.ThreadPoolExecutor(
        1, thread_name_prefix='stuck-worker')
    pool.submit(threading.Event().wait)
    hang_in_stop = sys.argv[1] == 'hang'
    class Service:
        stopped = threading.Event()
        def stop(self, graceful=True):
            if hang_in_stop:
                threading.Event().wait()
            self.stopped.set()
        def reload(self):
            pass
    service = Service()
    signals.install_signal_handlers(service)
    print('READY', flush=True)
    while not service.stopped.wait(0.2):
        pass
    signals.exit_if_stuck(settle=0.5)
""")


class TestShutdownEnds(base.TestCase):
    """A stuck worker never keeps a stopping process alive."""

    def start(self, mode: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, '-c', _STUCK_PROCESS, mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.reap, child)
        self.assertEqual('READY\n', child.stdout.readline())  # type: ignore
        return child

    def reap(self, child: subprocess.Popen[str]) -> None:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=process.TIMEOUT)

    def stopped_within(self, child: subprocess.Popen[str],
                       seconds: float) -> str:
        started = time.monotonic()
        _out, err = child.communicate(timeout=seconds + 10)
        self.assertLess(time.monotonic() - started, seconds)
        self.assertEqual(signals.EXIT_FORCED, child.returncode, err)
        return err

    def test_stuck_worker_exits_after_the_stop(self) -> None:
        child = self.start('return')
        child.send_signal(signal.SIGTERM)
        err = self.stopped_within(child, 1 + 3)
        self.assertIn('Work was still running after the graceful '
                      'shutdown timeout; exiting with status 1; still '
                      'running: stuck-worker_0 in wait', err)

    def test_stop_that_hangs_ends_at_the_watchdog(self) -> None:
        child = self.start('hang')
        child.send_signal(signal.SIGTERM)
        err = self.stopped_within(child, 1 + signals.EXIT_MARGIN + 3)
        self.assertIn('Shutdown did not finish within 6s', err)
        self.assertIn('stuck-worker_0', err)

    def test_second_signal_exits_at_once(self) -> None:
        child = self.start('hang')
        child.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        err = self.stopped_within(child, 3)
        self.assertIn('SIGINT while stopping', err)
