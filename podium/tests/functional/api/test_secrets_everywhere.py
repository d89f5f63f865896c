"""Secrets of every shape, through every API call and CLI command that
shows a node, a port or a node's history, and the service's debug log:
none of them may show a secret value.

A real ``podium serve`` (debug logging on, so every log line the
service can write is in its log), nodes enrolled with credentials at the
top level, nested, in lists, as IPMI Kg, Redfish token and SNMP keys,
BMC failures that quote a password, and a port whose ``extra`` holds
one. The CLI runs in this process against the service.
"""

import contextlib
import io
import json
import os
from typing import Any

import requests
import yaml

from podium.cli import main as cli_main
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.unit.conductor.utils import wait_for

#: Every value below is a secret; none may appear in any output.
DRIVER_INFO = {
    'redfish_address': 'https://10.0.0.1',
    'redfish_username': 'admin',
    'redfish_password': 'sx-top-level-1',
    'ipmi_password': 'sx-top-level-2',
    'bmc': {'password': 'sx-nested-1', 'host': 'bmc-1',
            'deeper': [{'secret': 'sx-in-list-1'}]},
    'ipmi_kg': 'sx-kg-1',
    'redfish_auth_token': 'sx-token-1',
    'snmp_auth_key': 'sx-snmp-auth-1',
    'snmp_priv_key': 'sx-snmp-priv-1',
    'snmp_community': 'sx-community-1',
    'credentials': {'user': 'root', 'pass': 'sx-subtree-1'},
}
INSTANCE_INFO = {'configdrive': 'sx-configdrive-1',
                 'image_url': 'https://u:sx-url-pw-1@images/x.qcow2'}
#: What the failing BMC says: it quotes the password it was given.
BMC_ERROR = "login refused: password='sx-top-level-2'"
PORT_EXTRA = {'switch_password': 'sx-port-1', 'note': 'rack 7'}
#: Set by PATCH on the way.
PATCHED = {'/driver_info/bmc/password': 'sx-patched-1',
           '/driver_info/ipmi_kg': 'sx-patched-kg-1'}

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


def _secrets() -> set[str]:
    found = {value for value in json.dumps(
        [DRIVER_INFO, INSTANCE_INFO, PORT_EXTRA, PATCHED]).split('"')
        if value.startswith('sx-')}
    found |= {'sx-url-pw-1'}
    return found


SECRETS = _secrets()


class SecretsEverywhereTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.useFixture(podium_fixtures.ClientEnvironment())
        self.service = self.useFixture(podium_fixtures.AllInOne(config={
            'DEFAULT': {'debug': True},
            'conductor': {'sync_power_state_interval': 1,
                          'power_state_sync_max_retries': 2}}))
        self.url = self.service.url
        self.outputs: list[tuple[str, str]] = []

    # Recording ----------------------------------------------------------

    def api(self, method: str, path: str, expect: int | None = None,
            **kwargs: Any) -> requests.Response:
        response = requests.request(method, self.url + path, timeout=30,
                                    headers=LATEST, **kwargs)
        self.outputs.append((f'{method} {path}', response.text))
        if expect is not None:
            self.assertEqual(expect, response.status_code,
                             f'{method} {path}: {response.text}')
        return response

    def cli(self, *argv: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli_main.main(['--url', self.url, *argv])
        text = out.getvalue() + err.getvalue()
        self.outputs.append(('podium ' + ' '.join(argv), text))
        return text

    def assert_no_secret_anywhere(self) -> None:
        with open(self.service.path('podium.log'), encoding='utf-8') as log:
            self.outputs.append(('podium.log', log.read()))
        leaks = [(where, secret, text[max(0, text.find(secret) - 80):
                                      text.find(secret) + 40])
                 for where, text in self.outputs
                 for secret in SECRETS if secret in text]
        self.assertEqual([], leaks)

    # The test -------------------------------------------------------------

    def enroll(self) -> list[str]:
        path = os.path.join(self.state_dir, 'nodes.yaml')
        with open(path, 'w', encoding='utf-8') as handle:
            yaml.safe_dump([{'name': 'by-file', 'driver': 'fake-hardware',
                             'driver_info': DRIVER_INFO}], handle)
        self.cli('node', 'create', '--from-file', path)
        self.cli('node', 'create', '--name', 'by-cli', '--driver',
                 'fake-hardware', '--driver-info',
                 'ipmi_password=sx-top-level-2',
                 '--driver-info', 'fake_fail=' + BMC_ERROR)
        created = self.api('POST', '/v1/nodes', 201, json={
            'name': 'by-api', 'driver': 'fake-hardware',
            'driver_info': DRIVER_INFO,
            'instance_info': INSTANCE_INFO}).json()
        # Verified (power sync reads only verified nodes), then its BMC
        # starts failing, quoting the password.
        self.cli('node', 'manage', 'by-api', 'by-cli', '--wait',
                 '--timeout', '60')
        self.api('PATCH', f'/v1/nodes/{created["uuid"]}', 200, json=[
            {'op': 'add', 'path': '/driver_info/fake_fail',
             'value': BMC_ERROR}])
        return ['by-file', 'by-cli', created['uuid']]

    def test_no_secret_in_any_output_log_or_history(self) -> None:
        names = self.enroll()
        failing = names[2]
        # Power actions that fail, quoting the password; then power
        # sync reading the failing BMC until it gives up on it.
        self.api('PUT', f'/v1/nodes/{failing}/states/power', 202,
                 json={'target': 'power on'})
        self.cli('node', 'power', 'on', 'by-cli', '--wait')
        self.api('PUT', f'/v1/nodes/{failing}/management/boot_device',
                 json={'boot_device': 'pxe'})
        wait_for(lambda: self.api('GET', f'/v1/nodes/{failing}').json()
                 ['maintenance'], timeout=60, what='sync maintenance')
        # The error is shown, masked, not replaced wholesale.
        shown = self.api('GET', f'/v1/nodes/{failing}').json()
        self.assertIn("login refused: password='******'",
                      shown['maintenance_reason'])
        for path, value in PATCHED.items():
            self.api('PATCH', f'/v1/nodes/{failing}', 200, json=[
                {'op': 'add', 'path': path, 'value': value}])
        self.api('PATCH', f'/v1/nodes/{failing}', 400, json=[
            {'op': 'add', 'path': '/driver_info', 'value':
             'sx-patched-1'}])
        self.api('PATCH', f'/v1/nodes/{failing}', 400, json=[
            {'op': 'replace', 'path': '/no_such_field', 'value':
             'sx-patched-1'}])
        port = self.api('POST', '/v1/ports', 201, json={
            'address': '52:54:00:12:34:56', 'node_uuid': failing,
            'extra': PORT_EXTRA}).json()

        for node in names:
            for path in ('', '/states', '/validate', '/history',
                         '/ports', '/ports/detail',
                         '/management/boot_device',
                         '?fields=driver_info,instance_info,last_error,'
                         'maintenance_reason'):
                self.api('GET', f'/v1/nodes/{node}{path}')
            for event in self.api('GET', f'/v1/nodes/{node}/history'
                                  ).json()['history']:
                self.api('GET', f'/v1/nodes/{node}/history/'
                                f'{event["uuid"]}')
        for path in ('/v1/nodes', '/v1/nodes/detail',
                     '/v1/nodes?detail=true',
                     '/v1/nodes?fields=name,driver_info,instance_info',
                     '/v1/ports', '/v1/ports/detail',
                     f'/v1/ports/{port["uuid"]}',
                     '/v1/nodes/password=sx-top-level-1'):
            self.api('GET', path)

        for node in ('by-file', 'by-cli', failing):
            for fmt in ('table', 'json', 'yaml', 'value'):
                self.cli('node', 'show', node, '-f', fmt)
                self.cli('node', 'history', node, '--long', '-f', fmt)
            self.cli('node', 'validate', node)
            self.cli('node', 'boot-device', 'show', node)
            self.cli('node', 'set', node, '--driver-info',
                     'snmp_auth_key=sx-snmp-auth-1')
        for fmt in ('table', 'json', 'yaml', 'value'):
            self.cli('node', 'list', '--long', '-f', fmt)
            self.cli('port', 'list', '--long', '-f', fmt)
            self.cli('port', 'show', port['uuid'], '-f', fmt)
        self.cli('node', 'maintenance', 'unset', failing)
        self.cli('node', 'delete', 'by-file')
        self.assert_no_secret_anywhere()
