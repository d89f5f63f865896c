"""A real ``podium-conductor`` process stopped by SIGTERM mid-action."""

import signal
import subprocess

from podium.common import states
from podium.conf import CONF
from podium.db import api as db_api
from podium.tests import base
from podium.tests.unit import process
from podium.tests.unit.conductor import utils
from podium.tests.unit.conductor.utils import wait_for

HOST = 'functional-conductor'

CONFIG = """
[DEFAULT]
host = {host}
state_path = {state}
rpc_transport = local
enabled_hardware_types = fake-hardware
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_inspect_interfaces = fake,no-inspect

[database]
connection = {connection}

[conductor]
sync_power_state_interval = 1
force_power_state_during_sync = true
heartbeat_interval = 1
graceful_shutdown_timeout = 30
"""


class TestSigterm(base.DbTestCase):

    def start_conductor(self) -> subprocess.Popen[str]:
        self.conductor = self.useFixture(process.ConductorProcess(
            self.state_dir, CONFIG.format(
                host=HOST, state=self.state_dir,
                connection=CONF.database.connection)))
        return self.conductor.child

    def output(self) -> str:
        return self.conductor.output()

    def test_sigterm_mid_action(self) -> None:
        # The recorded state is "on" but the BMC says "off": the sync of
        # the conductor pushes "on" back, under the node's lock, through
        # a BMC that takes two seconds per call.
        node = db_api.create_node(utils.verified({
            'name': 'slow', 'driver': 'fake-hardware',
            'power_state': states.POWER_ON,
            'driver_info': {'fake_delay': 2},
            'driver_internal_info': {'fake_power_state': states.POWER_OFF}}))
        child = self.start_conductor()
        wait_for(lambda: db_api.get_node(node.id).reservation == HOST
                 or child.poll() is not None,
                 timeout=process.TIMEOUT, interval=0.02,
                 what='the conductor to lock the node')
        self.assertIsNone(child.poll(), self.output())
        child.send_signal(signal.SIGTERM)
        self.assertEqual(0, child.wait(process.TIMEOUT), self.output())

        stored = db_api.get_node(node.id)
        # The action finished...
        self.assertEqual(states.POWER_ON,
                         stored.driver_internal_info['fake_power_state'])
        # ...its lock was released, and the conductor left.
        self.assertIsNone(stored.reservation)
        self.assertFalse(db_api.get_conductor(HOST).online)
        output = self.output()
        self.assertNotIn('Traceback', output)
        self.assertIn('pushed back to power on', output)
