"""The stock clients on NMI and the boot order, against ``podium serve``
on fake-hardware: ``baremetal node inject nmi`` and openstacksdk's
``inject_nmi_to_node`` (Ironic 1.29); ``baremetal node passthru
list|call`` (the method in the path) and openstacksdk's
``list_node_vendor_passthru`` and ``call_node_vendor_passthru``
(``?method=``) for the boot order."""

from typing import Any

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional.api.test_clients import _Clients

MACS = '52:54:00:00:10:0a,52:54:00:00:10:0b'


class TestStockClientsManagement(_Clients, base.TestCase):

    def make_deployment(self) -> Any:
        return self.useFixture(podium_fixtures.AllInOne())

    def test_nmi_and_boot_order(self) -> None:
        bm = self.sdk().baremetal
        node = bm.create_node(driver='fake-hardware', name='mgmt-1',
                              driver_info={'fake_macs': MACS})

        self.cli('node', 'inject', 'nmi', 'mgmt-1')
        bm.inject_nmi_to_node(node)
        internal = bm.get_node(node.id).driver_internal_info
        self.assertEqual(2, internal['fake_nmi_count'])

        methods = bm.list_node_vendor_passthru(node)
        self.assertEqual({'get_boot_order', 'set_boot_order',
                          'check_boot_order'}, set(methods))
        listed = self.cli('node', 'passthru', 'list', 'mgmt-1',
                          json_output=True)
        self.assertIn('set_boot_order',
                      {row.get('Name') or row.get('name') for row in listed})

        order = bm.call_node_vendor_passthru(
            node, 'GET', 'get_boot_order').json()['boot_order']
        self.assertEqual(['pxe', 'pxe', 'disk', 'cdrom'],
                         [option['device'] for option in order])
        # python-ironicclient names the method in the path.
        out = self.cli('node', 'passthru', 'call', 'mgmt-1',
                       'set_boot_order', '--arg', 'devices=disk,cdrom')
        self.assertIn('Boot0002', out)
        order = bm.call_node_vendor_passthru(
            node, 'GET', 'get_boot_order').json()['boot_order']
        self.assertEqual(['disk', 'cdrom', 'pxe', 'pxe'],
                         [option['device'] for option in order])
        response = bm.call_node_vendor_passthru(
            node, 'POST', 'set_boot_order', {'mac': '52:54:00:00:10:0b'})
        self.assertEqual('52:54:00:00:10:0b',
                         response.json()['boot_order'][0]['mac'])
        check = bm.call_node_vendor_passthru(
            node, 'POST', 'check_boot_order',
            {'mac': '52:54:00:00:10:0b'}).json()
        self.assertTrue(check['matches'])
        self.assertEqual(0, self.deployment.stop())
