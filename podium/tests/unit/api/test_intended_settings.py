"""The node's intended_settings and drift extension fields: shown by
GET of the node, PATCHed like any attribute, validated, drift read-only.
"""

from typing import Any

from podium.db import api as db_api
from podium.tests.unit.api import base

DRIFT = [{'setting': 'bios:ProcTurboMode', 'intended': 'Enabled',
          'actual': 'Disabled', 'since': '2026-12-01T10:00:00+00:00',
          'state': 'drifted', 'attempts': 0}]


class TestIntendedSettings(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1')

    def patch(self, *operations: dict[str, Any]) -> Any:
        return self.client.patch('/v1/nodes/n1', json=list(operations))

    def test_shown_on_the_node_only(self) -> None:
        node = self.client.get('/v1/nodes/n1').json()
        self.assertIsNone(node['intended_settings'])
        self.assertIsNone(node['drift'])
        listed = self.client.get('/v1/nodes/detail').json()['nodes'][0]
        self.assertNotIn('drift', listed)
        self.assertNotIn('intended_settings', self.node)  # create answer
        shown = self.client.get('/v1/nodes/n1?fields=name').json()
        self.assertNotIn('drift', shown)

    def test_nested_add_and_remove(self) -> None:
        response = self.patch(
            {'op': 'add', 'path': '/intended_settings/boot_mode',
             'value': 'uefi'},
            {'op': 'add', 'path': '/intended_settings/bios/ProcTurboMode',
             'value': 'Enabled'},
            {'op': 'add', 'path': '/intended_settings/bios/MemFrequency',
             'value': 3200})
        self.assertEqual(200, response.status_code, response.text)
        expected = {'boot_mode': 'uefi',
                    'bios': {'ProcTurboMode': 'Enabled',
                             'MemFrequency': 3200}}
        self.assertEqual(expected, response.json()['intended_settings'])
        self.assertEqual(expected, self.client.get(
            '/v1/nodes/n1').json()['intended_settings'])
        response = self.patch(
            {'op': 'remove', 'path': '/intended_settings/bios/MemFrequency'},
            {'op': 'remove', 'path': '/intended_settings/boot_mode'})
        self.assertEqual({'bios': {'ProcTurboMode': 'Enabled'}},
                         response.json()['intended_settings'])
        response = self.patch(
            {'op': 'remove', 'path': '/intended_settings/bios/ProcTurboMode'})
        self.assertIsNone(response.json()['intended_settings'])
        self.assertIsNone(db_api.get_node('n1').intended_settings)

    def test_whole_value_and_reset(self) -> None:
        response = self.patch({'op': 'add', 'path': '/intended_settings',
                               'value': {'boot_mode': 'bios'}})
        self.assertEqual({'boot_mode': 'bios'},
                         response.json()['intended_settings'])
        response = self.patch({'op': 'remove', 'path': '/intended_settings'})
        self.assertIsNone(response.json()['intended_settings'])

    def test_bad_values_refused(self) -> None:
        for value, fragment in (
                ({'boot_mode': 'efi'}, "intended boot_mode 'efi'"),
                ({'boot_order': ['pxe']}, 'intended boot_order must be'),
                ({'colour': 'red'}, 'unknown intended setting(s) colour'),
                ({'bios': {'A': [1]}}, 'intended BIOS attribute A'),
                ('uefi', 'Input should be a valid dictionary')):
            self.assertError(
                self.patch({'op': 'add', 'path': '/intended_settings',
                            'value': value}), 400, fragment)
        self.assertIsNone(db_api.get_node('n1').intended_settings)
        response = self.patch({'op': 'add',
                               'path': '/intended_settings/boot_order',
                               'value': {'devices': ['pxe']}})
        self.assertEqual({'boot_order': {'devices': ['pxe']}},
                         response.json()['intended_settings'])

    def test_drift_is_read_only(self) -> None:
        self.assertError(self.patch({'op': 'remove', 'path': '/drift'}),
                         400, '"/drift" is a read-only attribute')

    def test_changed_intent_drops_its_drift(self) -> None:
        node = db_api.get_node('n1')
        db_api.update_node(node.id, {
            'intended_settings': {'bios': {'ProcTurboMode': 'Enabled'},
                                  'boot_mode': 'uefi'},
            'drift': DRIFT})
        self.assertEqual(DRIFT, self.client.get('/v1/nodes/n1').json()[
            'drift'])
        # Another intent for another setting: the drift stays.
        response = self.patch({'op': 'replace',
                               'path': '/intended_settings/boot_mode',
                               'value': 'bios'})
        self.assertEqual(DRIFT, response.json()['drift'])
        # The drifted setting no longer intended: its drift goes.
        response = self.patch({'op': 'remove', 'path':
                               '/intended_settings/bios/ProcTurboMode'})
        self.assertIsNone(response.json()['drift'])
        self.assertIsNone(db_api.get_node('n1').drift)

    def test_created_with_intended_settings(self) -> None:
        self.create_node(name='n2', intended_settings={'boot_mode': 'uefi',
                                                       'bios': {}})
        self.assertEqual({'boot_mode': 'uefi'}, self.client.get(
            '/v1/nodes/n2').json()['intended_settings'])
