"""PUT /v1/nodes/{id}/states/boot_mode and states/secure_boot (1.76)
and the node's boot_mode and secure_boot fields (1.75), on
fake-hardware."""

from typing import Any

from podium.db import api as db_api
from podium.tests.unit.api import base

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


class BootModeTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1')

    def put(self, what: str, target: Any,
            version: str = 'latest') -> Any:
        return self.client.put(
            f'/v1/nodes/n1/states/{what}', json={'target': target},
            headers={'X-OpenStack-Ironic-API-Version': version})

    def node(self, version: str = 'latest') -> dict[str, Any]:
        return self.client.get('/v1/nodes/n1', headers={
            'X-OpenStack-Ironic-API-Version': version}).json()

    def test_set_boot_mode_and_secure_boot(self) -> None:
        self.assertEqual((None, None), (self.node()['boot_mode'],
                                        self.node()['secure_boot']))
        response = self.put('boot_mode', 'bios')
        self.assertEqual(202, response.status_code, response.text)
        self.assertEqual('bios', self.node()['boot_mode'])
        self.assertEqual('bios', db_api.get_node('n1').driver_internal_info[
            'fake_boot_mode'])
        self.assertFalse(self.node()['secure_boot'])
        # Secure boot is UEFI only: refused, nothing changes.
        self.assertError(self.put('secure_boot', True), 400,
                         'secure boot needs the uefi boot mode')
        self.assertEqual(202, self.put('boot_mode', 'uefi').status_code)
        self.assertEqual(202, self.put('secure_boot', True).status_code)
        node = self.node()
        self.assertEqual(('uefi', True), (node['boot_mode'],
                                          node['secure_boot']))
        states = self.client.get('/v1/nodes/n1/states',
                                 headers=LATEST).json()
        self.assertEqual(('uefi', True), (states['boot_mode'],
                                          states['secure_boot']))
        # Leaving UEFI turns secure boot off, and the node says so.
        self.assertEqual(202, self.put('boot_mode', 'bios').status_code)
        self.assertEqual(('bios', False), (self.node()['boot_mode'],
                                           self.node()['secure_boot']))
        history = [entry.event for entry in db_api.list_node_history(
            db_api.get_node('n1').id)]
        self.assertIn('Secure boot turned on.', history)
        self.assertIn('Boot mode set to bios.', history)

    def test_bad_input_and_versions(self) -> None:
        self.assertError(self.put('boot_mode', 'legacy'), 400, 'target')
        self.assertError(self.put('secure_boot', 'maybe'), 400, 'target')
        self.assertEqual(404, self.put('boot_mode', 'uefi',
                                       '1.75').status_code)
        self.assertEqual(404, self.put('secure_boot', True,
                                       '1.75').status_code)
        self.assertError(self.client.put(
            '/v1/nodes/nx/states/boot_mode', json={'target': 'uefi'},
            headers=LATEST), 404, 'nx')
        self.assertNotIn('boot_mode', self.node('1.74'))
        self.assertIn('boot_mode', self.node('1.75'))
        self.assertIsNone(self.node()['boot_mode'])

    def test_bmc_failure(self) -> None:
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'no ipmi'}})
        self.assertError(self.put('boot_mode', 'bios'), 500, 'no ipmi')
        node = self.node()
        self.assertIsNone(node['boot_mode'])
        self.assertIn('Failed to set the boot mode to bios',
                      node['last_error'])

    def test_inspection_records_boot_mode(self) -> None:
        for target, state in (('manage', 'manageable'),
                              ('inspect', 'manageable')):
            self.assertEqual(202, self.client.put(
                '/v1/nodes/n1/states/provision', json={'target': target},
                headers=LATEST).status_code)
            self.wait_for('/v1/nodes/n1', 'provision_state', state)
            self.wait_for('/v1/nodes/n1', 'reservation', None)
        node = self.node()
        self.assertEqual(('uefi', False), (node['boot_mode'],
                                           node['secure_boot']))
