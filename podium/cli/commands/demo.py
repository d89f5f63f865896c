"""``podium demo``: a guided tour on a throw-away service."""

import argparse

from podium.cli.commands import common
from podium.cli.context import Context


def register(subparsers: common.Subparsers) -> None:
    parser = common.add_command(
        subparsers, 'demo',
        'start a throw-away Podium with simulated BMCs and tour it',
        ['podium demo', 'podium demo --keep-running',
         'podium demo --nodes 20'],
        _demo, connection=False,
        description='Start the all-in-one service on a free loopback port '
                    'with a temporary state directory and simulated '
                    'Redfish BMCs (a few slow, one hung), enroll and verify '
                    'them, and narrate power sync, a bulk power-on, an '
                    'out-of-band '
                    'change and how a hung BMC is contained. Nothing '
                    'outside a temporary directory is touched.')
    parser.add_argument('--nodes', type=common.positive_int, default=8,
                        metavar='N', help='simulated BMCs (default: '
                                          '%(default)s, at least 4)')
    parser.add_argument('--keep-running', action='store_true',
                        help='leave the service up after the tour, until '
                             'Ctrl-C')


def _demo(args: argparse.Namespace, ctx: Context) -> int:
    from podium.cli import demo

    return demo.run(nodes=args.nodes, keep_running=args.keep_running,
                    stream=ctx.stdout)
