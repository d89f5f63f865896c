"""The driver author's guide's example driver, installed and used.

``doc/source/examples/podium-example-driver`` is built and installed
with pip (offline: ``--no-index --no-build-isolation``) into a
directory of its own, which is then put on the ``PYTHONPATH`` of a
``podium serve`` process. That process finds the driver only through
the entry points of the installed distribution (stevedore, as every
conductor does), so the test proves that the guide's package, as
printed in the guide, installs and works:

* the hardware type and its driver_info properties are served;
* a node enrolled with it is verified through the driver (which fails
  while the power file is missing), and the example's node periodic
  task runs for it (the missing power file is reported in the log);
* manage, the example's manual clean step, automated cleaning with the
  inherited ``power_off`` step and power actions change the file;
* a change made behind Podium's back is recorded by power sync;
* the soft power off the driver does not support is refused.

Running the service in a child process keeps the installed package
out of the test runner's own interpreter (and its entry point cache).
"""

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import fixtures
import requests

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
EXAMPLE = os.path.join(_REPO_ROOT, 'doc', 'source', 'examples',
                       'podium-example-driver')

#: pip builds a wheel and installs it; a few seconds, more under load.
PIP_TIMEOUT = 240
CLI_TIMEOUT = 120
#: Power sync (and so the example's periodic task) every second.
CONFIG = {
    'DEFAULT': {
        'enabled_hardware_types': 'fake-hardware,example-hardware',
        'enabled_power_interfaces': 'fake,example-file',
        'enabled_management_interfaces': 'fake',
        'enabled_inspect_interfaces': 'fake,no-inspect',
    },
    'conductor': {
        'sync_power_state_interval': 1,
        # The node starts without its power file: keep it out of
        # maintenance while power sync fails.
        'power_state_sync_max_retries': 1000,
        'action_timeout': 10,
    },
}
LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


def install_example(target: str, work: str) -> None:
    """``pip install`` the example into ``target``, building it from a
    copy under ``work`` (setuptools writes build files next to the
    sources)."""
    source = os.path.join(work, 'podium-example-driver')
    shutil.copytree(EXAMPLE, source)
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--no-index', '--no-deps',
         '--no-build-isolation', '--disable-pip-version-check', '--quiet',
         '--target', target, source],
        capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False)
    if result.returncode != 0:
        raise AssertionError(f'pip install of the example driver failed '
                             f'({result.returncode}):\n{result.stdout}\n'
                             f'{result.stderr}')


class ExampleDriverTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        work = self.useFixture(fixtures.TempDir()).path
        site = os.path.join(work, 'site')
        install_example(site, work)
        self.assertTrue(os.path.exists(os.path.join(
            site, 'podium_example_driver-1.0.0.dist-info',
            'entry_points.txt')))
        # The service's interpreter sees Podium and the installed
        # distribution (code and dist-info), nothing else of the test.
        path = [_REPO_ROOT, site]
        if os.environ.get('PYTHONPATH'):
            path.append(os.environ['PYTHONPATH'])
        self.useFixture(fixtures.EnvironmentVariable(
            'PYTHONPATH', os.pathsep.join(path)))
        self.useFixture(podium_fixtures.ClientEnvironment())
        self.service = self.useFixture(podium_fixtures.AllInOne(CONFIG))
        self.lab = self.useFixture(fixtures.TempDir()).path
        self.power_file = os.path.join(self.lab, 'lab-1.power')

    # Helpers ---------------------------------------------------------------

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, '-m', 'podium.cli', *args],
            env=dict(os.environ, PODIUM_URL=self.service.url),
            capture_output=True, text=True, timeout=CLI_TIMEOUT,
            check=False)
        detail = (f'podium {" ".join(args)} -> {result.returncode}\n'
                  f'{result.stdout}\n{result.stderr}\n'
                  f'{self.service.process.log_tail()}')
        self.assertEqual(0, result.returncode, detail)
        self.assertNotIn('Traceback', result.stderr, detail)
        return result.stdout

    def node(self) -> dict[str, Any]:
        response = self.service.get('/v1/nodes/lab-1')
        self.assertEqual(200, response.status_code, response.text)
        node: dict[str, Any] = response.json()
        return node

    def file_state(self) -> str:
        with open(self.power_file, encoding='ascii') as handle:
            return handle.read().strip()

    def write_file(self, value: str) -> None:
        with open(self.power_file, 'w', encoding='ascii') as handle:
            handle.write(value + '\n')

    def log(self) -> str:
        with open(self.service.path('podium.log'), encoding='utf-8',
                  errors='replace') as handle:
            return handle.read()

    def wait_for(self, what: str, predicate: Any, timeout: float = 30
                 ) -> None:
        try:
            podium_fixtures.wait_until(predicate, timeout, what, 0.2)
        except AssertionError as exc:
            self.fail(f'{exc}\n{self.service.process.log_tail()}')

    # The test --------------------------------------------------------------

    def test_installed_example_driver_works(self) -> None:
        drivers = self.service.get('/v1/drivers').json()['drivers']
        self.assertIn('example-hardware', [d['name'] for d in drivers])
        properties = self.service.get(
            '/v1/drivers/example-hardware/properties').json()
        self.assertIn('example_power_file', properties)
        self.assertIn('Required', properties['example_power_file'])
        # The conductor collected the example's periodic task at start.
        self.assertIn('power.example-file.FilePower._check_power_files',
                      self.log())

        self.cli('node', 'create', '--driver', 'example-hardware',
                 '--name', 'lab-1', '--driver-info',
                 f'example_power_file={self.power_file}')
        node = self.node()
        self.assertEqual('example-file', node['power_interface'])
        self.assertEqual('fake', node['management_interface'])
        # No power file yet: the periodic task warns; verifying the node
        # (manage) reads it through the driver, fails and says why, and
        # the node stays in enroll (which power sync leaves alone).
        self.wait_for('the periodic task to report the missing file',
                      lambda: f'Node lab-1: power file {self.power_file} '
                              f'is missing' in self.log())
        response = requests.put(
            f'{self.service.url}/v1/nodes/lab-1/states/provision',
            json={'target': 'manage'}, headers=LATEST, timeout=10)
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for('verification to fail reading the file',
                      lambda: 'cannot read' in (self.node()['last_error']
                                                or ''))
        self.assertEqual('enroll', self.node()['provision_state'])

        self.write_file('off')
        self.cli('node', 'manage', 'lab-1', '--wait')
        node = self.node()
        self.assertEqual('manageable', node['provision_state'])
        self.assertEqual('power off', node['power_state'])

        # The example's manual clean step is listed and runs.
        steps = [{'interface': 'power', 'step': 'write_power_file',
                  'args': {'state': 'on'}}]
        self.cli('node', 'clean', 'lab-1', '--clean-steps',
                 json.dumps(steps), '--wait')
        self.assertEqual('on', self.file_state())
        node = self.node()
        self.assertEqual('manageable', node['provision_state'])
        self.assertEqual('power on', node['power_state'])

        # Automated cleaning runs the inherited power_off step.
        self.cli('node', 'provide', 'lab-1', '--wait')
        self.assertEqual('off', self.file_state())
        self.assertEqual('available', self.node()['provision_state'])

        self.cli('node', 'power', 'on', 'lab-1', '--wait')
        self.assertEqual('on', self.file_state())
        self.assertEqual('power on', self.node()['power_state'])

        # Switched off behind Podium's back: power sync records it.
        self.write_file('off')
        self.wait_for('power sync to record the change',
                      lambda: self.node()['power_state'] == 'power off')

        response = requests.put(
            f'{self.service.url}/v1/nodes/lab-1/states/power',
            json={'target': 'soft power off'}, headers=LATEST, timeout=10)
        self.assertEqual(400, response.status_code, response.text)
        self.assertIn('soft power off', response.text)
        self.assertEqual('off', self.file_state())
