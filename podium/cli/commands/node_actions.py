"""Bulk node actions: power, boot device, maintenance, validate.

Every one takes several nodes and ``--host-list``, runs concurrently and
ends with the summary table; the exit status is 1 when any node failed.
"""

import argparse

from podium.cli import actions
from podium.cli.batch import BatchSpec
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import Column, columns

BOOT_DEVICES = ('pxe', 'disk', 'cdrom', 'bios', 'safe', 'usb')
_HOSTS = 'node-1 node-2'


def register(nodes: common.Subparsers) -> None:
    _register_power(nodes)
    _register_boot_device(nodes)
    _register_maintenance(nodes)
    common.add_bulk_command(
        nodes, 'validate', 'check that nodes can be managed',
        ['podium node validate node-1',
         'podium node validate --host-list new-rack.txt -f json'],
        _validate)


# power

_POWER = {
    'on': ('power on', None),
    'off': ('power off', 'soft power off'),
    'reboot': ('rebooting', 'soft rebooting'),
}


def _register_power(nodes: common.Subparsers) -> None:
    power = common.add_group(nodes, 'power', 'power nodes on or off')
    for name, (target, soft) in _POWER.items():
        parser = common.add_command(
            power, name, f'request {target}',
            [f'podium node power {name} {_HOSTS}',
             f'podium node power {name} --host-list rack-7.txt --wait',
             f'podium node power {name} --host-list - --wait --timeout 120'
             f' < hosts.txt'], _power)
        parser.set_defaults(power_target=target, soft_target=soft)
        if soft:
            parser.add_argument('--soft', action='store_true',
                                help='ask the OS to shut down gracefully')
        common.add_bulk_options(parser, wait=True)
    common.add_bulk_command(
        power, 'status', 'show the power state of nodes',
        [f'podium node power status {_HOSTS}',
         'podium node power status --host-list rack-7.txt -f value '
         '-c host -c "power state"'], _power_status)


def _power(args: argparse.Namespace, ctx: Context) -> int:
    target = args.soft_target if getattr(args, 'soft', False) \
        else args.power_target
    action = actions.power(ctx.client, target, args.wait, args.timeout)
    extra = columns(('Power State', 'power_state')) if args.wait else ()
    expected = actions.POWER_RESULT[target]
    batch = BatchSpec(
        'power', {'target': target}, wait=args.wait,
        success=f'reached {expected}', started=f'{target} requested',
        column='power_state' if args.wait else None, expected=expected)
    return common.run_bulk(ctx, args, target, action, extra, batch)


def _power_status(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(
        ctx, args, 'power status', actions.power_status(ctx.client),
        columns(('Power State', 'power_state'),
                ('Target Power State', 'target_power_state')))


# boot device

def _register_boot_device(nodes: common.Subparsers) -> None:
    boot = common.add_group(nodes, 'boot-device',
                            'set or show the boot device')
    parser = common.add_command(
        boot, 'set', 'set the boot device',
        ['podium node boot-device set node-1 pxe',
         f'podium node boot-device set {_HOSTS} disk --persistent',
         'podium node boot-device set --host-list rack-7.txt pxe'],
        _boot_set,
        description='Set the boot device. The last positional argument is '
                    'the device (' + ', '.join(BOOT_DEVICES) + '); the '
                    'ones before it are nodes.')
    parser.add_argument('--persistent', action='store_true',
                        help='keep the device for every boot, not just '
                             'the next one')
    common.add_bulk_options(parser)
    parser.set_defaults(usage_error=parser.error)
    common.add_bulk_command(
        boot, 'show', 'show the boot device',
        [f'podium node boot-device show {_HOSTS}'], _boot_show)


def _boot_set(args: argparse.Namespace, ctx: Context) -> int:
    device = common.pop_choice(args, BOOT_DEVICES, 'boot device')
    kind = 'persistent' if args.persistent else 'next boot only'
    batch = BatchSpec('boot_device', {'boot_device': device,
                                      'persistent': args.persistent},
                      wait=True,
                      success=f'boot device set to {device} ({kind})')
    return common.run_bulk(
        ctx, args, f'boot device {device}',
        actions.boot_device_set(ctx.client, device, args.persistent),
        batch=batch)


def _boot_show(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(
        ctx, args, 'boot device', actions.boot_device_show(ctx.client),
        columns(('Boot Device', 'boot_device'),
                ('Persistent', 'persistent')))


# maintenance

def _register_maintenance(nodes: common.Subparsers) -> None:
    group = common.add_group(nodes, 'maintenance',
                             'take nodes out of automation, or back')
    parser = common.add_command(
        group, 'set', 'put nodes into maintenance',
        [f'podium node maintenance set {_HOSTS} --reason "DIMM swap"'],
        _maintenance_set)
    parser.add_argument('--reason', help='why (shown as '
                                         'maintenance_reason)')
    common.add_bulk_options(parser)
    common.add_bulk_command(
        group, 'unset', 'take nodes out of maintenance',
        [f'podium node maintenance unset {_HOSTS}'], _maintenance_unset)


def _maintenance_set(args: argparse.Namespace, ctx: Context) -> int:
    batch = BatchSpec('maintenance', {'enabled': True, 'reason': args.reason},
                      wait=True, success='maintenance set')
    return common.run_bulk(ctx, args, 'maintenance set',
                           actions.maintenance(ctx.client, True,
                                               args.reason), batch=batch)


def _maintenance_unset(args: argparse.Namespace, ctx: Context) -> int:
    batch = BatchSpec('maintenance', {'enabled': False}, wait=True,
                      success='maintenance unset')
    return common.run_bulk(ctx, args, 'maintenance unset',
                           actions.maintenance(ctx.client, False),
                           batch=batch)


# validate

#: The interfaces a Podium node has (see podium.drivers.base).
_INTERFACES = ('power', 'management', 'inspect', 'bios')


def _validate(args: argparse.Namespace, ctx: Context) -> int:
    extra = [Column(name.capitalize(), name) for name in _INTERFACES]
    return common.run_bulk(ctx, args, 'validate',
                           actions.validate(ctx.client), extra)
