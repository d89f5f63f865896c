"""``podium node list|show|create|delete|set|unset``: the node records."""

import argparse
import itertools
from typing import Any

from podium.cli import actions, enroll, provision_actions
from podium.cli.bulk import BulkRunner, any_failed, summary_columns
from podium.cli.client import json_pointer, node_path
from podium.cli.commands import common, node_drift
from podium.cli.context import Context
from podium.cli.errors import CliError
from podium.cli.output import Column, add_output_options, columns
from podium.cli.progress import make_reporter
from podium.cli.steps import busy_retries, run_sync
from podium.cli.targets import Target, looks_like_address
from podium.cli.values import parse_key_values
from podium.common import names

LIST_COLUMNS = columns(
    ('UUID', 'uuid'), ('Name', 'name'), ('Power State', 'power_state'),
    ('Provisioning State', 'provision_state'),
    ('Maintenance', 'maintenance'))
LONG_COLUMNS = LIST_COLUMNS + columns(
    ('Driver', 'driver'), ('Target Power State', 'target_power_state'),
    ('Maintenance Reason', 'maintenance_reason'), ('Fault', 'fault'),
    ('Last Error', 'last_error'), ('Conductor Group', 'conductor_group'),
    ('Resource Class', 'resource_class'))
#: Fields a node may be listed or selected by beyond the long columns.
NODE_FIELDS = ('description', 'driver_info', 'properties', 'extra',
               'owner', 'conductor', 'created_at', 'updated_at',
               'power_interface', 'management_interface',
               'inspect_interface', 'target_provision_state',
               'instance_uuid')
#: What ``--sort`` accepts: the API's sort keys.
SORT_KEYS = ('name', 'uuid', 'driver', 'power_state', 'provision_state',
             'maintenance', 'conductor_group', 'created_at', 'updated_at')
# Scalar root attributes ``set``/``unset`` may change.
_SETTABLE = ('name', 'description', 'driver', 'resource_class',
             'conductor_group', 'owner')
_FIELD_HELP = {
    'name': 'unique node name: letters, digits and . _ ~ -',
    'description': 'free-form description',
    'driver': 'hardware type (see "podium driver list")',
    'resource_class': 'resource class, for a scheduler',
    'conductor_group': 'conductor group the node is pinned to',
    'owner': 'owner of the node (a project or team)',
}
# Dict attributes, their option and whether values are typed (values.py).
_DICTS = (('driver_info', '--driver-info', False),
          ('properties', '--property', True),
          ('extra', '--extra', True))


def register(subparsers: common.Subparsers) -> common.Subparsers:
    nodes = common.add_group(subparsers, 'node', 'manage nodes')
    _register_list(nodes)
    _register_show(nodes)
    _register_create(nodes)
    common.add_bulk_command(
        nodes, 'delete', 'delete nodes',
        ['podium node delete node-1 node-2',
         'podium node delete --host-list retired.txt'], _delete)
    _register_set(nodes)
    _register_unset(nodes)
    return nodes


# list

def _register_list(nodes: common.Subparsers) -> None:
    parser = common.add_command(
        nodes, 'list', 'list nodes',
        ['podium node list',
         'podium node list --long --maintenance',
         'podium node list --fault "power failure"',
         'podium node list --provision-state manageable --sort '
         'updated_at:desc',
         'podium node list --conductor conductor-2 -c name -f value',
         'podium node list -c name -c power_state -f value',
         'podium node list --driver redfish -f json'], _list,
        description='List nodes, sorted by name unless --sort says '
                    'otherwise. The filters combine: a node is shown '
                    'when it matches every one given.')
    parser.add_argument('--long', action='store_true',
                        help='show more columns')
    state = parser.add_mutually_exclusive_group()
    state.add_argument('--maintenance', action='store_true', default=None,
                       help='only nodes in maintenance')
    state.add_argument('--no-maintenance', action='store_false',
                       dest='maintenance',
                       help='only nodes not in maintenance')
    parser.add_argument('--fault', metavar='FAULT',
                        help='only nodes with this fault (for example '
                             '"power failure")')
    parser.add_argument('--driver', help='only nodes with this driver')
    parser.add_argument('--provision-state', metavar='STATE',
                        help='only nodes in this provision state')
    parser.add_argument('--conductor', metavar='HOST',
                        help='only nodes managed by the conductor with '
                             'this host name (matched by the CLI on the '
                             'listing, as the API has no such filter)')
    parser.add_argument('--sort', type=_sort_spec, default=('name', 'asc'),
                        metavar='KEY[:asc|desc]',
                        help='sort by this node field, ascending unless '
                             '":desc" follows (default: name); keys: '
                             + ', '.join(SORT_KEYS))
    parser.add_argument('--limit', type=int, default=0, metavar='N',
                        help='show at most N nodes (default: all)')
    parser.add_argument('--marker', metavar='UUID',
                        help='start after the node with this UUID')
    add_output_options(parser)


def _sort_spec(text: str) -> tuple[str, str]:
    key, _, direction = text.partition(':')
    direction = direction or 'asc'
    if key not in SORT_KEYS:
        raise argparse.ArgumentTypeError(
            f'cannot sort by {key!r}; keys: {", ".join(SORT_KEYS)}')
    if direction not in ('asc', 'desc'):
        raise argparse.ArgumentTypeError(
            f'sort direction must be asc or desc, got {direction!r}')
    return key, direction


def _list(args: argparse.Namespace, ctx: Context) -> int:
    params: dict[str, Any] = {'sort_key': args.sort[0],
                              'sort_dir': args.sort[1]}
    if args.maintenance is not None:
        params['maintenance'] = str(args.maintenance)
    for key in ('fault', 'driver', 'provision_state', 'marker'):
        if getattr(args, key):
            params[key] = getattr(args, key)
    # The managing conductor is known to the API's listing, not to its
    # filters, so --conductor reads the detailed listing and keeps the
    # matching rows; --limit then counts the rows kept.
    detail = args.long or bool(args.columns) or bool(args.conductor)
    path = '/v1/nodes/detail' if detail else '/v1/nodes'
    limit = max(args.limit, 0)
    listing = ctx.client.paginate(path, 'nodes', params,
                                  limit=0 if args.conductor else limit)
    if args.conductor:
        listing = (n for n in listing if n.get('conductor') == args.conductor)
        listing = itertools.islice(listing, limit or None)
    nodes = list(listing)
    ctx.printer.print_list(nodes, LONG_COLUMNS if args.long else
                           LIST_COLUMNS, LONG_COLUMNS + NODE_FIELDS)
    return 0


# show

def _register_show(nodes: common.Subparsers) -> None:
    common.add_bulk_command(
        nodes, 'show', 'show nodes',
        ['podium node show node-1',
         'podium node show node-1 -c power_state -c last_error',
         'podium node show node-1 node-2 -f json',
         'podium node show --host-list rack-7.txt -c name -c fault'],
        _show)


def _show(args: argparse.Namespace, ctx: Context) -> int:
    if len(args.nodes) == 1 and args.host_list is None and \
            not looks_like_address(args.nodes[0]):
        node = run_sync(actions.show(ctx.client)(args.nodes[0],
                                                 lambda _: None)).data
        ctx.printer.print_record(node)
        return 0
    extra = list(LIST_COLUMNS)
    if args.columns:
        # Any node field may be picked, next to the summary columns.
        extra += LONG_COLUMNS[len(LIST_COLUMNS):]
        extra += [Column(key, key) for key in NODE_FIELDS]
    return common.run_bulk(ctx, args, 'show', actions.show(ctx.client),
                           extra)


# create

def _register_create(nodes: common.Subparsers) -> None:
    parser = common.add_command(
        nodes, 'create', 'enroll one node, or many from a file',
        ['podium node create --driver fake-hardware --name n1',
         'podium node create --driver redfish --name r1 \\\n'
         '      --driver-info redfish_address=https://10.0.0.5 \\\n'
         '      --driver-info redfish_username=admin \\\n'
         '      --driver-info redfish_password=secret '
         '--property cpus=32',
         'podium node create --from-file nodes.yaml --manage',
         'podium node create --from-file nodes.csv --provide '
         '--concurrency 64',
         '',
         'nodes.yaml:   - name: r1',
         '                driver: redfish',
         '                driver_info: {redfish_address: '
         'https://10.0.0.5}',
         'nodes.csv:    name,driver,driver_info/redfish_address,'
         'properties/cpus',
         '              r1,redfish,https://10.0.0.5,32'], _create)
    parser.add_argument('--from-file', metavar='FILE',
                        help='enroll every node of a YAML or CSV file; '
                             'every row is checked before any is created')
    parser.add_argument('--driver', help='hardware type (required without '
                                         '--from-file)')
    parser.add_argument('--uuid', help='UUID of the new node (default: '
                                       'one is generated)')
    for field in _SETTABLE:
        if field != 'driver':
            parser.add_argument('--' + field.replace('_', '-'),
                                help=_FIELD_HELP[field])
    _add_dict_options(parser, 'KEY=VALUE', 'set')
    parser.add_argument('--concurrency', type=common.positive_int,
                        default=common.DEFAULT_CONCURRENCY, metavar='N',
                        help='with --from-file, nodes created at the same '
                             'time (default: %(default)s)')
    after = parser.add_mutually_exclusive_group()
    after.add_argument('--manage', action='store_true',
                       help='then verify each node\'s BMC credentials and '
                            'wait until it is manageable: power sync '
                            'leaves nodes in enroll alone')
    after.add_argument('--provide', action='store_true',
                       help='as --manage, then clean each node and wait '
                            'until it is available')
    parser.add_argument('--timeout', type=common.positive_float,
                        default=common.DEFAULT_WAIT_TIMEOUT,
                        metavar='SECONDS',
                        help='with --manage or --provide, give up on a '
                             'node after this long per step (default: '
                             '%(default)g)')
    add_output_options(parser)


def _after_create(args: argparse.Namespace) -> list[str]:
    """The provision targets ``--manage``/``--provide`` ask for."""
    if args.provide:
        return ['manage', 'provide']
    return ['manage'] if args.manage else []


def _add_dict_options(parser: argparse.ArgumentParser, metavar: str,
                      verb: str) -> None:
    for field, option, _ in _DICTS:
        parser.add_argument(
            option, action='append', default=[],
            dest=field, metavar=metavar,
            help=f'{verb} this {field} key (repeatable)')


def _create(args: argparse.Namespace, ctx: Context) -> int:
    if args.from_file:
        given = [f for f in ('driver', 'uuid') + _SETTABLE
                 if getattr(args, f, None)] + \
                [f for f, _, _ in _DICTS if getattr(args, f)]
        if given:
            raise CliError('--from-file cannot be combined with '
                           + ', '.join('--' + f.replace('_', '-')
                                       for f in given))
        return _create_from_file(args, ctx)
    if not args.driver:
        raise CliError('--driver is required (or use --from-file)')
    _check_name(args.name)
    body: dict[str, Any] = {f: getattr(args, f, None)
                            for f in ('driver', 'uuid') + _SETTABLE
                            if getattr(args, f, None)}
    for field, option, typed in _DICTS:
        values = parse_key_values(getattr(args, field), option, typed)
        if values:
            body[field] = values
    node = run_sync(busy_retries(lambda: ctx.client.request(
        'POST', '/v1/nodes', body=body), statuses=(503,)))
    node = dict(node or {})
    node_uuid = node.get('uuid', '')
    for target in _after_create(args):
        outcome = run_sync(provision_actions.provision(
            ctx.client, target, True, args.timeout)(node_uuid,
                                                    lambda _: None))
        if not outcome.ok:
            raise CliError(f'node {node_uuid} was created, but {target} '
                           f'failed: {outcome.reason}')
        node = dict(run_sync(busy_retries(lambda: ctx.client.request(
            'GET', node_path(node_uuid)))) or {})
    node.pop('links', None)
    ctx.printer.print_record(node)
    return 0


def _create_from_file(args: argparse.Namespace, ctx: Context) -> int:
    rows = enroll.read_rows(args.from_file)
    if not rows:
        raise CliError(f'{args.from_file} holds no nodes')
    drivers = [d['name'] for d in ctx.client.paginate('/v1/drivers',
                                                      'drivers')]
    existing = list(ctx.client.paginate('/v1/nodes', 'nodes',
                                        {'fields': 'uuid,name'}))
    problems = enroll.check_rows(
        rows, drivers,
        names=[n['name'] for n in existing if n.get('name')],
        uuids=[n['uuid'] for n in existing])
    if problems:
        raise enroll.EnrollmentError(args.from_file, problems)
    bodies = [row.body for row in rows]
    targets = [Target(row.label, str(i)) for i, row in enumerate(rows)]
    action = actions.create(ctx.client, bodies)
    if _after_create(args):
        action = provision_actions.enroll(ctx.client, action,
                                          _after_create(args), args.timeout)
    runner = BulkRunner('create', action,
                        make_reporter(ctx.stderr, 'create'),
                        args.concurrency)
    results = runner.run(targets)
    ctx.printer.print_list([r.row() for r in results],
                           summary_columns([Column('UUID', 'uuid')]))
    return 1 if any_failed(results) else 0


# delete

def _delete(args: argparse.Namespace, ctx: Context) -> int:
    return common.run_bulk(ctx, args, 'delete', actions.delete(ctx.client))


# set / unset

def _register_set(nodes: common.Subparsers) -> None:
    parser = common.add_command(
        nodes, 'set', 'change fields of a node',
        ['podium node set node-1 --name rack7-u12',
         'podium node set node-1 --driver-info redfish_password=new '
         '--property cpus=64',
         'podium node set node-1 --extra owner_team=storage',
         'podium node set node-1 --intended-boot-mode uefi '
         '--intended-bios ProcTurboMode=Enabled'], _set)
    parser.add_argument('node', metavar='NODE', help='node name or UUID')
    for field in _SETTABLE:
        parser.add_argument('--' + field.replace('_', '-'),
                            help=_FIELD_HELP[field])
    _add_dict_options(parser, 'KEY=VALUE', 'set')
    node_drift.add_set_options(parser)


def _register_unset(nodes: common.Subparsers) -> None:
    parser = common.add_command(
        nodes, 'unset', 'remove fields of a node',
        ['podium node unset node-1 --description',
         'podium node unset node-1 --property cpus --extra owner_team',
         'podium node unset node-1 --intended-bios ProcTurboMode'],
        _unset)
    parser.add_argument('node', metavar='NODE', help='node name or UUID')
    for field in _SETTABLE:
        if field not in ('name', 'driver'):
            parser.add_argument('--' + field.replace('_', '-'),
                                action='store_true',
                                help=f'reset {field}')
    _add_dict_options(parser, 'KEY', 'remove')
    node_drift.add_unset_options(parser)


def _check_name(name: str | None) -> None:
    """Refuse a bad name before connecting, in the API's own words."""
    problem = names.name_problem(name) if name is not None else None
    if problem:
        raise CliError(problem)


def _set(args: argparse.Namespace, ctx: Context) -> int:
    _check_name(args.name)
    patch = [{'op': 'add', 'path': json_pointer(f),
              'value': getattr(args, f)}
             for f in _SETTABLE if getattr(args, f) is not None]
    for field, option, typed in _DICTS:
        values = parse_key_values(getattr(args, field), option, typed)
        patch += [{'op': 'add', 'path': json_pointer(field, k), 'value': v}
                  for k, v in values.items()]
    patch += node_drift.set_patch(args)
    return _patch(ctx, args.node, patch)


def _unset(args: argparse.Namespace, ctx: Context) -> int:
    patch = [{'op': 'remove', 'path': json_pointer(f)}
             for f in _SETTABLE if getattr(args, f, False)]
    for field, _, _ in _DICTS:
        patch += [{'op': 'remove', 'path': json_pointer(field, k)}
                  for k in getattr(args, field)]
    patch += node_drift.unset_patch(args)
    return _patch(ctx, args.node, patch)


def _patch(ctx: Context, node: str, patch: list[dict[str, Any]]) -> int:
    if not patch:
        raise CliError('nothing to change: give at least one option')
    run_sync(busy_retries(lambda: ctx.client.request(
        'PATCH', node_path(node), body=patch)))
    return 0
