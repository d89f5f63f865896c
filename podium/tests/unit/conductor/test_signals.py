"""Signal handling shared by podium-conductor and the all-in-one."""

import os
import signal
import threading

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
        signals.install_signal_handlers(self.service, self.on_stop.set)

    def test_sigterm_stops_gracefully_once(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        self.assertTrue(self.on_stop.wait(20))
        os.kill(os.getpid(), signal.SIGINT)
        self.assertEqual([True], self.service.stops)

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
