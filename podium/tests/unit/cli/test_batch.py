"""Bulk commands through the batch extension, against a fake API that
runs a batch one step per poll: one POST per batch and one GET per
poll, never a request per node; the same progress lines, summary and
exit status as the per-node path."""

import json
import threading
from typing import Any

from podium.tests import base
from podium.tests.unit.cli import fake_api
from podium.tests.unit.cli.test_main import run_main

UUIDS = {f'n{i}': f'00000000-0000-0000-0000-00000000000{i}'
         for i in range(1, 5)}
BATCH = '11111111-2222-3333-4444-555555555555'


class FakeBatches:
    """A server-side batch: every GET moves each node one state on
    (pending, running, then its outcome)."""

    def __init__(self, api: fake_api.FakeApi,
                 errors: dict[str, str] | None = None) -> None:
        self.errors = errors or {}
        self.body: dict[str, Any] | None = None
        self.nodes: list[dict[str, Any]] = []
        self.deleted = False
        self._lock = threading.Lock()
        api.routes[('GET', '/v1/podium/batches')] = \
            lambda req: fake_api.json_reply(200, {'batches': []})
        api.routes[('POST', '/v1/podium/batches')] = self.create
        api.routes[('GET', f'/v1/podium/batches/{BATCH}')] = self.show
        api.routes[('DELETE', f'/v1/podium/batches/{BATCH}')] = self.cancel
        api.routes[('GET', '/v1/nodes')] = lambda req: fake_api.json_reply(
            200, {'nodes': [{'uuid': u, 'name': n, 'power_state': 'power on'}
                            for n, u in UUIDS.items()]})

    def create(self, req: fake_api.Request) -> fake_api.Reply:
        self.body = req.body
        names = {u: n for n, u in UUIDS.items()}
        self.nodes = [{'uuid': u, 'name': names[u], 'state': 'pending',
                       'error': None, 'started_at': None}
                      for u in req.body['nodes']]
        return fake_api.json_reply(202, self.document())

    def document(self) -> dict[str, Any]:
        over = all(n['state'] in ('succeeded', 'failed')
                   for n in self.nodes)
        return {'uuid': BATCH, 'state': 'failed' if over else 'running',
                'nodes': [dict(n) for n in self.nodes], 'last_error': None}

    def show(self, req: fake_api.Request) -> fake_api.Reply:
        with self._lock:
            for node in self.nodes:
                if node['state'] == 'pending':
                    node.update(state='running', started_at='now')
                elif node['state'] == 'running':
                    error = self.errors.get(node['name'])
                    node.update(state='failed' if error else 'succeeded',
                                error=error)
        return fake_api.json_reply(200, self.document())

    def cancel(self, req: fake_api.Request) -> fake_api.Reply:
        self.deleted = True
        return fake_api.json_reply(202, self.document())


class BatchCommandsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.api = self.useFixture(fake_api.FakeApi())

    def cli(self, *argv: str) -> tuple[int, str, str]:
        return run_main('--url', self.api.url, *argv)

    def node_requests(self) -> list[str]:
        return [f'{r.method} {r.path}' for r in self.api.api_requests()
                if r.path.startswith('/v1/nodes/')]

    def test_power_wait_polls_the_batch_only(self) -> None:
        batches = FakeBatches(self.api, errors={'n3': 'BMC on fire'})
        status, out, err = self.cli('node', 'power', 'off', 'n1', 'n2',
                                    'n3', 'ghost', '--wait', '-f', 'json')
        self.assertEqual(1, status, err)
        assert batches.body is not None
        self.assertEqual({'action': 'power',
                          'args': {'target': 'power off'},
                          'nodes': [UUIDS['n1'], UUIDS['n2'], UUIDS['n3']],
                          'policy': {'concurrency': 32}}, batches.body)
        # No request per node: one POST, then GETs of the batch.
        self.assertEqual([], self.node_requests())
        posts = [r for r in self.api.requests if r.method == 'POST']
        self.assertEqual(1, len(posts))
        rows = {r['Host']: r for r in json.loads(out)}
        self.assertEqual(['n1', 'n2', 'n3', 'ghost'],
                         [r['Host'] for r in json.loads(out)])
        for name in ('n1', 'n2'):
            self.assertEqual(('SUCCESSFUL', 'reached power off',
                              'power off'),
                             (rows[name]['Result'], rows[name]['Reason'],
                              rows[name]['Power State']))
        self.assertEqual(('FAILED', 'BMC on fire', 'power on'),
                         (rows['n3']['Result'], rows['n3']['Reason'],
                          rows['n3']['Power State']))
        self.assertEqual(('FAILED', 'Node ghost could not be found.'),
                         (rows['ghost']['Result'], rows['ghost']['Reason']))
        self.assertIn('n1: power off requested\n', err)
        self.assertIn('n1: reached power off in ', err)
        self.assertIn('n3: FAILED: BMC on fire in ', err)

    def test_without_wait_a_started_node_is_requested(self) -> None:
        FakeBatches(self.api)
        status, out, err = self.cli('node', 'power', 'on', 'n1', '-f',
                                    'json')
        self.assertEqual(0, status, err)
        row, = json.loads(out)
        self.assertEqual(('SUCCESSFUL', 'power on requested'),
                         (row['Result'], row['Reason']))
        self.assertNotIn('Power State', row)

    def test_maintenance_and_boot_device_wait_for_the_end(self) -> None:
        batches = FakeBatches(self.api)
        status, out, err = self.cli('node', 'maintenance', 'set', 'n1',
                                    'n2', '--reason', 'DIMM', '-f', 'json')
        self.assertEqual(0, status, err)
        self.assertEqual({'maintenance set'},
                         {r['Reason'] for r in json.loads(out)})
        assert batches.body is not None
        self.assertEqual({'enabled': True, 'reason': 'DIMM'},
                         batches.body['args'])
        status, out, err = self.cli('node', 'boot-device', 'set', 'n4',
                                    'pxe', '-f', 'json')
        self.assertEqual(0, status, err)
        self.assertEqual('boot device set to pxe (next boot only)',
                         json.loads(out)[0]['Reason'])
        self.assertEqual([], self.node_requests())

    def test_provision_targets_use_batches_others_do_not(self) -> None:
        batches = FakeBatches(self.api)
        status, out, err = self.cli('node', 'manage', 'n1', '--wait', '-f',
                                    'json')
        self.assertEqual(0, status, err)
        assert batches.body is not None
        self.assertEqual({'target': 'manage', 'clean_steps': None},
                         batches.body['args'])
        self.assertEqual('reached manageable', json.loads(out)[0]['Reason'])
        self.api.routes[('PUT', f'/v1/nodes/{UUIDS["n1"]}/states/'
                                'provision')] = \
            lambda req: fake_api.json_reply(202, None)
        status, _, err = self.cli('node', 'abort', UUIDS['n1'])
        self.assertEqual(0, status, err)
        self.assertEqual([f'PUT /v1/nodes/{UUIDS["n1"]}/states/provision'],
                         self.node_requests())

    def test_refused_batch_fails_its_nodes(self) -> None:
        FakeBatches(self.api)
        self.api.routes[('POST', '/v1/podium/batches')] = \
            lambda req: fake_api.ironic_error(503, 'No conductor')
        status, out, _ = self.cli('node', 'power', 'on', 'n1', 'n2', '-f',
                                  'json')
        self.assertEqual(1, status)
        self.assertEqual({'No conductor (HTTP 503)'},
                         {r['Reason'] for r in json.loads(out)})
