"""``podium node boot-order show|set``, ``node inject-nmi`` and
``node bmc-reset``: the requests they send and their summaries and exit
status, against a fake API and a scripted client."""

import json
from typing import Any

from podium.cli import hardware_actions
from podium.cli.client import ApiError
from podium.tests import base
from podium.tests.unit.cli import fake_api
from podium.tests.unit.cli.test_actions import ScriptedClient, finish, note
from podium.tests.unit.cli.test_main import run_main

ORDER = [{'ref': 'Boot0001', 'name': 'NIC', 'device': 'pxe',
          'mac': '52:54:00:00:00:0a', 'enabled': True},
         {'ref': 'Boot0000', 'name': 'Disk', 'device': 'disk', 'mac': None,
          'enabled': True}]


class ActionsTest(base.TestCase):

    def test_show_and_set(self) -> None:
        client = ScriptedClient({'boot_order': ORDER})
        _delays, outcome = finish(hardware_actions.boot_order_show(client)(
            'n1', note))
        self.assertEqual('Boot0001 pxe 52:54:00:00:00:0a, Boot0000 disk',
                         outcome.data['boot_order'])
        self.assertEqual(('GET', '/v1/nodes/n1/vendor_passthru',
                          {'params': {'method': 'get_boot_order'},
                           'body': None}), client.sent[0])
        client = ScriptedClient(ApiError(409, 'locked'), {'boot_order': ORDER})
        delays, outcome = finish(hardware_actions.boot_order_set(
            client, {'devices': ['pxe']})('n1', note))
        self.assertTrue(outcome.ok)
        self.assertEqual(1, len(delays))
        self.assertEqual(('POST', {'method': 'set_boot_order'},
                          {'devices': ['pxe']}),
                         (client.sent[-1][0], client.sent[-1][2]['params'],
                          client.sent[-1][2]['body']))

    def test_check(self) -> None:
        answer = {'matches': False, 'expected': ['Boot0000', 'Boot0001'],
                  'actual': ['Boot0001', 'Boot0000']}
        _delays, outcome = finish(hardware_actions.boot_order_check(
            ScriptedClient(answer), {'devices': ['disk']})('n1', note))
        self.assertFalse(outcome.ok)
        self.assertEqual('boot order is Boot0001, Boot0000, expected '
                         'Boot0000, Boot0001', outcome.reason)
        _delays, outcome = finish(hardware_actions.boot_order_check(
            ScriptedClient(dict(answer, matches=True)),
            {'mac': 'x'})('n1', note))
        self.assertTrue(outcome.ok)

    def test_nmi_and_bmc_reset(self) -> None:
        client = ScriptedClient(None, None)
        finish(hardware_actions.inject_nmi(client)('n1', note))
        finish(hardware_actions.bmc_reset(client)('n1', note))
        self.assertEqual(
            [('PUT', '/v1/nodes/n1/management/inject_nmi'),
             ('POST', '/v1/nodes/n1/bmc_reset')],
            [sent[:2] for sent in client.sent])


class CommandsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.api = self.useFixture(fake_api.FakeApi())
        self.api.list_nodes('n1', 'n2')

    def cli(self, *argv: str) -> tuple[int, str, str]:
        return run_main('--url', self.api.url, *argv)

    def route_passthru(self, reply: Any) -> None:
        for verb in ('GET', 'POST'):
            for name in ('n1', 'n2'):
                self.api.routes[(verb, f'/v1/nodes/{name}/vendor_passthru')] \
                    = reply

    def test_set_check_fails_a_node_out_of_order(self) -> None:
        def reply(req: fake_api.Request) -> fake_api.Reply:
            matches = req.path.startswith('/v1/nodes/n1/')
            return fake_api.json_reply(200, {
                'matches': matches, 'expected': ['Boot0001', 'Boot0000'],
                'actual': ['Boot0001', 'Boot0000'] if matches
                else ['Boot0000', 'Boot0001']})
        self.route_passthru(reply)
        status, out, err = self.cli('node', 'boot-order', 'set', 'n1', 'n2',
                                    '--mac', '52:54:00:00:00:0a', '--check',
                                    '-f', 'json')
        self.assertEqual(1, status, err)
        rows = {row['Host']: row for row in json.loads(out)}
        self.assertEqual(('SUCCESSFUL', 'FAILED'),
                         (rows['n1']['Result'], rows['n2']['Result']))
        self.assertEqual('Boot0000, Boot0001', rows['n2']['Boot Order'])
        sent = self.api.api_requests()[-1]
        self.assertEqual(({'method': 'check_boot_order'},
                          {'mac': '52:54:00:00:00:0a'}),
                         (sent.query, sent.body))

    def test_set_by_devices_and_show(self) -> None:
        self.route_passthru(
            lambda req: fake_api.json_reply(200, {'boot_order': ORDER}))
        status, out, err = self.cli('node', 'boot-order', 'set', 'n1',
                                    '--device', 'pxe, disk')
        self.assertEqual(0, status, err)
        self.assertIn('SUCCESSFUL', out)
        self.assertEqual({'devices': ['pxe', 'disk']},
                         self.api.api_requests()[-1].body)
        status, out, err = self.cli('node', 'boot-order', 'show', 'n1', 'n2',
                                    '-f', 'yaml')
        self.assertEqual(0, status, err)
        self.assertIn('Boot0001 pxe 52:54:00:00:00:0a, Boot0000 disk', out)

    def test_device_or_mac_is_required(self) -> None:
        status, _, err = self.cli('node', 'boot-order', 'set', 'n1')
        self.assertEqual(2, status)
        self.assertIn('one of the arguments --device --mac is required', err)

    def test_bmc_reset_failure_is_reported_and_exit_1(self) -> None:
        self.api.routes[('POST', '/v1/nodes/n1/bmc_reset')] = \
            lambda req: (202, {}, None)
        self.api.routes[('POST', '/v1/nodes/n2/bmc_reset')] = \
            lambda req: fake_api.ironic_error(400, 'Resetting the BMC is '
                                                   'not supported')
        self.api.routes[('PUT', '/v1/nodes/n1/management/inject_nmi')] = \
            lambda req: (202, {}, None)
        status, out, err = self.cli('node', 'bmc-reset', 'n1', 'n2')
        self.assertEqual(1, status)
        self.assertIn('n2: ', err)
        self.assertIn('not supported', out)
        status, out, err = self.cli('node', 'inject-nmi', 'n1')
        self.assertEqual(0, status, err)
        self.assertIn('NMI injected', out)
