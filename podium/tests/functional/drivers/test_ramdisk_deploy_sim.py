"""The ``ramdisk`` deploy over Redfish virtual media, end to end.

``podium serve`` with the real ``redfish`` power and management
interfaces and the ``ramdisk`` deploy interface, against Podium's
Redfish simulator (three systems behind one BMC: each system's own
VirtualMedia). ``podium node deploy --boot-iso URL --wait`` inserts the
ISO, sets a one-time CD boot and powers the nodes on; they become
``active`` once the simulated BMC booted the ISO (the periodic check
runs every second here). A rebuild boots a new ISO; an undeploy ejects
it and powers the nodes off. A URL the BMC cannot fetch is refused by
the CLI before any request.
"""

import json
import os
import subprocess
import sys
import time
from typing import Any

import requests

from podium.simulator import Simulator
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

NODES = 3
CLI_TIMEOUT = 120
ISO = 'http://images.example.com/live.iso'
LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}
CONFIG = {
    'DEFAULT': {
        'enabled_hardware_types': 'redfish',
        'enabled_power_interfaces': 'redfish',
        'enabled_management_interfaces': 'redfish',
        'enabled_inspect_interfaces': 'redfish,no-inspect',
        'enabled_boot_interfaces': 'pxe',
        'enabled_deploy_interfaces': 'ramdisk',
    },
    'conductor': {
        'deploy_callback_timeout': 60,
        'check_provision_state_interval': 1,
        'sync_power_state_interval': 0,
        'action_timeout': 30,
    },
    'deploy': {'ramdisk_boot_check_interval': 1},
    'redfish': {'power_state_poll_interval': 0.2, 'request_timeout': 5},
}


class TestRamdiskDeploy(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.podium = self.useFixture(podium_fixtures.AllInOne(CONFIG))
        self.sim = Simulator(systems_per_endpoint=NODES, seed=21,
                             name_prefix='iso')
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.names = [f'iso-{index}' for index in range(NODES)]
        for index, info in enumerate(self.sim.systems):
            self.request('POST', '/v1/nodes', 201, json={
                'name': self.names[index], 'driver': 'redfish',
                'deploy_interface': 'ramdisk',
                'driver_info': {'redfish_address': info.address,
                                'redfish_system_id': info.system_id,
                                'redfish_username': info.username,
                                'redfish_password': info.password}})
        for target, state in (('manage', 'manageable'),
                              ('provide', 'available')):
            for name in self.names:
                self.request('PUT', f'/v1/nodes/{name}/states/provision',
                             202, json={'target': target})
            for name in self.names:
                self.wait_state(name, state)

    def request(self, method: str, path: str, status: int,
                **kwargs: Any) -> Any:
        response = requests.request(method, self.podium.url + path,
                                    headers=LATEST, timeout=30, **kwargs)
        self.assertEqual(status, response.status_code, response.text)
        return response.json() if response.content else None

    def node(self, name: str) -> dict[str, Any]:
        return dict(self.request('GET', f'/v1/nodes/{name}', 200))

    def wait_state(self, name: str, state: str,
                   timeout: float = 60.0) -> dict[str, Any]:
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
        environ = dict(os.environ, PODIUM_URL=self.podium.url)
        result = subprocess.run(
            [sys.executable, '-m', 'podium.cli', *args], env=environ,
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
            check=False)
        self.assertNotIn('Traceback', result.stderr, result.stderr)
        return result.returncode, result.stdout, result.stderr

    def test_deploy_rebuild_undeploy(self) -> None:
        status, out, err = self.cli(
            'node', 'deploy', *self.names, '--boot-iso', ISO, '--wait',
            '--timeout', '90', '-f', 'json')
        self.assertEqual(0, status, f'{out}\n{err}')
        rows = {row['Host']: row for row in json.loads(out)}
        self.assertEqual({'active'}, {row['Provision State']
                                      for row in rows.values()})
        for index, name in enumerate(self.names):
            self.assertEqual({'boot_iso': ISO},
                             self.node(name)['instance_info'])
            self.assertEqual('On', self.sim.get_power(index))
            self.assertEqual({'images': {'Cd': ISO}, 'booted_image': ISO},
                             self.sim.get_vmedia(index))

        status, out, err = self.cli(
            'node', 'rebuild', self.names[0], '--boot-iso', ISO + '2',
            '--wait', '--timeout', '90')
        self.assertEqual(0, status, f'{out}\n{err}')
        self.assertEqual({'images': {'Cd': ISO + '2'},
                          'booted_image': ISO + '2'},
                         self.sim.get_vmedia(0))

        status, out, err = self.cli('node', 'undeploy', *self.names,
                                    '--wait', '--timeout', '90')
        self.assertEqual(0, status, f'{out}\n{err}')
        for index, name in enumerate(self.names):
            self.assertEqual('available', self.node(name)['provision_state'])
            self.assertEqual('Off', self.sim.get_power(index))
            self.assertEqual({}, self.sim.get_vmedia(index)['images'])

        status, _, err = self.cli('node', 'deploy', self.names[0],
                                  '--boot-iso', 'nfs://h/live.iso')
        self.assertEqual(1, status)
        self.assertIn('--boot-iso must be an http or https URL', err)
        self.assertEqual('available',
                         self.node(self.names[0])['provision_state'])
