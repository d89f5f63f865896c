"""BMC health on a running all-in-one Podium: ``podium node show``
shows the node's ``bmc_health``, and the stock clients (``baremetal``,
openstacksdk) still show the node with that extension field in it."""

import json
import os
import subprocess
import sys
import time
from typing import Any, ClassVar

import openstack

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional.cli import test_cli

CONFIG = {'conductor': {'sync_power_state_interval': 1}}
#: Seconds for the first sync cycles to read the nodes.
SYNC_WAIT = 60


class BMCHealthTest(base.TestCase):

    service: ClassVar[podium_fixtures.AllInOne]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.service = podium_fixtures.AllInOne(CONFIG)
        cls.service.setUp()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.service.cleanUp()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.useFixture(podium_fixtures.ClientEnvironment())

    def run_cli(self, argv: list[str]) -> str:
        result = subprocess.run(argv, capture_output=True, text=True,
                                timeout=test_cli.CLI_TIMEOUT, check=False,
                                env=dict(os.environ,
                                         PODIUM_URL=self.service.url))
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        return result.stdout

    def podium(self, *args: str) -> Any:
        return json.loads(self.run_cli(
            [sys.executable, '-m', 'podium.cli', *args, '-f', 'json']))

    def test_node_show_and_stock_clients(self) -> None:
        self.podium('node', 'create', '--driver', 'fake-hardware',
                    '--name', 'bh-ok', '--driver-info', 'fake_bmc=bmc-a:623',
                    '--manage')
        self.podium('node', 'create', '--driver', 'fake-hardware',
                    '--name', 'bh-bad', '--driver-info', 'fake_bmc=bmc-b:623',
                    '--manage')
        self.run_cli([sys.executable, '-m', 'podium.cli', 'node', 'set',
                      'bh-bad', '--driver-info', 'fake_fail=unreachable'])
        deadline = time.monotonic() + SYNC_WAIT
        while True:
            bad = self.podium('node', 'show', 'bh-bad')['bmc_health']
            if bad is not None and bad['consecutive_failures'] >= 1:
                break
            self.assertLess(time.monotonic(), deadline, 'no sync cycle')
            time.sleep(0.5)
        self.assertEqual(('bmc-b:623', True),
                         (bad['endpoint'], bad['suspect']))
        self.assertIsNotNone(bad['last_failure'])
        good = self.podium('node', 'show', 'bh-ok', '-c',
                           'bmc_health')['bmc_health']
        self.assertEqual(('bmc-a:623', False),
                         (good['endpoint'], good['suspect']))
        # The stock CLI and SDK ignore the extension field.
        shown = json.loads(self.run_cli([
            os.path.join(os.path.dirname(sys.executable), 'baremetal'),
            '--os-endpoint', self.service.url, '--os-auth-type', 'none',
            '--max-retries', '0', 'node', 'show', 'bh-ok', '-f', 'json']))
        self.assertEqual('bh-ok', shown['name'])
        sdk = openstack.connect(auth_type='none',
                                baremetal_endpoint_override=self.service.url)
        node = sdk.baremetal.get_node('bh-ok')
        self.assertEqual(('bh-ok', 'manageable'),
                         (node.name, node.provision_state))
