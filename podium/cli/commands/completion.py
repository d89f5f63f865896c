"""``podium completion bash|zsh``: a shell completion script.

The script is generated from the CLI's own parser (by shtab), so it
knows every command and option this version has; nothing to keep in
step by hand.
"""

import argparse

from podium.cli.commands import common
from podium.cli.context import Context

SHELLS = ('bash', 'zsh')


def register(subparsers: common.Subparsers) -> None:
    parser = common.add_command(
        subparsers, 'completion', 'print a shell completion script',
        ['podium completion bash > /etc/bash_completion.d/podium',
         'source <(podium completion bash)         (this shell only)',
         'podium completion zsh > "${fpath[1]}/_podium"'],
        _completion, connection=False,
        description='Print a completion script for bash or zsh, '
                    'generated from this version\'s commands and '
                    'options.')
    parser.add_argument('shell', choices=SHELLS,
                        help='the shell to complete in: '
                             + ' or '.join(SHELLS))


def script(shell: str) -> str:
    """The completion script of ``podium`` for ``shell``."""
    import shtab

    from podium.cli import main

    return str(shtab.complete(main.build_parser(), shell=shell))


def _completion(args: argparse.Namespace, ctx: Context) -> int:
    text = script(args.shell)
    ctx.stdout.write(text if text.endswith('\n') else text + '\n')
    return 0
