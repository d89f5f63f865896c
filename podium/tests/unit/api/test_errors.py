"""Error responses: Ironic's body shape for every failure."""

import fixtures

from podium.tests.unit.api import base


class TestErrors(base.APITestCase):

    def test_unknown_route(self) -> None:
        self.assertError(self.client.get('/v1/nowhere'), 404,
                         'could not be found')

    def test_method_not_allowed(self) -> None:
        self.assertError(self.client.post('/v1/conductors', json={}), 405)

    def test_unexpected_error_is_500_without_details(self) -> None:
        self.useFixture(fixtures.MockPatch(
            'podium.db.node_reads._read',
            side_effect=RuntimeError('password=hunter2')))
        response = self.client.get('/v1/nodes/n1')
        message = self.assertError(response, 500, 'Internal server error')
        self.assertNotIn('hunter2', message)
        self.assertEqual('1.1', response.headers[
            'X-OpenStack-Ironic-API-Minimum-Version'])

    def test_odd_client_headers_accepted(self) -> None:
        response = self.client.get('/v1/nodes', headers={
            'X-Auth-Token': 'notused', 'Accept': '*/*',
            'Content-Type': 'application/json'})
        self.assertEqual(200, response.status_code)
