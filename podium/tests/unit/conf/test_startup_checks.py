"""A bad configuration file stops a Podium process with one clear line.

Each case runs ``prepare_service`` in a child process and checks what an
operator sees: the exit status and a stderr message naming the option at
fault, without a traceback.
"""

import subprocess

from podium.tests import base
from podium.tests.unit import process


class PrepareServiceConfigTest(base.TestCase):

    def _prepare(self, config_text: str) -> subprocess.CompletedProcess[str]:
        self.config_path = process.write_config(self.state_dir, config_text)
        return process.run_python('-c', process.prepare_service_code(),
                                  '--config-file', self.config_path)

    def _assert_refused(self, config_text: str, *expected: str) -> None:
        result = self._prepare(config_text)
        self.assertNotEqual(0, result.returncode, result.stdout)
        self.assertNotIn('prepared', result.stdout)
        self.assertNotIn('Traceback', result.stderr)
        last_line = result.stderr.strip().splitlines()[-1]
        self.assertTrue(last_line.startswith('podium: configuration error'),
                        result.stderr)
        for text in (self.config_path, *expected):
            self.assertIn(text, last_line)

    def test_valid_file_is_accepted(self) -> None:
        result = self._prepare(
            '[DEFAULT]\nrpc_transport = oslo\n'
            'transport_url = rabbit://guest:guest@127.0.0.1:5672/\n'
            '[database]\nmax_pool_size = 5\n'
            '[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = 30\n')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('prepared', result.stdout)

    def test_unknown_option_named(self) -> None:
        self._assert_refused('[database]\nconectoin = sqlite://\n',
                             'unknown option "conectoin"', '[database]')

    def test_unknown_section_named(self) -> None:
        self._assert_refused('[databse]\nconnection = sqlite://\n',
                             'unknown section [databse]')

    def test_malformed_value_named(self) -> None:
        self._assert_refused('[database]\nmax_pool_size = many\n',
                             'option "max_pool_size"', '[database]',
                             "'many'")

    def test_value_out_of_range_named(self) -> None:
        self._assert_refused('[database]\nmax_pool_size = 0\n',
                             'option "max_pool_size"',
                             'greater than or equal to 1')

    def test_value_outside_choices_named(self) -> None:
        self._assert_refused('[DEFAULT]\nrpc_transport = pigeon\n',
                             'option "rpc_transport"', '[DEFAULT]',
                             'pigeon')
