"""``podium node drift``: which nodes' settings differ from the intended
ones, and the ``node set|unset --intended-...`` options.

``node drift`` is a bulk command (several nodes or ``--host-list``,
concurrency, the summary table): a node whose BMC reports a setting
other than the intended one fails, so the exit status says whether any
node drifted. The intended settings themselves are the node's
``intended_settings`` (see the intended settings page of the operator
guide); ``node set|unset`` change them by JSON patch.
"""

import argparse
from typing import Any

from podium.cli.bulk import Action, Outcome
from podium.cli.client import ApiClient, json_pointer, node_path
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import columns
from podium.cli.steps import Steps, busy_retries
from podium.cli.values import parse_key_values

BOOT_MODES = ('uefi', 'bios')
_FIELD = 'intended_settings'


def register(nodes: common.Subparsers) -> None:
    common.add_bulk_command(
        nodes, 'drift', 'show settings that differ from the intended ones',
        ['podium node drift node-1',
         'podium node drift --host-list rack-7.txt -f json'], _drift,
        description='Show, per node, the intended settings the BMC reports '
                    'otherwise (the node\'s\ndrift: power sync checks the '
                    'boot mode, a slower periodic the BIOS and the\nboot '
                    'order). A node with drift fails, so the exit status '
                    'is 1 when any\nnode drifted; a node without intended '
                    'settings succeeds.')


def add_set_options(parser: argparse.ArgumentParser) -> None:
    """``node set``: intended settings to add or change."""
    parser.add_argument('--intended-boot-mode', choices=BOOT_MODES,
                        help='the boot mode the node should keep')
    order = parser.add_mutually_exclusive_group()
    order.add_argument('--intended-boot-order', metavar='DEVICE[,DEVICE]',
                       help='the persistent boot order the node should '
                            'keep: these devices (pxe, disk, cdrom, usb, '
                            'bios or option references) first')
    order.add_argument('--intended-boot-order-mac', metavar='MAC',
                       help='the persistent boot order the node should '
                            'keep: this NIC first')
    parser.add_argument('--intended-bios', action='append', default=[],
                        metavar='NAME=VALUE',
                        help='a BIOS setting the node should keep '
                             '(repeatable; typed as --property)')


def add_unset_options(parser: argparse.ArgumentParser) -> None:
    """``node unset``: intended settings to drop."""
    parser.add_argument('--intended-boot-mode', action='store_true',
                        help='no intended boot mode')
    parser.add_argument('--intended-boot-order', action='store_true',
                        help='no intended boot order')
    parser.add_argument('--intended-bios', action='append', default=[],
                        metavar='NAME', help='no intended value for this '
                                             'BIOS setting (repeatable)')
    parser.add_argument('--intended-settings', action='store_true',
                        help='no intended settings at all')


def set_patch(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The JSON patch of ``node set``'s intended-settings options."""
    patch: list[dict[str, Any]] = []
    if args.intended_boot_mode:
        patch.append({'op': 'add', 'path': json_pointer(_FIELD,
                                                        'boot_mode'),
                      'value': args.intended_boot_mode})
    order: dict[str, Any] | None = None
    if args.intended_boot_order:
        order = {'devices': [item.strip() for item in
                             args.intended_boot_order.split(',')]}
    elif args.intended_boot_order_mac:
        order = {'mac': args.intended_boot_order_mac}
    if order is not None:
        patch.append({'op': 'add', 'path': json_pointer(_FIELD,
                                                        'boot_order'),
                      'value': order})
    values = parse_key_values(args.intended_bios, '--intended-bios', True)
    patch += [{'op': 'add', 'path': json_pointer(_FIELD, 'bios', name),
               'value': value} for name, value in values.items()]
    return patch


def unset_patch(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The JSON patch of ``node unset``'s intended-settings options."""
    if args.intended_settings:
        return [{'op': 'remove', 'path': json_pointer(_FIELD)}]
    patch: list[dict[str, Any]] = []
    if args.intended_boot_mode:
        patch.append({'op': 'remove',
                      'path': json_pointer(_FIELD, 'boot_mode')})
    if args.intended_boot_order:
        patch.append({'op': 'remove',
                      'path': json_pointer(_FIELD, 'boot_order')})
    patch += [{'op': 'remove', 'path': json_pointer(_FIELD, 'bios', name)}
              for name in args.intended_bios]
    return patch


def describe(entry: dict[str, Any]) -> str:
    """One drift entry in a line."""
    text = (f'{entry.get("setting")}: {entry.get("actual")!r}, intended '
            f'{entry.get("intended")!r} ({entry.get("state")}')
    if entry.get('attempts'):
        text += f', {entry["attempts"]} put-back(s)'
    return text + f', since {entry.get("since")})'


def drift_action(client: ApiClient) -> Action:
    """``GET`` the node: its drift, failed when there is any."""
    def action(ident: str, note: Any) -> Steps[Outcome]:
        node = yield from busy_retries(lambda: client.request(
            'GET', node_path(ident)))
        node = node or {}
        drift = node.get('drift') or []
        data = {'intended_settings': node.get(_FIELD), 'drift': drift}
        if not node.get(_FIELD):
            return Outcome(True, 'no intended settings', data)
        if not drift:
            return Outcome(True, 'as intended', data)
        return Outcome(False, '; '.join(describe(e) for e in drift), data)
    return action


def _drift(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(ctx, args, 'drift', drift_action(ctx.client),
                           columns(('Intended Settings', _FIELD)))
