"""``.. podium-cli-reference::`` and ``.. podium-service-reference::``.

Both print the commands' own ``--help``, taken from the parsers the
commands use, so the reference cannot drift from the code: a command or
option added to the CLI is documented at the next build.
"""

import argparse
import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

#: Help is wrapped for this terminal width.
WIDTH = '79'


@contextlib.contextmanager
def _columns() -> Iterator[None]:
    saved = os.environ.get('COLUMNS')
    os.environ['COLUMNS'] = WIDTH
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop('COLUMNS', None)
        else:
            os.environ['COLUMNS'] = saved


def _subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...]
                 ) -> Iterator[tuple[tuple[str, ...],
                                     argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, path + (name,))


def _literal(title: str, text: str, underline: str) -> list[str]:
    lines = [title, underline * len(title), '', '.. code-block:: text', '']
    lines += [f'   {line}'.rstrip() for line in text.splitlines()]
    return lines + ['']


def cli_lines() -> list[str]:
    """Every ``podium`` command and group, with its help."""
    from podium.cli import main

    lines: list[str] = []
    with _columns():
        for path, parser in _subcommands(main.build_parser(), ()):
            title = ' '.join(('podium',) + path)
            lines += _literal(title, parser.format_help(), '-')
    return lines


def _service_help(command: Any) -> str:
    from oslo_config import cfg
    from oslo_log import log

    from podium.cmd import dbsync
    from podium.common import command_line

    conf = cfg.ConfigOpts()
    log.register_options(conf)
    command_line.register(conf, command)
    if command is command_line.DBSYNC:
        conf.register_cli_opt(dbsync._command_opt)
    out = io.StringIO()
    with _columns(), contextlib.redirect_stdout(out):
        try:
            command_line.parse(conf, ['--help'], command)
        except SystemExit:
            pass
    return out.getvalue()


def service_lines() -> list[str]:
    """The service commands (oslo.config parsers) with their help."""
    from podium.common import command_line

    lines: list[str] = []
    for command in command_line.COMMANDS:
        lines += _literal(command.prog, _service_help(command), '-')
    return lines


class _Generated(SphinxDirective):
    def generate(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(
            self.generate(), source=self.name), node)
        return node.children


class CliReference(_Generated):
    def generate(self) -> list[str]:
        return cli_lines()


class ServiceReference(_Generated):
    def generate(self) -> list[str]:
        return service_lines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive('podium-cli-reference', CliReference)
    app.add_directive('podium-service-reference', ServiceReference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
