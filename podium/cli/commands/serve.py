"""``podium serve``: run the all-in-one service (API and conductor).

The server stack is imported only when this command runs, so the rest
of the CLI starts fast. Every argument after ``serve`` belongs to the
server (``podium serve --help`` shows its own help).
"""

from collections.abc import Sequence

from podium.cli.commands import common

SUMMARY = 'run the all-in-one API and conductor service'
CONNECTION_FLAGS = ('--url', '--user', '--password')


def register(subparsers: common.Subparsers) -> None:
    common.add_command(
        subparsers, 'serve', SUMMARY,
        ['podium serve', 'podium serve --config-file /etc/podium/podium.conf',
         'podium serve --help   (the server\'s own options)'],
        description=SUMMARY + '; every argument after "serve" is passed '
                              'to it')


def split_serve(argv: Sequence[str]) -> list[str] | None:
    """The server's arguments if the command is ``serve``, else None.

    ``serve`` takes arbitrary server options, which argparse cannot pass
    through untouched, so it is recognised before parsing; only the
    connection flags (which take a value) may precede it.
    """
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == 'serve':
            return list(argv[index + 1:])
        if arg in CONNECTION_FLAGS:
            index += 2
        elif arg.startswith('-'):
            index += 1
        else:
            return None
    return None


def run(argv: list[str]) -> int:
    from podium.cmd import serve

    return serve.main(argv) or 0
