"""BMC health on a running all-in-one Podium: ``podium node show``
shows the node's ``bmc_health``, and the stock clients (``baremetal``,
openstacksdk) still show the node with that extension field in it."""

import json
import os
import subprocess
import sys
import time

import openstack

from podium.tests.functional.cli import test_cli

#: Seconds for the first sync cycles to read the nodes.
SYNC_WAIT = 60


class BMCHealthTest(test_cli.CliTestCase):

    CONFIG = {'conductor': {'sync_power_state_interval': 1}}

    def test_node_show_and_stock_clients(self) -> None:
        self.create('bh-ok', '--driver-info', 'fake_bmc=bmc-a:623',
                    '--manage')
        self.create('bh-bad', '--driver-info', 'fake_bmc=bmc-b:623',
                    '--manage')
        self.cli('node', 'set', 'bh-bad', '--driver-info',
                 'fake_fail=unreachable')
        deadline = time.monotonic() + SYNC_WAIT
        while True:
            bad = self.cli_json('node', 'show', 'bh-bad')['bmc_health']
            if bad is not None and bad['consecutive_failures'] >= 1:
                break
            self.assertLess(time.monotonic(), deadline, 'no sync cycle')
            time.sleep(0.5)
        self.assertEqual(('bmc-b:623', True),
                         (bad['endpoint'], bad['suspect']))
        self.assertIsNotNone(bad['last_failure'])
        good = self.cli_json('node', 'show', 'bh-ok', '-c',
                             'bmc_health')['bmc_health']
        self.assertEqual(('bmc-a:623', False),
                         (good['endpoint'], good['suspect']))
        # The stock CLI and SDK ignore the extension field.
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'baremetal'),
             '--os-endpoint', self.service.url, '--os-auth-type', 'none',
             '--max-retries', '0', 'node', 'show', 'bh-ok', '-f', 'json'],
            capture_output=True, text=True, timeout=test_cli.CLI_TIMEOUT,
            check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        shown = json.loads(result.stdout)
        self.assertEqual('bh-ok', shown['name'])
        sdk = openstack.connect(auth_type='none',
                                baremetal_endpoint_override=self.service.url)
        node = sdk.baremetal.get_node('bh-ok')
        self.assertEqual(('bh-ok', 'manageable'),
                         (node.name, node.provision_state))
