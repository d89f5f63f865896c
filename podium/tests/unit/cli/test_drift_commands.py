"""``podium node drift`` and ``node set|unset --intended-...``: the
requests they send, the summary and the exit status, against a fake
API."""

import json
from typing import Any

from podium.tests import base
from podium.tests.unit.cli import fake_api
from podium.tests.unit.cli.test_main import run_main

DRIFT = [{'setting': 'boot_mode', 'intended': 'uefi', 'actual': 'bios',
          'since': '2026-12-01T10:00:00+00:00', 'state': 'not kept',
          'attempts': 3}]


class DriftCommandsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.api = self.useFixture(fake_api.FakeApi())
        self.api.list_nodes('n1', 'n2', 'n3')
        nodes: dict[str, dict[str, Any]] = {
            'n1': {'intended_settings': {'boot_mode': 'uefi'},
                   'drift': DRIFT},
            'n2': {'intended_settings': {'boot_mode': 'uefi'},
                   'drift': None},
            'n3': {'intended_settings': None, 'drift': None}}
        for name, node in nodes.items():
            self.api.routes[('GET', f'/v1/nodes/{name}')] = (
                lambda req, node=node, name=name: fake_api.json_reply(
                    200, dict(node, name=name, uuid=f'u-{name}')))
            self.api.routes[('PATCH', f'/v1/nodes/{name}')] = (
                lambda req, name=name: fake_api.json_reply(
                    200, {'name': name}))

    def cli(self, *argv: str) -> tuple[int, str, str]:
        return run_main('--url', self.api.url, *argv)

    def test_drift_fails_drifted_nodes(self) -> None:
        status, out, err = self.cli('node', 'drift', 'n1', 'n2', 'n3',
                                    '-f', 'json')
        self.assertEqual(1, status, err)
        rows = {row['Host']: row for row in json.loads(out)}
        self.assertEqual(('FAILED', 'SUCCESSFUL', 'SUCCESSFUL'),
                         tuple(rows[n]['Result'] for n in ('n1', 'n2', 'n3')))
        self.assertIn("boot_mode: 'bios', intended 'uefi' (not kept, 3 "
                      "put-back(s), since 2026-12-01T10:00:00+00:00)",
                      rows['n1']['Reason'])
        self.assertEqual('as intended', rows['n2']['Reason'])
        self.assertEqual('no intended settings', rows['n3']['Reason'])
        status, _, err = self.cli('node', 'drift', 'n2', 'n3')
        self.assertEqual(0, status, err)

    def test_set_and_unset_intended(self) -> None:
        status, _, err = self.cli(
            'node', 'set', 'n1', '--intended-boot-mode', 'uefi',
            '--intended-bios', 'ProcTurboMode=Enabled',
            '--intended-bios', 'MemFrequency=3200')
        self.assertEqual(0, status, err)
        self.assertEqual([
            {'op': 'add', 'path': '/intended_settings/boot_mode',
             'value': 'uefi'},
            {'op': 'add', 'path': '/intended_settings/bios/ProcTurboMode',
             'value': 'Enabled'},
            {'op': 'add', 'path': '/intended_settings/bios/MemFrequency',
             'value': 3200}], self.api.api_requests()[-1].body)
        status, _, err = self.cli('node', 'unset', 'n1',
                                  '--intended-boot-mode',
                                  '--intended-bios', 'ProcTurboMode')
        self.assertEqual(0, status, err)
        self.assertEqual([
            {'op': 'remove', 'path': '/intended_settings/boot_mode'},
            {'op': 'remove', 'path': '/intended_settings/bios/ProcTurboMode'}],
            self.api.api_requests()[-1].body)
        status, _, err = self.cli('node', 'unset', 'n1',
                                  '--intended-settings')
        self.assertEqual(0, status, err)
        self.assertEqual([{'op': 'remove', 'path': '/intended_settings'}],
                         self.api.api_requests()[-1].body)

    def test_intended_boot_order(self) -> None:
        status, _, err = self.cli('node', 'set', 'n1',
                                  '--intended-boot-order', 'pxe, disk')
        self.assertEqual(0, status, err)
        self.assertEqual([
            {'op': 'add', 'path': '/intended_settings/boot_order',
             'value': {'devices': ['pxe', 'disk']}}],
            self.api.api_requests()[-1].body)
        status, _, err = self.cli('node', 'set', 'n1',
                                  '--intended-boot-order-mac',
                                  '52:54:00:aa:bb:cc')
        self.assertEqual(0, status, err)
        self.assertEqual([
            {'op': 'add', 'path': '/intended_settings/boot_order',
             'value': {'mac': '52:54:00:aa:bb:cc'}}],
            self.api.api_requests()[-1].body)
        status, _, err = self.cli('node', 'unset', 'n1',
                                  '--intended-boot-order')
        self.assertEqual(0, status, err)
        self.assertEqual([
            {'op': 'remove', 'path': '/intended_settings/boot_order'}],
            self.api.api_requests()[-1].body)
        status, _, err = self.cli('node', 'set', 'n1',
                                  '--intended-boot-order', 'pxe',
                                  '--intended-boot-order-mac', 'x')
        self.assertEqual(2, status)
        self.assertIn('not allowed with', err)

    def test_bad_boot_mode_is_a_usage_error(self) -> None:
        status, _, err = self.cli('node', 'set', 'n1',
                                  '--intended-boot-mode', 'efi')
        self.assertEqual(2, status)
        self.assertIn('invalid choice', err)
