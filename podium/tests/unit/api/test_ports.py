"""Port routes: create, show, list, patch, delete, and a node's ports."""

from typing import Any
from urllib.parse import parse_qs, urlparse

from podium.api import port_view
from podium.common import states
from podium.db import api as db_api
from podium.db import ports as db_ports
from podium.tests.unit.api import base

MAC = '52:54:00:12:34:56'


class PortTestCase(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1')

    def create_port(self, address: str = MAC, **values: Any
                    ) -> dict[str, Any]:
        body = {'address': address, 'node_uuid': self.node['uuid'],
                **values}
        response = self.client.post('/v1/ports', json=body)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()


class TestCreate(PortTestCase):

    def test_create(self) -> None:
        response = self.client.post('/v1/ports', json={
            'address': '52:54:00:AB:CD:EF', 'node_uuid': self.node['uuid'],
            'pxe_enabled': False, 'physical_network': 'physnet1',
            'local_link_connection': {'switch_id': '0A:1B:2C:3D:4E:5F',
                                      'port_id': 'Ethernet1/1'},
            'extra': {'rack': 4}})
        self.assertEqual(201, response.status_code, response.text)
        port = response.json()
        self.assertEqual(f'{base.BASE}/v1/ports/{port["uuid"]}',
                         response.headers['location'])
        self.assertEqual('52:54:00:ab:cd:ef', port['address'])
        self.assertEqual(self.node['uuid'], port['node_uuid'])
        self.assertFalse(port['pxe_enabled'])
        self.assertEqual({'switch_id': '0a:1b:2c:3d:4e:5f',
                          'port_id': 'Ethernet1/1'},
                         port['local_link_connection'])
        self.assertEqual(({'rack': 4}, {}, None, False),
                         (port['extra'], port['internal_info'],
                          port['portgroup_uuid'], port['is_smartnic']))
        self.assertEqual(port_view.ALL_FIELDS, set(port))

    def test_defaults_and_node_by_name(self) -> None:
        port = self.client.post('/v1/ports', json={
            'address': MAC, 'node_ident': 'n1', 'name': 'eth0'}).json()
        self.assertEqual((True, {}, {}, 'eth0', self.node['uuid']),
                         (port['pxe_enabled'], port['extra'],
                          port['local_link_connection'], port['name'],
                          port['node_uuid']))

    def test_duplicate_mac_conflicts_however_spelt(self) -> None:
        self.create_port(MAC)
        self.assertError(self.client.post('/v1/ports', json={
            'address': MAC.upper(), 'node_uuid': self.node['uuid']}),
            409, f'A port with MAC address {MAC} already exists.')
        self.assertEqual(1, len(db_ports.list_ports()))

    def test_duplicate_name_and_uuid_conflict(self) -> None:
        port = self.create_port(name='eth0')
        self.assertError(self.client.post('/v1/ports', json={
            'address': '52:54:00:00:00:01', 'node_uuid': self.node['uuid'],
            'name': 'eth0'}), 409, 'A port with name eth0 already exists.')
        self.assertError(self.client.post('/v1/ports', json={
            'address': '52:54:00:00:00:02', 'node_uuid': self.node['uuid'],
            'uuid': port['uuid']}), 409, port['uuid'])

    def test_bad_input(self) -> None:
        node = self.node['uuid']
        cases = [
            ({'address': 'zz:54:00:12:34:56', 'node_uuid': node},
             'Expected a MAC address but received zz:54:00:12:34:56.'),
            ({'address': '52:54:00:12:34', 'node_uuid': node},
             'Expected a MAC address'),
            ({'node_uuid': node}, 'address'),
            ({'address': MAC}, 'node_uuid and node_ident'),
            ({'address': MAC, 'node_uuid': node, 'node_ident': 'n1'},
             'node_uuid and node_ident'),
            ({'address': MAC, 'node_uuid': node, 'colour': 'red'}, 'colour'),
            ({'address': MAC, 'node_uuid': node, 'pxe_enabled': 'maybe'},
             'pxe_enabled'),
            ({'address': MAC, 'node_uuid': node, 'physical_network': ''},
             'A non-empty value is required when setting physical_network'),
            ({'address': MAC, 'node_uuid': node,
              'local_link_connection': {'switch_id': 'x', 'port_id': 'p'}},
             'Expected a MAC address or OpenFlow datapath ID but received '
             'x.'),
            ({'address': MAC, 'node_uuid': node,
              'local_link_connection': {'port_id': 'p'}},
             'local_link_connection'),
            ({'address': MAC, 'node_uuid': node,
              'local_link_connection': {'switch_id': MAC, 'port_id': 'p',
                                        'vlan': '4'}}, 'vlan'),
            ({'address': MAC, 'node_uuid': node, 'is_smartnic': True},
             'Smart NIC port must have port_id and hostname'),
            ({'address': MAC, 'node_uuid': node,
              'portgroup_uuid': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'},
             'Portgroup 1be26c0b-03f2-4d2e-ae87-c02d7f33c123 could not be '
             'found.'),
            ({'address': MAC, 'node_uuid': node, 'name': 'a b'}, 'name'),
            ({'address': MAC,
              'node_uuid': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'},
             'Node 1be26c0b-03f2-4d2e-ae87-c02d7f33c123 could not be '
             'found.'),
        ]
        for body, fragment in cases:
            self.assertError(self.client.post('/v1/ports', json=body), 400,
                             fragment)
        self.assertEqual([], db_ports.list_ports())

    def test_smartnic_and_datapath_switch(self) -> None:
        port = self.create_port(is_smartnic=True, local_link_connection={
            'port_id': 'rep0', 'hostname': 'dpu-1'})
        self.assertTrue(port['is_smartnic'])
        port = self.create_port('52:54:00:00:00:01', local_link_connection={
            'switch_id': '0000ABCDEF012345', 'port_id': 'p1'})
        self.assertEqual('0000abcdef012345',
                         port['local_link_connection']['switch_id'])


class TestShowAndList(PortTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.other = self.create_node(name='n2')
        self.ports = [self.create_port(f'52:54:00:00:00:0{i}', name=f'p{i}')
                      for i in range(3)]
        self.ports.append(self.create_port(
            '52:54:00:00:00:09', node_uuid=self.other['uuid']))

    def test_show_by_uuid_and_name(self) -> None:
        for ident in (self.ports[1]['uuid'], 'p1'):
            port = self.client.get(f'/v1/ports/{ident}').json()
            self.assertEqual(self.ports[1], port)
        shown = self.client.get('/v1/ports/p1?fields=address,pxe_enabled')
        self.assertEqual({'address', 'pxe_enabled', 'links'},
                         set(shown.json()))
        self.assertError(self.client.get('/v1/ports/missing'), 404,
                         'Port missing could not be found.')
        self.assertError(self.client.get('/v1/ports/p1?fields=colour'), 400,
                         'colour')

    def test_list_default_fields_and_detail(self) -> None:
        listed = self.client.get('/v1/ports').json()['ports']
        self.assertEqual([p['uuid'] for p in self.ports],
                         [p['uuid'] for p in listed])
        self.assertEqual({'uuid', 'address', 'links'}, set(listed[0]))
        for path in ('/v1/ports/detail', '/v1/ports?detail=True'):
            detailed = self.client.get(path).json()['ports']
            self.assertEqual(port_view.ALL_FIELDS, set(detailed[0]))
        self.assertError(
            self.client.get('/v1/ports?detail=True&fields=uuid'), 400,
            'Can not specify ?detail=True and fields')

    def test_filters(self) -> None:
        def uuids(path: str) -> list[str]:
            response = self.client.get(path)
            self.assertEqual(200, response.status_code, response.text)
            return [p['uuid'] for p in response.json()['ports']]

        mine = [p['uuid'] for p in self.ports[:3]]
        self.assertEqual(mine, uuids('/v1/ports?node=n1'))
        self.assertEqual(mine, uuids(f'/v1/ports?node={self.node["uuid"]}'))
        self.assertEqual(mine, uuids(
            f'/v1/ports?node_uuid={self.node["uuid"]}'))
        self.assertEqual(mine, uuids('/v1/nodes/n1/ports'))
        self.assertEqual(mine, uuids('/v1/nodes/n1/ports/detail'))
        self.assertEqual([self.ports[3]['uuid']],
                         uuids('/v1/ports?address=52:54:00:00:00:09'))
        self.assertError(self.client.get('/v1/ports?address=52-54-00-00-00-09'),
                         400, 'Expected a MAC address')
        self.assertEqual([], uuids('/v1/ports?address=52:54:00:00:00:0a'))
        self.assertError(self.client.get('/v1/ports?address=nope'), 400,
                         'Expected a MAC address but received nope.')
        self.assertError(self.client.get('/v1/nodes/missing/ports'), 404,
                         'Node missing could not be found.')

    def test_pagination(self) -> None:
        response = self.client.get('/v1/ports?limit=2&sort_key=address')
        body = response.json()
        self.assertEqual([p['uuid'] for p in self.ports[:2]],
                         [p['uuid'] for p in body['ports']])
        query = parse_qs(urlparse(body['next']).query)
        self.assertEqual([self.ports[1]['uuid']], query['marker'])
        self.assertEqual(['address'], query['sort_key'])
        rest = self.client.get(body['next']).json()
        self.assertEqual([p['uuid'] for p in self.ports[2:]],
                         [p['uuid'] for p in rest['ports']])
        # A full page links on; the page after it is empty and ends.
        last = self.client.get(rest['next']).json()
        self.assertEqual({'ports': []}, last)
        desc = self.client.get('/v1/ports?sort_dir=desc').json()['ports']
        self.assertEqual(self.ports[3]['uuid'], desc[0]['uuid'])
        self.assertError(self.client.get('/v1/ports?marker=nope'), 404,
                         'Marker nope could not be found.')
        self.assertError(self.client.get('/v1/ports?sort_key=extra'), 400,
                         'sort_key')
        self.assertError(self.client.get('/v1/ports?limit=0'), 400,
                         'Limit must be positive')


class TestUpdate(PortTestCase):

    def patch(self, ident: str, *operations: dict[str, Any]) -> Any:
        return self.client.patch(f'/v1/ports/{ident}', json=list(operations))

    def test_patch(self) -> None:
        port = self.create_port(name='eth0', extra={'a': 1})
        other = self.create_node(name='n2')
        response = self.patch(
            'eth0',
            {'op': 'replace', 'path': '/address',
             'value': 'AA:BB:CC:DD:EE:FF'},
            {'op': 'add', 'path': '/extra/b', 'value': 2},
            {'op': 'replace', 'path': '/pxe_enabled', 'value': False},
            {'op': 'replace', 'path': '/node_uuid', 'value': other['uuid']})
        self.assertEqual(200, response.status_code, response.text)
        patched = response.json()
        self.assertEqual(('aa:bb:cc:dd:ee:ff', {'a': 1, 'b': 2}, False,
                          other['uuid']),
                         (patched['address'], patched['extra'],
                          patched['pxe_enabled'], patched['node_uuid']))
        removed = self.patch(port['uuid'],
                             {'op': 'remove', 'path': '/extra'}).json()
        self.assertEqual({}, removed['extra'])

    def test_bad_patches(self) -> None:
        port = self.create_port()
        self.create_port('52:54:00:00:00:01', name='taken')
        cases = [
            ({'op': 'replace', 'path': '/address', 'value': 'x'}, 400,
             'Expected a MAC address but received x.'),
            ({'op': 'replace', 'path': '/uuid', 'value': 'x'}, 400,
             'read-only'),
            ({'op': 'replace', 'path': '/internal_info', 'value': {}}, 400,
             'read-only'),
            ({'op': 'add', 'path': '/colour', 'value': 'red'}, 400,
             'Unknown attribute "colour" in patch path "/colour".'),
            ({'op': 'remove', 'path': '/node_uuid'}, 400, 'node_uuid'),
            ({'op': 'remove', 'path': '/extra/missing'}, 400, 'patch'),
            ({'op': 'replace', 'path': '/node_uuid',
              'value': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'}, 400,
             'could not be found'),
            ({'op': 'replace', 'path': '/address',
              'value': '52:54:00:00:00:01'}, 409, 'already exists'),
            ({'op': 'replace', 'path': '/name', 'value': 'taken'}, 409,
             'A port with name taken already exists.'),
        ]
        for operation, status, fragment in cases:
            self.assertError(self.patch(port['uuid'], operation), status,
                             fragment)
        self.assertEqual(port, self.client.get(
            f'/v1/ports/{port["uuid"]}').json())

    def test_state_rules(self) -> None:
        port = self.create_port()
        node_id = db_api.get_node('n1').id
        db_api.update_node_by_id(node_id, {'provision_state': states.ACTIVE})
        self.assertError(self.patch(port['uuid'], {
            'op': 'replace', 'path': '/address',
            'value': '52:54:00:00:00:01'}), 409,
            'Cannot update hardware address for port')
        self.assertError(self.patch(port['uuid'], {
            'op': 'replace', 'path': '/pxe_enabled', 'value': False}), 409,
            'can not have any connectivity attributes',
            'The current state is active')
        # extra is not connectivity: allowed on an active node.
        self.assertEqual(200, self.patch(port['uuid'], {
            'op': 'add', 'path': '/extra/k', 'value': 'v'}).status_code)
        # Maintenance lifts both rules, as in Ironic.
        db_api.update_node_by_id(node_id, {'maintenance': True})
        self.assertEqual(200, self.patch(port['uuid'], {
            'op': 'replace', 'path': '/pxe_enabled',
            'value': False}).status_code)
        db_api.update_node_by_id(node_id, {
            'provision_state': states.INSPECTING})
        self.assertError(self.patch(port['uuid'], {
            'op': 'add', 'path': '/extra/k', 'value': 'w'}), 409,
            'while it is in state "inspecting"')

    def test_locked_node_refuses_change(self) -> None:
        port = self.create_port()
        db_api.reserve_node('other-host', 'n1')
        self.assertError(self.patch(port['uuid'], {
            'op': 'add', 'path': '/extra/k', 'value': 'v'}), 409,
            'locked by host other-host')
        self.assertError(self.client.delete(f'/v1/ports/{port["uuid"]}'),
                         409, 'locked by host other-host')


class TestDelete(PortTestCase):

    def test_delete(self) -> None:
        port = self.create_port(name='eth0')
        response = self.client.delete('/v1/ports/eth0')
        self.assertEqual(204, response.status_code, response.text)
        self.assertNotIn('content-type', response.headers)
        self.assertError(self.client.get(f'/v1/ports/{port["uuid"]}'), 404)
        self.assertError(self.client.delete('/v1/ports/eth0'), 404)

    def test_bound_port_stays_unless_maintenance(self) -> None:
        port = self.create_port(extra={'vif_port_id': 'vif-1'})
        self.assertError(self.client.delete(f'/v1/ports/{port["uuid"]}'),
                         409, f'Cannot delete the port {port["uuid"]} as it '
                              f'is bound to VIF vif-1 for use.')
        db_api.update_node_by_id(db_api.get_node('n1').id,
                                 {'maintenance': True})
        self.assertEqual(204, self.client.delete(
            f'/v1/ports/{port["uuid"]}').status_code)

    def test_deleting_node_deletes_its_ports(self) -> None:
        self.create_port()
        other = self.create_node(name='n2')
        kept = self.create_port('52:54:00:00:00:01',
                                node_uuid=other['uuid'])
        self.assertEqual(204, self.client.delete('/v1/nodes/n1').status_code)
        self.assertEqual([kept['uuid']],
                         [p.uuid for p in db_ports.list_ports()])
        # The MAC is free again.
        self.create_node(name='n1')
        self.node = self.client.get('/v1/nodes/n1').json()
        self.create_port()
