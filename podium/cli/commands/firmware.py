"""Firmware commands: ``node firmware show`` (bulk) and ``firmware
compare``, a table of components by hosts with the versions that
differ from the rest marked.

Both read what the last inspection of each node recorded
(``GET /v1/nodes/{node}/firmware``).
"""

import argparse
import collections
from collections.abc import Sequence
from typing import Any

from podium.cli import hardware_actions
from podium.cli.bulk import Result, any_failed
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import Column, columns

#: Appended to a version that differs from the most common one.
DIFFERS = ' *'


def register_node(nodes: common.Subparsers) -> None:
    group = common.add_group(nodes, 'firmware',
                             'show firmware versions')
    common.add_bulk_command(
        group, 'show', 'show the firmware versions of nodes',
        ['podium node firmware show node-1 node-2 -f yaml'],
        _show)


def register(subparsers: common.Subparsers) -> None:
    group = common.add_group(subparsers, 'firmware',
                             'compare firmware across nodes')
    common.add_bulk_command(
        group, 'compare', 'compare firmware versions across nodes',
        ['podium firmware compare --host-list rack-7.txt',
         'podium firmware compare node-1 node-2 -f json'], _compare,
        description='One row per component, one column per node; a '
                    'version that differs from\nthe most common one of '
                    'its row is marked with "*", and the "Differs"\n'
                    'column says whether the row has any. Nodes whose '
                    'versions cannot be read\nare listed on stderr; the '
                    'exit status is then 1.')


def _show(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(ctx, args, 'firmware show',
                           hardware_actions.firmware_show(ctx.client),
                           columns(('Firmware', 'firmware')))


def comparison(results: Sequence[Result]
               ) -> tuple[list[dict[str, Any]], list[Column]]:
    """The rows and columns of the comparison of the nodes that
    answered."""
    hosts = [r.host for r in results if r.ok]
    by_component: dict[str, dict[str, Any]] = collections.defaultdict(dict)
    for result in results:
        if result.ok:
            for component, version in result.data['firmware'].items():
                by_component[component][result.host] = version
    rows = []
    for component in sorted(by_component):
        versions = by_component[component]
        common_version, _count = collections.Counter(
            versions.get(host) for host in hosts).most_common(1)[0]
        row: dict[str, Any] = {'component': component, 'differs': False}
        for host in hosts:
            version = versions.get(host)
            if version != common_version:
                row['differs'] = True
                row[host] = f'{version or "-"}{DIFFERS}'
            else:
                row[host] = version
        rows.append(row)
    cols = [Column('Component', 'component'),
            *(Column(host, host) for host in hosts),
            Column('Differs', 'differs')]
    return rows, cols


def _compare(args: argparse.Namespace, ctx: Context) -> int:
    results = common.run_action(ctx, args, 'firmware compare',
                                hardware_actions.firmware_show(ctx.client))
    for result in results:
        if not result.ok:
            ctx.stderr.write(f'{result.host}: {result.reason}\n')
    rows, cols = comparison(results)
    ctx.printer.print_list(rows, cols)
    return 1 if any_failed(results) else 0
