"""JSON-patch updates with Ironic's semantics."""

from typing import Any

from podium.db import api as db_api
from podium.tests.unit.api import base


class TestPatch(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(
            name='n1', properties={'cpus': 2}, extra={'foo': 'bar'},
            driver_info={'ipmi_password': 'pw'},
            instance_uuid='5e0c7f3e-0a4b-4a6e-9e7a-1d2c3b4a5f60')

    def patch(self, *ops: dict[str, Any], ident: str = 'n1') -> Any:
        return self.client.patch(f'/v1/nodes/{ident}', json=list(ops))

    def ok(self, *ops: dict[str, Any], ident: str = 'n1') -> dict:
        response = self.patch(*ops, ident=ident)
        self.assertEqual(200, response.status_code, response.text)
        return response.json()

    def test_add_root_replaces(self) -> None:
        node = self.ok({'op': 'add', 'path': '/name', 'value': 'n2'},
                       {'op': 'add', 'path': '/description', 'value': 'd'},
                       ident=self.node['uuid'])
        self.assertEqual(('n2', 'd'), (node['name'], node['description']))

    def test_replace_and_nested_add(self) -> None:
        node = self.ok({'op': 'replace', 'path': '/name', 'value': 'n3'},
                       {'op': 'add', 'path': '/properties/cpus', 'value': 4},
                       {'op': 'add', 'path': '/extra/new', 'value': [1]})
        self.assertEqual('n3', node['name'])
        self.assertEqual({'cpus': 4}, node['properties'])
        self.assertEqual({'foo': 'bar', 'new': [1]}, node['extra'])

    def test_remove(self) -> None:
        node = self.ok({'op': 'remove', 'path': '/properties/cpus'},
                       {'op': 'remove', 'path': '/instance_uuid'},
                       {'op': 'remove', 'path': '/extra'})
        self.assertEqual({}, node['properties'])
        self.assertIsNone(node['instance_uuid'])
        self.assertEqual({}, node['extra'])

    def test_driver_info_stays_masked_and_kept(self) -> None:
        node = self.ok({'op': 'add', 'path': '/driver_info/ipmi_address',
                        'value': '10.0.0.1'})
        self.assertEqual({'ipmi_password': '******',
                          'ipmi_address': '10.0.0.1'}, node['driver_info'])
        self.assertEqual('pw',
                         db_api.get_node('n1').driver_info['ipmi_password'])

    def test_interface_change(self) -> None:
        node = self.ok({'op': 'replace', 'path': '/inspect_interface',
                        'value': 'no-inspect'})
        self.assertEqual('no-inspect', node['inspect_interface'])
        self.assertError(self.patch({'op': 'replace',
                                     'path': '/power_interface',
                                     'value': 'ipmi'}), 400, 'ipmi')

    def test_errors_change_nothing(self) -> None:
        before = db_api.get_node('n1').as_dict()
        cases = [
            ({'op': 'remove', 'path': '/extra/missing'}, 'missing'),
            ({'op': 'replace', 'path': '/uuid', 'value': 'x'}, '/uuid'),
            ({'op': 'replace', 'path': '/power_state', 'value': 'power on'},
             'read-only'),
            ({'op': 'add', 'path': '/created_at', 'value': 'x'}, 'read-only'),
            ({'op': 'add', 'path': '/colour', 'value': 'red'},
             'Unknown attribute "colour" in patch path "/colour".'),
            # Interfaces of kinds Podium does not have (documented as
            # shown, never settable, on the limits page).
            ({'op': 'replace', 'path': '/raid_interface', 'value': 'fake'},
             '"/raid_interface" is a read-only attribute'),
            ({'op': 'replace', 'path': '/boot_interface',
              'value': 'redfish-virtual-media'}, 'boot interface'),
            ({'op': 'move', 'path': '/name', 'from': '/x'}, 'op'),
            ({'op': 'add', 'path': 'name', 'value': 'x'}, 'path'),
            ({'op': 'add', 'path': '/name'}, 'value'),
            ({'op': 'replace', 'path': '/properties', 'value': 'x'},
             'properties'),
            ({'op': 'replace', 'path': '/name', 'value': 'bad name'},
             'name'),
            ({'op': 'remove', 'path': '/driver'}, 'driver'),
            ({'op': 'replace', 'path': '/driver', 'value': 'nope'}, 'nope'),
            ({'op': 'replace', 'path': '/instance_uuid', 'value': 'x'},
             'instance_uuid'),
        ]
        for op, fragment in cases:
            response = self.patch(
                {'op': 'add', 'path': '/description', 'value': 'half'}, op)
            self.assertError(response, 400, fragment)
        self.assertEqual(before, db_api.get_node('n1').as_dict())

    def test_not_a_list(self) -> None:
        response = self.client.patch('/v1/nodes/n1',
                                     json={'op': 'add', 'path': '/name'})
        self.assertError(response, 400)

    def test_name_conflict(self) -> None:
        self.create_node(name='other')
        self.assertError(self.patch({'op': 'replace', 'path': '/name',
                                     'value': 'other'}), 409, 'other')

    def test_locked(self) -> None:
        db_api.reserve_node('other-host', 'n1')
        self.assertError(self.patch({'op': 'replace', 'path': '/name',
                                     'value': 'x'}), 409, 'other-host')
        self.assertEqual('n1', db_api.get_node(self.node['uuid']).name)

    def test_not_found(self) -> None:
        self.assertError(self.patch({'op': 'replace', 'path': '/name',
                                     'value': 'x'}, ident='missing'), 404)
