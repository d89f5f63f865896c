"""Routes that go through the conductor: power, boot device,
maintenance, validation, inspection and the states view."""

import fixtures

from podium.common import exceptions
from podium.conductor import rpcapi
from podium.db import api as db_api
from podium.tests.unit.api import base


class TestStatesAndPower(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1',
                                     driver_info={'ipmi_password': 'pw'})

    def power(self, body: object, ident: str = 'n1') -> object:
        return self.client.put(f'/v1/nodes/{ident}/states/power', json=body)

    def test_states(self) -> None:
        body = self.client.get('/v1/nodes/n1/states').json()
        self.assertEqual('enroll', body['provision_state'])
        self.assertFalse(body['console_enabled'])
        self.assertIsNone(body['power_state'])
        self.assertIn('last_error', body)
        self.assertNotIn('driver_info', body)

    def test_power_cycle(self) -> None:
        for target, result in (('power on', 'power on'),
                               ('power off', 'power off'),
                               ('rebooting', 'power on'),
                               ('soft power off', 'power off')):
            response = self.power({'target': target, 'timeout': 30})
            self.assertEqual(202, response.status_code, response.text)
            self.assertEqual(b'', response.content)
            self.assertNotIn('content-type', response.headers)
            self.assertEqual(f'{base.BASE}/v1/nodes/n1/states',
                             response.headers['location'])
            node = self.wait_for('/v1/nodes/n1', 'power_state', result)
            self.wait_for('/v1/nodes/n1', 'target_power_state', None)
            self.assertIsNone(node['last_error'])

    def test_bad_power_requests(self) -> None:
        cases = [({'target': 'power up'}, 'power up'),
                 ({}, 'target'),
                 ({'target': 'power on', 'timeout': 0}, 'timeout'),
                 ({'target': 'power on', 'timeout': 'soon'}, 'timeout'),
                 ({'target': 'power on', 'force': True}, 'force')]
        for body, fragment in cases:
            self.assertError(self.power(body), 400, fragment)
        self.assertIsNone(db_api.get_node('n1').target_power_state)

    def test_not_found(self) -> None:
        self.assertError(self.power({'target': 'power on'}, 'missing'), 404)

    def test_locked(self) -> None:
        db_api.reserve_node('other-host', 'n1')
        self.assertError(self.power({'target': 'power on'}), 409,
                         'other-host')

    def test_no_free_worker(self) -> None:
        self.useFixture(fixtures.MockPatchObject(
            self.conductor.manager, 'change_node_power_state',
            side_effect=exceptions.NoFreeConductorWorker()))
        self.assertError(self.power({'target': 'power on'}), 503,
                         'free conductor workers')

    def test_conductor_gone(self) -> None:
        rpcapi.unregister_local_manager()
        self.assertError(self.power({'target': 'power on'}), 503,
                         'did not answer')

    def test_inspect(self) -> None:
        db_api.update_node('n1', {'provision_state': 'manageable'})
        response = self.client.put(
            '/v1/nodes/n1/states/provision', json={'target': 'inspect'},
            headers={'X-OpenStack-Ironic-API-Version': '1.6'})
        self.assertEqual(202, response.status_code, response.text)


class TestManagement(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1')

    def test_boot_device(self) -> None:
        response = self.client.put('/v1/nodes/n1/management/boot_device',
                                   json={'boot_device': 'pxe',
                                         'persistent': True})
        self.assertEqual(204, response.status_code, response.text)
        self.assertNotIn('content-type', response.headers)
        body = self.client.get('/v1/nodes/n1/management/boot_device').json()
        self.assertEqual({'boot_device': 'pxe', 'persistent': True}, body)

    def test_supported(self) -> None:
        body = self.client.get(
            '/v1/nodes/n1/management/boot_device/supported').json()
        self.assertIn('pxe', body['supported_boot_devices'])

    def test_bad_boot_device(self) -> None:
        self.assertError(self.client.put(
            '/v1/nodes/n1/management/boot_device',
            json={'boot_device': 'floppy'}), 400, 'floppy')
        self.assertError(self.client.put(
            '/v1/nodes/n1/management/boot_device',
            json={'persistent': True}), 400, 'boot_device')

    def test_maintenance(self) -> None:
        response = self.client.put('/v1/nodes/n1/maintenance',
                                   json={'reason': 'broken fan'})
        self.assertEqual(202, response.status_code, response.text)
        self.assertNotIn('content-type', response.headers)
        node = self.client.get('/v1/nodes/n1').json()
        self.assertEqual((True, 'broken fan'),
                         (node['maintenance'], node['maintenance_reason']))
        response = self.client.delete('/v1/nodes/n1/maintenance')
        self.assertEqual(202, response.status_code)
        node = self.client.get('/v1/nodes/n1').json()
        self.assertEqual((False, None),
                         (node['maintenance'], node['maintenance_reason']))

    def test_maintenance_without_reason(self) -> None:
        for kwargs in ({'json': {'reason': None}}, {}):
            response = self.client.put('/v1/nodes/n1/maintenance', **kwargs)
            self.assertEqual(202, response.status_code, response.text)
            self.assertTrue(self.client.get('/v1/nodes/n1').json()[
                'maintenance'])

    def test_validate(self) -> None:
        body = self.client.get('/v1/nodes/n1/validate').json()
        self.assertEqual({'result': True, 'reason': None}, body['power'])
        self.assertIn('management', body)
