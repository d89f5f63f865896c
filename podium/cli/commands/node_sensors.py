"""``podium node sensors``: power, temperature, fan and voltage readings
of many nodes at once.

A bulk command like the others: several nodes or ``--host-list``, run
concurrently, a summary table, exit status 1 when any node failed.
"""

import argparse

from podium.cli import sensor_actions
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import Column, columns
from podium.drivers import sensor_readings as sr


def register(nodes: common.Subparsers) -> None:
    parser = common.add_command(
        nodes, 'sensors', 'read power, temperature, fan and voltage '
                          'sensors',
        ['podium node sensors node-1 node-2',
         'podium node sensors --host-list rack-7.txt --name "CPU1 Temp" '
         '--name "Inlet Temp"',
         'podium node sensors node-1 --kind temperature --long -f yaml'],
        _sensors,
        description='Read the sensors of nodes through their conductors, '
                    'which read each BMC\nat most once per [conductor] '
                    'sensor_cache_seconds and serve the\nreadings from '
                    'their cache meanwhile. The summary shows the power '
                    'draw,\nthe hottest temperature and the sensors at or '
                    'past a critical\nthreshold; --name adds a column per '
                    'sensor (a node without it\nfails), --long every '
                    'reading.')
    parser.add_argument('--kind', action='append', default=[],
                        choices=sr.KINDS,
                        help='only sensors of this kind (repeatable)')
    parser.add_argument('--name', action='append', default=[],
                        metavar='SENSOR',
                        help='show this sensor\'s reading in a column of '
                             'its own (repeatable)')
    parser.add_argument('--long', action='store_true',
                        help='add a column with every reading (name, '
                             'kind, reading, units, health, thresholds)')
    common.add_bulk_options(parser)


def _sensors(args: argparse.Namespace, ctx: Context) -> int:
    extra: tuple[Column, ...] = columns(
        ('Power (W)', 'power_watts'), ('Max Temp (Cel)', 'max_temperature'),
        ('Critical', 'critical'))
    extra += tuple(Column(name, name) for name in args.name)
    if args.long:
        extra += columns(('Sensors', 'sensors'))
    return common.run_bulk(
        ctx, args, 'sensors',
        sensor_actions.sensors_show(ctx.client, args.kind, args.name),
        extra)
