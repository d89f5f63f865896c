"""Endpoint and credentials: flags, environment, config file, default."""

import os

import fixtures

from podium.cli import settings
from podium.cli.errors import CliError
from podium.tests import base


class ResolveTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.env = {'XDG_CONFIG_HOME': self.dir}

    def _config(self, text: str, path: str | None = None) -> str:
        path = path or os.path.join(self.dir, 'podium', 'cli.yaml')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def test_default(self) -> None:
        self.assertEqual(settings.Settings(),
                         settings.resolve({}, self.env))

    def test_precedence_flag_env_file(self) -> None:
        self._config('url: http://file:1\nuser: fileuser\n'
                     'password: filepw\n')
        self.assertEqual(
            settings.Settings('http://file:1', 'fileuser', 'filepw'),
            settings.resolve({}, self.env))
        self.env.update(PODIUM_URL='http://env:2', PODIUM_USER='envuser')
        self.assertEqual(
            settings.Settings('http://env:2', 'envuser', 'filepw'),
            settings.resolve({}, self.env))
        self.assertEqual(
            settings.Settings('http://flag:3', 'envuser', 'filepw'),
            settings.resolve({'url': 'http://flag:3/v1/'}, self.env))

    def test_explicit_config_file(self) -> None:
        path = self._config('url: http://explicit:4\n',
                            os.path.join(self.dir, 'other.yaml'))
        self.env[settings.CONFIG_ENV] = path
        self.assertEqual('http://explicit:4',
                         settings.resolve({}, self.env).url)

    def test_bad_config_files(self) -> None:
        self.env[settings.CONFIG_ENV] = os.path.join(self.dir, 'none.yaml')
        exc = self.assertRaises(CliError, settings.resolve, {}, self.env)
        self.assertIn('does not exist', str(exc))
        for text, message in (('url: [unclosed', 'not valid YAML'),
                              ('- a list', 'must be a mapping'),
                              ('colour: blue', 'unknown key(s) colour')):
            self.env[settings.CONFIG_ENV] = self._config(
                text, os.path.join(self.dir, 'bad.yaml'))
            exc = self.assertRaises(CliError, settings.resolve, {},
                                    self.env)
            self.assertIn(message, str(exc))

    def test_url_needs_a_scheme(self) -> None:
        exc = self.assertRaises(CliError, settings.resolve,
                                {'url': 'podium.example:6385'}, self.env)
        self.assertIn('must start with http:// or https://', str(exc))

    def test_password_is_not_in_repr(self) -> None:
        self.assertNotIn('s3cret', repr(settings.Settings(
            'http://x', 'u', 's3cret')))
