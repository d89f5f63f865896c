"""``podium node boot-order show|set [--check]``, ``node inject-nmi``
and ``node bmc-reset`` as a subprocess against a running all-in-one
Podium on fake-hardware: bulk over a host list, a bad node failing
alone, non-zero exit, -f json and table."""

from podium.tests.functional.cli.test_cli import CliTestCase

MACS = {'bo-1': '52:54:00:00:20:01', 'bo-2': '52:54:00:00:20:02'}


class ManagementCommandsTest(CliTestCase):

    def test_boot_order(self) -> None:
        for name, mac in MACS.items():
            self.create(name, '--driver-info', f'fake_macs={mac}')
        host_list = self.write('hosts.txt', 'bo-1\n# spare\nbo-2\n')
        rows = self.by_host(self.cli_json('node', 'boot-order', 'show',
                                          '--host-list', host_list))
        self.assertEqual(
            f'Boot0000 pxe {MACS["bo-1"]}, Boot0001 disk, Boot0002 cdrom',
            rows['bo-1']['Boot Order'])
        # Already PXE first: the check passes on both.
        _, out, _ = self.cli('node', 'boot-order', 'set', '--host-list',
                             host_list, '--device', 'pxe', '--check')
        self.assertEqual(2, out.count('SUCCESSFUL'))
        _, out, _ = self.cli('node', 'boot-order', 'set', '--host-list',
                             host_list, '--device', 'disk,cdrom')
        self.assertIn('Boot0001 disk, Boot0002 cdrom, Boot0000 pxe', out)
        # Now the PXE check fails on both: exit 1, with what is there.
        rows = self.by_host(self.cli_json(
            'node', 'boot-order', 'set', 'bo-1', 'bo-2', '--device', 'pxe',
            '--check', expect=1))
        self.assertEqual('FAILED', rows['bo-2']['Result'])
        self.assertEqual('Boot0001, Boot0002, Boot0000',
                         rows['bo-2']['Boot Order'])
        # By MAC: the node's NIC first; a MAC a node lacks fails it only.
        rows = self.by_host(self.cli_json(
            'node', 'boot-order', 'set', 'bo-1', 'bo-2', '--mac',
            MACS['bo-1'], expect=1))
        self.assertEqual('SUCCESSFUL', rows['bo-1']['Result'])
        self.assertEqual('FAILED', rows['bo-2']['Result'])
        self.assertIn(f'no boot option for the NIC {MACS["bo-1"]}',
                      rows['bo-2']['Reason'])

    def test_inject_nmi_and_bmc_reset(self) -> None:
        self.create('nmi-1')
        self.create('nmi-2')
        _, out, err = self.cli('node', 'inject-nmi', 'nmi-1', 'nmi-2',
                               'nope', expect=1)
        self.assertEqual(2, out.count('NMI injected'))
        self.assertIn('nope', err)
        node = self.cli_json('node', 'show', 'nmi-1')
        self.assertEqual(1, node['driver_internal_info']['fake_nmi_count'])
        _, out, _ = self.cli('node', 'bmc-reset', 'nmi-1', 'nmi-2')
        self.assertEqual(2, out.count('BMC reset requested'))
        node = self.cli_json('node', 'show', 'nmi-2')
        self.assertTrue(node['driver_internal_info']['fake_bmc_reset'])
