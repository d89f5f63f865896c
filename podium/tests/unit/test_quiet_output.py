"""Passing tests print nothing; a failing one shows its log.

A child process runs two tests of :class:`podium.tests.base.TestCase`
that log an expected error with its traceback, one passing and one
failing, with the test runner the suite uses underneath stestr
(testtools). The passing test's log must not reach the output, so that
a real failure stands out; the failing test's log must, so that it can
be understood.
"""

import os
import subprocess
import sys
import textwrap

import fixtures

from podium.tests import base

_MODULE = '''
import logging

from podium.tests import base

LOG = logging.getLogger('podium.noisy')


def log_expected_error(what):
    try:
        raise RuntimeError(what)
    except RuntimeError:
        LOG.exception('expected failure path: %s', what)


class NoisyTest(base.TestCase):

    def test_a_passes(self):
        log_expected_error('passing-test-log')

    def test_b_fails(self):
        log_expected_error('failing-test-log')
        self.fail('deliberate')
'''


class QuietOutputTest(base.TestCase):

    def test_passing_tests_quiet_failing_ones_show_their_log(self) -> None:
        directory = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(directory, 'noisy_tests.py'), 'w',
                  encoding='utf-8') as handle:
            handle.write(textwrap.dedent(_MODULE))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [directory, *sys.path]))
        env.pop(base.DEBUG_ENV, None)
        result = subprocess.run(
            [sys.executable, '-m', 'testtools.run', 'noisy_tests'],
            cwd=directory, env=env, capture_output=True, text=True,
            timeout=120, check=False)
        output = result.stdout + result.stderr
        self.assertIn('FAILED (failures=1)', output)
        self.assertNotIn('passing-test-log', output)
        self.assertIn('expected failure path: failing-test-log', output)
        self.assertIn('RuntimeError: failing-test-log', output)
