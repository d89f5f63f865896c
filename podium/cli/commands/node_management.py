"""Bulk management commands: ``node boot-order show|set``,
``node inject-nmi`` and ``node bmc-reset``.

Like every bulk command they take several nodes or ``--host-list``, run
concurrently and end with the summary table; the exit status is 1 when
any node failed (for ``boot-order set --check``, also when a node's
order is not the one asked for).
"""

import argparse

from podium.cli import hardware_actions
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.errors import CliError
from podium.cli.output import columns

_HOSTS = 'node-1 node-2'


def register(nodes: common.Subparsers) -> None:
    _register_boot_order(nodes)
    common.add_bulk_command(
        nodes, 'inject-nmi', 'send nodes a non-maskable interrupt',
        ['podium node inject-nmi node-1',
         'podium node inject-nmi --host-list hung.txt'], _inject_nmi,
        description='Send each node a non-maskable interrupt (Redfish: '
                    'the Nmi reset type;\nIPMI: a chassis diagnostic '
                    'interrupt), so a hung operating system\ndumps its '
                    'state. Each node answers once its BMC took it.')
    common.add_bulk_command(
        nodes, 'bmc-reset', 'restart the BMCs of nodes',
        ['podium node bmc-reset node-1',
         'podium node bmc-reset --host-list wedged.txt --concurrency 4'],
        _bmc_reset,
        description='Restart each node\'s BMC (Redfish Manager.Reset, IPMI '
                    '"mc reset cold"); the\nBMC may not answer for a while '
                    'afterwards. A node with an action in\nflight (locked, '
                    'or with a target power or provision state) fails\n'
                    'without its BMC being contacted.')


def _register_boot_order(nodes: common.Subparsers) -> None:
    group = common.add_group(nodes, 'boot-order',
                             'show, set or check the persistent boot order')
    common.add_bulk_command(
        group, 'show', 'show the persistent boot order',
        ['podium node boot-order show node-1 -f yaml',
         'podium node boot-order show --host-list rack-7.txt'],
        _show,
        description='Show each node\'s persistent boot order as its BMC '
                    'lists it: boot option\nreference, device kind and, '
                    'for a NIC, its MAC, first first. On IPMI\nthe order '
                    'is the persistent boot device alone.')
    parser = common.add_command(
        group, 'set', 'set (or --check) the persistent boot order',
        [f'podium node boot-order set {_HOSTS} --device pxe,disk',
         'podium node boot-order set node-1 --mac 52:54:00:12:34:56',
         'podium node boot-order set --host-list rack-7.txt --device pxe '
         '--check'],
        _set,
        description='Put boot options first: --device names device kinds '
                    '(pxe, disk, cdrom,\nusb, bios) or boot option '
                    'references in order (every option of a kind,\nin '
                    'their current order); --mac puts that NIC\'s option '
                    'first. The rest\nkeep their order. A device or MAC a '
                    'node\'s BMC does not list fails\nthat node before '
                    'anything changes. With --check nothing changes: a\n'
                    'node whose order is not already the one asked for '
                    'fails. IPMI sets\none persistent boot device only.')
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument('--device', metavar='DEVICE[,DEVICE...]',
                       help='device kinds or boot option references, '
                            'first first')
    which.add_argument('--mac', help='the MAC of the NIC to boot first')
    parser.add_argument('--check', action='store_true',
                        help='change nothing: fail each node whose order '
                             'is not already the one asked for')
    common.add_bulk_options(parser)


def _show(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(ctx, args, 'boot order show',
                           hardware_actions.boot_order_show(ctx.client),
                           columns(('Boot Order', 'boot_order')))


def _set(args: argparse.Namespace, ctx: Context) -> int:
    if args.mac is not None:
        request: dict[str, object] = {'mac': args.mac}
        label = f'boot order {args.mac} first'
    else:
        devices = [item.strip() for item in args.device.split(',')
                   if item.strip()]
        if not devices:
            raise CliError('--device needs at least one device')
        request = {'devices': devices}
        label = f'boot order {",".join(devices)} first'
    if args.check:
        return common.run_bulk(
            ctx, args, f'check {label}',
            hardware_actions.boot_order_check(ctx.client, request),
            columns(('Boot Order', 'boot_order'), ('Expected', 'expected')))
    return common.run_bulk(
        ctx, args, label,
        hardware_actions.boot_order_set(ctx.client, request),
        columns(('Boot Order', 'boot_order')))


def _inject_nmi(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(ctx, args, 'inject NMI',
                           hardware_actions.inject_nmi(ctx.client))


def _bmc_reset(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(ctx, args, 'BMC reset',
                           hardware_actions.bmc_reset(ctx.client))
