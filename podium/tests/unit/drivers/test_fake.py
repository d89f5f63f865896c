"""The fake-hardware interfaces: state in the node, injectable trouble."""

import dataclasses
import time
from typing import Any

from podium.common import exceptions, states
from podium.db import api as db_api
from podium.drivers import driver_factory
from podium.drivers.modules import fake
from podium.tests import base


@dataclasses.dataclass
class _Task:
    node: Any
    timeout: float = 5.0
    shared: bool = False


class FakeTestCase(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.use_fake_drivers()
        self.node = db_api.create_node({'name': 'fake-1',
                                        'driver': 'fake-hardware'})
        self.power = fake.FakePower()
        self.management = fake.FakeManagement()

    def task(self, timeout: float = 5.0, **driver_info: Any) -> _Task:
        node = db_api.update_node(self.node.id,
                                  {'driver_info': driver_info})
        return _Task(node, timeout)


class TestFakePower(FakeTestCase):

    def test_loaded_by_the_registry(self) -> None:
        driver = driver_factory.get_registry().for_node(self.node)
        self.assertIsInstance(driver.power, fake.FakePower)
        self.assertIsInstance(driver.management, fake.FakeManagement)
        self.assertIsInstance(driver.inspect, fake.FakeInspect)

    def test_state_kept_in_the_node(self) -> None:
        task = self.task()
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(task))
        self.power.set_power_state(task, states.POWER_ON)
        stored = db_api.get_node(self.node.id)
        self.assertEqual(states.POWER_ON,
                         stored.driver_internal_info['fake_power_state'])
        self.assertEqual(states.POWER_ON,
                         self.power.get_power_state(_Task(stored)))
        self.power.set_power_state(task, states.SOFT_POWER_OFF)
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(task))
        self.power.reboot(task)
        self.assertEqual(states.POWER_ON, self.power.get_power_state(task))

    def test_unknown_state_refused(self) -> None:
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.power.set_power_state, self.task(), 'up')

    def test_fail(self) -> None:
        error = self.assertRaises(exceptions.DriverError,
                                  self.power.get_power_state,
                                  self.task(fake_fail='BMC on fire'))
        self.assertIn('BMC on fire', str(error))

    def test_hang_lasts_the_timeout_then_fails(self) -> None:
        task = self.task(timeout=0.2, fake_hang=True)
        started = time.monotonic()
        self.assertRaises(exceptions.BMCTimeout, self.power.get_power_state,
                          task)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)

    def test_delay_beyond_the_timeout_fails(self) -> None:
        self.assertRaises(exceptions.BMCTimeout, self.power.get_power_state,
                          self.task(timeout=0.05, fake_delay=10))
        self.assertEqual(states.POWER_OFF, self.power.get_power_state(
            self.task(timeout=1, fake_delay=0.01)))

    def test_validate(self) -> None:
        self.power.validate(self.task(fake_delay=1, fake_hang='no').node)
        for info, key in (({'fake_delay': -1}, 'fake_delay'),
                          ({'fake_delay': 'x'}, 'fake_delay'),
                          ({'fake_hang': 'maybe'}, 'fake_hang')):
            error = self.assertRaises(exceptions.InvalidParameterValue,
                                      self.power.validate,
                                      self.task(**info).node)
            self.assertIn(key, str(error))
            self.assertIn('fake-1', str(error))


class TestFakeManagement(FakeTestCase):

    def test_boot_device_kept_in_the_node(self) -> None:
        task = self.task()
        self.assertEqual({'boot_device': 'disk', 'persistent': True},
                         self.management.get_boot_device(task))
        self.management.set_boot_device(task, 'pxe')
        self.assertEqual({'boot_device': 'pxe', 'persistent': False},
                         self.management.get_boot_device(task))

    def test_unsupported_device(self) -> None:
        self.assertRaises(exceptions.InvalidParameterValue,
                          self.management.set_boot_device, self.task(),
                          'usb')


class TestFakeInspect(FakeTestCase):

    def test_inventory(self) -> None:
        found = fake.FakeInspect().inspect_hardware(self.task())
        self.assertEqual({'cpus', 'cpu_arch', 'memory_mb', 'local_gb',
                          'macs', 'firmware'}, set(found))
        self.assertEqual({'bios': '1.0.0', 'bmc': '2.0.0'},
                         found['firmware'])

    def test_macs_from_driver_info_or_the_uuid(self) -> None:
        found = fake.FakeInspect().inspect_hardware(self.task())
        tail = self.node.uuid.replace('-', '')[-6:]
        self.assertEqual([f'52:54:00:{tail[0:2]}:{tail[2:4]}:{tail[4:6]}'],
                         found['macs'])
        found = fake.FakeInspect().inspect_hardware(self.task(
            fake_macs='52:54:00:AA:00:01, 52:54:00:aa:00:02'))
        self.assertEqual(['52:54:00:aa:00:01', '52:54:00:aa:00:02'],
                         found['macs'])
        node = db_api.update_node(self.node.id, {
            'driver_info': {'fake_macs': '52:54:00:aa:00:01,nope'}})
        error = self.assertRaises(exceptions.InvalidParameterValue,
                                  fake.FakeInspect().validate, node)
        self.assertIn('fake_macs: Expected a MAC address but received '
                      'nope.', str(error))
