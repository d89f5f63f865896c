"""The ipmi boot mode (the EFI boot type bit of the boot flags) against
pyghmi's fake BMC (a child process that keeps the bit)."""

from podium.common import exceptions, states
from podium.drivers.modules.ipmi import management, reactor
from podium.tests import base
from podium.tests.functional.drivers import emulators
from podium.tests.unit.drivers import helpers


class IPMIBootModeTestCase(base.TestCase):

    def test_boot_mode_keeps_the_device_and_back(self) -> None:
        bmcs = self.useFixture(emulators.FakeIpmiBmcs(count=1))
        self.useFixture(helpers.SecretsNotLogged(emulators.PASSWORD))
        self.config(command_timeout=3, group='ipmi')
        self.addCleanup(reactor.REACTOR.clear)
        mgmt = management.IPMIManagement()
        task = helpers.task_for(bmcs.driver_info(0), 10.0, driver='ipmi')
        mgmt.set_boot_device(task, states.BOOT_DEVICE_PXE, persistent=True)
        self.assertEqual(states.BOOT_MODE_BIOS, mgmt.get_boot_mode(task))
        mgmt.set_boot_mode(task, states.BOOT_MODE_UEFI)
        self.assertEqual(states.BOOT_MODE_UEFI, mgmt.get_boot_mode(task))
        # The override survived the mode change.
        self.assertEqual({'boot_device': states.BOOT_DEVICE_PXE,
                          'persistent': True}, mgmt.get_boot_device(task))
        self.assertEqual(('off', 'network', True), bmcs.state(0))
        # A device set on a node recorded as UEFI keeps the EFI bit.
        task.node.boot_mode = states.BOOT_MODE_UEFI  # type: ignore[attr-defined]
        mgmt.set_boot_device(task, states.BOOT_DEVICE_DISK)
        self.assertEqual(states.BOOT_MODE_UEFI, mgmt.get_boot_mode(task))
        mgmt.set_boot_mode(task, states.BOOT_MODE_BIOS)
        self.assertEqual(states.BOOT_MODE_BIOS, mgmt.get_boot_mode(task))
        # Secure boot is not in IPMI.
        self.assertIsNone(mgmt.get_secure_boot_state(task))
        self.assertRaises(exceptions.UnsupportedDriverExtension,
                          mgmt.set_secure_boot_state, task, True)
