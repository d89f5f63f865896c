"""The HTTP client: version probe, errors, pagination, connection errors."""

import json

from podium.cli import client
from podium.cli.errors import ApiError, CliError
from podium.cli.settings import Settings
from podium.tests import base
from podium.tests.base import tcp_reachable
from podium.tests.unit.cli import fake_api


class ErrorMessageTest(base.TestCase):

    def test_ironic_double_encoded(self) -> None:
        inner = json.dumps({'faultstring': 'Node x could not be found.'})
        body = json.dumps({'error_message': inner}).encode()
        self.assertEqual('Node x could not be found.',
                         client.error_message(body, 'application/json'))

    def test_plain_string_and_dict_shapes(self) -> None:
        self.assertEqual('boom', client.error_message(
            b'{"error_message": "boom"}', 'application/json'))
        self.assertEqual('nope', client.error_message(
            b'{"error_message": {"faultstring": "nope"}}',
            'application/json'))
        self.assertEqual('bad field', client.error_message(
            b'{"detail": "bad field"}', 'application/json'))

    def test_non_json_body_gives_first_line(self) -> None:
        self.assertEqual('Bad Gateway', client.error_message(
            b'Bad Gateway\nmore', 'text/html'))
        self.assertIsNone(client.error_message(b'', 'text/plain'))

    def test_connection_error_tail(self) -> None:
        exc = Exception("HTTPConnectionPool(host='127.0.0.1', port=1): "
                        "Max retries exceeded (Caused by NewConnectionError("
                        "'<obj>: Failed to establish a new connection: "
                        "[Errno 111] Connection refused'))")
        self.assertEqual('Connection refused',
                         client.describe_connection_error(exc))


class ApiClientTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.api = self.useFixture(fake_api.FakeApi())
        self.client = client.ApiClient(Settings(url=self.api.url))
        self.addCleanup(self.client.close)

    def test_version_is_capped_by_the_server_maximum(self) -> None:
        self.api.routes[('GET', '/v1/nodes')] = lambda req: \
            fake_api.json_reply(200, {'nodes': []})
        self.client.request('GET', '/v1/nodes')
        self.client.request('GET', '/v1/nodes')
        sent = self.api.api_requests()
        self.assertEqual(['1.99', '1.99'], [
            r.headers['X-OpenStack-Ironic-API-Version'] for r in sent])
        # Negotiated once per client, not per request.
        self.assertEqual(1, sum(r.path == '/v1' for r in self.api.requests))

    def test_api_error_carries_status_and_faultstring(self) -> None:
        self.api.routes[('GET', '/v1/nodes/x')] = lambda req: \
            fake_api.ironic_error(404, 'Node x could not be found.')
        exc = self.assertRaises(ApiError, self.client.request, 'GET',
                                '/v1/nodes/x')
        self.assertEqual(404, exc.status)
        self.assertEqual('Node x could not be found. (HTTP 404)', str(exc))

    def test_json_body_is_sent_and_empty_reply_is_none(self) -> None:
        self.api.routes[('PUT', '/v1/nodes/n1/states/power')] = \
            lambda req: (202, {}, None)
        self.assertIsNone(self.client.request(
            'PUT', client.node_path('n1', 'states', 'power'),
            body={'target': 'power on'}))
        sent = self.api.api_requests()[0]
        self.assertEqual({'target': 'power on'}, sent.body)
        self.assertEqual('application/json', sent.headers['Content-Type'])

    def test_paginate_follows_next_links_and_limit(self) -> None:
        nodes = [{'uuid': f'u{i}'} for i in range(5)]

        def page(req: fake_api.Request) -> fake_api.Reply:
            uuids = [n['uuid'] for n in nodes]
            marker = req.query.get('marker')
            start = uuids.index(marker) + 1 if marker else 0
            size = int(req.query.get('limit', 2))
            chunk = nodes[start:start + size]
            doc: dict = {'nodes': chunk}
            if len(chunk) == size:
                # An absolute link to another host: only path+query count.
                doc['next'] = (f'http://elsewhere:1/v1/nodes?limit={size}'
                               f'&marker={chunk[-1]["uuid"]}')
            return fake_api.json_reply(200, doc)
        self.api.routes[('GET', '/v1/nodes')] = page
        self.assertEqual(nodes, list(self.client.paginate('/v1/nodes',
                                                          'nodes')))
        self.assertEqual(nodes[:3], list(self.client.paginate(
            '/v1/nodes', 'nodes', limit=3)))

    def test_basic_auth_is_sent(self) -> None:
        self.client = client.ApiClient(Settings(
            url=self.api.url, user='ops', password='s3cret'))
        self.client.api_version()
        self.assertTrue(self.api.requests[-1].headers[
            'Authorization'].startswith('Basic '))

    def test_server_without_version_headers_is_not_podium(self) -> None:
        self.api.routes[('GET', '/v1')] = lambda req: (
            404, {'X-OpenStack-Ironic-API-Maximum-Version': ''}, None)
        exc = self.assertRaises(CliError, self.client.api_version)
        self.assertIn('does not serve the Podium API', str(exc))


class ConnectionTest(base.TestCase):

    def test_refused_connection_is_one_line(self) -> None:
        port = 9  # discard: nothing listens on loopback there
        self.assertFalse(tcp_reachable('127.0.0.1', port))
        api = client.ApiClient(Settings(url=f'http://127.0.0.1:{port}'))
        exc = self.assertRaises(CliError, api.request, 'GET', '/v1/nodes')
        self.assertEqual(f'cannot connect to http://127.0.0.1:{port}: '
                         f'Connection refused', str(exc))
