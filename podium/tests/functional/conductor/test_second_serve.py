"""A second ``podium serve`` started by mistake next to a live one.

It cannot listen on the port the first one serves; it must say so in one
line and leave the live conductor alone: its registration (otherwise the
others take its nodes over as if it were dead) and its node locks (the
work running under them would be lost).
"""

import configparser
import os
import subprocess
import sys
import urllib.parse

from podium.db import api as db_api
from podium.db import engine
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

#: A cold interpreter importing the service stack, on a loaded machine.
TIMEOUT = 90


class SecondServeTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.first = self.useFixture(podium_fixtures.AllInOne())
        self.host = f'podium-{self.first.run_id}'
        self.port = urllib.parse.urlsplit(self.first.url).port
        node = self.first.get('/v1/nodes')  # the API answers
        self.assertEqual(200, node.status_code)
        self.before = self.conductor()

    def conductor(self) -> dict[str, object]:
        response = self.first.get(f'/v1/conductors/{self.host}')
        self.assertEqual(200, response.status_code, response.text)
        return response.json()

    def run_second(self, host: str) -> subprocess.CompletedProcess[str]:
        """``podium serve`` with the first one's config, state directory
        and port, as ``host``."""
        parser = configparser.ConfigParser()
        parser.read(self.first.config_file)
        parser.set('DEFAULT', 'host', host)
        parser.set('api', 'port', str(self.port))
        path = os.path.join(self.state_dir, f'{host}.conf')
        with open(path, 'w', encoding='utf-8') as handle:
            parser.write(handle)
        return subprocess.run(
            [sys.executable, '-m', 'podium.cmd.serve', '--config-file',
             path], capture_output=True, text=True, timeout=TIMEOUT,
            env=dict(os.environ, PYTHONWARNINGS='ignore'), check=False)

    def assert_refused_in_one_line(
            self, result: subprocess.CompletedProcess[str]) -> None:
        output = result.stdout + result.stderr
        self.assertEqual(1, result.returncode, output)
        self.assertNotIn('Traceback', output)
        said = [line for line in output.splitlines()
                if line.startswith('podium:')]
        self.assertEqual(
            [f'podium: Invalid configuration: [api] cannot listen on '
             f'http://127.0.0.1:{self.port}: Address already in use'],
            said, output)

    def assert_first_untouched(self) -> None:
        after = self.conductor()
        self.assertTrue(after['alive'], after)
        self.assertEqual(self.before['created_at'], after['created_at'])
        # Still serving, with its lock on a node intact.
        response = self.first.get(f'/v1/nodes/{self.node_uuid}',
                                  params={'fields': 'reservation'})
        self.assertEqual(200, response.status_code)
        self.assertEqual(self.host, response.json()['reservation'])

    def lock_a_node(self) -> None:
        """A node locked by the live conductor, as during an action."""
        self.config(connection='sqlite:///' + self.first.path(
            'podium.sqlite'), group='database')
        self.addCleanup(engine.dispose)
        node = db_api.create_node({'driver': 'fake-hardware',
                                   'name': 'busy'})
        db_api.reserve_node(self.host, node.id)
        self.node_uuid = node.uuid

    def test_same_host_refused_before_registering(self) -> None:
        self.lock_a_node()
        self.assert_refused_in_one_line(self.run_second(self.host))
        self.assert_first_untouched()

    def test_other_host_never_joins_the_ring(self) -> None:
        self.lock_a_node()
        result = self.run_second('intruder')
        self.assert_refused_in_one_line(result)
        # It never started a conductor (which would have taken nodes
        # over for as long as it lived).
        self.assertNotIn('Conductor intruder', result.stderr)
        self.assert_first_untouched()
        hosts = [entry['hostname'] for entry in self.first.get(
            '/v1/conductors').json()['conductors']]
        self.assertEqual([self.host], hosts)
