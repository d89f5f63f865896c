"""``GET /metrics`` on the API after a known sequence of actions."""

import os
import re
from typing import Any
from unittest import mock

import prometheus_client
from prometheus_client import parser

from podium.api import metrics as api_metrics
from podium.common import metrics
from podium.tests.unit.api import base, test_auth

POWER_ROUTE = '/v1/nodes/{node_ident}/states/power'


def sample(name: str, **labels: str) -> float:
    """A sample of the process registry, 0 when absent."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]],
                                 float]:
    response = client.get('/metrics')
    assert response.status_code == 200, response.text
    assert response.headers['content-type'].startswith('text/plain')
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parser.text_string_to_metric_families(
                response.text)
            for s in family.samples}


class TestMetrics(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='rack1-secret-name',
                         driver_info={'fake_address': '10.9.8.7',
                                      'password': 'hunter2'})
        self.create_node(name='n2')
        self.client.put('/v1/nodes/n2/maintenance',
                        json={'reason': 'disk'})

    def test_values_after_actions(self) -> None:
        before = {
            'api': sample('podium_api_requests_total', method='PUT',
                          route=POWER_ROUTE, status='202'),
            'rpc': sample('podium_rpc_calls_total',
                          method='change_node_power_state', outcome='ok'),
            'bmc': sample('podium_bmc_request_duration_seconds_count',
                          driver='fake-hardware',
                          operation='set_power_state'),
            'missing': sample('podium_api_requests_total', method='GET',
                              route='/v1/nodes/{node_ident}',
                              status='404'),
        }
        response = self.client.put('/v1/nodes/rack1-secret-name/states/power',
                                   json={'target': 'power on'})
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for('/v1/nodes/rack1-secret-name', 'power_state',
                      'power on')
        self.client.get('/v1/nodes/no-such-node')
        self.client.get('/no/such/path')
        values = scrape(self.client)

        def value(name: str, **labels: str) -> float:
            return values.get((name, tuple(sorted(labels.items()))), 0.0)

        self.assertEqual(before['api'] + 1, value(
            'podium_api_requests_total', method='PUT', route=POWER_ROUTE,
            status='202'))
        self.assertEqual(before['missing'] + 1, value(
            'podium_api_requests_total', method='GET',
            route='/v1/nodes/{node_ident}', status='404'))
        self.assertGreaterEqual(value(
            'podium_api_requests_total', method='GET', route='unmatched',
            status='404'), 1)
        self.assertEqual(before['rpc'] + 1, value(
            'podium_rpc_calls_total', method='change_node_power_state',
            outcome='ok'))
        self.assertEqual(before['bmc'] + 1, value(
            'podium_bmc_request_duration_seconds_count',
            driver='fake-hardware', operation='set_power_state'))
        # Node counts come from the database at scrape time.
        self.assertEqual(2, value('podium_nodes'))
        self.assertEqual(1, value('podium_nodes_by_power_state',
                                  power_state='power on'))
        self.assertEqual(1, value('podium_nodes_by_power_state',
                                  power_state='None'))
        self.assertEqual(2, value('podium_nodes_by_provision_state',
                                  provision_state='enroll'))
        self.assertEqual(1, value('podium_nodes_in_maintenance'))
        # The in-process conductor's pool.
        self.assertEqual(self.conductor._pool.size, sum(
            value('podium_conductor_pool_size', host='test-conductor',
                  slots=slots)
            for slots in ('reserved', 'periodic', 'shared')))
        self.assertIn(('podium_conductor_pool_idle',
                       (('host', 'test-conductor'),)), values)

    def test_refused_and_failed_requests_counted(self) -> None:
        # Answers the API middleware gives itself (406) or after an
        # unexpected error (500) are counted like any other.
        refused = sample('podium_api_requests_total', method='GET',
                         route='unmatched', status='406')
        response = self.client.get(
            '/v1/nodes', headers={'X-OpenStack-Ironic-API-Version': '9.9'})
        self.assertEqual(406, response.status_code)
        self.assertEqual(refused + 1, sample(
            'podium_api_requests_total', method='GET', route='unmatched',
            status='406'))
        failed = sample('podium_api_requests_total', method='GET',
                        route='/v1/nodes/{node_ident}', status='500')
        with mock.patch('podium.db.node_reads._read',
                        side_effect=RuntimeError('boom')):
            response = self.client.get('/v1/nodes/n2')
        self.assertEqual(500, response.status_code)
        self.assertEqual(failed + 1, sample(
            'podium_api_requests_total', method='GET',
            route='/v1/nodes/{node_ident}', status='500'))

    def test_no_node_identity_or_secret_exposed(self) -> None:
        self.client.get('/v1/nodes/rack1-secret-name')
        body = self.client.get('/metrics').text
        uuids = [node['uuid'] for node in
                 self.client.get('/v1/nodes').json()['nodes']]
        for secret in ('rack1-secret-name', '10.9.8.7', 'hunter2',
                       *uuids):
            self.assertNotIn(secret, body)


class TestDocumentedMetrics(base.APITestCase):
    """The operator docs (metric table, alert rules, scrape advice) name
    only metrics this process really exports."""

    DOCS = ('doc/source/admin/metrics.rst',
            'doc/source/admin/fleet-health.rst')

    def test_documented_names_exist(self) -> None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
        text = self.client.get('/metrics').text
        # Every name a scrape can show, including the HELP/TYPE lines of
        # families without samples yet (the pool of a conductor that
        # is not in this process).
        exported = set(re.findall(r'^(?:# (?:HELP|TYPE) )?(podium_\w+)',
                                  text, re.MULTILINE))
        for family in metrics.REGISTRY.collect():
            exported.add(family.name)
            if family.type == 'counter':
                exported.add(family.name + '_total')
            elif family.type == 'histogram':
                exported.update(family.name + suffix for suffix in
                                ('_bucket', '_count', '_sum'))
        for doc in self.DOCS:
            with open(os.path.join(root, doc), encoding='utf-8') as handle:
                named = set(re.findall(r'\b(podium_[a-z_]+[a-z])\b',
                                       handle.read()))
            self.assertTrue(named, doc)
            self.assertEqual(set(), named - exported, doc)


class TestMetricsAuth(base.APITestCase):

    def test_credentials_required(self) -> None:
        htpasswd = os.path.join(self.state_dir, 'htpasswd')
        test_auth.write_htpasswd(htpasswd, {'admin': 's3cret'})
        self.config(auth_strategy='http_basic',
                    http_basic_auth_user_file=htpasswd, group='api')
        client = self.make_client()
        before = sample('podium_api_requests_total', method='GET',
                        route='unmatched', status='401')
        self.assertEqual(401, client.get('/metrics').status_code)
        # Refused before routing, so counted as unmatched.
        self.assertEqual(before + 1, sample(
            'podium_api_requests_total', method='GET', route='unmatched',
            status='401'))
        response = client.get('/metrics',
                              headers=test_auth._basic('admin', 's3cret'))
        self.assertEqual(200, response.status_code)
        self.assertIn('podium_nodes ', response.text)


class TestNodeCollectorRegistration(base.APITestCase):

    def test_registering_reads_no_database(self) -> None:
        registry = prometheus_client.CollectorRegistry(auto_describe=True)
        collector = api_metrics.NodeStateCollector()
        with mock.patch.object(api_metrics.db_api, 'count_nodes_by_state',
                               side_effect=AssertionError('queried')):
            # The default registry describes a collector when it is
            # registered; without describe() that meant a query.
            registry.register(collector)
        # The names are known, so a clash would still be refused ...
        self.assertRaises(ValueError, registry.register,
                          api_metrics.NodeStateCollector())
        # ... and a scrape counts the nodes.
        self.create_node(name='counted')
        self.assertEqual(1.0, registry.get_sample_value('podium_nodes'))
