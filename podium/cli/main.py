"""``podium``: the operator command line.

Builds the argparse tree from the command modules, runs the chosen
handler and turns every expected failure into one ``podium: error:``
line and exit status 1 (2 for usage errors, as argparse does). Start-up
stays fast because nothing here imports ``requests``, YAML, the table
library or any server code; handlers import what they need.
"""

import argparse
import sys
from collections.abc import Sequence

from podium.cli.commands import (
    common,
    completion,
    demo,
    firmware,
    node,
    node_actions,
    node_drift,
    node_hardware,
    node_history,
    node_management,
    node_sensors,
    port,
    provision,
    serve,
    service,
)
from podium.cli.context import Context
from podium.cli.errors import CliError

EXAMPLES = """\
examples:
  podium demo                                  guided tour on a throw-away \
service
  podium node list
  podium node create --from-file nodes.yaml
  podium node power on --host-list rack-7.txt --wait
  podium node show node-1 -f json
  podium port create --from-file ports.yaml
  podium --url http://podium.example:6385 conductor list
  source <(podium completion bash)             tab completion

The endpoint comes from --url, PODIUM_URL, the config file
($PODIUM_CLI_CONFIG or ~/.config/podium/cli.yaml, keys url, user,
password, cacert, insecure) or defaults to http://127.0.0.1:6385.
Run "podium COMMAND --help" for the options and examples of a command."""


class VersionAction(argparse.Action):
    """``--version``; pbr is imported only when it is asked for, which
    keeps every other command's start-up fast."""

    def __init__(self, option_strings: Sequence[str], dest: str,
                 help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0,
                         default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser,
                 namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from podium import version

        print(f'{parser.prog} {version.version_string()}')
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='podium', description='Manage bare-metal nodes through a '
                                   'Podium service.',
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_connection_options(parser, top_level=True)
    parser.add_argument('--debug', action='store_true',
                        help='show tracebacks of unexpected errors')
    parser.add_argument('--version', action=VersionAction,
                        help='print the version of Podium and exit')
    subparsers = parser.add_subparsers(title='commands', metavar='COMMAND')
    nodes = node.register(subparsers)
    node_actions.register(nodes)
    node_hardware.register(nodes)
    firmware.register_node(nodes)
    node_sensors.register(nodes)
    node_management.register(nodes)
    node_drift.register(nodes)
    provision.register(nodes)
    node_history.register(nodes)
    port.register(subparsers)
    firmware.register(subparsers)
    service.register(subparsers)
    serve.register(subparsers)
    demo.register(subparsers)
    completion.register(subparsers)
    parser.set_defaults(func=None, group_parser=parser)
    return parser


def _masked(message: str) -> str:
    # Imported on failure only: pattern masking costs start-up time.
    from podium.common import masking

    return masking.mask_text(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    serve_argv = serve.split_serve(argv)
    if serve_argv is not None:
        return serve.run(serve_argv)
    args = build_parser().parse_args(argv)
    if args.func is None:
        args.group_parser.print_help(sys.stderr)
        return 2
    ctx = Context(args)
    try:
        return args.func(args, ctx)
    except CliError as exc:
        print(f'podium: error: {_masked(str(exc))}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('podium: interrupted', file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (``| head``) went away; that is not our failure.
        sys.stderr.close()
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(f'podium: unexpected error: {_masked(repr(exc))} '
              f'(run with --debug for '
              f'the traceback)', file=sys.stderr)
        return 1
    finally:
        ctx.close()
