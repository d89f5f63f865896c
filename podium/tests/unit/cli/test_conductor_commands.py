"""``podium conductor list|show`` against a fake API."""

import json

from podium.tests import base
from podium.tests.unit.cli import fake_api
from podium.tests.unit.cli.test_main import run_main

CONDUCTOR = {'hostname': 'c-1', 'conductor_group': 'rack-1', 'alive': True,
             'drivers': ['redfish'], 'node_count': 7013,
             'last_heartbeat': '2026-01-01T00:00:00+00:00',
             'created_at': '2026-01-01T00:00:00+00:00',
             'updated_at': '2026-01-01T00:00:00+00:00', 'links': []}


class ConductorCommandsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.api = self.useFixture(fake_api.FakeApi())

    def cli(self, *argv: str) -> tuple[int, str, str]:
        return run_main('--url', self.api.url, *argv)

    def test_list_shows_node_counts_and_warns_of_unserved_groups(
            self) -> None:
        self.api.routes[('GET', '/v1/conductors')] = \
            lambda req: fake_api.json_reply(200, {
                'conductors': [CONDUCTOR],
                'unserved_conductor_groups': ['', 'rack-2']})
        status, out, err = self.cli('conductor', 'list', '-f', 'json')
        self.assertEqual(0, status, err)
        row, = json.loads(out)
        self.assertEqual((7013, True, '2026-01-01T00:00:00+00:00'),
                         (row['Nodes'], row['Alive'],
                          row['Last Heartbeat']))
        self.assertNotIn('Drivers', row)
        self.assertEqual({'detail': 'True'},
                         self.api.api_requests()[0].query)
        self.assertEqual(
            'warning: no alive conductor serves conductor group(s) "" '
            '(the default group), "rack-2": their nodes are not managed\n',
            err)

    def test_list_without_unserved_groups_is_quiet(self) -> None:
        self.api.routes[('GET', '/v1/conductors')] = \
            lambda req: fake_api.json_reply(200, {'conductors': [CONDUCTOR]})
        status, out, err = self.cli('conductor', 'list', '--long')
        self.assertEqual((0, ''), (status, err))
        self.assertIn('redfish', out)

    def test_show(self) -> None:
        self.api.routes[('GET', '/v1/conductors/c-1')] = \
            lambda req: fake_api.json_reply(200, CONDUCTOR)
        status, out, err = self.cli('conductor', 'show', 'c-1', '-f',
                                    'value', '-c', 'node_count')
        self.assertEqual((0, '7013\n'), (status, out), err)
        status, _, err = self.cli('conductor', 'show', 'nope')
        self.assertEqual(1, status)
        self.assertIn('No route /v1/conductors/nope', err)
