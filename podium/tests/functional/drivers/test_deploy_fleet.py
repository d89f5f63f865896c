"""Network-boot deploys of a small fleet, end to end.

``podium serve`` with the real ``redfish`` power and management
interfaces and the ``anaconda`` deploy over ``pxe`` boot, against
Podium's Redfish simulator running its simulated installer (which calls
the API back like a kickstart would). Five nodes are enrolled, managed
and provided through the API, then deployed with ``podium node deploy
--wait``: three installers succeed, one reports an error and one never
reports after ``start`` (a hung install), which ``[conductor]
deploy_callback_timeout`` fails. The CLI must show each outcome and exit
1; the nodes' states, last_error and history must say the same; an
undeploy then takes the deployed nodes back to ``available`` with their
boot override cleared and power off. Everything is bounded: the
installer's times are under two seconds, the timeout is seconds.
"""

import json
import os
import subprocess
import time

import fixtures
import openstack

from podium.simulator import Uniform
from podium.simulator.installer import InstallerConfig
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional import redfish_serve
from podium.tests.functional.api import test_clients

NODES = 5
ERROR_NODE, SILENT_NODE = 3, 4
CALLBACK_TIMEOUT = 8


class TestDeployFleet(redfish_serve.RedfishServeTestCase):

    CONFIG = podium_fixtures.merge_configs(redfish_serve.DEPLOY_CONFIG, {
        'DEFAULT': {'enabled_deploy_interfaces': 'anaconda'},
        'conductor': {'deploy_callback_timeout': CALLBACK_TIMEOUT},
    })

    def setUp(self) -> None:
        super().setUp()
        self.sim = self.start_simulator(
            systems_per_endpoint=NODES, seed=12, name_prefix='fleet',
            installer=InstallerConfig(
                self.podium.url, boot_time=Uniform(0.2, 1.0),
                install_time=Uniform(0.3, 1.0), lookup_interval=0.2))
        self.sim.set_installer_outcome(ERROR_NODE, 'error')
        self.sim.set_installer_outcome(SILENT_NODE, 'silent')
        self.useFixture(podium_fixtures.ClientEnvironment())
        self.names = [f'fleet-{index}' for index in range(NODES)]
        for name, info in zip(self.names, self.sim.systems, strict=True):
            node = self.enrol(name, info)
            self.request('POST', '/v1/ports', 201, json={
                'node_uuid': node['uuid'], 'address': info.macs[0]})
        self.make_available(self.names)

    def test_deploy_fleet_with_failures(self) -> None:
        host_list = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'hosts.txt')
        with open(host_list, 'w', encoding='utf-8') as handle:
            handle.write('\n'.join(self.names) + '\n')
        started = time.monotonic()
        status, out, err = self.cli(
            'node', 'deploy', '--host-list', host_list, '--wait',
            '--timeout', '90', '--instance-info', 'kickstart=fleet.ks',
            '-f', 'json')
        elapsed = time.monotonic() - started
        self.assertEqual(1, status, f'{out}\n{err}')
        rows = {row['Host']: row for row in json.loads(out)}
        self.assertEqual(set(self.names), set(rows))
        for index, name in enumerate(self.names):
            row = rows[name]
            if index in (ERROR_NODE, SILENT_NODE):
                self.assertEqual('FAILED', row['Result'], row)
                self.assertEqual('deploy failed', row['Provision State'])
            else:
                self.assertEqual('SUCCESSFUL', row['Result'], row)
                self.assertEqual('active', row['Provision State'])
        self.assertIn('the installer reported an error: Simulated '
                      'installation failed', rows[self.names[ERROR_NODE]][
                          'Reason'])
        self.assertIn('Timeout reached while wait call-back',
                      rows[self.names[SILENT_NODE]]['Reason'])
        # The timeout counted from the installer's start, not for ever.
        self.assertLess(elapsed, CALLBACK_TIMEOUT + 60)

        for index, name in enumerate(self.names):
            node = self.node(name)
            self.assertEqual({'kickstart': 'fleet.ks'},
                             node['instance_info'])
            history = [event['event'] for event in self.request(
                'GET', f'/v1/nodes/{name}/history?detail=True', 200)[
                    'history']]
            self.assertIn('Installer started: Simulated installation '
                          'started', history)
            if index not in (ERROR_NODE, SILENT_NODE):
                self.assertIsNone(node['last_error'])
                self.assertIn('Installer finished: Simulated '
                              'installation finished', history)
                # Installed and booted from disk: the override is spent.
                self.assertEqual('On', self.sim.get_power(index))
                self.assertEqual('Disabled',
                                 self.sim.get_boot(index)['enabled'])
        stats = self.sim.installer_stats()['counters']
        self.assertEqual((NODES, NODES - 2, 1, 0),
                         (stats['started'], stats['succeeded'],
                          stats['failed'], stats['gave_up']))
        # A late call from the failed nodes' installers changes nothing.
        self.request('POST', f'/v1/heartbeat/{self.names[ERROR_NODE]}',
                     409, json={'callback_url': '', 'agent_token': 'x',
                                'agent_status': 'end'})

        # Undeploy the deployed nodes: power off, cleaning, available.
        deployed = [name for index, name in enumerate(self.names)
                    if index not in (ERROR_NODE, SILENT_NODE)]
        status, out, err = self.cli('node', 'undeploy', *deployed,
                                    '--wait', '--timeout', '90')
        self.assertEqual(0, status, f'{out}\n{err}')
        for index, name in enumerate(self.names):
            if name in deployed:
                self.assertEqual('available',
                                 self.node(name)['provision_state'])
                self.assertEqual('Off', self.sim.get_power(index))

        # The stock clients wait for the installer's call-back too.
        self.stock_cli('node', 'deploy', deployed[0], '--wait', '90')
        self.assertEqual('active', self.node(deployed[0])['provision_state'])
        conn = openstack.connect(auth_type='none',
                                 baremetal_endpoint_override=self.podium.url)
        self.addCleanup(conn.close)
        node = conn.baremetal.set_node_provision_state(
            deployed[0], 'rebuild', wait=True, timeout=90)
        self.assertEqual('active', node.provision_state)
        self.stock_cli('node', 'undeploy', deployed[0], '--wait', '90')
        self.assertEqual('available',
                         self.node(deployed[0])['provision_state'])

    def stock_cli(self, *args: str) -> None:
        command = [test_clients._client_bin('baremetal'), '--os-endpoint',
                   self.podium.url, '--os-auth-type', 'none',
                   '--max-retries', '0', *args]
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=redfish_serve.CLI_TIMEOUT,
                                check=False)
        self.assertEqual(0, result.returncode,
                         f'{" ".join(args)}: {result.stderr}')
