"""``podium serve`` with the real Redfish interfaces against Podium's
Redfish simulator: the set-up, requests and waits that the end-to-end
Redfish tests (management actions, ramdisk deploy, fleet deploy) share.
"""

import os
import subprocess
import sys
import time
from typing import Any, ClassVar

import requests

from podium.simulator import Simulator
from podium.simulator.reach import SystemInfo
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

CLI_TIMEOUT = 120
LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}

#: The real Redfish interfaces, and no periodic power sync to race with
#: what a test reads.
CONFIG: podium_fixtures.Config = {
    'DEFAULT': {
        'enabled_hardware_types': 'redfish',
        'enabled_power_interfaces': 'redfish',
        'enabled_management_interfaces': 'redfish',
        'enabled_inspect_interfaces': 'redfish,no-inspect',
    },
    'conductor': {'sync_power_state_interval': 0, 'action_timeout': 30},
    'redfish': {'request_timeout': 5},
}

#: :data:`CONFIG` for deploys: PXE boot, the provision check every
#: second and quick power polling, so that waits stay short.
DEPLOY_CONFIG = podium_fixtures.merge_configs(CONFIG, {
    'DEFAULT': {'enabled_boot_interfaces': 'pxe'},
    'conductor': {'check_provision_state_interval': 1},
    'redfish': {'power_state_poll_interval': 0.2},
})


class RedfishServeTestCase(base.TestCase):
    """``podium serve`` running :attr:`CONFIG` for every test."""

    CONFIG: ClassVar[podium_fixtures.Config] = CONFIG

    def setUp(self) -> None:
        super().setUp()
        self.podium = self.useFixture(podium_fixtures.AllInOne(self.CONFIG))

    def start_simulator(self, **kwargs: Any) -> Simulator:
        """A running Redfish simulator, stopped after the test."""
        sim = Simulator(**kwargs)
        sim.start()
        self.addCleanup(sim.stop)
        return sim

    def request(self, method: str, path: str, status: int,
                **kwargs: Any) -> Any:
        """An API request at the newest microversion, expecting
        ``status``; its JSON body, if any."""
        response = requests.request(method, self.podium.url + path,
                                    headers=LATEST, timeout=30, **kwargs)
        self.assertEqual(status, response.status_code, response.text)
        return response.json() if response.content else None

    def node(self, name: str) -> dict[str, Any]:
        return dict(self.request('GET', f'/v1/nodes/{name}', 200))

    def enrol(self, name: str, system: SystemInfo,
              **fields: Any) -> dict[str, Any]:
        """Enrol ``system`` as the ``redfish`` node ``name``."""
        return dict(self.request('POST', '/v1/nodes', 201, json={
            'name': name, 'driver': 'redfish',
            'driver_info': system.driver_info(), **fields}))

    def make_available(self, names: list[str]) -> None:
        """Take the enrolled nodes ``names`` to ``available``, all at
        once through each state."""
        for target, state in (('manage', 'manageable'),
                              ('provide', 'available')):
            for name in names:
                self.request('PUT', f'/v1/nodes/{name}/states/provision',
                             202, json={'target': target})
            for name in names:
                self.wait_state(name, state)

    def wait_state(self, name: str, state: str,
                   timeout: float = 60.0) -> dict[str, Any]:
        """Wait until node ``name`` rests in provision state ``state``
        (no target, no lock); the node."""
        deadline = time.monotonic() + timeout
        while True:
            node = self.node(name)
            if node['provision_state'] == state and \
                    node['reservation'] is None and \
                    not node['target_provision_state']:
                return node
            if time.monotonic() > deadline:
                self.fail(f'{name} did not reach {state}: {node}\n'
                          f'{self.podium.process.log_tail()}')
            time.sleep(0.2)

    def cli(self, *args: str) -> tuple[int, str, str]:
        """``podium`` CLI against this service: (status, stdout,
        stderr); a traceback fails the test."""
        environ = dict(os.environ, PODIUM_URL=self.podium.url)
        result = subprocess.run(
            [sys.executable, '-m', 'podium.cli', *args], env=environ,
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
            check=False)
        self.assertNotIn('Traceback', result.stderr, result.stderr)
        return result.returncode, result.stdout, result.stderr
