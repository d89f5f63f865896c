"""BMC calls a caller waits for run on the pool, within a deadline."""

import threading
from unittest import mock

from podium.common import exceptions
from podium.conductor import manager as manager_mod
from podium.drivers.modules import fake
from podium.tests.unit.conductor import test_manager


class TestWaitedCalls(test_manager.ManagerTestCase):

    def fill_pool(self) -> None:
        gate = threading.Event()
        self.addCleanup(gate.set)
        # 6 workers: 1 periodic slot, 5 for actions.
        for _ in range(5):
            self.pool.spawn(gate.wait, 30)

    def test_full_pool_refuses_at_once(self) -> None:
        self.fill_pool()
        calls = [
            lambda: self.manager.get_boot_device(self.context, 'node-1'),
            lambda: self.manager.set_boot_device(self.context, 'node-1',
                                                 'pxe'),
            lambda: self.manager.get_supported_boot_devices(self.context,
                                                            'node-1'),
            lambda: self.manager.validate_driver_interfaces(self.context,
                                                            'node-1'),
        ]
        for call in calls:
            error = self.assertRaises(exceptions.NoFreeConductorWorker, call)
            self.assertEqual(503, error.code)
        # Nothing stays locked by a refused call.
        self.assertIsNone(self.stored().reservation)

    def test_calls_run_in_a_pool_worker(self) -> None:
        callers = []
        original = fake.FakeManagement.get_boot_device

        def record(interface: object, task: object) -> object:
            callers.append(threading.current_thread())
            return original(interface, task)  # type: ignore[arg-type]

        with mock.patch.object(fake.FakeManagement, 'get_boot_device',
                               record):
            self.manager.get_boot_device(self.context, 'node-1')
        self.assertEqual(1, len(callers))
        self.assertIsNot(threading.current_thread(), callers[0])

    def test_wait_ends_at_the_deadline(self) -> None:
        self.config(action_timeout=0.2, group='conductor')
        release = threading.Event()
        self.addCleanup(release.set)

        def hang(interface: object, task: object, device: str,
                 persistent: bool = False) -> None:
            release.wait(30)

        with mock.patch.object(manager_mod, 'WAIT_GRACE', 0.1), \
                mock.patch.object(fake.FakeManagement, 'set_boot_device',
                                  hang):
            error = self.assertRaises(
                exceptions.BMCTimeout, self.manager.set_boot_device,
                self.context, 'node-1', 'pxe')
            self.assertIn('still running', str(error))
            # The worker still owns the node's lock...
            self.assertEqual(self.HOST, self.stored().reservation)
            release.set()
            # ...and releases it when the BMC call ends.
            self.wait_unlocked()
