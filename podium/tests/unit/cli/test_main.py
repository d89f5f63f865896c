"""The command tree: help everywhere, dispatch, errors, start-up cost."""

import argparse
import contextlib
import io
import subprocess
import sys

import fixtures

from podium.cli import main
from podium.cli.commands import serve
from podium.tests import base


def leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                 ) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += leaf_parsers(sub, path + (name,))
    return found or [(path, parser)]


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main.main(list(argv))
        except SystemExit as exc:
            status = int(exc.code or 0)
    return status, out.getvalue(), err.getvalue()


class CommandTreeTest(base.TestCase):

    def test_every_command_has_help_with_examples(self) -> None:
        leaves = leaf_parsers(main.build_parser())
        names = {' '.join(path) for path, _ in leaves}
        for expected in ('node list', 'node show', 'node create',
                         'node delete', 'node set', 'node unset',
                         'node power on', 'node power off',
                         'node power reboot', 'node power status',
                         'node boot-device set', 'node boot-device show',
                         'node maintenance set', 'node maintenance unset',
                         'node validate', 'node bios show', 'node bios set',
                         'node bios reset', 'node boot-mode set',
                         'node firmware show', 'firmware compare',
                         'node sensors', 'node boot-order show',
                         'node boot-order set', 'node inject-nmi',
                         'node bmc-reset', 'node drift', 'conductor list',
                         'driver list',
                         'node vmedia attach', 'node vmedia detach',
                         'serve', 'demo'):
            self.assertIn(expected, names)
        for path, _ in leaves:
            if path == ('serve',):
                continue  # its --help is the server's own
            status, out, _ = run_main(*path, '--help')
            self.assertEqual(0, status, path)
            self.assertIn('examples:\n  podium ' + ' '.join(path[:1]), out,
                          path)

    def test_group_without_command_prints_its_help(self) -> None:
        status, _, err = run_main('node', 'power')
        self.assertEqual(2, status)
        self.assertIn('on', err)
        self.assertIn('reboot', err)

    def test_usage_error(self) -> None:
        status, _, err = run_main('node', 'list', '-f', 'xml')
        self.assertEqual(2, status)
        self.assertIn("invalid choice: 'xml'", err)

    def test_boot_device_needs_a_device_last(self) -> None:
        status, _, err = run_main('--url', 'http://127.0.0.1:9', 'node',
                                  'boot-device', 'set', 'n1', 'floppy')
        self.assertEqual(2, status)
        self.assertIn('the last argument must be the boot device', err)

    def test_cli_errors_are_one_line(self) -> None:
        status, out, err = run_main('node', 'list', '--url', 'ftp://x')
        self.assertEqual(1, status)
        self.assertEqual('', out)
        self.assertEqual("podium: error: invalid URL 'ftp://x': it must "
                         "start with http:// or https://\n", err)


class ServeTest(base.TestCase):

    def test_split_serve(self) -> None:
        self.assertEqual(['--config-file', 'x'], serve.split_serve(
            ['serve', '--config-file', 'x']))
        self.assertEqual(['-h'], serve.split_serve(
            ['--url', 'http://x', '--debug', 'serve', '-h']))
        self.assertIsNone(serve.split_serve(['node', 'serve']))
        self.assertIsNone(serve.split_serve(['--url', 'serve']))

    def test_serve_delegates_with_remaining_arguments(self) -> None:
        calls = []
        self.useFixture(fixtures.MonkeyPatch(
            'podium.cli.commands.serve.run',
            lambda argv: calls.append(argv) or 0))
        self.assertEqual(0, main.main(['serve', '--config-file', 'a.conf']))
        self.assertEqual([['--config-file', 'a.conf']], calls)


class StartupTest(base.TestCase):

    def test_cli_start_up_imports_no_heavy_modules(self) -> None:
        code = ('import sys\n'
                'from podium.cli import main\n'
                'main.build_parser()\n'
                'heavy = ("requests", "sqlalchemy", "oslo_messaging", '
                '"oslo_config", "yaml", "prettytable", "fastapi", '
                '"podium.db", "podium.conductor", "podium.api")\n'
                'print(sorted(m for m in sys.modules '
                'if m.startswith(heavy)))\n')
        result = subprocess.run([sys.executable, '-c', code],
                                capture_output=True, text=True, timeout=60,
                                check=True)
        self.assertEqual('[]', result.stdout.strip())
