"""Microversions: routes, fields and parameters appear where Ironic
added them, and no header means the minimum version."""

import inspect
from typing import Any

from podium.api import app as api_app
from podium.api import microversions, node_view, port_view
from podium.api.routes import history
from podium.common import states
from podium.db import api as db_api
from podium.tests import base as tests_base
from podium.tests.unit.api import base

VERSION = 'X-OpenStack-Ironic-API-Version'


class TestRouteGuard(tests_base.TestCase):

    def test_guard_runs_on_the_event_loop(self) -> None:
        # Every request passes the guard: FastAPI would run a plain
        # function in a worker thread, a hand-off per request.
        self.assertTrue(inspect.iscoroutinefunction(
            microversions.route_guard))


class TestTable(base.APITestCase):

    def test_every_versioned_field_exists(self) -> None:
        known = {'nodes': node_view.ALL_FIELDS,
                 'ports': port_view.ALL_FIELDS | {'node_ident'},
                 'node_history': set(history.DETAIL_FIELDS)}
        for resource, fields in microversions.FIELDS.items():
            self.assertEqual(set(), set(fields) - known[resource], resource)

    def test_every_versioned_route_exists(self) -> None:
        paths = set(api_app.create_app().openapi()['paths'])
        self.assertEqual(set(), set(microversions.ROUTES) - paths)


class VersionedTestCase(base.APITestCase):

    def get(self, path: str, version: str | None) -> Any:
        """GET at ``version``; None sends no version header at all."""
        if version is None:
            return self._bare(path)
        return self.client.get(path, headers={VERSION: version})

    def _bare(self, path: str) -> Any:
        # The shared client sends "latest"; this request sends nothing.
        self.client.headers.pop(VERSION, None)
        try:
            return self.client.get(path)
        finally:
            self.client.headers[VERSION] = 'latest'


class TestNodes(VersionedTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1', description='d')

    def test_no_header_is_1_1(self) -> None:
        node = self.get(f'/v1/nodes/{self.node["uuid"]}', None).json()
        for name in ('name', 'description', 'conductor', 'fault',
                     'conductor_group', 'power_interface', 'traits'):
            self.assertNotIn(name, node)
        for name in ('uuid', 'power_state', 'provision_state', 'driver',
                     'maintenance', 'reservation', 'links'):
            self.assertIn(name, node)

    def test_fields_appear_at_their_version(self) -> None:
        path = f'/v1/nodes/{self.node["uuid"]}'
        self.assertNotIn('description', self.get(path, '1.50').json())
        self.assertEqual('d', self.get(path, '1.51').json()['description'])
        self.assertNotIn('conductor', self.get(path, '1.48').json())
        self.assertIn('conductor', self.get(path, '1.49').json())
        detail = self.get('/v1/nodes/detail', '1.41').json()['nodes'][0]
        self.assertNotIn('fault', detail)
        # Plus Podium's extensions (bmc_health, intended_settings,
        # drift: a show, not fields).
        self.assertEqual(node_view.ALL_FIELDS |
                         set(node_view.EXTENSION_FIELDS),
                         set(self.get(path, '1.115').json()))

    def test_old_state_names(self) -> None:
        node_id = db_api.get_node('n1').id
        path = f'/v1/nodes/{self.node["uuid"]}'
        db_api.update_node_by_id(node_id,
                                 {'provision_state': states.AVAILABLE})
        self.assertIsNone(self.get(path, '1.1').json()['provision_state'])
        self.assertEqual('available',
                         self.get(path, '1.2').json()['provision_state'])
        db_api.update_node_by_id(node_id,
                                 {'provision_state': states.INSPECTWAIT})
        self.assertEqual('inspecting', self.get(
            '/v1/nodes', '1.38').json()['nodes'][0]['provision_state'])
        self.assertEqual('inspect wait',
                         self.get(path, '1.39').json()['provision_state'])

    def test_newer_fields_and_parameters_refused(self) -> None:
        path = f'/v1/nodes/{self.node["uuid"]}'
        self.assertError(self.get(f'{path}?fields=uuid', '1.7'), 406,
                         'fields', '1.8')
        self.assertError(self.get('/v1/nodes?fields=uuid,fault', '1.41'),
                         406, 'fault', '1.42')
        self.assertEqual(200, self.get('/v1/nodes?fields=uuid,fault',
                                       '1.42').status_code)
        response = self.client.post(
            '/v1/nodes', json={'driver': 'fake-hardware', 'owner': 'x'},
            headers={VERSION: '1.49'})
        self.assertError(response, 406, 'owner', '1.50')
        response = self.client.patch(
            path, json=[{'op': 'add', 'path': '/description', 'value': 'x'}],
            headers={VERSION: '1.50'})
        self.assertError(response, 406, 'description', '1.51')
        self.assertEqual(1, db_api.count_nodes())

    def test_conductors_from_1_49(self) -> None:
        self.assertError(self.get('/v1/conductors', '1.48'), 404)
        self.assertEqual(200, self.get('/v1/conductors', '1.49').status_code)
        self.assertError(self.get('/v1/conductors', None), 404)


class TestPorts(VersionedTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1')
        self.port = self.client.post('/v1/ports', json={
            'address': '52:54:00:00:00:01', 'node_uuid': self.node['uuid'],
            'name': 'eth0'}).json()

    def test_fields_by_version(self) -> None:
        path = f'/v1/ports/{self.port["uuid"]}'
        old = self.get(path, None).json()
        self.assertEqual({'uuid', 'address', 'node_uuid', 'extra',
                          'created_at', 'updated_at', 'links'}, set(old))
        self.assertIn('pxe_enabled', self.get(path, '1.19').json())
        self.assertNotIn('name', self.get(path, '1.87').json())
        self.assertEqual('eth0', self.get(path, '1.88').json()['name'])
        self.assertEqual(port_view.ALL_FIELDS,
                         set(self.get(path, '1.115').json()))

    def test_newer_input_refused(self) -> None:
        body = {'address': '52:54:00:00:00:02', 'node_ident': 'n1'}
        self.assertError(self.client.post(
            '/v1/ports', json=body, headers={VERSION: '1.93'}), 406,
            'node_ident', '1.94')
        body = {'address': '52:54:00:00:00:02',
                'node_uuid': self.node['uuid'], 'pxe_enabled': False}
        self.assertError(self.client.post(
            '/v1/ports', json=body, headers={VERSION: '1.18'}), 406,
            'pxe_enabled', '1.19')
        self.assertError(self.client.patch(
            f'/v1/ports/{self.port["uuid"]}',
            json=[{'op': 'add', 'path': '/physical_network', 'value': 'p'}],
            headers={VERSION: '1.33'}), 406, 'physical_network')
        self.assertError(self.get('/v1/ports?fields=name', '1.87'), 406,
                         'name')
