"""``podium node history NODE [EVENT]``: what happened to a node."""

import argparse

from podium.cli.client import node_path
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.output import add_output_options, columns

LIST_COLUMNS = columns(('Created At', 'created_at'), ('Severity', 'severity'),
                       ('Event', 'event'))
LONG_COLUMNS = columns(
    ('UUID', 'uuid'), ('Created At', 'created_at'), ('Severity', 'severity'),
    ('Event Type', 'event_type'), ('Event', 'event'),
    ('Conductor', 'conductor'), ('User', 'user'), ('State', 'state'),
    ('Target Provision State', 'target_provision_state'))


def register(nodes: common.Subparsers) -> None:
    parser = common.add_command(
        nodes, 'history', 'show the history of a node, or one event',
        ['podium node history node-1',
         'podium node history node-1 --long --limit 20',
         'podium node history node-1 EVENT_UUID -f json'], _history)
    parser.add_argument('node', metavar='NODE', help='node name or UUID')
    parser.add_argument('event', nargs='?', metavar='EVENT',
                        help='show only this event (its UUID)')
    parser.add_argument('--long', action='store_true',
                        help='show who and what caused each event')
    parser.add_argument('--limit', type=int, default=0, metavar='N',
                        help='show the newest N events (default: all)')
    add_output_options(parser)


def _history(args: argparse.Namespace, ctx: Context) -> int:
    if args.event:
        entry = dict(ctx.client.request(
            'GET', node_path(args.node, 'history', args.event)) or {})
        entry.pop('links', None)
        ctx.printer.print_record(entry)
        return 0
    params = {'sort_dir': 'desc'} if args.limit > 0 else {}
    if args.long or args.columns:
        params['detail'] = 'True'
    events = list(ctx.client.paginate(node_path(args.node, 'history'),
                                      'history', params,
                                      limit=max(args.limit, 0)))
    if args.limit > 0:
        events.reverse()  # the newest N, shown oldest first
    ctx.printer.print_list(events, LONG_COLUMNS if args.long else
                           LIST_COLUMNS, LONG_COLUMNS)
    return 0
