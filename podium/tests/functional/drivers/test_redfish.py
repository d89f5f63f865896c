"""The redfish interfaces against sushy-tools' emulator (fake driver).

The emulator applies a power transition 0-11 s after the request, so
every action test waits with a generous deadline, and the actions of
different nodes run in parallel to keep the suite short.
"""

import concurrent.futures
import time

from podium.common import exceptions, states
from podium.drivers.modules.redfish import (
    connection,
    inspect,
    management,
    power,
)
from podium.tests import base, threads
from podium.tests.functional.drivers import emulators
from podium.tests.functional.fault_proxy import FaultProxy
from podium.tests.unit.drivers import helpers

#: Seconds a power action may take on the emulator (random delay <= 11).
ACTION_TIMEOUT = 30.0


class RedfishEmulatorTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.emulator = self.useFixture(emulators.SushyEmulator(count=4))
        self.secrets = self.useFixture(
            helpers.SecretsNotLogged(emulators.PASSWORD, 'wrong-Pw-93x'))
        self.config(power_state_poll_interval=0.5, request_timeout=5,
                    group='redfish')
        self.addCleanup(connection.CACHE.clear)
        self.power = power.RedfishPower()

    def task(self, index: int, timeout: float = ACTION_TIMEOUT,
             **overrides: str) -> helpers.Task:
        info = dict(self.emulator.driver_info(index), **overrides)
        return helpers.task_for(info, timeout)

    def assert_fails(self, error: type[Exception], call: object,
                     *args: object) -> Exception:
        exc = self.assertRaises(error, call, *args)
        self.secrets.check(str(exc))
        return exc

    def test_power_actions_and_read_back(self) -> None:
        self.emulator.reset_system(3, 'On')  # on, for the soft off
        actions = [(0, states.POWER_ON, states.POWER_ON),
                   (1, states.REBOOT, states.POWER_ON),
                   (2, states.POWER_OFF, states.POWER_OFF),
                   (3, states.SOFT_POWER_OFF, states.POWER_OFF)]
        with threads.executor(len(actions)) as pool:
            # Node 3's out-of-band "On" must land before its soft off.
            deadline = time.monotonic() + ACTION_TIMEOUT
            while (self.emulator.power(3) != 'On'
                   and time.monotonic() < deadline):
                time.sleep(0.5)
            futures = {
                pool.submit(self.power.set_power_state, self.task(i), target,
                            ACTION_TIMEOUT): (i, expected)
                for i, target, expected in actions}
            for future in concurrent.futures.as_completed(futures):
                future.result()
        for index, _target, expected in actions:
            self.assertEqual(expected,
                             self.power.get_power_state(self.task(index)))
            self.assertEqual(
                'On' if expected == states.POWER_ON else 'Off',
                self.emulator.power(index))

    def test_boot_device(self) -> None:
        mgmt = management.RedfishManagement()
        task = self.task(0)
        supported = mgmt.get_supported_boot_devices(task)
        self.assertEqual({states.BOOT_DEVICE_PXE, states.BOOT_DEVICE_DISK,
                          states.BOOT_DEVICE_CDROM}, set(supported))
        mgmt.set_boot_device(task, states.BOOT_DEVICE_PXE, persistent=True)
        self.assertEqual({'boot_device': states.BOOT_DEVICE_PXE,
                          'persistent': True}, mgmt.get_boot_device(task))
        self.assertEqual('Pxe', self.emulator.get(
            self.emulator.systems[0]['path'])['Boot'][
                'BootSourceOverrideTarget'])
        exc = self.assert_fails(exceptions.InvalidParameterValue,
                                mgmt.set_boot_device, task,
                                states.BOOT_DEVICE_BIOS)
        self.assertIn('bios', str(exc))

    def test_inspect(self) -> None:
        found = inspect.RedfishInspect().inspect_hardware(self.task(0))
        self.assertEqual([self.emulator.systems[0]['mac']], found['macs'])
        self.assertEqual(99, found['local_gb'])  # 100 GiB less 1
        other = inspect.RedfishInspect().inspect_hardware(self.task(1))
        self.assertNotIn('local_gb', other)  # that system has no storage

    def test_wrong_credentials(self) -> None:
        exc = self.assert_fails(exceptions.BMCAuthError,
                                self.power.get_power_state,
                                self.task(0, redfish_password='wrong-Pw-93x'))
        self.assertIn('401', str(exc))
        self.assertIn('redfish_password', str(exc))
        # The right password works at once: a new connection is used.
        self.assertEqual(states.POWER_OFF,
                         self.power.get_power_state(self.task(0)))

    def test_unreachable_bmc(self) -> None:
        port = emulators.free_port()
        exc = self.assert_fails(
            exceptions.DriverError, self.power.get_power_state,
            self.task(0, timeout=5,
                      redfish_address=f'http://127.0.0.1:{port}'))
        self.assertIn('cannot reach', str(exc))
        self.assertIn(str(port), str(exc))

    def test_hung_bmc_does_not_affect_a_healthy_one(self) -> None:
        proxy = self.useFixture(FaultProxy(('127.0.0.1', self.emulator.port),
                                           mode='hang'))
        # The task's timeout, not the longer request timeout, bounds it.
        self.config(request_timeout=60, group='redfish')
        hung = self.task(0, timeout=2, redfish_address=proxy.address)
        healthy = self.task(1, timeout=2)

        def timed(call: object, task: helpers.Task) -> tuple[object, float]:
            started = time.monotonic()
            try:
                result = call(task)  # type: ignore[operator]
            except Exception as exc:
                result = exc
            return result, time.monotonic() - started

        with threads.executor(2) as pool:
            hung_f = pool.submit(timed, self.power.get_power_state, hung)
            healthy_f = pool.submit(timed, self.power.get_power_state,
                                    healthy)
            hung_result, hung_secs = hung_f.result(30)
            healthy_result, healthy_secs = healthy_f.result(30)
        self.assertIsInstance(hung_result, exceptions.BMCTimeout)
        self.secrets.check(str(hung_result))
        self.assertIn('did not answer within 2 seconds', str(hung_result))
        self.assertLess(hung_secs, 2 + 3)  # the budget plus scheduling
        self.assertEqual(states.POWER_OFF, healthy_result)
        self.assertLess(healthy_secs, hung_secs)

    def test_reset_and_slow_bmc(self) -> None:
        proxy = self.useFixture(FaultProxy(('127.0.0.1', self.emulator.port),
                                           mode='reset'))
        task = self.task(0, timeout=5, redfish_address=proxy.address)
        exc = self.assert_fails(exceptions.DriverError,
                                self.power.get_power_state, task)
        self.assertIn(proxy.address, str(exc))
        proxy.set_mode('pass', delay=0.2)  # slow, within the budget
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(task))

    def test_read_sees_out_of_band_change(self) -> None:
        tasks = [self.task(i) for i in range(self.emulator.count)]

        def read_all() -> list[str]:
            return [self.power.get_power_state(task) for task in tasks]

        self.assertEqual([states.POWER_OFF] * len(tasks), read_all())
        # sushy-tools does not serve $expand: its nodes are not batched
        # (power sync reads them alone, in parallel).
        self.assertEqual({None}, {self.power.batch_key(task.node)
                                  for task in tasks})
        self.assertEqual({}, self.power.get_power_states(tasks))
        self.emulator.reset_system(2, 'On')  # out of band, on the emulator
        deadline = time.monotonic() + ACTION_TIMEOUT
        while True:
            result = read_all()
            if result[2] == states.POWER_ON:
                break
            self.assertLess(time.monotonic(), deadline,
                            'the read never saw the change')
            time.sleep(0.5)
        for index in (0, 1, 3):
            self.assertEqual(states.POWER_OFF, result[index])
