"""BMC health in the API: ``GET /v1/podium/bmcs`` and the node field."""

from unittest import mock

from podium.api.routes import bmcs
from podium.common import context as podium_context
from podium.common import exceptions, states
from podium.db import api as db_api
from podium.tests.unit.api import base


class TestBMCHealth(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        bmcs.reset_cache()
        self.addCleanup(bmcs.reset_cache)
        self.node = self.create_node(name='n1', driver_info={
            'fake_bmc': 'bmc-1:623'})
        self.broken = self.create_node(name='n2', driver_info={
            'fake_bmc': 'bmc-2:623', 'fake_fail': 'no route to host'})
        self.plain = self.create_node(name='n3')
        for node in (self.node, self.broken, self.plain):
            db_api.update_node(node['uuid'],
                               {'provision_state': states.MANAGEABLE})

    def sync(self) -> None:
        assert self.conductor.manager is not None
        self.conductor.manager.power_sync.run(
            podium_context.get_admin_context())

    def test_list_worst_first(self) -> None:
        self.sync()
        body = self.client.get('/v1/podium/bmcs').json()
        self.assertEqual([], body['unreachable_conductors'])
        self.assertEqual(['bmc-2:623', 'bmc-1:623'],
                         [bmc['endpoint'] for bmc in body['bmcs']])
        broken, good = body['bmcs']
        self.assertEqual((True, 1, 'test-conductor', 'fake-hardware'),
                         (broken['suspect'], broken['consecutive_failures'],
                          broken['conductor'], broken['driver']))
        self.assertIsNone(broken['last_good_read'])
        self.assertEqual((False, 0, 1), (good['suspect'],
                                         good['consecutive_failures'],
                                         good['requests']))
        self.assertIsNotNone(good['last_good_read'])
        self.assertIsNotNone(good['latency_p95'])
        suspects = self.client.get('/v1/podium/bmcs?suspect=true').json()
        self.assertEqual(['bmc-2:623'],
                         [bmc['endpoint'] for bmc in suspects['bmcs']])
        self.assertError(self.client.get('/v1/podium/bmcs?suspect=maybe'),
                         400)
        self.assertEqual(2, body['total'])

    def test_limit_keeps_the_worst(self) -> None:
        self.sync()
        body = self.client.get('/v1/podium/bmcs?limit=1').json()
        self.assertEqual(['bmc-2:623'],
                         [bmc['endpoint'] for bmc in body['bmcs']])
        self.assertEqual(2, body['total'])
        rpcapi = self.client.app.state.rpcapi
        with mock.patch.object(rpcapi, 'get_bmc_health') as called:
            for bad in ('0', '-1', 'ten'):
                self.assertError(
                    self.client.get(f'/v1/podium/bmcs?limit={bad}'), 400)
        called.assert_not_called()

    def test_conductor_not_answering_is_named(self) -> None:
        self.sync()
        # Alive in the database, but not in this process: nobody answers.
        db_api.register_conductor('c-away', ['fake-hardware'])
        body = self.client.get('/v1/podium/bmcs').json()
        self.assertEqual(['c-away'], body['unreachable_conductors'])
        self.assertEqual(2, len(body['bmcs']))

    def test_node_field(self) -> None:
        self.assertIsNone(self.client.get(
            f'/v1/nodes/{self.node["uuid"]}').json()['bmc_health'])
        self.sync()
        bmcs.reset_cache()
        shown = self.client.get(f'/v1/nodes/{self.node["uuid"]}').json()
        self.assertEqual('bmc-1:623', shown['bmc_health']['endpoint'])
        self.assertEqual('test-conductor', shown['bmc_health']['conductor'])
        broken = self.client.get(f'/v1/nodes/{self.broken["uuid"]}').json()
        self.assertTrue(broken['bmc_health']['suspect'])
        # No BMC endpoint known for this node.
        self.assertIsNone(self.client.get(
            f'/v1/nodes/{self.plain["uuid"]}').json()['bmc_health'])
        # Asked-for fields only, as stock clients expect.
        self.assertEqual({'name', 'links'}, set(self.client.get(
            f'/v1/nodes/{self.node["uuid"]}?fields=name').json()))
        # Lists stay as Ironic's.
        listed = self.client.get('/v1/nodes/detail').json()['nodes']
        self.assertNotIn('bmc_health', listed[0])

    def test_node_show_asks_a_conductor_once_per_cache_period(self) -> None:
        self.sync()
        rpcapi = self.client.app.state.rpcapi
        clock = mock.Mock(return_value=1000.0)
        with mock.patch.object(bmcs.time, 'monotonic', clock), \
                mock.patch.object(rpcapi, 'get_bmc_health',
                                  wraps=rpcapi.get_bmc_health) as asked:
            for _ in range(5):
                shown = self.client.get(f'/v1/nodes/{self.node["uuid"]}')
                self.assertEqual('bmc-1:623',
                                 shown.json()['bmc_health']['endpoint'])
            broken = self.client.get(f'/v1/nodes/{self.broken["uuid"]}')
            self.assertTrue(broken.json()['bmc_health']['suspect'])
            self.assertEqual(1, asked.call_count)
            clock.return_value += bmcs.CACHE_SECONDS
            self.client.get(f'/v1/nodes/{self.node["uuid"]}')
            self.assertEqual(2, asked.call_count)

    def test_unanswering_conductor_is_not_asked_on_every_show(self) -> None:
        rpcapi = self.client.app.state.rpcapi
        with mock.patch.object(
                rpcapi, 'get_bmc_health',
                side_effect=exceptions.ConductorUnreachable(
                    host='test-conductor', reason='timed out')) as asked:
            for _ in range(3):
                self.assertIsNone(self.client.get(
                    f'/v1/nodes/{self.node["uuid"]}').json()['bmc_health'])
        self.assertEqual(1, asked.call_count)
