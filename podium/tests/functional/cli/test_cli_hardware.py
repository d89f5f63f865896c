"""``podium node bios show|set|reset``, ``node boot-mode set`` and
``node vmedia attach|detach`` as a
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

    def test_vmedia_attach_detach(self) -> None:
        self.create('vm-1')
        self.create('vm-2')
        self.create('vm-bad', '--driver-info', 'fake_fail=BMC on fire')
        iso = 'http://images.example.com/rescue.iso'
        host_list = self.write('vm.txt', 'vm-1\nvm-2\nvm-bad\n')
        code, out, err = self.cli('node', 'vmedia', 'attach', '--host-list',
                                  host_list, '--image-url', iso, expect=1)
        self.assertIn('vm-1: ', err)
        self.assertIn('| vm-1   | vmedia attach cdrom | cdrom       | '
                      f'{iso} | SUCCESSFUL |', out)
        self.assertIn('FAILED', out)
        self.assertIn('BMC on fire', out)
        rows = self.by_host(self.cli_json(
            'node', 'vmedia', 'attach', 'vm-1', '--device-type', 'usb',
            '--image-url', iso + '.img'))
        self.assertEqual(('SUCCESSFUL', 'disk'),
                         (rows['vm-1']['Result'],
                          rows['vm-1']['Device Type']))
        internal = self.cli_json('node', 'show', 'vm-1')[
            'driver_internal_info']
        self.assertEqual({'cdrom': iso, 'disk': iso + '.img'},
                         internal['fake_vmedia'])
        # Another image in a full device fails that node.
        rows = self.by_host(self.cli_json(
            'node', 'vmedia', 'attach', 'vm-1', 'vm-2', '--image-url',
            iso + '2', expect=1))
        self.assertIn('detach it first', rows['vm-1']['Reason'])
        rows = self.by_host(self.cli_json(
            'node', 'vmedia', 'detach', 'vm-1', 'vm-2', '--device-type',
            'cdrom'))
        self.assertEqual({'SUCCESSFUL'},
                         {row['Result'] for row in rows.values()})
        internal = self.cli_json('node', 'show', 'vm-1')[
            'driver_internal_info']
        self.assertEqual({'disk': iso + '.img'}, internal['fake_vmedia'])
        self.cli('node', 'vmedia', 'detach', 'vm-1')
        # A URL the BMC cannot fetch: one error line, no request.
        _, _, err = self.cli('node', 'vmedia', 'attach', 'vm-1',
                             '--image-url', 'nfs://h/x.iso', expect=1)
        self.assertIn('--image-url must be an http or https URL', err)

    def test_firmware_show_and_compare(self) -> None:
        self.create('fw-1')
        self.create('fw-2')
        self.create('fw-3', '--driver-info', 'fake_bios_version=1.1.0')
        self.create('fw-new')
        self.cli('node', 'manage', 'fw-1', 'fw-2', 'fw-3', 'fw-new', '--wait')
        self.cli('node', 'inspect', 'fw-1', 'fw-2', 'fw-3', '--wait')
        rows = self.by_host(self.cli_json('node', 'firmware', 'show',
                                          'fw-1', 'fw-new', expect=1))
        self.assertEqual({'bios': '1.0.0', 'bmc': '2.0.0'},
                         rows['fw-1']['Firmware'])
        self.assertIn('inspect the node', rows['fw-new']['Reason'])
        host_list = self.write('fw.txt', 'fw-1\nfw-2\nfw-3\n')
        rows = {row['Component']: row for row in self.cli_json(
            'firmware', 'compare', '--host-list', host_list)}
        self.assertEqual(('1.0.0', '1.0.0', '1.1.0 *', True),
                         (rows['bios']['fw-1'], rows['bios']['fw-2'],
                          rows['bios']['fw-3'], rows['bios']['Differs']))
        self.assertFalse(rows['bmc']['Differs'])
        _, out, err = self.cli('firmware', 'compare', 'fw-1', 'fw-new',
                               expect=1)
        self.assertIn('fw-new: no firmware versions known', err)
        self.assertIn('| bios      | 1.0.0 | False   |', out)
