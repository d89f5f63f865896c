"""Node inventory routes: create, show, list, delete."""

from urllib.parse import parse_qs, urlparse

from podium.api import node_view
from podium.common import names
from podium.db import api as db_api
from podium.tests.unit.api import base


class TestCreate(base.APITestCase):

    def test_create(self) -> None:
        response = self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'name': 'n1',
            'driver_info': {'ipmi_password': 'secret', 'fake_delay': 0},
            'properties': {'cpus': 2}})
        self.assertEqual(201, response.status_code, response.text)
        node = response.json()
        self.assertEqual(f'{base.BASE}/v1/nodes/{node["uuid"]}',
                         response.headers['location'])
        self.assertEqual('enroll', node['provision_state'])
        self.assertEqual({'ipmi_password': '******', 'fake_delay': 0},
                         node['driver_info'])
        self.assertEqual({'cpus': 2}, node['properties'])
        self.assertEqual('fake', node['power_interface'])
        self.assertEqual('fake', node['inspect_interface'])
        self.assertIsNone(node['power_state'])
        self.assertEqual(node_view.ALL_FIELDS, set(node))
        self.assertEqual('secret',
                         db_api.get_node('n1').driver_info['ipmi_password'])

    def test_create_with_uuid_and_interface(self) -> None:
        uuid = '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'
        node = self.create_node(uuid=uuid, inspect_interface='no-inspect')
        self.assertEqual(uuid, node['uuid'])
        self.assertEqual('no-inspect', node['inspect_interface'])

    def test_unknown_driver(self) -> None:
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'nope'}), 400, 'nope')

    def test_unsupported_interface(self) -> None:
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'power_interface': 'ipmi'}),
            400, 'power interface ipmi')

    def test_duplicates_conflict(self) -> None:
        node = self.create_node(name='dup')
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'name': 'dup'}), 409, 'dup')
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'uuid': node['uuid']}), 409,
            node['uuid'])

    def test_bad_input(self) -> None:
        cases = [
            ({'name': 'n'}, 'driver'),
            ({'driver': 'fake-hardware', 'colour': 'red'}, 'colour'),
            # An interface of a kind Podium does not have.
            ({'driver': 'fake-hardware', 'raid_interface': 'fake'},
             'raid_interface'),
            # An interface the hardware type does not support.
            ({'driver': 'fake-hardware',
              'deploy_interface': 'direct'}, 'deploy interface direct'),
            ({'driver': 'fake-hardware', 'driver_info': 'x'}, 'driver_info'),
            ({'driver': 'fake-hardware', 'name': 'a b'}, 'name'),
            ({'driver': 'fake-hardware',
              'name': '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'}, 'UUID'),
            ({'driver': 'fake-hardware', 'uuid': 'not-a-uuid'}, 'uuid'),
            ({'driver': 'fake-hardware', 'name': 'x' * 256}, 'name'),
            ({'driver': 'fake-hardware', 'resource_class': 'r' * 81},
             'resource_class'),
            ([1, 2], 'body'),
        ]
        for body, fragment in cases:
            self.assertError(self.client.post('/v1/nodes', json=body), 400,
                             fragment)
        self.assertEqual(0, db_api.count_nodes())

    def test_invalid_name_in_the_shared_wording(self) -> None:
        # The CLI and the CSV/YAML import say the same sentence.
        for name in ('a b', '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'):
            fault = self.assertError(self.client.post('/v1/nodes', json={
                'driver': 'fake-hardware', 'name': name}), 400)
            self.assertEqual(f'Invalid value for field "name": '
                             f'{names.name_problem(name)}.', fault)

    def test_malformed_json(self) -> None:
        response = self.client.post(
            '/v1/nodes', content=b'{"driver": ',
            headers={'Content-Type': 'application/json'})
        self.assertError(response, 400, 'Malformed JSON')

    def test_secret_not_echoed_in_errors(self) -> None:
        response = self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'driver_info': 'hunter2'})
        self.assertNotIn('hunter2', self.assertError(response, 400))


class TestShow(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(
            name='n1', driver_info={'redfish_password': 'p', 'token': 't',
                                    'password': 'q', 'bmc_pin': '1234'})

    def test_by_uuid_and_name(self) -> None:
        for ident in (self.node['uuid'], 'n1'):
            response = self.client.get(f'/v1/nodes/{ident}')
            self.assertEqual(200, response.status_code)
            self.assertEqual(self.node['uuid'], response.json()['uuid'])

    def test_masking(self) -> None:
        info = self.client.get('/v1/nodes/n1').json()['driver_info']
        self.assertEqual({'redfish_password': '******', 'token': '******',
                          'password': '******', 'bmc_pin': '1234'}, info)

    def test_configured_masked_keys(self) -> None:
        self.config(masked_driver_info_keys=['bmc_pin'], group='api')
        info = self.make_client().get('/v1/nodes/n1').json()['driver_info']
        self.assertEqual('******', info['bmc_pin'])
        self.assertEqual('******', info['redfish_password'])

    def test_fields(self) -> None:
        response = self.client.get('/v1/nodes/n1?fields=name,driver_info')
        self.assertEqual({'name', 'driver_info', 'links'},
                         set(response.json()))
        self.assertEqual('******',
                         response.json()['driver_info']['redfish_password'])

    def test_conductor_is_the_managing_host(self) -> None:
        self.assertEqual('test-conductor',
                         self.client.get('/v1/nodes/n1').json()['conductor'])
        response = self.client.get('/v1/nodes?fields=name,conductor')
        self.assertEqual([{'name': 'n1', 'conductor': 'test-conductor'}],
                         [{k: v for k, v in node.items() if k != 'links'}
                          for node in response.json()['nodes']])
        # No conductor serves this group: shown as null, not an error.
        self.client.patch('/v1/nodes/n1', json=[
            {'op': 'add', 'path': '/conductor_group', 'value': 'elsewhere'}])
        self.assertIsNone(
            self.client.get('/v1/nodes/n1').json()['conductor'])

    def test_unknown_field(self) -> None:
        self.assertError(self.client.get('/v1/nodes/n1?fields=name,bogus'),
                         400, 'bogus')

    def test_not_found(self) -> None:
        self.assertError(self.client.get('/v1/nodes/missing'), 404,
                         'missing')

    def test_links(self) -> None:
        links = self.client.get('/v1/nodes/n1').json()['links']
        self.assertEqual(
            [{'href': f'{base.BASE}/v1/nodes/{self.node["uuid"]}',
              'rel': 'self'},
             {'href': f'{base.BASE}/nodes/{self.node["uuid"]}',
              'rel': 'bookmark'}], links)


class TestList(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.nodes = [self.create_node(name=f'n{i}') for i in range(5)]

    def uuids(self, body: dict) -> list[str]:
        return [node['uuid'] for node in body['nodes']]

    def test_default_fields(self) -> None:
        body = self.client.get('/v1/nodes').json()
        self.assertEqual(set(node_view.DEFAULT_LIST_FIELDS) | {'links'},
                         set(body['nodes'][0]))
        self.assertEqual([n['uuid'] for n in self.nodes], self.uuids(body))
        self.assertNotIn('next', body)

    def test_detail(self) -> None:
        for path in ('/v1/nodes/detail', '/v1/nodes/detail/',
                     '/v1/nodes?detail=True'):
            body = self.client.get(path).json()
            self.assertEqual(node_view.ALL_FIELDS, set(body['nodes'][0]),
                             path)

    def test_fields_with_trailing_slash(self) -> None:
        body = self.client.get('/v1/nodes/?fields=uuid,driver').json()
        self.assertEqual({'uuid', 'driver', 'links'}, set(body['nodes'][0]))

    def test_detail_and_fields_conflict(self) -> None:
        self.assertError(self.client.get('/v1/nodes?detail=True&fields=uuid'),
                         400, 'detail')

    def test_pagination(self) -> None:
        response = self.client.get('/v1/nodes?limit=2&maintenance=False')
        body = response.json()
        self.assertEqual([n['uuid'] for n in self.nodes[:2]],
                         self.uuids(body))
        url = urlparse(body['next'])
        self.assertEqual('http://testserver', f'{url.scheme}://{url.netloc}')
        self.assertEqual('/v1/nodes', url.path)
        query = parse_qs(url.query)
        self.assertEqual({'sort_key': ['id'], 'sort_dir': ['asc'],
                          'maintenance': ['False'], 'limit': ['2'],
                          'marker': [self.nodes[1]['uuid']]}, query)
        seen = self.uuids(body)
        while 'next' in body:
            body = self.client.get(body['next']).json()
            seen += self.uuids(body)
        self.assertEqual([n['uuid'] for n in self.nodes], seen)

    def test_page_after_last(self) -> None:
        body = self.client.get(
            f'/v1/nodes?limit=5&marker={self.nodes[-1]["uuid"]}').json()
        self.assertEqual({'nodes': []}, body)

    def test_limits(self) -> None:
        self.assertError(self.client.get('/v1/nodes?limit=0'), 400,
                         'Limit must be positive')
        self.assertError(self.client.get('/v1/nodes?limit=-3'), 400,
                         'Limit must be positive')
        self.assertError(self.client.get('/v1/nodes?limit=ten'), 400,
                         'limit')
        body = self.client.get(f'/v1/nodes?limit={10 ** 30}').json()
        self.assertEqual(5, len(body['nodes']))

    def test_max_limit_is_default_page(self) -> None:
        self.config(max_limit=3, group='api')
        body = self.make_client().get('/v1/nodes/detail').json()
        self.assertEqual(3, len(body['nodes']))
        self.assertIn('/v1/nodes/detail?', body['next'])
        self.assertIn('limit=3', body['next'])

    def test_public_endpoint_in_next(self) -> None:
        self.config(public_endpoint='https://bm.example.com/', group='api')
        body = self.make_client().get('/v1/nodes?limit=1').json()
        self.assertTrue(body['next'].startswith(
            'https://bm.example.com/v1/nodes?'))
        self.assertTrue(body['nodes'][0]['links'][0]['href'].startswith(
            'https://bm.example.com/v1/nodes/'))

    def test_unknown_marker(self) -> None:
        self.assertError(self.client.get(
            '/v1/nodes?marker=0ab2a0f4-4ab1-4c4e-9e2c-3f1e0b7c1d2e'), 404,
            'Marker')

    def test_sorting(self) -> None:
        body = self.client.get('/v1/nodes?sort_key=name&sort_dir=desc').json()
        self.assertEqual([n['uuid'] for n in reversed(self.nodes)],
                         self.uuids(body))
        self.assertError(self.client.get('/v1/nodes?sort_key=colour'), 400,
                         'colour')
        self.assertError(self.client.get('/v1/nodes?sort_dir=up'), 400,
                         'up')

    def test_filters(self) -> None:
        db_api.update_node('n0', {
            'maintenance': True, 'fault': 'power failure', 'owner': 'alice',
            'resource_class': 'gold', 'conductor_group': 'rack1'})
        db_api.update_node('n1', {
            'instance_uuid': '5e0c7f3e-0a4b-4a6e-9e7a-1d2c3b4a5f60',
            'provision_state': 'manageable'})
        n0, n1 = self.nodes[0]['uuid'], self.nodes[1]['uuid']
        cases = {
            'maintenance=True': [n0],
            'maintenance=false': [n['uuid'] for n in self.nodes[1:]],
            'fault=power%20failure': [n0],
            'owner=alice': [n0],
            'resource_class=gold': [n0],
            'conductor_group=RACK1': [n0],
            'associated=True': [n1],
            'provision_state=manageable': [n1],
            'driver=fake-hardware': [n['uuid'] for n in self.nodes],
            'driver=other': [],
        }
        for query, expected in cases.items():
            body = self.client.get(f'/v1/nodes?{query}').json()
            self.assertEqual(expected, self.uuids(body), query)
        self.assertError(self.client.get('/v1/nodes?maintenance=maybe'),
                         400, 'maintenance')

    def test_unknown_filter_refused(self) -> None:
        # Ironic's instance_uuid filter does not exist here: answering
        # every node to it would be the wrong list, silently.
        for path in ('/v1/nodes', '/v1/nodes/detail'):
            self.assertError(
                self.client.get(f'{path}?instance_uuid=x&provision_state='
                                f'active&colour=red'), 400,
                'Unknown query parameter(s): colour, instance_uuid.',
                'Accepted: associated, conductor_group, detail, driver, '
                'fault, fields, limit, maintenance, marker, owner, '
                'provision_state, resource_class, sort_dir, sort_key.')


class TestDelete(base.APITestCase):

    def test_delete(self) -> None:
        node = self.create_node(name='gone')
        response = self.client.delete(
            '/v1/nodes/gone', headers={
                'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, response.status_code)
        self.assertEqual(b'', response.content)
        self.assertNotIn('content-type', response.headers)
        self.assertError(self.client.get(f'/v1/nodes/{node["uuid"]}'), 404)
        self.assertError(self.client.delete('/v1/nodes/gone'), 404)

    def test_locked(self) -> None:
        self.create_node(name='busy')
        db_api.reserve_node('other-host', 'busy')
        self.assertError(self.client.delete('/v1/nodes/busy'), 409,
                         'other-host')
        self.assertEqual(200, self.client.get('/v1/nodes/busy').status_code)
