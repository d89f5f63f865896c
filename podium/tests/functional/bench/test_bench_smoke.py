"""Every benchmark still runs: each one at its smoke size, as a process.

A benchmark that nobody runs rots; these tests run each one the way
``python -m bench.smoke`` does (a few seconds, tiny fleets, results to a
temporary directory) and fail with its output when it crashes. They
assert no timing: numbers on a shared CI machine mean nothing.
"""

import os
import subprocess
import sys
import tempfile

import testtools

from podium.tests import base

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
BENCH_DIR = os.path.join(REPO_ROOT, 'bench')


@testtools.skipUnless(os.path.isfile(os.path.join(BENCH_DIR, 'run.py')),
                      'the benchmarks ship only in a source checkout')
class TestBenchSmoke(base.TestCase):

    def _smoke(self, name: str) -> None:
        with tempfile.TemporaryDirectory() as results:
            proc = subprocess.run(
                [sys.executable, '-m', 'bench.run', '--smoke',
                 '--timeout', '240', name],
                cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                env=dict(os.environ, PYTHONPATH=REPO_ROOT,
                         TMPDIR=results))
        self.assertEqual(0, proc.returncode,
                         f'{name} smoke failed:\n{proc.stdout[-4000:]}\n'
                         f'{proc.stderr[-4000:]}')
        self.assertIn(f'--- {name}: ok', proc.stdout)

    def test_power_sync(self) -> None:
        self._smoke('power_sync')

    def test_isolation(self) -> None:
        self._smoke('isolation')

    def test_api_load(self) -> None:
        self._smoke('api_load')

    def test_bulk(self) -> None:
        self._smoke('bulk')

    def test_seed_problem(self) -> None:
        self._smoke('seed_problem')

    def test_compare_ironic(self) -> None:
        # Podium's side only: installing Ironic takes minutes.
        self._smoke('compare_ironic')

    def test_deploy_fleet(self) -> None:
        self._smoke('deploy_fleet')
