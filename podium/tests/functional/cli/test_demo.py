"""``podium demo --keep-running`` end to end, as a newcomer runs it."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import NoReturn

import fixtures

from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

#: The tour plus starting and stopping; generous for a loaded machine.
DEMO_TIMEOUT = 180

#: ``podium demo --keep-running`` that dumps every thread's stack to its
#: output on SIGUSR1, so a demo that never ends says where it is stuck.
#: It starts with SIGINT ignored, as a background job of a script (and
#: some test runners' workers) would: Ctrl-C must stop it all the same.
_DUMPABLE_DEMO = """
import faulthandler, signal, sys
faulthandler.register(signal.SIGUSR1, all_threads=True)
signal.signal(signal.SIGINT, signal.SIG_IGN)
from podium.cli.main import main
sys.exit(main(['demo', '--keep-running']))
"""


class DemoTest(base.TestCase):

    def test_tour_then_keep_running_until_ctrl_c(self) -> None:
        self.useFixture(podium_fixtures.ClientEnvironment())
        self.useFixture(fixtures.EnvironmentVariable('PODIUM_URL'))
        process = subprocess.Popen(
            [sys.executable, '-c', _DUMPABLE_DEMO],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
        self.addCleanup(self._kill, process)
        lines: list[str] = []
        waiting = threading.Event()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith('Press Ctrl-C'):
                    waiting.set()
            waiting.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if not waiting.wait(DEMO_TIMEOUT):
            self._fail_with_stacks(process, reader, lines,
                                   'the tour did not finish')
        output = ''.join(lines)
        self.assertIsNone(process.poll(), output)
        self.assertNotIn('Traceback', output)

        # The tour showed what it promised.
        self.assertIn('=== 1. Enroll the fleet from a file and verify it '
                      '===', output)
        created = re.findall(r'\| (node-\d) \| create \| [0-9a-f-]+ \| '
                             r'(\w+) +\| created, reached manageable',
                             output)
        self.assertEqual([(f'node-{i}', 'SUCCESSFUL') for i in range(1, 9)],
                         sorted(created))
        listed = re.findall(r'\| (node-\d) \| (power \w+) +\| '
                            r'manageable ', output)
        self.assertIn(('node-1', 'power on'), listed)
        self.assertIn(('node-2', 'power off'), listed)
        summary = re.findall(r'\| (node-\d) \| power on \| [^|]+\| (\w+) ',
                             output)
        self.assertEqual([(f'node-{i}', 'SUCCESSFUL') for i in range(1, 8)]
                         + [('node-8', 'FAILED')], summary)
        self.assertIn('did not answer within', output)
        self.assertIn('| node-1 | power status | power off', output)
        self.assertIn('| fault              | power failure', output)

        # The service it left running answers the commands it suggests.
        url = re.search(r'export PODIUM_URL=(\S+)', output)
        assert url is not None
        listed = subprocess.run(
            [sys.executable, '-m', 'podium.cli', 'node', 'list', '-f',
             'value', '-c', 'name'],
            env=dict(os.environ, PODIUM_URL=url.group(1)),
            capture_output=True, text=True, timeout=60, check=True)
        self.assertEqual([f'node-{i}' for i in range(1, 9)],
                         sorted(listed.stdout.split()))

        process.send_signal(signal.SIGINT)
        try:
            status = process.wait(DEMO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._fail_with_stacks(process, reader, lines,
                                   'the demo did not stop after Ctrl-C')
        self.assertEqual(0, status, ''.join(lines))
        reader.join(10)
        self.assertIn('state directory removed', ''.join(lines))

    def _fail_with_stacks(self, process: subprocess.Popen[str],
                          reader: threading.Thread, lines: list[str],
                          what: str) -> NoReturn:
        """Fail with what the demo printed and where its threads are."""
        if process.poll() is None:
            process.send_signal(signal.SIGUSR1)  # faulthandler's dump
            time.sleep(2)
            process.kill()
        reader.join(10)
        self.fail(f'{what} within {DEMO_TIMEOUT}s; its output and, at '
                  f'the end, its threads:\n' + ''.join(lines))

    @staticmethod
    def _kill(process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            process.kill()
            process.wait()
