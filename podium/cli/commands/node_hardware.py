"""Bulk hardware commands: ``node bios show|set|reset``,
``node boot-mode set`` and ``node vmedia attach|detach``.

Like every bulk command they take several nodes or ``--host-list``, run
concurrently and end with the summary table; the exit status is 1 when
any node failed.
"""

import argparse

from podium.cli import hardware_actions
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.errors import CliError
from podium.cli.output import Column, columns
from podium.cli.values import parse_key_values
from podium.common import exceptions, vmedia

BOOT_MODES = ('uefi', 'bios')
_HOSTS = 'node-1 node-2'


def register(nodes: common.Subparsers) -> None:
    _register_bios(nodes)
    boot_mode = common.add_group(nodes, 'boot-mode',
                                 'set the boot mode (uefi or bios)')
    parser = common.add_bulk_command(
        boot_mode, 'set', 'set the boot mode',
        ['podium node boot-mode set node-1 uefi',
         'podium node boot-mode set --host-list rack-7.txt bios'],
        _boot_mode_set,
        description='Set the boot mode. The last positional argument is '
                    'the mode\n(' + ', '.join(BOOT_MODES) + '); the ones '
                    'before it are nodes. Each node answers\nonce its BMC '
                    'reports the new mode.')
    parser.set_defaults(usage_error=parser.error)
    _register_vmedia(nodes)


def _register_vmedia(nodes: common.Subparsers) -> None:
    group = common.add_group(nodes, 'vmedia', 'attach or detach virtual '
                                              'media')
    device_types = (*vmedia.DEVICE_TYPES, *vmedia.ALIASES)
    parser = common.add_command(
        group, 'attach', 'insert an image into a virtual media device',
        ['podium node vmedia attach node-1 --image-url '
         'http://images.example.com/rescue.iso',
         'podium node vmedia attach --host-list rack-7.txt --device-type '
         'disk --image-url https://images.example.com/fw.img'],
        _vmedia_attach,
        description='Insert the image at --image-url (http or https: the '
                    'BMC fetches it)\ninto each node\'s virtual media '
                    'device. Each node answers once its\nBMC took the '
                    'image; a device holding another image fails the\n'
                    'node (detach it first).')
    parser.add_argument('--image-url', required=True, metavar='URL',
                        help='the image, an http or https URL')
    parser.add_argument('--device-type', default=vmedia.CDROM,
                        choices=device_types,
                        help='the device (default cdrom; cd and usb are '
                             'Podium\'s names for cdrom and disk)')
    common.add_bulk_options(parser)
    parser = common.add_command(
        group, 'detach', 'eject virtual media',
        ['podium node vmedia detach node-1 node-2',
         'podium node vmedia detach --host-list rack-7.txt --device-type '
         'cdrom'], _vmedia_detach,
        description='Eject the images of every virtual media device of '
                    'each node, or of\nthe --device-type ones.')
    parser.add_argument('--device-type', action='append', default=[],
                        choices=device_types,
                        help='eject only this device (repeatable)')
    common.add_bulk_options(parser)


def _register_bios(nodes: common.Subparsers) -> None:
    bios = common.add_group(nodes, 'bios', 'show, change or reset BIOS '
                                           'settings')
    parser = common.add_command(
        bios, 'show', 'show the cached BIOS settings',
        ['podium node bios show node-1 -f yaml',
         'podium node bios show --host-list rack-7.txt --name '
         'ProcTurboMode --name BootMode'], _bios_show,
        description='Show the BIOS settings the conductor cached at the '
                    'last inspection,\ncleaning or BIOS change. With '
                    '--name, one column per setting,\nto compare nodes.')
    parser.add_argument('--name', action='append', default=[],
                        metavar='SETTING',
                        help='show this setting in a column of its own '
                             '(repeatable); a node without it fails')
    common.add_bulk_options(parser)
    parser = common.add_command(
        bios, 'set', 'apply BIOS settings (manual cleaning)',
        [f'podium node bios set {_HOSTS} --setting ProcTurboMode=Disabled '
         '--wait',
         'podium node bios set --host-list rack-7.txt --setting '
         'NumaNodesPerSocket=2 --setting LogicalProc=Disabled --wait'],
        _bios_set,
        description='Apply BIOS settings to manageable nodes by manual '
                    'cleaning with the\nbios.apply_configuration step. '
                    'Settings are checked against each\nnode\'s cached '
                    'registry first: an unknown setting or a value it\n'
                    'does not allow fails that node before its BMC is '
                    'contacted. Values\nare typed as in "node set" '
                    '(2 is a number, true a boolean).')
    parser.add_argument('--setting', action='append', default=[],
                        metavar='NAME=VALUE', required=True,
                        help='a setting to apply (repeatable)')
    common.add_bulk_options(parser, wait=True)
    common.add_bulk_command(
        bios, 'reset', 'reset the BIOS to its defaults (manual cleaning)',
        [f'podium node bios reset {_HOSTS} --wait'], _bios_reset,
        description='Reset the BIOS settings of manageable nodes to their '
                    'defaults by manual\ncleaning with the '
                    'bios.factory_reset step.', wait=True)


def _state_columns(args: argparse.Namespace) -> tuple[Column, ...]:
    return columns(('Provision State', 'provision_state')) \
        if args.wait else ()


def _bios_show(args: argparse.Namespace, ctx: Context) -> int:
    extra = tuple(Column(name, name) for name in args.name) or \
        columns(('BIOS Settings', 'bios'))
    return common.run_bulk(ctx, args, 'bios show',
                           hardware_actions.bios_show(ctx.client, args.name),
                           extra)


def _bios_set(args: argparse.Namespace, ctx: Context) -> int:
    settings = parse_key_values(args.setting, '--setting', typed=True)
    if not settings:
        raise CliError('--setting NAME=VALUE is required')
    action = hardware_actions.bios_apply(ctx.client, settings, args.wait,
                                         args.timeout)
    return common.run_bulk(ctx, args, 'bios set', action,
                           _state_columns(args))


def _bios_reset(args: argparse.Namespace, ctx: Context) -> int:
    action = hardware_actions.bios_reset(ctx.client, args.wait,
                                         args.timeout)
    return common.run_bulk(ctx, args, 'bios reset', action,
                           _state_columns(args))


def _boot_mode_set(args: argparse.Namespace, ctx: Context) -> int:
    mode = common.pop_choice(args, BOOT_MODES, 'boot mode')
    return common.run_bulk(
        ctx, args, f'boot mode {mode}',
        hardware_actions.boot_mode_set(ctx.client, mode),
        columns(('Boot Mode', 'boot_mode')))


def _vmedia_attach(args: argparse.Namespace, ctx: Context) -> int:
    try:
        url = vmedia.check_image_url(args.image_url, '--image-url')
    except exceptions.InvalidParameterValue as exc:
        raise CliError(str(exc)) from None
    device_type = vmedia.device_type(args.device_type)
    return common.run_bulk(
        ctx, args, f'vmedia attach {device_type}',
        hardware_actions.vmedia_attach(ctx.client, device_type, url),
        columns(('Device Type', 'device_type'), ('Image', 'image')))


def _vmedia_detach(args: argparse.Namespace, ctx: Context) -> int:
    device_types = vmedia.device_types(args.device_type)
    return common.run_bulk(
        ctx, args, 'vmedia detach',
        hardware_actions.vmedia_detach(ctx.client, device_types),
        columns(('Device Type', 'device_type')))
