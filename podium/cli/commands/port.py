"""``podium port list|show|create|delete``: the network ports of nodes.

``create --from-file`` reads a YAML or JSON list of ports (``address``
and ``node`` each, plus any port field), checks the whole file first
(a MAC twice in the file is refused before anything is created) and
then creates the ports concurrently with the usual summary table.
"""

import argparse
import urllib.parse
from typing import Any

from podium.cli import enroll
from podium.cli.bulk import BulkRunner, Outcome, any_failed, summary_columns
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.errors import CliError
from podium.cli.output import Column, add_output_options, columns
from podium.cli.progress import make_reporter
from podium.cli.steps import Steps, busy_retries, run_sync
from podium.cli.targets import Target
from podium.cli.values import parse_key_values

LIST_COLUMNS = columns(('UUID', 'uuid'), ('Address', 'address'))
LONG_COLUMNS = LIST_COLUMNS + columns(
    ('Node UUID', 'node_uuid'), ('Name', 'name'),
    ('PXE Enabled', 'pxe_enabled'), ('Physical Network', 'physical_network'),
    ('Local Link Connection', 'local_link_connection'), ('Extra', 'extra'))
#: Fields of a port a file row may set (``node`` names the node).
FILE_FIELDS = ('address', 'node', 'name', 'description', 'pxe_enabled',
               'physical_network', 'local_link_connection', 'extra',
               'is_smartnic', 'vendor', 'category', 'uuid')


def port_path(ident: str) -> str:
    return '/v1/ports/' + urllib.parse.quote(ident, safe='')


def register(subparsers: common.Subparsers) -> None:
    ports = common.add_group(subparsers, 'port', 'manage the network ports '
                                                 'of nodes')
    parser = common.add_command(
        ports, 'list', 'list ports',
        ['podium port list', 'podium port list --node node-1 --long',
         'podium port list --address 52:54:00:12:34:56 -f json'], _list)
    parser.add_argument('--node', help='only the ports of this node')
    parser.add_argument('--address', help='only the port with this MAC')
    parser.add_argument('--long', action='store_true',
                        help='show more columns')
    parser.add_argument('--limit', type=int, default=0, metavar='N',
                        help='show at most N ports (default: all)')
    add_output_options(parser)

    parser = common.add_command(
        ports, 'show', 'show a port',
        ['podium port show 52c3b5e4-8b8e-4bd8-a2e7-3b4a2c7a0a11',
         'podium port show eth0 -f json'], _show)
    parser.add_argument('port', metavar='PORT', help='port UUID or name')
    add_output_options(parser)

    _register_create(ports)

    parser = common.add_command(
        ports, 'delete', 'delete ports',
        ['podium port delete PORT_UUID [PORT_UUID ...]'], _delete)
    parser.add_argument('ports', nargs='+', metavar='PORT',
                        help='port UUID or name (several allowed)')
    parser.add_argument('--concurrency', type=common.positive_int,
                        default=common.DEFAULT_CONCURRENCY, metavar='N',
                        help='ports deleted at the same time (default: '
                             '%(default)s)')
    add_output_options(parser)


def _register_create(ports: common.Subparsers) -> None:
    parser = common.add_command(
        ports, 'create', 'create a port, or many from a file',
        ['podium port create 52:54:00:12:34:56 --node node-1',
         'podium port create 52:54:00:12:34:57 --node node-1 --name eth1 \\',
         '      --no-pxe --physical-network physnet1 \\',
         '      --local-link-connection switch_id=0a:1b:2c:3d:4e:5f \\',
         '      --local-link-connection port_id=Ethernet1/7',
         'podium port create --from-file ports.yaml',
         '',
         'ports.yaml:   - {address: "52:54:00:12:34:56", node: node-1}',
         '              - {address: "52:54:00:12:34:57", node: node-2,',
         '                 pxe_enabled: false}'], _create)
    parser.add_argument('address', nargs='?', metavar='MAC',
                        help='the MAC address (without --from-file)')
    parser.add_argument('--node', help='node name or UUID the port '
                                       'belongs to')
    parser.add_argument('--from-file', metavar='FILE',
                        help='create every port of a YAML or JSON list')
    parser.add_argument('--uuid', help='UUID of the new port (default: '
                        'generated)')
    parser.add_argument('--name', help='name of the port (letters, digits '
                        'and . _ ~ -)')
    parser.add_argument('--description', help='free-text description')
    parser.add_argument('--physical-network', help='physical network the '
                        'port is attached to')
    pxe = parser.add_mutually_exclusive_group()
    pxe.add_argument('--pxe', dest='pxe_enabled', action='store_true',
                     default=None, help='the node may PXE boot from this '
                                        'port (the default)')
    pxe.add_argument('--no-pxe', dest='pxe_enabled', action='store_false',
                     help='the node must not PXE boot from this port')
    parser.add_argument('--local-link-connection', action='append',
                        default=[], metavar='KEY=VALUE',
                        help='switch_id, port_id, switch_info, hostname, '
                             'network_type (repeatable)')
    parser.add_argument('--extra', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='set this extra key (repeatable)')
    parser.add_argument('--concurrency', type=common.positive_int,
                        default=common.DEFAULT_CONCURRENCY, metavar='N',
                        help='with --from-file, ports created at the same '
                             'time (default: %(default)s)')
    add_output_options(parser)


def _list(args: argparse.Namespace, ctx: Context) -> int:
    params = {key: getattr(args, key) for key in ('node', 'address')
              if getattr(args, key)}
    path = '/v1/ports/detail' if args.long or args.columns else '/v1/ports'
    ports = list(ctx.client.paginate(path, 'ports', params,
                                     limit=max(args.limit, 0)))
    ctx.printer.print_list(ports, LONG_COLUMNS if args.long else
                           LIST_COLUMNS, LONG_COLUMNS)
    return 0


def _show(args: argparse.Namespace, ctx: Context) -> int:
    port = dict(ctx.client.request('GET', port_path(args.port)) or {})
    port.pop('links', None)
    ctx.printer.print_record(port)
    return 0


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """A ``POST /v1/ports`` body: ``node`` sent as ``node_ident``."""
    body = {key: value for key, value in values.items() if key != 'node'}
    body['node_ident'] = values['node']
    return body


def _create(args: argparse.Namespace, ctx: Context) -> int:
    if args.from_file:
        if args.address or args.node:
            raise CliError('--from-file cannot be combined with a MAC or '
                           '--node')
        return _create_from_file(args, ctx)
    if not args.address or not args.node:
        raise CliError('a MAC address and --node are required (or use '
                       '--from-file)')
    values: dict[str, Any] = {
        key: getattr(args, key)
        for key in ('address', 'node', 'uuid', 'name', 'description',
                    'physical_network', 'pxe_enabled')
        if getattr(args, key) is not None}
    link = parse_key_values(args.local_link_connection,
                            '--local-link-connection', False)
    if link:
        values['local_link_connection'] = link
    extra = parse_key_values(args.extra, '--extra', True)
    if extra:
        values['extra'] = extra
    port = run_sync(busy_retries(lambda: ctx.client.request(
        'POST', '/v1/ports', body=_body(values)), statuses=(503,)))
    port = dict(port or {})
    port.pop('links', None)
    ctx.printer.print_record(port)
    return 0


def _file_problems(rows: list[enroll.Row]) -> list[enroll.Problem]:
    """What is wrong with the rows of a port file, every row checked."""
    problems: list[enroll.Problem] = []
    first_seen: dict[str, int] = {}
    for row in rows:
        problems.extend(row.problems)
        for field in ('address', 'node'):
            if not isinstance(row.body.get(field), str) or \
                    not row.body[field]:
                problems.append(enroll.Problem(row.number, field,
                                               'is required'))
        problems.extend(enroll.Problem(row.number, field, 'unknown field')
                        for field in row.body if field not in FILE_FIELDS)
        address = row.body.get('address')
        if isinstance(address, str):
            key = address.lower()
            if key in first_seen:
                problems.append(enroll.Problem(
                    row.number, 'address',
                    f'{address} repeats row {first_seen[key]}'))
            first_seen.setdefault(key, row.number)
    return problems


def _create_from_file(args: argparse.Namespace, ctx: Context) -> int:
    path = args.from_file
    if not path.lower().endswith(enroll.YAML_EXTENSIONS):
        raise CliError(f'{path}: port files are YAML or JSON (.yaml, .yml '
                       f'or .json)')
    try:
        with open(path, encoding='utf-8') as handle:
            rows = enroll.yaml_rows(handle.read(), path, kind='ports')
    except OSError as exc:
        raise CliError(f'cannot read {path}: {exc.strerror}') from None
    if not rows:
        raise CliError(f'{path} holds no ports')
    problems = _file_problems(rows)
    if problems:
        raise enroll.EnrollmentError(path, problems)
    bodies = [_body(row.body) for row in rows]
    ctx.client.api_version()

    def action(ident: str, _note: Any) -> Steps[Outcome]:
        port = yield from busy_retries(
            lambda: ctx.client.request('POST', '/v1/ports',
                                       body=bodies[int(ident)]),
            statuses=(503,))
        return Outcome(True, 'created', {'uuid': (port or {}).get('uuid')})

    targets = [Target(str(row.body['address']), str(i))
               for i, row in enumerate(rows)]
    runner = BulkRunner('create', action,
                        make_reporter(ctx.stderr, 'create'), args.concurrency)
    results = runner.run(targets)
    ctx.printer.print_list([r.row() for r in results],
                           summary_columns([Column('UUID', 'uuid')]))
    return 1 if any_failed(results) else 0


def _delete(args: argparse.Namespace, ctx: Context) -> int:
    ctx.client.api_version()

    def action(ident: str, _note: Any) -> Steps[Outcome]:
        yield from busy_retries(
            lambda: ctx.client.request('DELETE', port_path(ident)))
        return Outcome(True, 'deleted')

    runner = BulkRunner('delete', action,
                        make_reporter(ctx.stderr, 'delete'), args.concurrency)
    results = runner.run([Target(p, p) for p in args.ports])
    ctx.printer.print_list([r.row() for r in results], summary_columns())
    return 1 if any_failed(results) else 0
