"""NMI, BMC reset and the boot order (the persistent boot device) of
the ipmi management interface against Podium's IPMI simulator, which
counts the diagnostic interrupts and cold resets it receives.

A functional test rather than a unit test: the driver's pyghmi sessions
live in process-wide state that the simulator's unit tests, which drive
pyghmi from their own thread, share when they run in the same worker.
"""

from typing import Any

from podium.common import exceptions
from podium.drivers import boot_order
from podium.drivers.modules.ipmi import management as ipmi_management
from podium.simulator.ipmi_process import IpmiSimulatorProcess
from podium.tests import base
from podium.tests.unit.drivers import helpers
from podium.tests.unit.simulator.test_ipmi import (
    stop_ipmi_reactor,
    unique_password,
)

MAC = '52:54:00:00:00:0a'


def refs(options: list[boot_order.BootOption]) -> list[str]:
    return [option.ref for option in options]


class IPMIManagementActionsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        stop_ipmi_reactor()
        self.sim = IpmiSimulatorProcess(count=1, seed=5,
                                        password=unique_password()).start()
        self.addCleanup(self.sim.stop)
        # First (cleanups run last in, first out): the reactor logs its
        # sessions out while the BMC still answers, so pyghmi keeps no
        # session registered for the BMC's address and port, which a
        # later test's BMC may get again (its packets would go to ours).
        self.addCleanup(stop_ipmi_reactor)
        self.config(command_timeout=3, group='ipmi')
        info = self.sim.bmcs[0]
        self.task = helpers.task_for(
            {'ipmi_address': info.address, 'ipmi_port': info.port,
             'ipmi_username': info.username,
             'ipmi_password': info.password}, 10.0, driver='ipmi')
        self.mgmt = ipmi_management.IPMIManagement()

    def bmc(self) -> dict[str, Any]:
        return dict(self.sim.stats()['bmcs'][0])

    def test_nmi_and_cold_reset(self) -> None:
        self.mgmt.inject_nmi(self.task)
        self.assertEqual(1, self.bmc()['nmis'])
        self.mgmt.reset_bmc(self.task)
        self.assertEqual(1, self.bmc()['cold_resets'])

    def test_boot_order_is_the_persistent_boot_device(self) -> None:
        self.assertEqual([], self.mgmt.get_boot_order(self.task))
        now = self.mgmt.set_boot_order(
            self.task, boot_order.OrderRequest(devices=('pxe',)))
        self.assertEqual(['pxe'], refs(now))
        self.assertEqual(('network', True), (self.bmc()['boot_device'],
                                             self.bmc()['boot_persistent']))
        self.assertTrue(self.mgmt.check_boot_order(
            self.task, boot_order.OrderRequest(devices=('pxe',))).matches)
        self.assertFalse(self.mgmt.check_boot_order(
            self.task, boot_order.OrderRequest(devices=('disk',))).matches)
        for request in (boot_order.OrderRequest(devices=('pxe', 'disk')),
                        boot_order.OrderRequest(mac=MAC)):
            exc = self.assertRaises(exceptions.InvalidParameterValue,
                                    self.mgmt.set_boot_order, self.task,
                                    request)
            self.assertIn('IPMI sets only a persistent boot device',
                          str(exc))
