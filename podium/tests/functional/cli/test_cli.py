"""The ``podium`` CLI as a subprocess against a running all-in-one Podium.

One service per test class (started once: every CLI run already pays
an interpreter start); each test uses node names of its own. Every run
is checked for tracebacks on stderr.
"""

import json
import os
import socket
import subprocess
import sys
from typing import Any, ClassVar

import fixtures
import yaml

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

CLI_TIMEOUT = 120
CONFIG = {
    'conductor': {
        # A hung fake BMC fails its call after this budget.
        'action_timeout': 2,
        # No power sync: tests see only what their own actions did.
        'sync_power_state_interval': 0,
    },
}


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


class CliTestCase(base.TestCase):
    """Runs the CLI against a shared all-in-one service."""

    #: The service's configuration.
    CONFIG: ClassVar[podium_fixtures.Config] = CONFIG
    service: ClassVar[podium_fixtures.AllInOne]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.service = podium_fixtures.AllInOne(cls.CONFIG)
        cls.service.setUp()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.service.cleanUp()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.useFixture(podium_fixtures.ClientEnvironment())
        for name in ('PODIUM_URL', 'PODIUM_USER', 'PODIUM_PASSWORD',
                     'PODIUM_CLI_CONFIG'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def cli(self, *args: str, expect: int | None = 0,
            env: dict[str, str] | None = None, url: bool = True
            ) -> tuple[int, str, str]:
        """Run ``podium args``; check its exit status and stderr."""
        environ = dict(os.environ, **(env or {}))
        if url:
            environ.setdefault('PODIUM_URL', self.service.url)
        result = subprocess.run(
            [sys.executable, '-m', 'podium.cli', *args], env=environ,
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
            check=False)
        detail = (f'podium {" ".join(args)} -> {result.returncode}\n'
                  f'stdout:\n{result.stdout}\nstderr:\n{result.stderr}')
        self.assertNotIn('Traceback', result.stderr, detail)
        if expect is not None:
            self.assertEqual(expect, result.returncode, detail)
        return result.returncode, result.stdout, result.stderr

    def cli_json(self, *args: str, expect: int | None = 0) -> Any:
        return json.loads(self.cli(*args, '-f', 'json', expect=expect)[1])

    def create(self, name: str, *options: str) -> dict[str, Any]:
        node: dict[str, Any] = self.cli_json(
            'node', 'create', '--driver', 'fake-hardware', '--name', name,
            *options)
        return node

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
        return path

    @staticmethod
    def by_host(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {row['Host']: row for row in rows}


class NodeCommandsTest(CliTestCase):

    def test_create_show_list_set_unset_delete(self) -> None:
        node = self.create('crud-1', '--property', 'cpus=4',
                           '--driver-info', 'fake_password=0123',
                           '--extra', 'rack=7', '--description', 'first')
        self.assertEqual({'cpus': 4}, node['properties'])
        self.assertEqual({'rack': 7}, node['extra'])
        self.assertEqual('******', node['driver_info']['fake_password'])
        self.assertNotIn('links', node)

        _, out, _ = self.cli('node', 'show', 'crud-1')
        self.assertIn('| Field', out)
        self.assertIn('| fake-hardware', out)
        shown = yaml.safe_load(self.cli('node', 'show', 'crud-1', '-f',
                                        'yaml', '-c', 'name', '-c',
                                        'driver')[1])
        self.assertEqual({'name': 'crud-1', 'driver': 'fake-hardware'},
                         shown)
        _, out, _ = self.cli('node', 'show', node['uuid'], '-f', 'value',
                             '-c', 'name', '-c', 'description')
        self.assertEqual('crud-1\nfirst\n', out)

        self.cli('node', 'set', 'crud-1', '--name', 'crud-1b',
                 '--property', 'memory_mb=2048', '--extra', 'team=ops')
        self.cli('node', 'unset', 'crud-1b', '--description', '--extra',
                 'rack', '--property', 'cpus')
        shown = self.cli_json('node', 'show', 'crud-1b')
        self.assertEqual({'memory_mb': 2048}, shown['properties'])
        self.assertEqual({'team': 'ops'}, shown['extra'])
        self.assertIsNone(shown['description'])

        listed = self.cli_json('node', 'list')
        self.assertIn({'UUID': node['uuid'], 'Name': 'crud-1b',
                       'Power State': None, 'Provisioning State': 'enroll',
                       'Maintenance': False}, listed)
        _, out, _ = self.cli('node', 'list', '-f', 'value', '-c', 'name',
                             '-c', 'driver')
        self.assertIn('crud-1b fake-hardware\n', out)
        _, out, _ = self.cli('node', 'list', '--long')
        self.assertIn('Last Error', out)
        self.assertIn('crud-1b', out)

        _, out, err = self.cli('node', 'delete', 'crud-1b', 'crud-nope',
                               expect=1)
        self.assertIn('| crud-nope | delete | FAILED', out)
        self.assertIn('| crud-1b   | delete | SUCCESSFUL', out)
        self.assertIn('crud-nope: FAILED: Node crud-nope could not be '
                      'found. (HTTP 404)', err)
        self.cli('node', 'show', 'crud-1b', expect=1)

    def test_show_several_and_unknown(self) -> None:
        self.create('show-1')
        self.create('show-2')
        rows = self.cli_json('node', 'show', 'show-1', 'show-2', 'show-x',
                             expect=1)
        hosts = self.by_host(rows)
        self.assertEqual('SUCCESSFUL', hosts['show-2']['Result'])
        self.assertEqual('show-2', hosts['show-2']['Name'])
        self.assertEqual('FAILED', hosts['show-x']['Result'])
        _, _, err = self.cli('node', 'show', 'show-x', expect=1)
        self.assertEqual('podium: error: Node show-x could not be found. '
                         '(HTTP 404)\n', err)

    def test_duplicate_name_is_one_line_error(self) -> None:
        self.create('dup-1')
        _, out, err = self.cli('node', 'create', '--driver',
                               'fake-hardware', '--name', 'dup-1', expect=1)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('dup-1', err)


class BulkActionsTest(CliTestCase):

    def test_power_with_good_bad_and_unreachable_hosts(self) -> None:
        for name in ('mix-1', 'mix-2', 'mix-3'):
            self.create(name)
        self.create('mix-slow', '--driver-info', 'fake_delay=0.5')
        self.create('mix-hung', '--driver-info', 'fake_hang=true')
        self.create('mix-broken', '--driver-info', 'fake_fail=BMC on fire')
        hosts = self.write('hosts.txt', (
            '# power on the mixed rack\n'
            '\n'
            'mix-1\n'
            '   mix-2    # trailing comment\n'
            'mix-slow\nmix-hung\nmix-broken\n'
            'mix-unknown\n'
            '!!! junk line ###\n'
            'mix-1\n'))
        _, out, err = self.cli('node', 'power', 'on', 'mix-3',
                               '--host-list', hosts, '--wait', '--timeout',
                               '60', '-f', 'json', expect=1)
        rows = self.by_host(json.loads(out))
        self.assertEqual(['mix-3', 'mix-1', 'mix-2', 'mix-slow', 'mix-hung',
                          'mix-broken', 'mix-unknown', '!!! junk line'],
                         [row['Host'] for row in json.loads(out)])
        for name in ('mix-1', 'mix-2', 'mix-3', 'mix-slow'):
            self.assertEqual('SUCCESSFUL', rows[name]['Result'], rows)
            self.assertEqual('reached power on', rows[name]['Reason'])
            self.assertEqual('power on', rows[name]['Power State'])
        self.assertEqual('FAILED', rows['mix-hung']['Result'])
        self.assertIn('did not answer within 2', rows['mix-hung']['Reason'])
        self.assertEqual('FAILED', rows['mix-broken']['Result'])
        self.assertIn('BMC on fire', rows['mix-broken']['Reason'])
        for name in ('mix-unknown', '!!! junk line'):
            self.assertEqual('FAILED', rows[name]['Result'])
            self.assertEqual('no node has this name, UUID or BMC address',
                             rows[name]['Reason'])
        self.assertIn('mix-1: power on requested\n', err)
        self.assertIn('mix-1: reached power on in ', err)
        self.assertIn('mix-hung: FAILED: ', err)

        rows = self.by_host(self.cli_json('node', 'power', 'status',
                                          'mix-1', 'mix-slow'))
        self.assertEqual('power on', rows['mix-slow']['Power State'])

        _, out, _ = self.cli('node', 'power', 'off', 'mix-1', 'mix-2')
        self.assertIn('power off requested', out)
        rows = self.by_host(self.cli_json(
            'node', 'power', 'reboot', 'mix-1', 'mix-2', '--wait'))
        self.assertEqual({'reached power on'},
                         {r['Reason'] for r in rows.values()})

    def test_boot_device_maintenance_validate(self) -> None:
        self.create('act-1')
        self.create('act-2')
        self.create('act-bad', '--driver-info', 'fake_delay=soon')
        _, out, _ = self.cli('node', 'boot-device', 'set', 'act-1', 'act-2',
                             'pxe', '--persistent')
        self.assertIn('boot device set to pxe (persistent)', out)
        rows = self.cli_json('node', 'boot-device', 'show', 'act-1')
        self.assertEqual([('pxe', True)], [(r['Boot Device'],
                                            r['Persistent']) for r in rows])

        self.cli('node', 'maintenance', 'set', 'act-1', 'act-2', '--reason',
                 'DIMM swap')
        _, out, _ = self.cli('node', 'list', '--maintenance', '-f', 'value',
                             '-c', 'name', '-c', 'maintenance_reason')
        self.assertIn('act-1 DIMM swap\n', out)
        self.cli('node', 'maintenance', 'unset', 'act-1', 'act-2')
        _, out, _ = self.cli('node', 'list', '--maintenance', '-f', 'value',
                             '-c', 'name')
        self.assertNotIn('act-1', out)

        rows = self.by_host(self.cli_json('node', 'validate', 'act-1',
                                          'act-bad', expect=1))
        self.assertEqual('SUCCESSFUL', rows['act-1']['Result'])
        self.assertEqual('valid', rows['act-1']['Power'])
        self.assertEqual('FAILED', rows['act-bad']['Result'])
        self.assertIn('fake_delay', rows['act-bad']['Reason'])

    def test_yaml_and_table_summary(self) -> None:
        self.create('fmt-1')
        rows = yaml.safe_load(self.cli('node', 'power', 'status', 'fmt-1',
                                       '-f', 'yaml')[1])
        self.assertEqual('fmt-1', rows[0]['Host'])
        _, out, _ = self.cli('node', 'power', 'status', 'fmt-1', '-f',
                             'value', '-c', 'host', '-c', 'result')
        self.assertEqual('fmt-1 SUCCESSFUL\n', out)
        _, out, _ = self.cli('node', 'power', 'status', 'fmt-1')
        self.assertIn('| Host  | Action       | Power State |', out)


class EnrollmentTest(CliTestCase):

    def test_yaml_enrollment(self) -> None:
        path = self.write('nodes.yaml', yaml.safe_dump([
            {'name': f'enr-{i}', 'driver': 'fake-hardware',
             'driver_info': {'fake_delay': 0.1},
             'properties': {'cpus': i}} for i in range(1, 6)]))
        rows = self.cli_json('node', 'create', '--from-file', path)
        self.assertEqual(['SUCCESSFUL'] * 5, [r['Result'] for r in rows])
        shown = self.cli_json('node', 'show', 'enr-3')
        self.assertEqual({'cpus': 3}, shown['properties'])
        self.assertEqual(shown['uuid'], self.by_host(rows)['enr-3']['UUID'])

    def test_bad_rows_are_all_reported_and_nothing_is_written(self) -> None:
        self.create('csv-taken')
        path = self.write('nodes.csv', (
            'name,driver,driver_info/fake_delay,properties/cpus\n'
            'csv-1,fake-hardware,0.1,8\n'
            'csv-2,,,\n'
            'csv-taken,fake-hardware,,\n'
            'csv-4,no-such-driver,,\n'
            'csv-1,fake-hardware,,\n'))
        _, out, err = self.cli('node', 'create', '--from-file', path,
                               expect=1)
        self.assertEqual('', out)
        self.assertIn('4 invalid row(s), nothing was created', err)
        for problem in ('row 3: driver: is required',
                        "row 4: name: a node with name 'csv-taken' already "
                        "exists",
                        "row 5: driver: unknown driver 'no-such-driver'",
                        "row 6: name: 'csv-1' repeats row 2"):
            self.assertIn(problem, err)
        self.cli('node', 'show', 'csv-1', expect=1)

        good = self.write('good.csv', (
            'name,driver,driver_info/fake_delay,properties/cpus\n'
            'csv-1,fake-hardware,0.1,8\n'
            'csv-2,fake-hardware,,\n'))
        rows = self.cli_json('node', 'create', '--from-file', good)
        self.assertEqual(['csv-1', 'csv-2'], [r['Host'] for r in rows])
        self.assertEqual({'cpus': 8}, self.cli_json(
            'node', 'show', 'csv-1')['properties'])


    def test_enrollment_ends_verified(self) -> None:
        # Power sync leaves enroll nodes alone: --manage/--provide end
        # enrollment with nodes it reads, and say which could not be.
        node = self.create('enr-single', '--manage')
        self.assertEqual(('manageable', 'power off', None),
                         (node['provision_state'], node['power_state'],
                          node['last_error']))
        path = self.write('verify.csv', (
            'name,driver,driver_info/fake_fail\n'
            'enr-ok,fake-hardware,\n'
            'enr-bad,fake-hardware,wrong password\n'))
        _, out, _ = self.cli('node', 'create', '--from-file', path,
                             '--provide', '--timeout', '60', '-f', 'json',
                             expect=1)
        rows = self.by_host(json.loads(out))
        self.assertEqual(('SUCCESSFUL', 'created, reached manageable, '
                                        'reached available'),
                         (rows['enr-ok']['Result'], rows['enr-ok']['Reason']))
        self.assertEqual('FAILED', rows['enr-bad']['Result'])
        self.assertIn('created; manage failed: Failed to verify node power '
                      'credentials: ', rows['enr-bad']['Reason'])
        self.assertIn('wrong password', rows['enr-bad']['Reason'])
        shown = self.cli_json('node', 'show', 'enr-bad')
        self.assertEqual('enroll', shown['provision_state'])
        self.assertEqual('available', self.cli_json(
            'node', 'show', 'enr-ok')['provision_state'])


class PortCommandsTest(CliTestCase):

    def test_create_list_show_delete(self) -> None:
        node = self.create('port-1')
        port = self.cli_json(
            'port', 'create', '52:54:00:AA:00:01', '--node', 'port-1',
            '--name', 'eth0', '--no-pxe', '--physical-network', 'physnet1',
            '--local-link-connection', 'switch_id=0a:1b:2c:3d:4e:5f',
            '--local-link-connection', 'port_id=Ethernet1/7',
            '--extra', 'slot=2')
        self.assertEqual(('52:54:00:aa:00:01', node['uuid'], False,
                          {'slot': 2}),
                         (port['address'], port['node_uuid'],
                          port['pxe_enabled'], port['extra']))
        self.assertEqual('Ethernet1/7',
                         port['local_link_connection']['port_id'])
        self.assertEqual(port['uuid'], self.cli_json(
            'port', 'show', 'eth0')['uuid'])
        listed = self.cli_json('port', 'list', '--node', 'port-1')
        self.assertEqual([{'UUID': port['uuid'],
                           'Address': '52:54:00:aa:00:01'}], listed)
        _, out, _ = self.cli('port', 'list', '--long', '--address',
                             '52:54:00:aa:00:01')
        self.assertIn('physnet1', out)

        _, out, err = self.cli('port', 'create', '52:54:00:aa:00:01',
                               '--node', 'port-1', expect=1)
        self.assertEqual('podium: error: A port with MAC address '
                         '52:54:00:aa:00:01 already exists. (HTTP 409)\n',
                         err)
        _, _, err = self.cli('port', 'create', 'not-a-mac', '--node',
                             'port-1', expect=1)
        self.assertIn('Expected a MAC address but received not-a-mac.',
                      err)

        _, out, _ = self.cli('port', 'delete', 'eth0', 'no-such-port',
                             expect=1)
        self.assertIn('| eth0         | delete | SUCCESSFUL', out)
        self.assertIn('| no-such-port | delete | FAILED', out)
        self.assertEqual([], self.cli_json('port', 'list', '--node',
                                           'port-1'))

    def test_from_file(self) -> None:
        self.create('port-f1')
        self.create('port-f2')
        bad = self.write('bad.yaml', yaml.safe_dump([
            {'address': '52:54:00:bb:00:01', 'node': 'port-f1'},
            {'address': '52:54:00:BB:00:01', 'node': 'port-f2'},
            {'node': 'port-f2', 'colour': 'red'}]))
        _, out, err = self.cli('port', 'create', '--from-file', bad,
                               expect=1)
        self.assertEqual('', out)
        for problem in ('row 2: address: 52:54:00:BB:00:01 repeats row 1',
                        'row 3: address: is required',
                        'row 3: colour: unknown field'):
            self.assertIn(problem, err)
        self.assertEqual([], self.cli_json('port', 'list', '--node',
                                           'port-f1'))
        good = self.write('ports.yaml', yaml.safe_dump({'ports': [
            {'address': f'52:54:00:bb:00:0{i}', 'node': f'port-f{i % 2 + 1}',
             'pxe_enabled': i == 1} for i in range(1, 5)]}))
        rows = self.cli_json('port', 'create', '--from-file', good)
        self.assertEqual(['SUCCESSFUL'] * 4, [r['Result'] for r in rows])
        self.assertEqual(2, len(self.cli_json('port', 'list', '--node',
                                              'port-f1')))
        # The node's deletion takes its ports with it.
        self.cli('node', 'delete', 'port-f1')
        self.assertEqual(['52:54:00:bb:00:01', '52:54:00:bb:00:03'], sorted(
            p['Address'] for p in self.cli_json('port', 'list')
            if p['Address'].startswith('52:54:00:bb')))


class HistoryCommandTest(CliTestCase):

    def test_node_history(self) -> None:
        self.create('hist-1')
        self.cli('node', 'maintenance', 'set', 'hist-1', '--reason', 'fan')
        self.cli('node', 'maintenance', 'unset', 'hist-1')
        events = self.cli_json('node', 'history', 'hist-1')
        self.assertEqual(['Maintenance set: fan', 'Maintenance unset.'],
                         [e['Event'] for e in events])
        latest = self.cli_json('node', 'history', 'hist-1', '--long',
                               '--limit', '1')
        self.assertEqual([('maintenance', 'Maintenance unset.')],
                         [(e['Event Type'], e['Event']) for e in latest])
        event = self.cli_json('node', 'history', 'hist-1',
                              latest[0]['UUID'])
        self.assertEqual('Maintenance unset.', event['event'])
        _, _, err = self.cli('node', 'history', 'hist-1', 'nope', expect=1)
        self.assertIn('Node history record nope could not be found.', err)


class ServiceCommandsTest(CliTestCase):

    def test_conductor_and_driver_list(self) -> None:
        conductors = self.cli_json('conductor', 'list')
        self.assertEqual([True], [c['Alive'] for c in conductors])
        _, out, _ = self.cli('conductor', 'list', '--long', '-f', 'yaml')
        self.assertIn('fake-hardware', out)
        _, out, _ = self.cli('driver', 'list', '-f', 'value', '-c', 'name')
        self.assertEqual('fake-hardware\n', out)
        _, out, _ = self.cli('driver', 'list', '--long')
        self.assertIn('Default Power Interface', out)


class ConnectionAndInputErrorsTest(CliTestCase):

    def assert_one_line_error(self, *args: str, contains: str,
                              env: dict[str, str] | None = None) -> None:
        _, out, err = self.cli(*args, expect=1, env=env)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertTrue(err.startswith('podium: error: '), err)
        self.assertIn(contains, err)

    def test_refused_connection_and_bad_urls(self) -> None:
        refused = f'http://127.0.0.1:{free_port()}'
        self.assert_one_line_error('--url', refused, 'node', 'list',
                                   contains='Connection refused')
        self.assert_one_line_error('node', 'power', 'on', 'n1', '--url',
                                   refused, contains='Connection refused')
        self.assert_one_line_error('--url', 'http://', 'node', 'list',
                                   contains='invalid URL')
        self.assert_one_line_error('--url', 'podium:6385', 'node', 'list',
                                   contains='must start with http://')

    def test_missing_and_unreadable_files(self) -> None:
        self.assert_one_line_error(
            'node', 'power', 'status', '--host-list', '/nonexistent/h.txt',
            contains='cannot read host list /nonexistent/h.txt: No such '
                     'file or directory')
        self.assert_one_line_error(
            'node', 'power', 'status', '--host-list', self.tmp,
            contains='Is a directory')
        self.assert_one_line_error(
            'node', 'create', '--from-file', '/nonexistent/n.yaml',
            contains='No such file or directory')
        self.assert_one_line_error(
            'node', 'list', env={'PODIUM_CLI_CONFIG': '/nonexistent/c.yaml'},
            contains='config file /nonexistent/c.yaml does not exist')

    def test_endpoint_from_config_file(self) -> None:
        self.create('cfg-1')
        config_dir = os.path.join(os.environ['XDG_CONFIG_HOME'], 'podium')
        os.makedirs(config_dir)
        with open(os.path.join(config_dir, 'cli.yaml'), 'w') as handle:
            handle.write(f'url: {self.service.url}\n')
        _, out, _ = self.cli('node', 'show', 'cfg-1', '-f', 'value', '-c',
                             'name', url=False)
        self.assertEqual('cfg-1\n', out)
