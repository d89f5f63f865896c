"""NMI, BMC reset and the boot order through the redfish management
interface against sushy-tools' emulator, for what it serves: its fake
driver lists the Nmi reset type but refuses it, serves a Manager with
Reset, and has no Boot.BootOrder, so Podium must say each clearly
rather than claim success."""

from podium.common import exceptions
from podium.drivers import boot_order
from podium.drivers.modules.redfish import management
from podium.tests import base
from podium.tests.functional.drivers import emulators


class TestSushyToolsManagementActions(base.TestCase):

    def test_what_the_emulator_serves(self) -> None:
        emulator, task = emulators.one_system_task(self)
        mgmt = management.RedfishManagement()
        exc = self.assertRaises(exceptions.UnsupportedDriverExtension,
                                mgmt.get_boot_order, task)
        self.assertIn('no Boot.BootOrder', str(exc))
        exc = self.assertRaises(
            exceptions.UnsupportedDriverExtension, mgmt.set_boot_order,
            task, boot_order.OrderRequest(devices=('pxe',)))
        self.assertIn('no Boot.BootOrder', str(exc))
        exc = self.assertRaises(exceptions.PodiumException,
                                mgmt.inject_nmi, task)
        self.assertIn('Nmi', str(exc))
