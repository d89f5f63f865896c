"""Many IPMI BMCs logged into at once through the driver.

pyghmi's stock client can lose a wake-up when many sessions log in at
the same moment, leaving one login stuck for about 24 s. Power sync does
exactly that on its first cycle over an IPMI fleet, so the driver's
compatibility layer must keep every first login prompt.
"""

import concurrent.futures

from podium.common import states
from podium.drivers.modules.ipmi import client, power
from podium.simulator.ipmi import IpmiSimulator
from podium.tests import base
from podium.tests.unit.drivers import helpers

BMCS = 120
TIMEOUT = 10.0


class ConcurrentFirstLoginsTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.sim = IpmiSimulator(count=BMCS, username='admin',
                                 password='secret-pw', seed=7).start()
        self.addCleanup(self.sim.stop)
        self.addCleanup(client.CLIENTS.clear)

    def test_every_bmc_answers_when_all_log_in_at_once(self) -> None:
        interface = power.IPMIPower()
        tasks = [helpers.task_for({
            'ipmi_address': bmc.address, 'ipmi_port': bmc.port,
            'ipmi_username': 'admin', 'ipmi_password': 'secret-pw'},
            timeout=TIMEOUT, driver='ipmi') for bmc in self.sim.bmcs]
        for index, task in enumerate(tasks):
            task.node.id = index
        with concurrent.futures.ThreadPoolExecutor(BMCS) as readers:
            answers = list(readers.map(interface.get_power_state, tasks))
        self.assertEqual([states.POWER_OFF] * BMCS, answers)
        self.sim.set_power(self.sim.bmcs[5], 'On')
        # Sessions are reused: the second round needs no login.
        self.assertEqual(states.POWER_ON,
                         interface.get_power_state(tasks[5]))
