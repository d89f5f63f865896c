"""``/v1/podium/batches``: validation before any node is touched, and
a batch watched, cancelled, resumed and retried through the API."""

from typing import Any

from podium.db import api as db_api
from podium.db import batches as db_batches
from podium.tests.unit.api import base

PATH = '/v1/podium/batches'


class BatchAPITestCase(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.names = [f'node-{i}' for i in range(4)]
        for name in self.names:
            node = self.create_node(name=name)
            db_api.update_node(node['uuid'], {'power_state': 'power on'})

    def post(self, body: dict[str, Any]) -> Any:
        return self.client.post(PATH, json=body)

    def power_off(self, nodes: list[str] | None = None,
                  **extra: Any) -> dict[str, Any]:
        body = {'action': 'power', 'args': {'target': 'power off'},
                'nodes': self.names if nodes is None else nodes, **extra}
        response = self.post(body)
        self.assertEqual(202, response.status_code, response.text)
        self.assertIn(response.json()['uuid'], response.headers['Location'])
        return dict(response.json())

    def wait_state(self, uuid: str, *wanted: str) -> dict[str, Any]:
        for _ in range(500):
            body = self.client.get(f'{PATH}/{uuid}').json()
            if body['state'] in wanted:
                return dict(body)
            self.wait_a_little()
        self.fail(f'batch {uuid} stayed {body["state"]}')

    @staticmethod
    def wait_a_little() -> None:
        import time
        time.sleep(0.02)

    def set_fake(self, name: str, **info: Any) -> None:
        node = db_api.get_node(name)
        db_api.update_node(node.id, {'driver_info': info})


class TestValidation(BatchAPITestCase):
    """Every bad request is a 400 naming the problem, and creates no
    batch and changes no node."""

    def assertRefused(self, body: dict[str, Any], *fragments: str) -> None:
        self.assertError(self.post(body), 400, *fragments)
        self.assertEqual([], db_batches.list_batches())
        for name in self.names:
            node = db_api.get_node(name)
            self.assertEqual('power on', node.power_state)
            self.assertIsNone(node.reservation)

    def test_unknown_action(self) -> None:
        self.assertRefused({'action': 'explode', 'nodes': self.names},
                           'Unknown batch action', 'explode', 'power')

    def test_bad_args(self) -> None:
        self.assertRefused({'action': 'power', 'args': {'target': 'up'},
                            'nodes': self.names}, 'Invalid power target')
        self.assertRefused({'action': 'power', 'nodes': self.names},
                           'needs args: target')
        self.assertRefused({'action': 'boot_device',
                            'args': {'boot_device': 'floppy'},
                            'nodes': self.names}, 'Invalid boot device')
        self.assertRefused({'action': 'provision',
                            'args': {'target': 'deploy'},
                            'nodes': self.names}, 'provision target')
        self.assertRefused({'action': 'provision',
                            'args': {'target': ['manage']},
                            'nodes': self.names}, 'provision target')
        self.assertRefused({'action': 'provision',
                            'args': {'target': 'clean'},
                            'nodes': self.names}, 'clean_steps')
        self.assertRefused({'action': 'maintenance',
                            'args': {'enabled': True, 'color': 'red'},
                            'nodes': self.names}, 'does not take', 'color')

    def test_empty_and_oversized_node_list(self) -> None:
        body = {'action': 'power', 'args': {'target': 'power off'}}
        self.assertRefused(dict(body, nodes=[]), '"nodes" is empty')
        self.config(max_batch_nodes=3, group='api')
        self.assertRefused(dict(body, nodes=self.names), 'lists 4 nodes',
                           'at most 3')
        self.assertRefused(dict(body, filters={'driver': 'fake-hardware'}),
                           'match 4 nodes', 'at most 3')

    def test_unknown_and_duplicate_nodes(self) -> None:
        body = {'action': 'power', 'args': {'target': 'power off'}}
        self.assertRefused(dict(body, nodes=['node-0', 'ghost', 'gone']),
                           'Unknown node(s)', 'ghost, gone')
        uuid = db_api.get_node('node-1').uuid
        self.assertRefused(dict(body, nodes=['node-1', uuid]),
                           'listed twice')

    def test_filters(self) -> None:
        body = {'action': 'power', 'args': {'target': 'power off'}}
        self.assertRefused(dict(body, filters={'driver': 'ipmi'}),
                           'match no node')
        self.assertRefused(dict(body, filters={'colour': 'red'}),
                           'Unknown filter(s): colour')
        self.assertRefused(dict(body, filters={'maintenance': 'yes'}),
                           'expected a boolean')
        self.assertRefused(dict(body, filters={}), 'name at least one')
        self.assertRefused(dict(body, nodes=self.names,
                                filters={'driver': 'fake-hardware'}),
                           'not both or neither')
        self.assertRefused(body, 'not both or neither')

    def test_bad_policy(self) -> None:
        self.assertRefused({'action': 'power',
                            'args': {'target': 'power off'},
                            'nodes': self.names,
                            'policy': {'concurrency': 0}}, 'concurrency')
        self.assertRefused({'action': 'power',
                            'args': {'target': 'power off'},
                            'nodes': self.names,
                            'policy': {'max_failure_percentage': 101}},
                           'max_failure_percentage')

    def test_unknown_batch(self) -> None:
        self.assertError(self.client.get(f'{PATH}/nope'), 404, 'nope')
        self.assertError(self.client.delete(f'{PATH}/nope'), 404)


class TestBatches(BatchAPITestCase):

    def test_power_off_listed_nodes(self) -> None:
        batch = self.power_off()
        self.assertEqual('power', batch['action'])
        self.assertEqual(4, batch['counts']['total'])
        done = self.wait_state(batch['uuid'], 'succeeded')
        self.assertEqual(4, done['counts']['succeeded'])
        self.assertEqual(self.names, [n['name'] for n in done['nodes']])
        for node in done['nodes']:
            self.assertEqual('succeeded', node['state'])
            self.assertIsNotNone(node['finished_at'])
        for name in self.names:
            self.assertEqual('power off', db_api.get_node(name).power_state)

    def test_filter_and_list(self) -> None:
        db_api.update_node(db_api.get_node('node-2').id,
                           {'owner': 'team-a'})
        response = self.post({'action': 'maintenance',
                              'args': {'enabled': True, 'reason': 'dimm'},
                              'filters': {'owner': 'team-a'}})
        self.assertEqual(202, response.status_code, response.text)
        done = self.wait_state(response.json()['uuid'], 'succeeded')
        self.assertEqual(['node-2'], [n['name'] for n in done['nodes']])
        self.assertTrue(db_api.get_node('node-2').maintenance)
        self.assertFalse(db_api.get_node('node-1').maintenance)
        listing = self.client.get(PATH).json()['batches']
        self.assertEqual([done['uuid']], [b['uuid'] for b in listing])
        self.assertEqual(1, listing[0]['counts']['succeeded'])
        self.assertNotIn('nodes', listing[0])

    def test_failed_node_then_retry_failed_only(self) -> None:
        self.set_fake('node-1', fake_fail='BMC on fire')
        batch = self.power_off()
        done = self.wait_state(batch['uuid'], 'failed')
        self.assertEqual({'succeeded': 3, 'failed': 1},
                         {k: v for k, v in done['counts'].items()
                          if v and k != 'total'})
        failed = self.client.get(f'{PATH}/{batch["uuid"]}',
                                 params={'node_state': 'failed'}).json()
        self.assertEqual(['node-1'], [n['name'] for n in failed['nodes']])
        self.assertIn('BMC on fire', failed['nodes'][0]['error'])
        finished = {n['name']: n['finished_at'] for n in done['nodes']}

        self.set_fake('node-1')
        response = self.client.post(f'{PATH}/{batch["uuid"]}/retry')
        self.assertEqual(202, response.status_code, response.text)
        self.assertEqual(2, response.json()['run'])
        again = self.wait_state(batch['uuid'], 'succeeded')
        runs = {n['name']: n['run'] for n in again['nodes']}
        self.assertEqual({'node-0': 1, 'node-1': 2, 'node-2': 1,
                          'node-3': 1}, runs)
        # The others were not run again.
        for node in again['nodes']:
            if node['name'] != 'node-1':
                self.assertEqual(finished[node['name']],
                                 node['finished_at'])
        # Nothing failed any more: a retry has nothing to run.
        self.assertError(self.client.post(f'{PATH}/{batch["uuid"]}/retry'),
                         409)

    def test_threshold_stops_then_resume(self) -> None:
        for name in self.names[:2]:
            self.set_fake(name, fake_fail='dead BMC')
        batch = self.power_off(policy={'concurrency': 1,
                                       'max_failure_percentage': 25})
        stopped = self.wait_state(batch['uuid'], 'stopped')
        self.assertIn('max_failure_percentage 25', stopped['last_error'])
        self.assertEqual(2, stopped['counts']['failed'])
        self.assertEqual(2, stopped['counts']['pending'])
        self.assertEqual('power on', db_api.get_node('node-3').power_state)

        response = self.client.post(f'{PATH}/{batch["uuid"]}/resume')
        self.assertEqual(202, response.status_code, response.text)
        resumed = self.wait_state(batch['uuid'], 'failed')
        self.assertEqual(2, resumed['counts']['succeeded'])
        self.assertEqual('power off', db_api.get_node('node-3').power_state)

    def test_cancel(self) -> None:
        for name in self.names:
            self.set_fake(name, fake_delay=0.3)
        batch = self.power_off(policy={'concurrency': 1})
        response = self.client.delete(f'{PATH}/{batch["uuid"]}')
        self.assertEqual(202, response.status_code, response.text)
        cancelled = self.wait_state(batch['uuid'], 'cancelled')
        counts = cancelled['counts']
        self.assertGreaterEqual(counts['cancelled'], 2)
        self.assertEqual(4, counts['cancelled'] + counts['succeeded'])
        self.assertEqual(0, counts['running'] + counts['pending'])
        # A finished batch cannot be cancelled again...
        self.assertError(self.client.delete(f'{PATH}/{batch["uuid"]}'),
                         409, 'cancelled')
        # ...but its cancelled nodes can be resumed.
        response = self.client.post(f'{PATH}/{batch["uuid"]}/resume')
        self.assertEqual(202, response.status_code, response.text)
        done = self.wait_state(batch['uuid'], 'succeeded')
        self.assertEqual(4, done['counts']['succeeded'])
