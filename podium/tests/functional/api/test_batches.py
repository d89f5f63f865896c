"""A fleet action in one request against ``podium serve``: a few
hundred fake-hardware nodes powered on by a filter, then off by a list,
each with one POST; the batch is watched with one GET per poll and
every node is then confirmed in the state asked for."""

import time
from typing import Any

import requests

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

NODES = 300
HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest'}


class FleetBatchTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.service = self.useFixture(podium_fixtures.AllInOne(
            {'conductor': {'sync_power_state_interval': 0}}))
        self.session = requests.Session()
        self.addCleanup(self.session.close)

    def call(self, method: str, path: str, status: int,
             **kwargs: Any) -> Any:
        response = self.session.request(method, self.service.url + path,
                                        headers=HEADERS, timeout=30,
                                        **kwargs)
        self.assertEqual(status, response.status_code, response.text)
        return response.json() if response.content else None

    def wait_batch(self, uuid: str) -> tuple[dict[str, Any], int]:
        """The batch once it ended, and how many GETs that took."""
        polls = 0
        deadline = time.monotonic() + 120
        while True:
            batch = self.call('GET', f'/v1/podium/batches/{uuid}', 200)
            polls += 1
            if batch['state'] not in ('running', 'cancelling'):
                return batch, polls
            self.assertLess(time.monotonic(), deadline, batch['counts'])
            time.sleep(0.2)

    def power_states(self) -> dict[str, str]:
        nodes = self.call('GET', '/v1/nodes', 200,
                          params={'fields': 'uuid,power_state,'
                                            'target_power_state,'
                                            'reservation'})['nodes']
        self.assertEqual(NODES, len(nodes))
        for node in nodes:
            self.assertIsNone(node['target_power_state'])
            self.assertIsNone(node['reservation'])
        return {node['uuid']: node['power_state'] for node in nodes}

    def test_power_a_fleet_with_one_request_each(self) -> None:
        uuids = [self.call('POST', '/v1/nodes', 201,
                           json={'driver': 'fake-hardware',
                                 'name': f'fleet-{i:03d}',
                                 'resource_class': 'rack-9'})['uuid']
                 for i in range(NODES)]

        batch = self.call('POST', '/v1/podium/batches', 202, json={
            'action': 'power', 'args': {'target': 'power on'},
            'filters': {'resource_class': 'rack-9'},
            'policy': {'concurrency': 40}})
        self.assertEqual(NODES, batch['counts']['total'])
        batch, _ = self.wait_batch(batch['uuid'])
        self.assertEqual(('succeeded', NODES),
                         (batch['state'], batch['counts']['succeeded']))
        self.assertEqual({'power on'}, set(self.power_states().values()))

        batch = self.call('POST', '/v1/podium/batches', 202, json={
            'action': 'power', 'args': {'target': 'power off'},
            'nodes': uuids, 'policy': {'concurrency': 40}})
        batch, polls = self.wait_batch(batch['uuid'])
        self.assertEqual(('succeeded', NODES),
                         (batch['state'], batch['counts']['succeeded']))
        self.assertEqual(uuids, [node['uuid'] for node in batch['nodes']])
        self.assertEqual({'succeeded'},
                         {node['state'] for node in batch['nodes']})
        states = self.power_states()
        self.assertEqual({'power off'}, set(states.values()))
        self.assertEqual(set(uuids), set(states))
        # Watching it cost one request per poll, far fewer than a GET
        # per node would have.
        self.assertLess(polls, NODES)

        listing = self.call('GET', '/v1/podium/batches', 200)['batches']
        self.assertEqual(['succeeded', 'succeeded'],
                         [b['state'] for b in listing])
