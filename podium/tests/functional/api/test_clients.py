"""The real OpenStack clients against a running Podium.

The same flows run against the all-in-one ``podium serve``
(``rpc_transport = local``, SQLite), with and without http_basic auth,
and against ``podium-api`` + ``podium-conductor`` over RabbitMQ on
PostgreSQL. The CLIs (``baremetal``, ``openstack baremetal``) cost about
a second per call, so they cover a representative set of commands and
openstacksdk does the rest. The provision lifecycle (manage, inspect,
provide, deploy, rebuild, undeploy with ``--wait``, then the node
history it left) runs through ``baremetal`` on the all-in-one service
only, and through openstacksdk on every deployment.
"""

import json
import os
import re
import subprocess
import sys
from typing import Any

import openstack
import requests
from openstack import exceptions as sdk_exceptions

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

USER, PASSWORD = 'operator', 'bm-s3cret'
POWER_TIMEOUT = 30
#: Seconds a provision action of a fake-hardware node may take.
PROVISION_TIMEOUT = 60
#: (target, the state it ends in): the whole lifecycle, in order.
LIFECYCLE = (('manage', 'manageable'), ('inspect', 'manageable'),
             ('provide', 'available'), ('active', 'active'),
             ('rebuild', 'active'), ('deleted', 'available'))


#: A provision state change as node history records it.
_CHANGE_RE = re.compile(r'Provision state changed from "([^"]+)" to '
                        r'"([^"]+)"')


def _client_bin(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


class _Clients:
    """Drives the clients; subclasses say which deployment they talk to."""

    credentials: tuple[str, str] | None = None

    def make_deployment(self) -> Any:
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.useFixture(podium_fixtures.ClientEnvironment())
        self.deployment = self.make_deployment()

    # CLI -------------------------------------------------------------------

    def _auth_args(self) -> list[str]:
        if self.credentials is None:
            return ['--os-auth-type', 'none']
        return ['--os-auth-type', 'http_basic', '--os-username', USER,
                '--os-password', PASSWORD]

    def cli(self, *args: str, program: str = 'baremetal',
            json_output: bool = False) -> Any:
        prefix = [_client_bin(program)]
        command = prefix + ['--os-endpoint', self.deployment.url,
                            *self._auth_args(), '--max-retries', '0']
        if program == 'openstack':
            command = prefix + ['--os-endpoint', self.deployment.url,
                                *self._auth_args(), 'baremetal']
        command += list(args) + (['-f', 'json'] if json_output else [])
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=120, check=False)
        self.assertEqual(0, result.returncode,
                         f'{" ".join(args)}: {result.stderr}')
        return json.loads(result.stdout) if json_output else result.stdout

    def sdk(self) -> Any:
        if self.credentials is None:
            return openstack.connect(
                auth_type='none',
                baremetal_endpoint_override=self.deployment.url)
        return openstack.connect(
            auth_type='http_basic',
            auth={'username': USER, 'password': PASSWORD,
                  'endpoint': self.deployment.url},
            baremetal_endpoint_override=self.deployment.url)


class _ClientFlows(_Clients):
    """The flows every deployment runs."""

    def test_cli(self) -> None:
        node = self.cli('node', 'create', '--driver', 'fake-hardware',
                        '--name', 'cli-n1', '--driver-info',
                        'ipmi_password=secret', '--property', 'cpus=2',
                        json_output=True)
        self.assertEqual('******', node['driver_info']['ipmi_password'])
        self.assertIn('cli-n1', [n['name'] for n in self.cli(
            'node', 'list', json_output=True)])
        self.cli('node', 'set', 'cli-n1', '--extra', 'foo=bar',
                 '--description', 'rack 4')
        shown = self.cli('node', 'show', 'cli-n1', json_output=True)
        self.assertEqual(({'foo': 'bar'}, 'rack 4', {'cpus': 2}),
                         (shown['extra'], shown['description'],
                          shown['properties']))
        self.cli('node', 'unset', 'cli-n1', '--property', 'cpus',
                 '--extra', 'foo')
        shown = self.cli('node', 'show', 'cli-n1', '--fields', 'extra',
                         'properties', json_output=True)
        self.assertEqual(({}, {}), (shown['extra'], shown['properties']))
        self.cli('node', 'power', 'on', 'cli-n1', '--power-timeout', '30')
        self.sdk().baremetal.wait_for_node_power_state(
            node['uuid'], 'power on', timeout=POWER_TIMEOUT)
        self.cli('node', 'boot', 'device', 'set', 'cli-n1', 'pxe',
                 '--persistent')
        self.assertEqual({'boot_device': 'pxe', 'persistent': True},
                         self.cli('node', 'boot', 'device', 'show', 'cli-n1',
                                  json_output=True))
        self.cli('node', 'maintenance', 'set', 'cli-n1', '--reason', 'fan')
        self.assertTrue(self.cli('node', 'show', 'cli-n1', '--fields',
                                 'maintenance', json_output=True)[
            'maintenance'])
        self.cli('node', 'maintenance', 'unset', 'cli-n1')
        self.assertEqual(['fake-hardware'], [d['name'] for d
                                             in self.cli('driver', 'list',
                                                         json_output=True)])
        conductors = self.cli('conductor', 'list', json_output=True,
                              program='openstack')
        self.assertTrue(all(c['alive'] for c in conductors))
        self.assertEqual(['cli-n1'], [n['name'] for n in self.cli(
            'node', 'list', '--long', json_output=True, program='openstack')])
        self.cli('node', 'delete', 'cli-n1')
        self.assertEqual([], self.cli('node', 'list', json_output=True))
        self.assertEqual(0, self.deployment.stop())

    def test_cli_ports_and_history(self) -> None:
        # Four CLI calls (about a second each, far more on a loaded
        # machine); the SDK does the rest of the set-up and checks.
        bm = self.sdk().baremetal
        node_uuid = bm.create_node(driver='fake-hardware', name='cli-p1').id
        port = self.cli('port', 'create', '52:54:00:CC:00:01', '--node',
                        node_uuid, '--extra', 'slot=1',
                        '--local-link-connection',
                        'switch_id=0a:1b:2c:3d:4e:5f',
                        '--local-link-connection', 'port_id=Eth1/1',
                        '--physical-network', 'physnet1',
                        json_output=True)
        self.assertEqual(('52:54:00:cc:00:01', node_uuid, 'physnet1'),
                         (port['address'], port['node_uuid'],
                          port['physical_network']))
        bm.create_port(address='52:54:00:cc:00:02', node_uuid=node_uuid,
                       pxe_enabled=False)
        long_list = self.cli('port', 'list', '--node', node_uuid, '--long',
                             json_output=True, program='openstack')
        self.assertEqual({('52:54:00:cc:00:01', True),
                          ('52:54:00:cc:00:02', False)},
                         {(p['address'], p['pxe_enabled'])
                          for p in long_list})
        bm.set_node_maintenance(node_uuid, reason='fan')
        # Column labels differ between client versions; compare by name.
        events = [{key.lower().replace(' ', '_'): value
                   for key, value in event.items()}
                  for event in self.cli('node', 'history', 'list', 'cli-p1',
                                        '--long', json_output=True)]
        self.assertEqual([('Maintenance set: fan', 'maintenance', 'INFO')],
                         [(e['event'], e['event_type'], e['severity'])
                          for e in events])
        event = self.cli('node', 'history', 'get', 'cli-p1',
                         events[0]['uuid'], json_output=True)
        self.assertEqual('Maintenance set: fan', event['event'])
        self.assertEqual(0, self.deployment.stop())

    # SDK -------------------------------------------------------------------

    def test_sdk(self) -> None:
        bm = self.sdk().baremetal
        nodes = [bm.create_node(driver='fake-hardware', name=f'sdk-{i}',
                                driver_info={'redfish_password': 'pw'})
                 for i in range(3)]
        node = bm.get_node('sdk-0')
        self.assertEqual(('enroll', '******'),
                         (node.provision_state,
                          node.driver_info['redfish_password']))
        # Podium's BMC health extension answers on every deployment
        # (RPC 1.2 to the conductor over oslo.messaging when split), and
        # its node field (in what get_node read) did not bother the SDK.
        reply = requests.get(f'{self.deployment.url}/v1/podium/bmcs',
                             auth=self.credentials, timeout=60)
        self.assertEqual(200, reply.status_code, reply.text)
        self.assertEqual([], reply.json()['unreachable_conductors'])
        self.assertEqual([n.id for n in nodes],
                         [n.id for n in bm.nodes(limit=1)])
        self.assertEqual(3, len(list(bm.nodes(details=True))))
        self.assertEqual(nodes[2].id, bm.find_node('sdk-2').id)
        node = bm.update_node(node, extra={'a': 'b'}, name='sdk-renamed')
        node = bm.patch_node(node, [{'op': 'add', 'path': '/extra/c',
                                     'value': 1}])
        self.assertEqual(({'a': 'b', 'c': 1}, 'sdk-renamed'),
                         (node.extra, node.name))
        for target, expected in (('power on', 'power on'),
                                 ('power off', 'power off'),
                                 ('rebooting', 'power on')):
            bm.set_node_power_state(node, target, wait=True,
                                    timeout=POWER_TIMEOUT)
            self.assertEqual(expected, bm.get_node(node.id).power_state)
        bm.set_node_power_state(node, 'power off')
        bm.wait_for_node_power_state(node, 'power off',
                                     timeout=POWER_TIMEOUT)
        bm.set_node_boot_device(node, 'cdrom', persistent=False)
        self.assertEqual({'boot_device': 'cdrom', 'persistent': False},
                         bm.get_node_boot_device(node))
        self.assertIn('pxe', bm.get_node_supported_boot_devices(node)[
            'supported_boot_devices'])
        node = bm.set_node_maintenance(node, reason='disk')
        self.assertEqual((True, 'disk'),
                         (node.is_maintenance, node.maintenance_reason))
        node = bm.unset_node_maintenance(node)
        self.assertFalse(node.is_maintenance)
        drivers = list(bm.drivers(details=True))
        self.assertEqual(['fake-hardware'], [d.name for d in drivers])
        self.assertEqual('fake', bm.get_driver(
            'fake-hardware').default_power_interface)
        conductors = list(bm.conductors(details=True))
        self.assertTrue(conductors and all(c.alive for c in conductors))
        self.assertEqual(conductors[0].hostname,
                         bm.get_conductor(conductors[0].hostname).hostname)
        error = self.assertRaises(sdk_exceptions.NotFoundException,
                                  bm.get_node, 'missing')
        self.assertIn('could not be found', str(error))
        error = self.assertRaises(sdk_exceptions.BadRequestException,
                                  bm.create_node, driver='nope')
        self.assertIn('nope', str(error))
        self._sdk_ports(bm, nodes[1].id)
        for item in nodes:
            bm.delete_node(item.id)
        self.assertEqual([], list(bm.nodes()))
        self.assertEqual([], list(bm.ports()))
        self.assertEqual(0, self.deployment.stop())

    def _sdk_ports(self, bm: Any, node_id: str) -> None:
        port = bm.create_port(address='52:54:00:DD:00:01', node_id=node_id,
                              extra={'slot': 1})
        self.assertEqual(('52:54:00:dd:00:01', node_id, True),
                         (port.address, port.node_id, port.is_pxe_enabled))
        other = bm.create_port(address='52:54:00:dd:00:02', node_id=node_id,
                               is_pxe_enabled=False)
        self.assertEqual([port.id, other.id],
                         [p.id for p in bm.ports(node_id=node_id)])
        self.assertEqual([port.id], [p.id for p in bm.ports(
            details=True, address='52:54:00:dd:00:01')])
        self.assertEqual([port.id, other.id],
                         [p.id for p in bm.ports(limit=1)])
        port = bm.update_port(port, extra={'slot': 2})
        port = bm.patch_port(port, [{'op': 'add', 'path': '/extra/rack',
                                     'value': 'r1'}])
        self.assertEqual({'slot': 2, 'rack': 'r1'},
                         bm.get_port(port.id).extra)
        error = self.assertRaises(
            sdk_exceptions.ConflictException, bm.create_port,
            address='52:54:00:dd:00:01', node_id=node_id)
        self.assertIn('A port with MAC address 52:54:00:dd:00:01 already '
                      'exists.', str(error))
        error = self.assertRaises(
            sdk_exceptions.BadRequestException, bm.create_port,
            address='bad', node_id=node_id)
        self.assertIn('Expected a MAC address but received bad.',
                      str(error))
        bm.delete_port(other)
        self.assertEqual([port.id], [p.id for p in bm.ports()])


    def test_sdk_lifecycle(self) -> None:
        bm = self.sdk().baremetal
        node = bm.create_node(driver='fake-hardware', name='sdk-life')
        self.assertEqual('enroll', node.provision_state)
        for target, expected in LIFECYCLE:
            node = bm.set_node_provision_state(node, target, wait=True,
                                               timeout=PROVISION_TIMEOUT)
            self.assertEqual((expected, None, None),
                             (node.provision_state,
                              node.target_provision_state, node.last_error),
                             target)
            if target == 'inspect':
                self.assertEqual(4, node.properties['cpus'])
                [found] = bm.ports(node_id=node.id, details=True)
                self.assertTrue(found.is_pxe_enabled)
        # Torn down, the node keeps the port its inspection created.
        self.assertEqual([found.id],
                         [p.id for p in bm.ports(node_id=node.id)])
        node = bm.set_node_provision_state(node, 'manage', wait=True,
                                           timeout=PROVISION_TIMEOUT)
        node = bm.set_node_provision_state(
            node, 'clean', clean_steps=[{'interface': 'power',
                                         'step': 'power_off'}],
            wait=True, timeout=PROVISION_TIMEOUT)
        self.assertEqual(('manageable', 'power off'),
                         (node.provision_state, node.power_state))
        error = self.assertRaises(sdk_exceptions.BadRequestException,
                                  bm.set_node_provision_state, node, 'active')
        self.assertIn('can not be performed on node', str(error))
        self.assertIn('manageable', str(error))
        bm.delete_port(found)
        self.assertEqual([], list(bm.ports(node_id=node.id)))
        bm.delete_node(node)
        self.assertEqual(0, self.deployment.stop())


class TestAllInOne(_ClientFlows, base.TestCase):
    """``podium serve`` without authentication."""

    def make_deployment(self) -> Any:
        return self.useFixture(podium_fixtures.AllInOne())


class TestAllInOneHTTPBasic(_ClientFlows, base.TestCase):
    """``podium serve`` with http_basic authentication."""

    credentials = (USER, PASSWORD)

    def make_deployment(self) -> Any:
        htpasswd = podium_fixtures.write_htpasswd(self.useFixture(
            podium_fixtures.fixtures.TempDir()).path, USER, PASSWORD)
        return self.useFixture(podium_fixtures.AllInOne(
            {'api': {'auth_strategy': 'http_basic',
                     'http_basic_auth_user_file': htpasswd}}))


class TestSplitOverRabbitMQ(_ClientFlows, base.TestCase):
    """podium-api and podium-conductor over RabbitMQ and PostgreSQL."""

    def make_deployment(self) -> Any:
        self.require_service(base.tcp_reachable('127.0.0.1', 5672),
                             'RabbitMQ is not running on 127.0.0.1:5672')
        self.require_service(base.tcp_reachable('127.0.0.1', 5432),
                             'PostgreSQL is not running on 127.0.0.1:5432')
        return self.useFixture(podium_fixtures.SplitDeployment())


class TestStockCLILifecycle(_Clients, base.TestCase):
    """``baremetal`` through the whole lifecycle on ``podium serve``.

    One deployment only: each CLI start costs a second or more, and the
    lifecycle is the same code whatever the RPC transport (the SDK runs
    it on every deployment, in :class:`_ClientFlows`).
    """

    def make_deployment(self) -> Any:
        return self.useFixture(podium_fixtures.AllInOne())

    def test_cli_lifecycle(self) -> None:
        # Eight CLI calls; the SDK sets up and checks.
        bm = self.sdk().baremetal
        node = bm.create_node(driver='fake-hardware', name='cli-life')
        verbs = ('manage', 'inspect', 'provide', 'deploy', 'rebuild',
                 'undeploy')
        for verb, (_, expected) in zip(verbs, LIFECYCLE, strict=True):
            self.cli('node', verb, 'cli-life', '--wait',
                     str(PROVISION_TIMEOUT))
            shown = bm.get_node(node.id)
            self.assertEqual((expected, None, None),
                             (shown.provision_state,
                              shown.target_provision_state,
                              shown.last_error), verb)
        events = [{key.lower().replace(' ', '_'): value
                   for key, value in event.items()}
                  for event in self.cli('node', 'history', 'list',
                                        'cli-life', '--long',
                                        json_output=True)]
        changes = [match.groups() for match in
                   (_CHANGE_RE.match(e['event']) for e in events) if match]
        self.assertEqual(
            [('enroll', 'verifying'), ('verifying', 'manageable'),
             ('manageable', 'inspecting'), ('inspecting', 'manageable'),
             ('manageable', 'cleaning'), ('cleaning', 'available'),
             ('available', 'deploying'), ('deploying', 'active'),
             ('active', 'deploying'), ('deploying', 'active'),
             ('active', 'deleting'), ('deleting', 'cleaning'),
             ('cleaning', 'available')], changes)
        self.assertEqual({'INFO'}, {e['severity'] for e in events})
        # The port inspection created, deleted with the stock client.
        [port] = bm.ports(node_id=node.id)
        self.cli('port', 'delete', port.id)
        self.assertEqual([], list(bm.ports(node_id=node.id)))
        self.assertEqual(0, self.deployment.stop())
