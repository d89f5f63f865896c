"""Request limits: body size, JSON depth and field sizes, bad characters."""

import asyncio
import json
from typing import Any

import testtools

from podium.api import limits
from podium.db import api as db_api
from podium.tests.unit.api import base

LIMITS = limits.Limits(max_body_size=1024, max_json_depth=4,
                       max_field_size=64)


class ThroughTheAPITest(base.APITestCase):
    """The limits apply to every route, with Ironic's error body."""

    def test_twenty_megabytes_refused_unread(self) -> None:
        body = {'driver': 'fake-hardware',
                'extra': {'blob': 'x' * (20 * 1024 * 1024)}}
        response = self.client.post('/v1/nodes', json=body)
        fault = self.assertError(response, 413, 'max_request_body_size')
        self.assertIn('114688', fault)
        self.assertEqual([], db_api.list_nodes())
        # The version headers are on the refusal too.
        self.assertIn('x-openstack-ironic-api-version', response.headers)

    def test_limit_is_configurable(self) -> None:
        self.config(max_request_body_size=2048, group='api')
        client = self.make_client()
        body = {'driver': 'fake-hardware', 'extra': {'a': 'x' * 3000}}
        self.assertError(client.post('/v1/nodes', json=body), 413, '2048')
        node = {'driver': 'fake-hardware', 'extra': {'a': 'x' * 1000}}
        self.assertEqual(201, client.post('/v1/nodes', json=node).status_code)

    def test_every_route_is_covered(self) -> None:
        node = self.create_node(name='n1')
        big = 'x' * 200_000
        for method, path in (
                ('PATCH', '/v1/nodes/n1'),
                ('PUT', f'/v1/nodes/{node["uuid"]}/states/power'),
                ('PUT', '/v1/nodes/n1/maintenance'),
                ('POST', '/v1/no/such/route')):
            response = self.client.request(
                method, path, content=json.dumps({'reason': big}),
                headers={'content-type': 'application/json'})
            self.assertError(response, 413, 'limit')

    def test_deep_json(self) -> None:
        deep: Any = 'leaf'
        for _ in range(30):
            deep = {'d': deep}
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'extra': deep}), 400,
            'nested deeper than 20 levels', 'field "extra.d.d')
        # Far deeper than any parser's recursion: still a clean 400.
        text = '[' * 50_000 + ']' * 50_000
        self.assertError(self.client.post(
            '/v1/nodes', content=text,
            headers={'content-type': 'application/json'}), 400)

    def test_large_field(self) -> None:
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware',
            'properties': {f'k{i}': 'v' * 1000 for i in range(70)}}),
            400, 'field "properties"', '65536 bytes')

    def test_integers_beyond_64_bits(self) -> None:
        # Found by the fuzz test: stored, then a 500 (the answer could
        # not encode it) for a node that now existed.
        for number in (2 ** 64, -2 ** 63 - 1, 118891395758891678564352):
            self.assertError(self.client.post('/v1/nodes', json={
                'driver': 'fake-hardware',
                'extra': {'serial': '12345678901234567890123',
                          'deep': [{'n': number}]}}),
                400, f'Invalid number {number}', '64 bits')
        node = self.create_node(extra={'max': 2 ** 64 - 1, 'min': -2 ** 63,
                                       'serial': '123456789012345678901'})
        self.assertEqual({'max': 2 ** 64 - 1, 'min': -2 ** 63,
                          'serial': '123456789012345678901'}, node['extra'])
        self.assertEqual(1, db_api.count_nodes())
        self.assertError(self.client.patch(
            f'/v1/nodes/{node["uuid"]}', json=[
                {'op': 'add', 'path': '/extra/big', 'value': 2 ** 70}]),
            400, '64 bits')

    def test_control_characters(self) -> None:
        cases = [
            ({'driver': 'fake-hardware', 'name': 'a\x00b'}, 'field "name"'),
            ({'driver': 'fake-hardware', 'extra': {'k\x01': 1}},
             'Invalid key "k?"'),
            ({'driver': 'fake-hardware', 'description': 'bell\x07'},
             'field "description"'),
        ]
        for body, fragment in cases:
            self.assertError(self.client.post('/v1/nodes', json=body), 400,
                             fragment, 'control characters')
        self.assertEqual([], db_api.list_nodes())
        multi_line = self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'description': 'one\n\ttwo\r\n'})
        self.assertEqual(201, multi_line.status_code)

    def test_bad_names_and_urls(self) -> None:
        self.assertError(self.client.post('/v1/nodes', json={
            'driver': 'fake-hardware', 'name': 'node one'}), 400,
            'field "name"')
        self.assertError(self.client.get('/v1/nodes/a%00b'), 400,
                         'URL path')
        self.assertError(self.client.get('/v1/nodes?driver=%1b[2J'), 400,
                         'query parameters')

    def test_malformed_json(self) -> None:
        for text in ('{"driver": ', '{"driver": "\\ud800"}', 'nul\x00'):
            self.assertError(self.client.post(
                '/v1/nodes', content=text.encode('utf-8', 'surrogatepass'),
                headers={'content-type': 'application/json'}), 400,
                'Malformed JSON')


class _Recorder:
    """An ASGI receive that counts what the middleware reads."""

    def __init__(self, chunks: int, chunk_size: int) -> None:
        self.left = chunks
        self.chunk_size = chunk_size
        self.read = 0

    async def receive(self) -> dict[str, Any]:
        self.left -= 1
        self.read += 1
        return {'type': 'http.request', 'body': b'x' * self.chunk_size,
                'more_body': self.left > 0}


def _run(headers: list[tuple[bytes, bytes]], recorder: _Recorder,
         method: str = 'POST') -> tuple[list[dict[str, Any]], bool]:
    sent: list[dict[str, Any]] = []
    called = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(True)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {'type': 'http', 'method': method, 'path': '/v1/nodes',
             'raw_path': b'/v1/nodes', 'query_string': b'',
             'headers': headers}
    middleware = limits.LimitsMiddleware(app, LIMITS)
    asyncio.run(asyncio.wait_for(
        middleware(scope, recorder.receive, send), 10))
    return sent, bool(called)


class StreamingTest(testtools.TestCase):
    """Large bodies are refused without being read into memory."""

    def test_content_length_refused_before_reading(self) -> None:
        recorder = _Recorder(chunks=20 * 1024, chunk_size=1024)
        sent, called = _run([(b'content-length', str(20 << 20).encode())],
                            recorder)
        self.assertEqual(0, recorder.read)
        self.assertFalse(called)
        self.assertEqual(413, sent[0]['status'])
        self.assertIn((b'connection', b'close'), sent[0]['headers'])

    def test_chunked_stops_reading_past_the_limit(self) -> None:
        recorder = _Recorder(chunks=20 * 1024, chunk_size=256)
        sent, called = _run([(b'transfer-encoding', b'chunked')], recorder)
        self.assertEqual(5, recorder.read)  # 1024 bytes, then one more
        self.assertFalse(called)
        self.assertEqual(413, sent[0]['status'])

    def test_bad_content_length(self) -> None:
        sent, called = _run([(b'content-length', b'lots')],
                            _Recorder(1, 1))
        self.assertEqual(400, sent[0]['status'])
        self.assertFalse(called)

    def test_get_passes_without_reading(self) -> None:
        recorder = _Recorder(chunks=1, chunk_size=10)
        sent, called = _run([], recorder, method='GET')
        self.assertTrue(called)
        self.assertEqual(0, recorder.read)


class DocumentTest(testtools.TestCase):

    def refused(self, document: Any) -> str:
        error = self.assertRaises(limits.RequestRefused,
                                  limits.check_document, document, LIMITS)
        self.assertEqual(400, error.status)
        return str(error)

    def test_within_limits(self) -> None:
        limits.check_document(
            [{'op': 'add', 'path': '/extra/a', 'value': {'b': [1, 'c']}}],
            LIMITS)

    def test_depth_names_the_place(self) -> None:
        self.assertIn('field "a.b.c.d.e"', self.refused(
            {'a': {'b': {'c': {'d': {'e': 1}}}}}))
        self.assertIn('field "0.value.0.0.0"',
                      self.refused([{'value': [[[1]]]}]))

    def test_sizes(self) -> None:
        self.assertIn('longer than 64 characters',
                      self.refused({'a': 'x' * 65}))
        self.assertIn('field "a": larger than 64 bytes', self.refused(
            {'a': {str(i): i for i in range(20)}}))
