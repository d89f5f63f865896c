"""No secret of any shape leaves the API, the history or ``last_error``."""

import json

from podium.common import masking
from podium.db import api as db_api
from podium.tests.unit.api import base
from podium.tests.unit.common import test_masking

SECRETS = masking.secret_values(test_masking.SECRETS_EVERY_SHAPE)


class SecretsTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(
            name='n1', driver_info=test_masking.SECRETS_EVERY_SHAPE,
            instance_info={'configdrive': 'cd-secret-1',
                           'image_url': 'https://u:img-pw-1@images/x'})
        self.secrets = SECRETS | {'cd-secret-1', 'img-pw-1'}

    def assertNoSecret(self, text: str) -> None:
        for secret in self.secrets:
            self.assertNotIn(secret, text)

    def test_every_read_path_masks(self) -> None:
        paths = ['/v1/nodes/n1', '/v1/nodes/detail', '/v1/nodes?detail=true',
                 '/v1/nodes/n1?fields=driver_info,instance_info',
                 '/v1/nodes?fields=name,driver_info,instance_info',
                 '/v1/nodes/n1/states', '/v1/nodes/n1/validate']
        for path in paths:
            response = self.client.get(path)
            self.assertEqual(200, response.status_code, path)
            self.assertNoSecret(response.text)
        shown = self.client.get('/v1/nodes/n1').json()
        self.assertEqual(masking.mask(test_masking.SECRETS_EVERY_SHAPE),
                         shown['driver_info'])
        self.assertEqual('******', shown['instance_info']['configdrive'])

    def test_write_paths_mask(self) -> None:
        created = self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware',
            'driver_info': test_masking.SECRETS_EVERY_SHAPE})
        self.assertEqual(201, created.status_code)
        self.assertNoSecret(created.text)
        patched = self.client.patch('/v1/nodes/n1', json=[
            {'op': 'add', 'path': '/driver_info/bmc/password',
             'value': 'pw-nested'},
            {'op': 'replace', 'path': '/driver_info/ipmi_kg',
             'value': 'kg-value-1'}])
        self.assertEqual(200, patched.status_code, patched.text)
        self.assertNoSecret(patched.text)
        # A patch that fails validation does not quote the secret either.
        refused = self.client.patch('/v1/nodes/n1', json=[
            {'op': 'add', 'path': '/driver_info', 'value': 'pw-nested'}])
        self.assertEqual(400, refused.status_code)
        self.assertNoSecret(refused.text)

    def test_last_error_and_history_masked_when_written(self) -> None:
        node_id = db_api.get_node('n1').id
        message = ("BMC refused {'ipmi_kg': 'kg-value-1'} at "
                   'https://admin:pw-top-level@10.0.0.1')
        db_api.update_node_by_id(node_id, {'last_error': message})
        db_api.add_node_history(node_id, message, 'power', 'ERROR', None)
        stored = db_api.get_node('n1').last_error
        self.assertIn('10.0.0.1', stored)
        self.assertNoSecret(stored)
        [entry] = db_api.list_node_history(node_id)
        self.assertNoSecret(entry.event)
        for path in ('/v1/nodes/n1', '/v1/nodes/n1/states'):
            self.assertNoSecret(self.client.get(path).text)

    def test_error_messages_masked(self) -> None:
        response = self.client.get('/v1/nodes/password=pw-top-level')
        self.assertEqual(404, response.status_code)
        fault = json.loads(response.json()['error_message'])
        self.assertNotIn('pw-top-level', fault['faultstring'])


class OverMaskingTest(base.APITestCase):
    """Masking hides secret values, never Podium's own words."""

    def test_error_wording_survives_a_password_that_is_a_word(self) -> None:
        node = self.create_node(name='n1', driver='fake-hardware',
                                driver_info={'fake_fail': 'no BMC',
                                             'ipmi_password': 'Driver'})
        response = self.client.put(f'/v1/nodes/{node["uuid"]}/states/power',
                                   json={'target': 'power on'})
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for(f'/v1/nodes/{node["uuid"]}', 'target_power_state',
                      None)
        self.assertEqual(
            'Failed to change power state to power on: Driver error: no BMC',
            self.client.get(f'/v1/nodes/{node["uuid"]}').json()['last_error'])
