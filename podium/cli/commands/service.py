"""``podium conductor list|show`` and ``podium driver list``."""

import argparse
import urllib.parse
from collections.abc import Sequence
from typing import Any

from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import Column, add_output_options, columns

CONDUCTOR_COLUMNS = columns(('Hostname', 'hostname'),
                            ('Conductor Group', 'conductor_group'),
                            ('Alive', 'alive'), ('Nodes', 'node_count'),
                            ('Last Heartbeat', 'last_heartbeat'))
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
    ('Enabled Inspect Interfaces', 'enabled_inspect_interfaces'),
    ('Default Bios Interface', 'default_bios_interface'),
    ('Enabled Bios Interfaces', 'enabled_bios_interfaces'))


def register(subparsers: common.Subparsers) -> None:
    group = common.add_group(subparsers, 'conductor', 'conductor services')
    parser = common.add_command(
        group, 'list', 'list conductors and whether they are alive',
        ['podium conductor list', 'podium conductor list --long -f yaml'],
        _conductor_list)
    parser.add_argument('--long', action='store_true',
                        help='also show drivers and timestamps')
    add_output_options(parser)
    parser = common.add_command(
        group, 'show', 'show one conductor: alive, group, drivers, the '
        'nodes it manages and its last heartbeat',
        ['podium conductor show conductor-1',
         'podium conductor show conductor-1 -c alive -c node_count'],
        _conductor_show)
    parser.add_argument('hostname', help='host name of the conductor')
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
    unserved: set[str] = set()

    def note_unserved(page: dict[str, Any]) -> None:
        unserved.update(page.get('unserved_conductor_groups') or ())

    # Node counts are detail fields; the summary shows them too.
    rows = list(ctx.client.paginate('/v1/conductors', 'conductors',
                                    {'detail': 'True'},
                                    on_page=note_unserved))
    ctx.printer.print_list(rows, CONDUCTOR_LONG if args.long
                           else CONDUCTOR_COLUMNS, CONDUCTOR_LONG)
    if unserved:
        names = ', '.join(f'"{group}"' if group else '"" (the default '
                          'group)' for group in sorted(unserved))
        ctx.stderr.write(f'warning: no alive conductor serves conductor '
                         f'group(s) {names}: their nodes are not '
                         f'managed\n')
    return 0


def _conductor_show(args: argparse.Namespace, ctx: Context) -> int:
    path = '/v1/conductors/' + urllib.parse.quote(args.hostname, safe='')
    ctx.printer.print_record(ctx.client.request('GET', path))
    return 0


def _driver_list(args: argparse.Namespace, ctx: Context) -> int:
    return _list(ctx, args, '/v1/drivers', 'drivers', DRIVER_COLUMNS,
                 DRIVER_LONG)
