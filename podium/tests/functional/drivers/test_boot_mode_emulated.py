"""Boot mode and secure boot through the redfish management interface,
against Podium's simulator (BootSourceOverrideMode; no SecureBoot
resource) and sushy-tools' emulator (both)."""

from podium.common import exceptions, states
from podium.drivers.modules.redfish import connection, management
from podium.simulator import Simulator
from podium.tests import base
from podium.tests.functional.drivers import emulators
from podium.tests.unit.drivers import helpers


class TestPodiumSimulatorBootMode(base.TestCase):

    def test_boot_mode_set_and_read_back(self) -> None:
        sim = Simulator(endpoints=1, systems_per_endpoint=1, seed=3,
                        password='Bm-sim-Pw4')
        sim.start()
        self.addCleanup(sim.stop)
        self.config(request_timeout=5, group='redfish')
        self.addCleanup(connection.CACHE.clear)
        system = sim.systems[0]
        task = helpers.task_for(system.driver_info(), 30.0)
        mgmt = management.RedfishManagement()
        self.assertEqual(states.BOOT_MODE_UEFI, mgmt.get_boot_mode(task))
        mgmt.set_boot_mode(task, states.BOOT_MODE_BIOS)
        self.assertEqual('Legacy', sim.get_boot(0)['mode'])
        self.assertEqual(states.BOOT_MODE_BIOS, mgmt.get_boot_mode(task))
        mgmt.set_boot_mode(task, states.BOOT_MODE_UEFI)
        self.assertEqual('UEFI', sim.get_boot(0)['mode'])
        # No SecureBoot resource: unknown, and a change is refused.
        self.assertIsNone(mgmt.get_secure_boot_state(task))
        exc = self.assertRaises(exceptions.UnsupportedDriverExtension,
                                mgmt.set_secure_boot_state, task, True)
        self.assertIn('no SecureBoot resource', str(exc))


class TestSushyToolsBootMode(base.TestCase):

    def test_boot_mode_and_secure_boot(self) -> None:
        emulator, task = emulators.one_system_task(self)
        mgmt = management.RedfishManagement()
        mgmt.set_boot_mode(task, states.BOOT_MODE_BIOS)
        self.assertEqual(states.BOOT_MODE_BIOS, mgmt.get_boot_mode(task))
        self.assertEqual('Legacy', emulator.get(
            emulator.systems[0]['path'])['Boot']['BootSourceOverrideMode'])
        mgmt.set_boot_mode(task, states.BOOT_MODE_UEFI)
        self.assertEqual(states.BOOT_MODE_UEFI, mgmt.get_boot_mode(task))
        mgmt.set_secure_boot_state(task, True)
        self.assertIs(True, mgmt.get_secure_boot_state(task))
        mgmt.set_secure_boot_state(task, False)
        self.assertIs(False, mgmt.get_secure_boot_state(task))
