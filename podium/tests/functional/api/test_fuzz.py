"""Fuzzing the API from its own OpenAPI document with schemathesis.

A real ``podium serve`` gets, for every operation of ``/openapi.json``,
requests generated from the schema (valid ones) and from its negation
(malformed ones), bounded in examples so the run stays within about two
minutes (about 40 s on a quiet machine; PODIUM_FUZZ_EXAMPLES scales it).
Most valid requests, and half the malformed ones, are steered at nodes
and ports that exist, with writes reduced to what can be accepted, so
that writes succeed too, not only fail. Afterwards:

* no answer was a 5xx (bad input is a 4xx, never a crash);
* no answer showed a secret: neither the credentials of the nodes the
  run started with, nor any credential a request itself sent;
* the database holds exactly what the accepted requests wrote: the nodes
  and ports of the 201 answers, less those a 204 deleted, each with the
  fields its last accepted write answered with.
"""

import collections
import os
import unicodedata
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import strategies as st
from testtools import content

from podium.common import masking
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}
#: Generated requests per operation and mode (valid, malformed); raise
#: it with PODIUM_FUZZ_EXAMPLES for a longer hunt.
EXAMPLES = int(os.environ.get('PODIUM_FUZZ_EXAMPLES', '15'))
#: The credentials of the nodes the run starts with.
SEED_SECRET = 'fuzz-seed-secret-1'
#: Fields of the last accepted write that the database must still hold.
NODE_FIELDS = ('name', 'driver', 'extra', 'properties', 'description',
               'driver_info', 'instance_info')
#: What a steered create keeps of the generated body.
_FREE_FORM_NODE_FIELDS = frozenset({'name', 'description', 'extra',
                                    'properties', 'driver_info',
                                    'instance_info'})
_FREE_FORM_PORT_FIELDS = frozenset({'name', 'description', 'extra',
                                    'pxe_enabled',
                                    'local_link_connection'})
PORT_FIELDS = ('address', 'node_uuid', 'extra', 'name', 'description',
               'local_link_connection', 'pxe_enabled')


def _printable(value: Any) -> Any:
    """``value`` with control, surrogate and unassigned characters taken
    out of every string, key or value, at any depth: what a steered
    write keeps, since the API rightly refuses them."""
    if isinstance(value, str):
        return ''.join(char for char in value
                       if not unicodedata.category(char).startswith('C'))
    if isinstance(value, dict):
        return {_printable(key): _printable(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value


def _sent_secrets(body: Any) -> set[str]:
    """Credentials a request body sent that no answer may echo: values
    long and varied enough not to turn up in a UUID or a date by
    chance."""
    return {value for value in masking.secret_values(body)
            if len(value) >= 8 and len(set(value)) >= 4}


class _Model:
    """What the accepted requests wrote, from their answers."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}

    def _node_uuid(self, ident: str) -> str | None:
        for uuid, node in self.nodes.items():
            if ident in (uuid, node.get('name')):
                return uuid
        return None

    def record(self, method: str, path: str, ident: dict[str, Any],
               status: int, body: Any) -> None:
        if method == 'POST' and status == 201 and path == '/v1/nodes':
            self.nodes[body['uuid']] = body
        elif method == 'POST' and status == 201 and path == '/v1/ports':
            self.ports[body['uuid']] = body
        elif method == 'PATCH' and status == 200 and \
                path == '/v1/nodes/{node_ident}':
            self.nodes[body['uuid']] = body
        elif method == 'PATCH' and status == 200 and \
                path == '/v1/ports/{port_ident}':
            self.ports[body['uuid']] = body
        elif method == 'DELETE' and status == 204 and \
                path == '/v1/nodes/{node_ident}':
            uuid = self._node_uuid(str(ident['node_ident']))
            assert uuid is not None, f'deleted an unknown node {ident}'
            del self.nodes[uuid]
            self.ports = {key: port for key, port in self.ports.items()
                          if port['node_uuid'] != uuid}
        elif method == 'DELETE' and status == 204 and \
                path == '/v1/ports/{port_ident}':
            wanted = str(ident['port_ident'])
            self.ports = {key: port for key, port in self.ports.items()
                          if wanted not in (key, port.get('name'),
                                            port.get('address'))}


class FuzzTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.service = self.useFixture(podium_fixtures.AllInOne(config={
            'conductor': {'sync_power_state_interval': 0}}))
        self.url = self.service.url
        self.model = _Model()
        self.draws = 0
        self.statuses: collections.Counter[tuple[str, int]] = \
            collections.Counter()
        self.failures: list[str] = []
        self.seed = [self.post_node(f'fuzz-seed-{index}')
                     for index in range(3)]
        self.seed_port = self.post_port(self.seed[0]['uuid'])

    def post_node(self, name: str) -> dict[str, Any]:
        response = requests.post(self.url + '/v1/nodes', headers=LATEST,
                                 timeout=30, json={
                                     'name': name, 'driver': 'fake-hardware',
                                     'driver_info': {
                                         'ipmi_password': SEED_SECRET}})
        self.assertEqual(201, response.status_code, response.text)
        self.model.record('POST', '/v1/nodes', {}, 201, response.json())
        return dict(response.json())

    def post_port(self, node_uuid: str) -> dict[str, Any]:
        response = requests.post(self.url + '/v1/ports', headers=LATEST,
                                 timeout=30, json={
                                     'address': '52:54:00:aa:bb:01',
                                     'node_uuid': node_uuid})
        self.assertEqual(201, response.status_code, response.text)
        self.model.record('POST', '/v1/ports', {}, 201, response.json())
        return dict(response.json())

    def steer(self, drawn: tuple[Any, tuple[bool, int]]) -> Any:
        """Half the cases aimed at what exists, and writes reduced to
        what can be accepted (a usable driver, a MAC address, generated
        free-form fields), so that the run also exercises success."""
        case, (aim, index) = drawn
        if not aim:
            return case
        node = self.seed[index % len(self.seed)]
        params = case.path_parameters or {}
        if 'node_ident' in params:
            params['node_ident'] = (node['uuid'], node['name'])[index % 2]
        if 'port_ident' in params:
            params['port_ident'] = self.seed_port['uuid']
        if case.method in ('POST', 'PATCH'):
            case.body = _printable(case.body)
        if case.method == 'POST' and isinstance(case.body, dict):
            if case.path == '/v1/nodes':
                case.body = {key: value for key, value in case.body.items()
                             if key in _FREE_FORM_NODE_FIELDS}
                case.body['driver'] = 'fake-hardware'
            elif case.path == '/v1/ports':
                case.body = {key: value for key, value in case.body.items()
                             if key in _FREE_FORM_PORT_FIELDS}
                case.body.update(node_uuid=node['uuid'], address=(
                    f'52:54:00:{index % 256:02x}:'
                    f'{len(self.model.ports) % 256:02x}:'
                    f'{self.draws % 256:02x}'))
        self.draws += 1
        return case

    def check(self, operation: Any, case: Any) -> None:
        response = case.call(timeout=30)
        label = f'{case.method} {case.path}'
        self.statuses[(label, response.status_code)] += 1
        where = (f'{label} {case.path_parameters} {case.query} '
                 f'{str(case.body)[:200]!r} -> {response.status_code}')
        if response.status_code >= 500:
            self.failures.append(f'{where}: {response.text[:300]}')
        leaked = {secret for secret in
                  {SEED_SECRET} | _sent_secrets(case.body)
                  if secret in response.text}
        if leaked:
            self.failures.append(f'{where}: shows {sorted(leaked)}')
        body = None
        if response.status_code in (200, 201) and response.content:
            body = response.json()
        self.model.record(case.method, operation.path,
                          dict(case.path_parameters or {}),
                          response.status_code, body)

    def fuzz(self, operation: Any,
             mode: schemathesis.GenerationMode) -> None:
        # Valid requests mostly aimed at what exists; malformed ones at
        # anything. Writes get more examples: they can break the data.
        aimed = (st.integers(0, 4).map(bool)
                 if mode == schemathesis.GenerationMode.POSITIVE
                 else st.booleans())
        strategy = st.tuples(
            operation.as_strategy(generation_mode=mode, headers=LATEST),
            st.tuples(aimed, st.integers(0, 255))).map(self.steer)
        examples = EXAMPLES * (1 if operation.method.upper() in
                               ('GET', 'DELETE') else 3)

        @hypothesis.given(case=strategy)
        @hypothesis.settings(
            max_examples=examples, deadline=None, database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck))
        def run(case: Any) -> None:
            self.check(operation, case)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass  # nothing of this operation can be made malformed

    def test_no_5xx_no_secret_and_the_database_matches(self) -> None:
        schema = schemathesis.openapi.from_url(self.url + '/openapi.json')
        operations = [result.ok() for result in
                      schema.get_all_operations()]
        # Deletes last: the other operations need the nodes alive.
        operations.sort(key=lambda operation: operation.method.upper() ==
                        'DELETE')
        for operation in operations:
            for mode in (schemathesis.GenerationMode.POSITIVE,
                         schemathesis.GenerationMode.NEGATIVE):
                self.fuzz(operation, mode)
        self.addDetail('statuses', content.text_content(
            repr(sorted(self.statuses.items()))))
        self.assertEqual([], self.failures)
        # Every operation was exercised, and some writes were accepted.
        labels = {label for label, _status in self.statuses}
        self.assertEqual(len(operations), len(labels))
        accepted = sum(count for (label, status), count in
                       self.statuses.items()
                       if status in (200, 201, 202, 204)
                       and not label.startswith('GET'))
        self.assertGreater(accepted, 0)
        self.assert_database_matches()

    def assert_database_matches(self) -> None:
        nodes = self.list('/v1/nodes', 'nodes', NODE_FIELDS)
        self.assertEqual(sorted(self.model.nodes), sorted(nodes))
        for uuid, node in nodes.items():
            expected = self.model.nodes[uuid]
            self.assertEqual({name: expected[name] for name in NODE_FIELDS},
                             node, uuid)
        ports = self.list('/v1/ports', 'ports', PORT_FIELDS)
        self.assertEqual(sorted(self.model.ports), sorted(ports))
        for uuid, port in ports.items():
            expected = self.model.ports[uuid]
            self.assertEqual({name: expected[name] for name in PORT_FIELDS},
                             port, uuid)

    def list(self, path: str, key: str,
             fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        response = requests.get(
            self.url + path, headers=LATEST, timeout=30,
            params={'fields': ','.join(('uuid',) + fields), 'limit': 1000})
        self.assertEqual(200, response.status_code, response.text)
        return {item['uuid']: {name: item[name] for name in fields}
                for item in response.json()[key]}
