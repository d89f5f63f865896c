"""``podium conductor list`` and ``podium driver list``."""

import argparse
from collections.abc import Sequence

from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import Column, add_output_options, columns

CONDUCTOR_COLUMNS = columns(('Hostname', 'hostname'),
                            ('Conductor Group', 'conductor_group'),
                            ('Alive', 'alive'))
CONDUCTOR_LONG = CONDUCTOR_COLUMNS + columns(
    ('Drivers', 'drivers'), ('Created At', 'created_at'),
    ('Updated At', 'updated_at'))
DRIVER_COLUMNS = columns(('Supported driver(s)', 'name'),
                         ('Active host(s)', 'hosts'))
DRIVER_LONG = DRIVER_COLUMNS + columns(
    ('Type', 'type'),
    ('Default Power Interface', 'default_power_interface'),
    ('Enabled Power Interfaces', 'enabled_power_interfaces'),
    ('Default Management Interface', 'default_management_interface'),
    ('Enabled Management Interfaces', 'enabled_management_interfaces'),
    ('Default Inspect Interface', 'default_inspect_interface'),
    ('Enabled Inspect Interfaces', 'enabled_inspect_interfaces'))


def register(subparsers: common.Subparsers) -> None:
    group = common.add_group(subparsers, 'conductor', 'conductor services')
    parser = common.add_command(
        group, 'list', 'list conductors and whether they are alive',
        ['podium conductor list', 'podium conductor list --long -f yaml'],
        _conductor_list)
    parser.add_argument('--long', action='store_true',
                        help='also show drivers and timestamps')
    add_output_options(parser)

    group = common.add_group(subparsers, 'driver', 'hardware types')
    parser = common.add_command(
        group, 'list', 'list enabled drivers and the hosts serving them',
        ['podium driver list', 'podium driver list --long -f json'],
        _driver_list)
    parser.add_argument('--long', action='store_true',
                        help='also show the interfaces')
    add_output_options(parser)


def _list(ctx: Context, args: argparse.Namespace, path: str, key: str,
          short: Sequence[Column], long: Sequence[Column]) -> int:
    params = {'detail': 'True'} if args.long or args.columns else None
    rows = list(ctx.client.paginate(path, key, params))
    ctx.printer.print_list(rows, long if args.long else short,
                           long)
    return 0


def _conductor_list(args: argparse.Namespace, ctx: Context) -> int:
    return _list(ctx, args, '/v1/conductors', 'conductors',
                 CONDUCTOR_COLUMNS, CONDUCTOR_LONG)


def _driver_list(args: argparse.Namespace, ctx: Context) -> int:
    return _list(ctx, args, '/v1/drivers', 'drivers', DRIVER_COLUMNS,
                 DRIVER_LONG)
