"""The service commands' help, ``--version`` and override flags."""

import os

import fixtures
from oslo_config import cfg
from oslo_log import log

from podium import version
from podium.common import command_line, service
from podium.conf import api as api_conf
from podium.conf import default as default_conf
from podium.tests import base
from podium.tests.unit import process

_MODULES = {'podium serve': 'podium.cmd.serve',
            'podium-api': 'podium.cmd.api',
            'podium-conductor': 'podium.cmd.conductor',
            'podium-dbsync': 'podium.cmd.dbsync'}


class OverrideTest(base.TestCase):

    def _conf(self, config_text: str, *argv: str) -> tuple[
            cfg.ConfigOpts, list[str], str]:
        conf = cfg.ConfigOpts()
        conf.register_opts(default_conf.opts)
        conf.register_opts(api_conf.opts, group='api')
        path = process.write_config(self.state_dir, config_text)
        command_line.register(conf, command_line.SERVE)
        command_line.parse(conf, ['--config-file', path, *argv],
                           command_line.SERVE)
        return conf, command_line.apply_overrides(conf, command_line.SERVE), \
            path

    def test_flags_win_over_the_file_and_say_so(self) -> None:
        conf, notes, path = self._conf(
            '[DEFAULT]\nstate_path = /srv/a\n[api]\nport = 7000\n',
            '--port', '7001', '--state-dir', '/srv/b', '--host', '::1')
        self.assertEqual(7001, conf.api.port)
        self.assertEqual('/srv/b', conf.state_path)
        self.assertEqual('::1', conf.api.host_ip)
        self.assertEqual(
            [f'--port 7001 wins over [api] port = 7000 from {path}',
             f'--state-dir /srv/b wins over [DEFAULT] state_path = /srv/a '
             f'from {path}'], notes)

    def test_no_note_without_a_conflict(self) -> None:
        conf, notes, _ = self._conf('[api]\nport = 7000\n', '--port', '7000')
        self.assertEqual([], notes)
        conf, notes, _ = self._conf('[api]\nport = 7000\n')
        self.assertEqual(7000, conf.api.port)
        self.assertEqual([], notes)

    def test_help_names_the_option_and_the_winner(self) -> None:
        for override in command_line.OVERRIDES.values():
            self.assertIn(f'overrides {override.option_name} of the '
                          f'configuration file (the flag wins)',
                          override.opt.help)

    def test_bad_flag_value_is_refused_naming_the_flag(self) -> None:
        error = self.assertRaises(ValueError, self._conf, '', '--port',
                                  '70000')
        self.assertIn('--port 70000: ', str(error))
        self.assertIn('65535', str(error))


class LogLocationTest(base.TestCase):

    def test_where_the_log_goes(self) -> None:
        conf = cfg.ConfigOpts()
        log.register_options(conf)
        conf([])
        self.useFixture(fixtures.MonkeyPatch('sys.argv',
                                             ['/usr/bin/podium-api']))
        self.assertEqual('standard error', service.describe_log(conf))
        conf.set_override('log_dir', '/var/log/podium')
        self.assertEqual('/var/log/podium/podium-api.log',
                         service.describe_log(conf))
        conf.set_override('log_file', 'api.log')
        conf.set_override('use_journal', True)
        self.assertEqual('/var/log/podium/api.log and the systemd '
                         'journal', service.describe_log(conf))


class ServiceHelpTest(base.TestCase):
    """What an operator sees, from real processes."""

    def test_help_of_every_service_command(self) -> None:
        for command in command_line.COMMANDS:
            result = process.run_python('-m', _MODULES[command.prog],
                                        '--help')
            self.assertEqual(0, result.returncode, result.stderr)
            # Nothing else: no library warning (eventlet's deprecation,
            # printed by podium-conductor until podium/__init__.py
            # silenced it) in front of the help.
            self.assertEqual('', result.stderr)
            self.assertIn(f'usage: {command.prog} ', result.stdout)
            # argparse wraps the description; compare its words.
            self.assertIn(' '.join(command.description.split()[:6]),
                          ' '.join(result.stdout.split()))
            self.assertIn('--version', result.stdout)
            # oslo.config's own flag, which cannot work here, is hidden.
            self.assertNotIn('shell_completion', result.stdout)
            for flag in command.overrides:
                self.assertIn(f'--{flag}', result.stdout)

    def test_shell_completion_is_refused_with_a_pointer(self) -> None:
        for module, args in (('podium.cmd.api', ('--shell_completion',
                                                 'bash')),
                             ('podium.cmd.dbsync', ('--shell_completion=zsh',
                                                    'upgrade'))):
            result = process.run_python('-m', module, *args)
            self.assertEqual(1, result.returncode, result.stderr)
            self.assertNotIn('Traceback', result.stderr)
            self.assertEqual(f'podium: configuration error: '
                             f'{command_line.SHELL_COMPLETION_REFUSED}\n',
                             result.stderr)

    def test_version(self) -> None:
        result = process.run_python('-m', 'podium.cmd.conductor',
                                    '--version')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(version.version_string(), result.stdout.strip())

    def test_serve_announces_database_and_log(self) -> None:
        log_dir = os.path.join(self.state_dir, 'logs')
        os.mkdir(log_dir)
        code = ('import sys\n'
                'from podium.common import command_line, service\n'
                'service.prepare_service(sys.argv[1:], '
                'command=command_line.SERVE)\n'
                'service.announce_locations("podium serve")\n')
        result = process.run_python(
            '-c', code, '--config-file', os.devnull, '--state-dir',
            self.state_dir, '--log-dir', log_dir)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(
            f'podium serve: database sqlite:///{self.state_dir}/'
            f'podium.sqlite; log {log_dir}/-c.log\n', result.stderr)
