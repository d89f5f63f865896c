"""Pieces every command module uses: parser helpers and the bulk flow.

Connection options (``--url``, ``--user``, ``--password``) are accepted
both before the command (``podium --url X node list``) and after it
(``podium node list --url X``); the copies on the subcommands default to
"not given" so they never hide a value given before the command.
"""

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from podium.cli import output
from podium.cli.batch import BatchRun, BatchSpec, server_offers_batches
from podium.cli.bulk import (
    DEFAULT_CONCURRENCY,
    Action,
    BulkRunner,
    Result,
    any_failed,
    summary_columns,
)
from podium.cli.context import Context
from podium.cli.output import Column
from podium.cli.progress import make_reporter
from podium.cli.targets import (
    LISTING_FIELDS,
    gather_entries,
    resolve_targets,
)

Handler = Callable[[argparse.Namespace, Context], int]
Subparsers = Any  # argparse's _SubParsersAction is private

DEFAULT_WAIT_TIMEOUT = 300.0

BULK_NOTE = (
    'The nodes are handled concurrently. Progress goes to stderr (a bar on '
    'a\nterminal, "node: message" lines otherwise); a summary with one row '
    'per\nnode goes to stdout. Nodes the server reports busy (HTTP 409/503) '
    'are\nretried with back-off. The exit status is 1 when any node '
    'failed.')

_HOST_LIST_HELP = (
    'file with one node name, UUID or BMC address (redfish_address or '
    'ipmi_address) per line; "#" starts a comment, blank lines are '
    'ignored; "-" reads standard input')


def add_connection_options(parser: argparse.ArgumentParser,
                           top_level: bool) -> None:
    default = None if top_level else argparse.SUPPRESS
    group = parser.add_argument_group('connection')
    group.add_argument('--url', default=default,
                       help='Podium API endpoint (env PODIUM_URL; default '
                            'http://127.0.0.1:6385)')
    group.add_argument('--user', default=default,
                       help='HTTP basic user (env PODIUM_USER)')
    group.add_argument('--password', default=default,
                       help='HTTP basic password (env PODIUM_PASSWORD)')
    group.add_argument('--cacert', default=default, metavar='FILE',
                       help='CA certificate bundle that verifies an '
                            'https:// endpoint (env PODIUM_CACERT)')
    group.add_argument('--insecure', action='store_true', default=default,
                       help='do not verify the endpoint\'s TLS certificate '
                            '(env PODIUM_INSECURE=1)')


def add_command(subparsers: Subparsers, name: str, summary: str,
                examples: Sequence[str], handler: Handler | None = None,
                description: str | None = None,
                connection: bool = True) -> argparse.ArgumentParser:
    """A subcommand with an examples epilog and, when it has a handler
    that talks to a server (``connection``), the connection options."""
    epilog = 'examples:\n' + '\n'.join(f'  {e}' for e in examples) \
        if examples else None
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=summary, description=description or summary,
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    if handler is not None:
        if connection:
            add_connection_options(parser, top_level=False)
        parser.set_defaults(func=handler)
    return parser


def add_group(subparsers: Subparsers, name: str, summary: str,
              examples: Sequence[str] = ()) -> Subparsers:
    """A command group (``node``, ``power``...) and its subcommands."""
    parser = add_command(subparsers, name, summary, examples)
    parser.set_defaults(func=None, group_parser=parser)
    return parser.add_subparsers(title='commands', metavar='COMMAND')


def add_bulk_options(parser: argparse.ArgumentParser,
                     wait: bool = False) -> None:
    """Nodes, ``--host-list``, ``--concurrency`` (and ``--wait``), -f/-c."""
    parser.epilog = BULK_NOTE + '\n\n' + (parser.epilog or '')
    parser.add_argument('nodes', nargs='*', metavar='NODE',
                        help='node name or UUID (several allowed)')
    group = parser.add_argument_group('bulk')
    group.add_argument('--host-list', metavar='FILE', help=_HOST_LIST_HELP)
    group.add_argument('--concurrency', type=positive_int,
                       default=DEFAULT_CONCURRENCY, metavar='N',
                       help='nodes acted on at the same time (default: '
                            '%(default)s)')
    if wait:
        group.add_argument('--wait', action='store_true',
                           help='wait until each node reached the target '
                                'state')
        group.add_argument('--timeout', type=positive_float,
                           default=DEFAULT_WAIT_TIMEOUT, metavar='SECONDS',
                           help='with --wait, give up on a node after '
                                'this long (default: %(default)g)')
    output.add_output_options(parser)


def add_bulk_command(subparsers: Subparsers, name: str, summary: str,
                     examples: Sequence[str], handler: Handler,
                     description: str | None = None,
                     wait: bool = False) -> argparse.ArgumentParser:
    """A bulk subcommand with no options of its own: :func:`add_command`
    then :func:`add_bulk_options`. One with options adds them between
    the two, so that its help lists them before the bulk ones."""
    parser = add_command(subparsers, name, summary, examples, handler,
                         description)
    add_bulk_options(parser, wait)
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {text}')
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be positive, got {text}')
    return value


def pop_choice(args: argparse.Namespace, choices: Sequence[str],
               what: str) -> str:
    """The last of ``args.nodes``, which must be one of ``choices`` (the
    value of commands like ``boot-device set NODE... DEVICE``); exits
    with a usage error naming them otherwise."""
    if not args.nodes or args.nodes[-1] not in choices:
        args.usage_error(f'the last argument must be the {what}, one of: '
                         + ', '.join(choices))
    return str(args.nodes.pop())


def list_for_matching(ctx: Context) -> list[dict[str, Any]]:
    """The one node listing host-list entries are matched against."""
    return list(ctx.client.paginate(
        '/v1/nodes', 'nodes', {'fields': ','.join(LISTING_FIELDS)}))


def run_action(ctx: Context, args: argparse.Namespace, label: str,
               action: Action, batch: BatchSpec | None = None
               ) -> list[Result]:
    """Resolve the targets and run ``action`` on them; one result each.

    With a ``batch``, a server that offers batches gets the whole
    command as batches (:mod:`podium.cli.batch`); others get ``action``
    node by node. The version probe runs first so a server that is
    down or a wrong URL is one error line, not one FAILED row per node.
    """
    entries = gather_entries(args.nodes, args.host_list)
    ctx.client.api_version()
    targets = resolve_targets(entries, args.host_list,
                              lambda: list_for_matching(ctx))
    reporter = make_reporter(ctx.stderr, label)
    if batch is not None and server_offers_batches(ctx.client):
        timeout = args.timeout if getattr(args, 'wait', False) else None
        return BatchRun(ctx.client, label, batch, reporter,
                        args.concurrency, timeout).run(
            targets, lambda: list(ctx.client.paginate(
                '/v1/nodes', 'nodes', {'fields': 'uuid,name'})))
    return BulkRunner(label, action, reporter, args.concurrency).run(targets)


def run_bulk(ctx: Context, args: argparse.Namespace, label: str,
             action: Action, extra_columns: Sequence[Column] = (),
             batch: BatchSpec | None = None) -> int:
    """:func:`run_action`, then print the summary; the exit status."""
    results = run_action(ctx, args, label, action, batch)
    ctx.printer.print_list([r.row() for r in results],
                           summary_columns(extra_columns))
    return 1 if any_failed(results) else 0
