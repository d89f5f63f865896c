"""The stock clients on BIOS settings and boot mode, against
``podium serve`` on fake-hardware: ``baremetal node bios setting
list|show`` (with ``--long``, the registry fields of 1.74), ``baremetal
node clean`` with the bios step, ``baremetal node boot mode set`` and
``secure boot on|off``, openstacksdk's ``set_node_boot_mode`` and its
virtual media calls (``attach_vmedia_to_node``,
``detach_vmedia_from_node``)."""

from typing import Any

from openstack import exceptions as sdk_exceptions

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional.api.test_clients import (
    PROVISION_TIMEOUT,
    _Clients,
)


class TestStockClientsHardware(_Clients, base.TestCase):

    def make_deployment(self) -> Any:
        return self.useFixture(podium_fixtures.AllInOne())

    def test_bios_and_boot_mode(self) -> None:
        bm = self.sdk().baremetal
        node = bm.create_node(driver='fake-hardware', name='hw-cli')
        for target in ('manage', 'inspect'):
            bm.set_node_provision_state(node, target, wait=True,
                                        timeout=PROVISION_TIMEOUT)

        listed = self.cli('node', 'bios', 'setting', 'list', 'hw-cli',
                          json_output=True)
        values = {row['name']: row['value'] for row in listed}
        self.assertEqual('Enabled', values['ProcTurboMode'])
        detailed = self.cli('node', 'bios', 'setting', 'list', 'hw-cli',
                            '--long', json_output=True)
        numa = next(row for row in detailed
                    if row['name'] == 'NumaNodesPerSocket')
        self.assertEqual((1, 4, 'Integer'),
                         (numa['lower_bound'], numa['upper_bound'],
                          numa['attribute_type']))
        firmware = self.cli('node', 'firmware', 'list', 'hw-cli',
                            json_output=True)
        self.assertEqual({'bios': '1.0.0', 'bmc': '2.0.0'},
                         {row['component']: row['current_version']
                          for row in firmware})
        shown = self.cli('node', 'bios', 'setting', 'show', 'hw-cli',
                         'ProcTurboMode', json_output=True)
        self.assertEqual(('ProcTurboMode', 'Enabled'),
                         (shown['name'], shown['value']))
        self.assertEqual(['Enabled', 'Disabled'], shown['allowable_values'])

        self.cli('node', 'clean', 'hw-cli', '--wait',
                 str(PROVISION_TIMEOUT), '--clean-steps',
                 '[{"interface": "bios", "step": "apply_configuration", '
                 '"args": {"settings": [{"name": "ProcTurboMode", '
                 '"value": "Disabled"}]}}]')
        shown = self.cli('node', 'bios', 'setting', 'show', 'hw-cli',
                         'ProcTurboMode', json_output=True)
        self.assertEqual('Disabled', shown['value'])

        self.cli('node', 'boot', 'mode', 'set', 'hw-cli', 'bios')
        self.assertEqual('bios', bm.get_node(node.id).boot_mode)
        bm.set_node_boot_mode(node, 'uefi')
        self.assertEqual('uefi', bm.get_node(node.id).boot_mode)
        self.cli('node', 'secure', 'boot', 'on', 'hw-cli')
        self.assertIs(True, bm.get_node(node.id).is_secure_boot)
        self.cli('node', 'secure', 'boot', 'off', 'hw-cli')
        self.assertIs(False, bm.get_node(node.id).is_secure_boot)
        self.assertEqual(0, self.deployment.stop())

    def test_sdk_virtual_media(self) -> None:
        bm = self.sdk().baremetal
        node = bm.create_node(driver='fake-hardware', name='vm-sdk')
        iso = 'http://images.example.com/boot.iso'
        bm.attach_vmedia_to_node(node, 'cdrom', iso)
        bm.attach_vmedia_to_node(node, 'disk', iso + '.img',
                                 image_download_source='http')
        internal = bm.get_node(node.id).driver_internal_info
        self.assertEqual({'cdrom': iso, 'disk': iso + '.img'},
                         internal['fake_vmedia'])
        bm.detach_vmedia_from_node(node, ['disk'])
        internal = bm.get_node(node.id).driver_internal_info
        self.assertEqual({'cdrom': iso}, internal['fake_vmedia'])
        bm.detach_vmedia_from_node(node)
        internal = bm.get_node(node.id).driver_internal_info
        self.assertEqual({}, internal['fake_vmedia'])
        # A URL the BMC cannot fetch is refused before any BMC call.
        exc = self.assertRaises(
            sdk_exceptions.BadRequestException, bm.attach_vmedia_to_node,
            node, 'cdrom', 'file:///boot.iso')
        self.assertIn('http or https URL', str(exc))
        self.assertEqual(0, self.deployment.stop())
