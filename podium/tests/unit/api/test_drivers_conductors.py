"""Drivers and conductors."""

import datetime

import fixtures
import sqlalchemy as sa

from podium.common import hash_ring
from podium.db import api as db_api
from podium.db import engine, models
from podium.tests.unit.api import base


class TestDrivers(base.APITestCase):

    def test_list(self) -> None:
        for path in ('/v1/drivers', '/v1/drivers/?type=dynamic'):
            body = self.client.get(path).json()
            self.assertEqual(1, len(body['drivers']))
            driver = body['drivers'][0]
            self.assertEqual(('fake-hardware', ['test-conductor']),
                             (driver['name'], driver['hosts']))
            self.assertNotIn('default_power_interface', driver)

    def test_detail(self) -> None:
        driver = self.client.get('/v1/drivers/?detail=True').json()[
            'drivers'][0]
        self.assertEqual('fake', driver['default_power_interface'])
        self.assertEqual(['fake', 'no-inspect'],
                         driver['enabled_inspect_interfaces'])
        self.assertEqual('fake', driver['default_deploy_interface'])
        self.assertEqual(['fake', 'pxe'], driver['enabled_boot_interfaces'])
        self.assertIsNone(driver['default_raid_interface'])
        self.assertEqual([], driver['enabled_raid_interfaces'])

    def test_types(self) -> None:
        self.assertEqual({'drivers': []},
                         self.client.get('/v1/drivers?type=classic').json())
        self.assertError(self.client.get('/v1/drivers?type=other'), 400,
                         'other')

    def test_show(self) -> None:
        driver = self.client.get('/v1/drivers/fake-hardware').json()
        self.assertEqual('fake', driver['default_management_interface'])
        self.assertError(self.client.get('/v1/drivers/nope'), 404, 'nope')

    def test_properties(self) -> None:
        body = self.client.get('/v1/drivers/fake-hardware/properties').json()
        self.assertIn('fake_delay', body)

    def test_dead_conductor_hides_driver(self) -> None:
        self.config(heartbeat_timeout=2, group='conductor')
        _age_conductor('test-conductor', seconds=60)
        self.assertEqual({'drivers': []},
                         self.client.get('/v1/drivers').json())


def _age_conductor(hostname: str, seconds: int) -> None:
    with engine.session_scope(writer=True) as session:
        session.execute(sa.update(models.Conductor).where(
            models.Conductor.hostname == hostname).values(
            updated_at=models.utcnow() - datetime.timedelta(
                seconds=seconds)))


class TestConductors(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        for host in ('c-a', 'c-b', 'c-c'):
            db_api.register_conductor(host, ['fake-hardware'], 'g1')

    def test_list(self) -> None:
        body = self.client.get('/v1/conductors').json()
        self.assertEqual(['c-a', 'c-b', 'c-c', 'test-conductor'],
                         [c['hostname'] for c in body['conductors']])
        self.assertEqual({'hostname', 'conductor_group', 'alive', 'links'},
                         set(body['conductors'][0]))
        self.assertTrue(body['conductors'][0]['alive'])

    def test_detail_and_fields(self) -> None:
        body = self.client.get('/v1/conductors/?detail=True').json()
        self.assertEqual(['fake-hardware'], body['conductors'][0]['drivers'])
        self.assertIn('created_at', body['conductors'][0])
        body = self.client.get('/v1/conductors?fields=hostname').json()
        self.assertEqual({'hostname', 'links'}, set(body['conductors'][0]))
        self.assertError(self.client.get('/v1/conductors?fields=x'), 400,
                         'x')

    def test_node_count_heartbeat_and_unserved_groups(self) -> None:
        for index in range(30):
            db_api.create_node({'driver': 'fake-hardware',
                                'name': f'n{index}',
                                'conductor_group': 'G1' if index % 2
                                else ''})
        db_api.create_node({'driver': 'fake-hardware', 'name': 'orphan',
                            'conductor_group': 'nobody-here'})
        body = self.client.get('/v1/conductors?detail=True').json()
        counts = {c['hostname']: c['node_count']
                  for c in body['conductors']}
        # The default group's 15 nodes all go to the one conductor of
        # that group; group g1's 15 are spread over its three.
        self.assertEqual(15, counts.pop('test-conductor'))
        self.assertEqual(15, sum(counts.values()))
        self.assertEqual(['nobody-here'], body['unserved_conductor_groups'])
        shown = self.client.get('/v1/conductors/c-a').json()
        self.assertEqual(counts['c-a'], shown['node_count'])
        self.assertIsNotNone(shown['last_heartbeat'])
        # A dead conductor owns nothing; its group-mates took its nodes.
        self.config(heartbeat_timeout=5, group='conductor')
        _age_conductor('c-a', seconds=30)
        hash_ring.HashRingManager.reset()
        body = self.client.get('/v1/conductors?fields=hostname,node_count'
                               ).json()
        counts = {c['hostname']: c['node_count']
                  for c in body['conductors']}
        self.assertEqual((0, 15), (counts['c-a'],
                                   counts['c-b'] + counts['c-c']))

    def test_pagination(self) -> None:
        body = self.client.get('/v1/conductors?limit=2').json()
        self.assertEqual(['c-a', 'c-b'],
                         [c['hostname'] for c in body['conductors']])
        self.assertIn('marker=c-b', body['next'])
        body = self.client.get(body['next']).json()
        self.assertEqual(['c-c', 'test-conductor'],
                         [c['hostname'] for c in body['conductors']])
        self.assertError(self.client.get('/v1/conductors?marker=zz'), 404)
        self.assertError(self.client.get('/v1/conductors?limit=0'), 400)

    def test_alive_from_heartbeat(self) -> None:
        self.config(heartbeat_timeout=5, group='conductor')
        _age_conductor('c-b', seconds=30)
        body = self.client.get('/v1/conductors/c-b').json()
        self.assertFalse(body['alive'])
        self.assertEqual('g1', body['conductor_group'])
        self.assertTrue(self.client.get('/v1/conductors/c-a').json()['alive'])

    def test_database_outage_is_503(self) -> None:
        lost = sa.exc.OperationalError(
            'SELECT', {}, Exception('connection to server refused\nmore'))
        self.useFixture(fixtures.MockPatchObject(
            db_api, 'list_conductors', side_effect=lost))
        self.assertError(self.client.get('/v1/conductors'), 503,
                         'The database is unreachable, please retry: '
                         'connection to server refused')

    def test_show_missing(self) -> None:
        self.assertError(self.client.get('/v1/conductors/none'), 404, 'none')

    def test_metrics_relay(self) -> None:
        # The local conductor's own figures, as its metrics port would
        # serve them (here, in-process transport: no RPC hop).
        response = self.client.get('/v1/conductors/test-conductor/metrics')
        self.assertEqual(200, response.status_code, response.text)
        self.assertTrue(response.headers['content-type'].startswith(
            'text/plain'))
        self.assertIn('podium_conductor_pool_size{host="test-conductor",'
                      'slots="reserved"}', response.text)
        self.assertError(self.client.get('/v1/conductors/none/metrics'),
                         404, 'none')
        # Alive but not in this process: nobody to ask.
        self.assertError(self.client.get('/v1/conductors/c-a/metrics'),
                         503, 'c-a', 'not served by this process')
        # Dead: refused at once, no RPC timeout paid.
        self.config(heartbeat_timeout=5, group='conductor')
        _age_conductor('c-b', seconds=30)
        self.assertError(self.client.get('/v1/conductors/c-b/metrics'),
                         503, 'c-b', 'heartbeat is too old')
        # Conductors exist since 1.49; so does the relay.
        self.assertError(self.client.get(
            '/v1/conductors/test-conductor/metrics',
            headers={'X-OpenStack-Ironic-API-Version': '1.48'}), 404)
