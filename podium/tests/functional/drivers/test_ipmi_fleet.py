"""Many IPMI BMCs logged into at once through the driver.

Power sync does exactly this on its first cycle over an IPMI fleet: every
login must be prompt, and none may wait for another BMC's. The BMCs are
pyghmi's fake BMC in a child process, so the only pyghmi code in this
process is the driver's.
"""

import threading

from podium.common import states
from podium.drivers.modules.ipmi import power, reactor
from podium.tests import base, threads
from podium.tests.functional.drivers import emulators
from podium.tests.unit.drivers import helpers

BMCS = 120
TIMEOUT = 10.0


class ConcurrentFirstLoginsTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.bmcs = self.useFixture(emulators.FakeIpmiBmcs(count=BMCS))
        self.addCleanup(reactor.REACTOR.clear)

    def test_every_bmc_answers_when_all_log_in_at_once(self) -> None:
        interface = power.IPMIPower()
        tasks = [helpers.task_for(self.bmcs.driver_info(index),
                                  timeout=TIMEOUT, driver='ipmi')
                 for index in range(BMCS)]
        for index, task in enumerate(tasks):
            task.node.id = index
        readers = threads.DaemonExecutor(BMCS)
        self.addCleanup(readers.shutdown, wait=False, cancel_futures=True)
        futures = [readers.submit(interface.get_power_state, task)
                   for task in tasks]
        answers = [future.result(TIMEOUT + 5) for future in futures]
        self.assertEqual([states.POWER_OFF] * BMCS, answers)
        self.bmcs.set_power(5, 'on')
        # Sessions are reused: the second round needs no login.
        self.assertEqual(states.POWER_ON,
                         interface.get_power_state(tasks[5]))
        self.assertEqual(BMCS, reactor.REACTOR.sessions())
        # Only the reactor thread ever ran pyghmi code.
        self.assertIn('podium-ipmi-reactor',
                      [t.name for t in threading.enumerate()])
