"""What every command shares: help on every option, one name rule,
``--version``, completion, and checks made before any connection."""

import argparse
import shutil
import subprocess

from podium.cli import main
from podium.cli.commands import completion
from podium.cli.targets import NO_NODES
from podium.common import names
from podium.tests import base
from podium.tests.unit.cli import fake_api
from podium.tests.unit.cli.test_main import leaf_parsers, run_main

#: Nothing listens on the discard port: a command that connects fails.
NOWHERE = 'http://127.0.0.1:9'


def all_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                ) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += all_parsers(sub, path + (name,))
    return found


class HelpTest(base.TestCase):

    def test_every_option_of_every_command_has_help(self) -> None:
        missing = []
        for path, parser in all_parsers(main.build_parser()):
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    continue
                if not action.help or action.help == argparse.SUPPRESS:
                    flag = '/'.join(action.option_strings) or action.dest
                    missing.append(f'podium {" ".join(path)} {flag}')
        self.assertEqual([], missing, 'options without help text (give '
                                      'add_argument a help=...)')

    def test_demo_help_shows_only_what_the_demo_uses(self) -> None:
        status, out, _ = run_main('demo', '--help')
        self.assertEqual(0, status)
        for option in ('--nodes', '--keep-running'):
            self.assertIn(option, out)
        for option in ('--url', '--user', '--password'):
            self.assertNotIn(option, out)

    def test_version(self) -> None:
        status, out, _ = run_main('--version')
        self.assertEqual(0, status)
        self.assertRegex(out, r'^podium \d+\.\d+')


class CompletionTest(base.TestCase):

    def test_bash_script_knows_every_command_and_is_valid(self) -> None:
        text = completion.script('bash')
        for path, _ in leaf_parsers(main.build_parser()):
            self.assertIn(path[-1], text)
        self.assertIn('--host-list', text)
        result = subprocess.run(['bash', '-n'], input=text, text=True,
                                capture_output=True, timeout=30,
                                check=False)
        self.assertEqual(0, result.returncode, result.stderr)

    def test_bash_completes_commands_and_options(self) -> None:
        # What a user gets on <Tab>: bash loads the script and runs the
        # completion function it registered for "podium".
        probe = (
            'source /dev/stdin\n'
            'fn=$(complete -p podium | sed -E "s/.*-F ([^ ]+).*/\\1/")\n'
            'complete_words() { COMP_WORDS=("$@"); '
            'COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; '
            'COMP_POINT=${#COMP_LINE}; COMPREPLY=(); $fn; '
            'echo "${COMPREPLY[*]}"; }\n'
            'complete_words podium node li\n'
            'complete_words podium node list --provision-\n'
            'complete_words podium completion z\n')
        result = subprocess.run(['bash', '-c', probe],
                                input=completion.script('bash'), text=True,
                                capture_output=True, timeout=30,
                                check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual(['list', '--provision-state', 'zsh'],
                         [line.strip() for line in
                          result.stdout.splitlines()])

    def test_zsh_script_defines_the_completion(self) -> None:
        status, out, _ = run_main('completion', 'zsh')
        self.assertEqual(0, status)
        self.assertIn('#compdef podium', out)
        self.assertIn('--host-list', out)

    def test_zsh_accepts_the_script(self) -> None:
        zsh = shutil.which('zsh')
        if zsh is None:
            self.skipTest('zsh is not installed: only the script text is '
                          'checked')
        _, out, _ = run_main('completion', 'zsh')
        result = subprocess.run([zsh, '-n'], input=out, text=True,
                                capture_output=True, timeout=30,
                                check=False)
        self.assertEqual(0, result.returncode, result.stderr)

    def test_unknown_shell_is_a_usage_error(self) -> None:
        status, _, err = run_main('completion', 'fish')
        self.assertEqual(2, status)
        self.assertIn("invalid choice: 'fish'", err)


class BeforeConnectingTest(base.TestCase):
    """Mistakes found in the command line never wait on a server."""

    def test_no_nodes_given_is_said_before_connecting(self) -> None:
        for command in (('node', 'power', 'on'), ('node', 'delete'),
                        ('node', 'validate'), ('node', 'show')):
            status, _, err = run_main('--url', NOWHERE, *command)
            self.assertEqual(1, status, command)
            self.assertEqual(f'podium: error: {NO_NODES}\n', err)

    def test_invalid_name_is_refused_in_the_api_wording(self) -> None:
        for command in (('node', 'create', '--driver', 'fake-hardware',
                         '--name', 'bad name'),
                        ('node', 'set', 'n1', '--name', 'bad name')):
            status, _, err = run_main('--url', NOWHERE, *command)
            self.assertEqual(1, status)
            self.assertEqual(
                f'podium: error: {names.name_problem("bad name")}\n', err)


class NamesTest(base.TestCase):

    def test_rule(self) -> None:
        for good in ('node-1', 'rack7.u12', 'a_b~c', 'x' * 255):
            self.assertIsNone(names.name_problem(good), good)
        self.assertEqual('"a b" is not a valid node name: use 1 to 255 '
                         'letters, digits and . _ ~ -',
                         names.name_problem('a b'))
        self.assertIsNotNone(names.name_problem(''))
        self.assertIsNotNone(names.name_problem('x' * 256))
        self.assertEqual(
            '"1be26c0b-03f2-4d2e-ae87-c02d7f33c123" is not a valid node '
            'name: it looks like a UUID',
            names.name_problem('1be26c0b-03f2-4d2e-ae87-c02d7f33c123'))


class NodeListTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.api = self.useFixture(fake_api.FakeApi())
        self.nodes = [
            {'uuid': 'u1', 'name': 'a', 'conductor': 'c1'},
            {'uuid': 'u2', 'name': 'b', 'conductor': 'c2'},
            {'uuid': 'u3', 'name': 'c', 'conductor': 'c1'},
        ]
        for path in ('/v1/nodes', '/v1/nodes/detail'):
            self.api.routes[('GET', path)] = lambda req: fake_api.json_reply(
                200, {'nodes': self.nodes})

    def _list(self, *args: str) -> tuple[int, str, dict[str, str]]:
        status, out, err = run_main('--url', self.api.url, 'node', 'list',
                                    '-f', 'value', '-c', 'name', *args)
        self.assertEqual(0, status, err)
        return status, out, self.api.api_requests()[0].query

    def test_sorted_by_name_by_default(self) -> None:
        _, _, query = self._list()
        self.assertEqual({'sort_key': 'name', 'sort_dir': 'asc'},
                         {k: query[k] for k in ('sort_key', 'sort_dir')})

    def test_sort_and_filters_are_sent(self) -> None:
        _, _, query = self._list('--sort', 'updated_at:desc', '--fault',
                                 'power failure', '--maintenance',
                                 '--provision-state', 'manageable')
        self.assertEqual('updated_at', query['sort_key'])
        self.assertEqual('desc', query['sort_dir'])
        self.assertEqual('power failure', query['fault'])
        self.assertEqual('True', query['maintenance'])
        self.assertEqual('manageable', query['provision_state'])

    def test_bad_sort_is_a_usage_error(self) -> None:
        for spec in ('colour', 'name:up'):
            status, _, err = run_main('--url', NOWHERE, 'node', 'list',
                                      '--sort', spec)
            self.assertEqual(2, status)
            self.assertIn('--sort', err)

    def test_conductor_filter(self) -> None:
        _, out, _ = self._list('--conductor', 'c1')
        self.assertEqual('a\nc\n', out)
        _, out, _ = self._list('--conductor', 'c1', '--limit', '1')
        self.assertEqual('a\n', out)


class PowerRejectedTest(base.TestCase):

    def test_rejected_without_wait_is_failed(self) -> None:
        api = self.useFixture(fake_api.FakeApi())
        api.routes[('PUT', '/v1/nodes/n1/states/power')] = \
            lambda req: fake_api.ironic_error(
                400, 'Node n1: power state soft power off is not supported')
        status, out, _ = run_main('--url', api.url, 'node', 'power', 'off',
                                  '--soft', 'n1', '-f', 'value')
        self.assertEqual(1, status)
        self.assertIn('FAILED', out)
        self.assertIn('not supported', out)
        self.assertNotIn('SUCCESSFUL', out)
