"""``podium node bios show|set|reset`` and ``node boot-mode set`` as a
subprocess against a running all-in-one Podium on fake-hardware: bulk
over several nodes, a bad one failing alone, non-zero exit, -f json
and table."""

from podium.tests.functional.cli.test_cli import CliTestCase


class HardwareCommandsTest(CliTestCase):

    def test_bios_show_set_reset(self) -> None:
        for name in ('hw-1', 'hw-2', 'hw-3'):
            self.create(name)
        self.cli('node', 'manage', 'hw-1', 'hw-2', 'hw-3', '--wait')
        # Nothing cached before inspection: each node fails, exit 1.
        rows = self.by_host(self.cli_json('node', 'bios', 'show', 'hw-1',
                                          expect=1))
        self.assertIn('inspect or clean', rows['hw-1']['Reason'])
        self.cli('node', 'inspect', 'hw-1', 'hw-2', 'hw-3', '--wait')

        host_list = self.write('hosts.txt', 'hw-1\n# spare\nhw-2\n')
        _, out, _ = self.cli('node', 'bios', 'set', '--host-list',
                             host_list, '--setting', 'ProcTurboMode=Disabled',
                             '--setting', 'NumaNodesPerSocket=2', '--wait')
        self.assertIn('reached manageable', out)
        rows = self.by_host(self.cli_json(
            'node', 'bios', 'show', 'hw-1', 'hw-2', 'hw-3',
            '--name', 'ProcTurboMode', '--name', 'NumaNodesPerSocket'))
        self.assertEqual({'hw-1': ('Disabled', '2'), 'hw-2': ('Disabled', '2'),
                          'hw-3': ('Enabled', '1')},
                         {host: (row['ProcTurboMode'],
                                 row['NumaNodesPerSocket'])
                          for host, row in rows.items()})
        self.assertTrue(all(row['Result'] == 'SUCCESSFUL'
                            for row in rows.values()))

        # A value the registry refuses fails that node only, at once.
        rows = self.by_host(self.cli_json(
            'node', 'bios', 'set', 'hw-1', 'hw-3', '--setting',
            'NumaNodesPerSocket=9', expect=1))
        self.assertEqual('FAILED', rows['hw-1']['Result'])
        self.assertIn('NumaNodesPerSocket=9 is above 4',
                      rows['hw-1']['Reason'])
        rows = self.by_host(self.cli_json(
            'node', 'bios', 'set', 'hw-1', 'nope', '--setting',
            'LogicalProc=Disabled', '--wait', expect=1))
        self.assertEqual('SUCCESSFUL', rows['hw-1']['Result'])
        self.assertEqual('FAILED', rows['nope']['Result'])

        _, out, _ = self.cli('node', 'bios', 'reset', 'hw-1', '--wait')
        self.assertIn('SUCCESSFUL', out)
        rows = self.cli_json('node', 'bios', 'show', 'hw-1')
        self.assertEqual('Enabled', rows[0]['BIOS Settings']['ProcTurboMode'])
        _, out, _ = self.cli('node', 'bios', 'show', 'hw-1', '--name',
                             'ProcTurboMode')
        self.assertIn('| hw-1 | bios show | Enabled       | SUCCESSFUL |',
                      out)

    def test_boot_mode_set(self) -> None:
        self.create('bm-1')
        self.create('bm-2')
        self.create('bm-bad', '--driver-info', 'fake_fail=BMC on fire')
        rows = self.by_host(self.cli_json(
            'node', 'boot-mode', 'set', 'bm-1', 'bm-2', 'bm-bad', 'bios',
            expect=1))
        self.assertEqual(('SUCCESSFUL', 'bios'),
                         (rows['bm-1']['Result'], rows['bm-1']['Boot Mode']))
        self.assertEqual('FAILED', rows['bm-bad']['Result'])
        self.assertIn('BMC on fire', rows['bm-bad']['Reason'])
        _, out, _ = self.cli('node', 'show', 'bm-2', '-f', 'value', '-c',
                             'boot_mode')
        self.assertEqual('bios\n', out)
        _, _, err = self.cli('node', 'boot-mode', 'set', 'bm-1', 'legacy',
                             expect=2)
        self.assertIn('must be the boot mode, one of: uefi, bios', err)
