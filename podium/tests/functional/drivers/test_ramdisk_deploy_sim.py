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

from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional import redfish_serve

NODES = 3
ISO = 'http://images.example.com/live.iso'


class TestRamdiskDeploy(redfish_serve.RedfishServeTestCase):

    CONFIG = podium_fixtures.merge_configs(redfish_serve.DEPLOY_CONFIG, {
        'DEFAULT': {'enabled_deploy_interfaces': 'ramdisk'},
        'conductor': {'deploy_callback_timeout': 60},
        'deploy': {'ramdisk_boot_check_interval': 1},
    })

    def setUp(self) -> None:
        super().setUp()
        self.sim = self.start_simulator(systems_per_endpoint=NODES, seed=21,
                                        name_prefix='iso')
        self.names = [f'iso-{index}' for index in range(NODES)]
        for name, info in zip(self.names, self.sim.systems, strict=True):
            self.enrol(name, info, deploy_interface='ramdisk')
        self.make_available(self.names)

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
