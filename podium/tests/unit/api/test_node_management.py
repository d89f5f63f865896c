"""PUT management/inject_nmi (1.29), POST bmc_reset (a Podium
extension) and vendor passthru's boot order methods, on fake-hardware:
what reaches the (fake) BMC, what is refused before it, and history."""

from typing import Any

from podium.db import api as db_api
from podium.tests.unit.api import base

MAC_A, MAC_B = '52:54:00:00:00:0a', '52:54:00:00:00:0b'


class NodeManagementTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1', driver_info={
            'fake_macs': f'{MAC_A},{MAC_B}'})

    def internal(self) -> dict[str, Any]:
        return dict(db_api.get_node('n1').driver_internal_info or {})

    def history(self) -> list[str]:
        return [entry.event for entry in db_api.list_node_history(
            db_api.get_node('n1').id)]

    def passthru(self, method: str, verb: str = 'GET',
                 params: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.request(
            verb, '/v1/nodes/n1/vendor_passthru',
            params={'method': method, **(params or {})}, **kwargs)


class InjectNmiTest(NodeManagementTest):

    def test_inject_nmi(self) -> None:
        response = self.client.put('/v1/nodes/n1/management/inject_nmi',
                                   json={})
        self.assertEqual(202, response.status_code, response.text)
        self.assertEqual(1, self.internal()['fake_nmi_count'])
        self.assertIn('NMI injected.', self.history())

    def test_versions_and_failures(self) -> None:
        self.assertEqual(404, self.client.put(
            '/v1/nodes/n1/management/inject_nmi',
            headers={'X-OpenStack-Ironic-API-Version': '1.28'}).status_code)
        self.assertError(self.client.put(
            '/v1/nodes/nx/management/inject_nmi'), 404, 'nx')
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'bmc down'}})
        self.assertError(self.client.put(
            '/v1/nodes/n1/management/inject_nmi'), 500, 'bmc down')
        self.assertIn('Failed to inject an NMI',
                      db_api.get_node('n1').last_error)


class BmcResetTest(NodeManagementTest):

    def reset(self) -> Any:
        return self.client.post('/v1/nodes/n1/bmc_reset')

    def test_reset(self) -> None:
        self.assertEqual(202, self.reset().status_code)
        self.assertTrue(self.internal()['fake_bmc_reset'])
        self.assertIn('BMC reset requested by an operator.', self.history())

    def test_refused_with_an_action_in_flight(self) -> None:
        for values, fragment in (
                ({'target_power_state': 'power on'},
                 'target power state power on'),
                ({'target_provision_state': 'active'},
                 'target provision state active')):
            db_api.update_node('n1', values)
            self.assertError(self.reset(), 409, 'action in flight',
                             fragment)
            db_api.update_node('n1', {key: None for key in values})
        db_api.update_node('n1', {'reservation': 'another-conductor'})
        self.assertError(self.reset(), 409)
        self.assertNotIn('fake_bmc_reset', self.internal())
        self.assertNotIn('BMC reset requested by an operator.',
                         self.history())


class BootOrderPassthruTest(NodeManagementTest):

    def order(self) -> list[dict[str, Any]]:
        response = self.passthru('get_boot_order')
        self.assertEqual(200, response.status_code, response.text)
        return list(response.json()['boot_order'])

    def test_methods(self) -> None:
        methods = self.client.get(
            '/v1/nodes/n1/vendor_passthru/methods').json()
        self.assertEqual({'get_boot_order', 'set_boot_order',
                          'check_boot_order'}, set(methods))
        self.assertEqual(['GET'], methods['get_boot_order']['http_methods'])
        self.assertTrue(methods['set_boot_order']['require_exclusive_lock'])

    def test_show_set_and_check(self) -> None:
        self.assertEqual(['pxe', 'pxe', 'disk', 'cdrom'],
                         [o['device'] for o in self.order()])
        response = self.passthru('set_boot_order', 'POST',
                                 json={'devices': ['disk', 'pxe']})
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual(['disk', 'pxe', 'pxe', 'cdrom'],
                         [o['device'] for o in response.json()['boot_order']])
        self.assertEqual(response.json()['boot_order'], self.order())
        response = self.passthru('set_boot_order', 'POST',
                                 json={'mac': MAC_B.upper()})
        self.assertEqual(MAC_B, response.json()['boot_order'][0]['mac'])
        check = self.passthru('check_boot_order', 'POST',
                              json={'mac': MAC_B}).json()
        self.assertTrue(check['matches'])
        check = self.passthru('check_boot_order',
                              params={'devices': 'cdrom'}).json()
        self.assertFalse(check['matches'])
        self.assertEqual(check['actual'][0], self.order()[0]['ref'])
        # The method in the path, as python-ironicclient sends it.
        response = self.client.post(
            '/v1/nodes/n1/vendor_passthru/set_boot_order',
            json={'devices': 'cdrom,pxe'})
        self.assertEqual(['cdrom', 'pxe', 'pxe', 'disk'],
                         [o['device'] for o in response.json()['boot_order']])
        self.assertTrue(any(event.startswith('Boot order set (the NIC '
                                             f'{MAC_B} first)')
                            for event in self.history()))

    def test_bad_input_is_400_and_changes_nothing(self) -> None:
        before = self.order()
        cases = (
            (self.client.get('/v1/nodes/n1/vendor_passthru'),
             'method query parameter'),
            (self.passthru('reboot_bmc'), 'Unknown vendor passthru method'),
            (self.passthru('set_boot_order', 'GET'),
             'does not take HTTP GET'),
            (self.passthru('set_boot_order', 'POST', json={}),
             'Give either devices'),
            (self.passthru('set_boot_order', 'POST', json={'mac': 'x'}),
             'not a MAC'),
            (self.passthru('set_boot_order', 'POST', content=b'{nope'),
             'JSON'),
            (self.passthru('set_boot_order', 'POST',
                           json={'mac': '02:00:00:00:00:01'}),
             'no boot option for the NIC 02:00:00:00:00:01'),
            (self.passthru('set_boot_order', 'POST',
                           json={'devices': ['usb']}),
             'no boot option for usb'),
        )
        for response, fragment in cases:
            self.assertError(response, 400, fragment)
        self.assertEqual(before, self.order())
        self.assertNotIn('fake_boot_order', self.internal())
