"""Version discovery and microversion negotiation."""

from podium.api import versions
from podium.tests.unit.api import base

VERSION = versions.VERSION_HEADER


class TestDiscovery(base.APITestCase):

    def test_root(self) -> None:
        response = self.client.get('/')
        self.assertEqual(200, response.status_code)
        body = response.json()
        expected = {'id': 'v1', 'status': 'CURRENT', 'min_version': '1.1',
                    'version': '1.115',
                    'links': [{'href': f'{base.BASE}/v1/', 'rel': 'self'}]}
        self.assertEqual([expected], body['versions'])
        self.assertEqual(expected, body['default_version'])

    def test_v1_with_and_without_slash(self) -> None:
        for path in ('/v1', '/v1/'):
            response = self.client.get(path)
            self.assertEqual(200, response.status_code)
            body = response.json()
            self.assertEqual('v1', body['id'])
            self.assertEqual('1.115', body['version']['version'])
            self.assertEqual(f'{base.BASE}/v1/nodes/',
                             body['nodes'][0]['href'])
            self.assertEqual('1.1', response.headers[versions.MIN_HEADER])
            self.assertEqual('1.115', response.headers[versions.MAX_HEADER])

    def test_range_headers_on_every_response(self) -> None:
        for response in (self.client.get('/'),
                         self.client.get('/v1/nodes'),
                         self.client.get('/v1/nodes/missing'),
                         self.client.get('/nowhere'),
                         self.client.get('/v1', headers={VERSION: '9.9'})):
            self.assertEqual('1.1', response.headers[versions.MIN_HEADER])
            self.assertEqual('1.115', response.headers[versions.MAX_HEADER])

    def test_openapi_document(self) -> None:
        response = self.client.get('/openapi.json')
        self.assertEqual(200, response.status_code)
        paths = response.json()['paths']
        self.assertIn('/v1/nodes/{node_ident}/states/power', paths)
        self.assertIn('/v1/conductors', paths)


class TestNegotiation(base.APITestCase):

    api_version = None

    def negotiated(self, **headers: str) -> str:
        response = self.client.get('/v1/nodes', headers=headers)
        self.assertEqual(200, response.status_code, response.text)
        return response.headers[VERSION]

    def test_no_header_is_minimum(self) -> None:
        self.assertEqual('1.1', self.negotiated())

    def test_latest_is_maximum(self) -> None:
        self.assertEqual('1.115', self.negotiated(**{VERSION: 'latest'}))

    def test_explicit_version_echoed(self) -> None:
        self.assertEqual('1.109', self.negotiated(**{VERSION: '1.109'}))
        self.assertEqual('1.115', self.negotiated(**{VERSION: '1.115'}))

    def test_generic_header(self) -> None:
        self.assertEqual('1.49', self.negotiated(
            **{'OpenStack-API-Version': 'compute 2.1, baremetal 1.49'}))

    def test_ironic_header_wins(self) -> None:
        self.assertEqual('1.86', self.negotiated(
            **{VERSION: '1.86', 'OpenStack-API-Version': 'baremetal 1.9'}))

    def test_unacceptable_versions(self) -> None:
        for value in ('1.116', '1.0', '2.1', 'abc', '1', '1.x'):
            response = self.client.get('/v1/nodes',
                                       headers={VERSION: value})
            self.assertError(response, 406, value)
            self.assertNotIn(VERSION, response.headers)
