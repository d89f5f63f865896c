"""Bulk provision commands: manage, provide, inspect, clean, deploy,
undeploy, rebuild, abort, adopt.

Each takes several nodes and ``--host-list``, runs concurrently, can
``--wait`` for the state the action ends in, and ends with the summary
table; the exit status is 1 when any node failed.
"""

import argparse
import json
import sys
from typing import Any

from podium.cli import provision_actions
from podium.cli.batch import BatchSpec
from podium.cli.commands import common
from podium.cli.context import Context
from podium.cli.errors import CliError
from podium.cli.output import columns
from podium.cli.values import parse_key_values
from podium.common import exceptions, vmedia

_HOSTS = 'node-1 node-2'

#: command -> (API target, summary).
COMMANDS = {
    'manage': ('manage', 'verify the BMC credentials and make nodes '
                         'manageable'),
    'provide': ('provide', 'clean manageable nodes and make them '
                           'available'),
    'inspect': ('inspect', 'discover the hardware of manageable nodes'),
    'clean': ('clean', 'run the given clean steps on manageable nodes'),
    'deploy': ('active', 'deploy available nodes'),
    'rebuild': ('rebuild', 'deploy active nodes again'),
    'undeploy': ('deleted', 'tear down deployed nodes and clean them'),
    'abort': ('abort', 'abort a deploy, cleaning or inspection that '
                       'waits for its call-back'),
    'adopt': ('adopt', 'take over manageable nodes deployed by other '
                       'means'),
}


#: Targets a server's batch extension runs; the others go node by node.
BATCH_TARGETS = ('manage', 'provide', 'inspect', 'clean')


def register(nodes: common.Subparsers) -> None:
    for name, (target, summary) in COMMANDS.items():
        examples = [f'podium node {name} {_HOSTS}',
                    f'podium node {name} --host-list rack-7.txt --wait']
        if name == 'clean':
            examples = [
                "podium node clean node-1 --wait --clean-steps "
                "'[{\"interface\": \"power\", \"step\": \"power_off\"}]'",
                'podium node clean --host-list rack-7.txt --clean-steps '
                'steps.json']
        if name in ('deploy', 'rebuild'):
            examples.append(f'podium node {name} node-1 --instance-info '
                            f'kickstart=rhel9.ks --wait')
            examples.append(f'podium node {name} --host-list rack-7.txt '
                            f'--boot-iso https://images.example.com/'
                            f'live.iso --wait')
        parser = common.add_command(nodes, name, summary, examples,
                                    _provision)
        parser.set_defaults(provision_target=target)
        if name in ('deploy', 'rebuild'):
            parser.add_argument(
                '--instance-info', action='append', default=[],
                metavar='KEY=VALUE',
                help='set this instance_info key on each node before '
                     'the request (repeatable; values typed as for '
                     '"node set --property")')
            parser.add_argument(
                '--boot-iso', metavar='URL',
                help='the ISO the ramdisk deploy interface boots from '
                     'virtual media (http or https; sets '
                     'instance_info/boot_iso)')
        if name == 'clean':
            parser.add_argument(
                '--clean-steps', required=True, metavar='STEPS',
                help='the steps, as JSON ([{"interface": ..., "step": '
                     '..., "args": {...}}]), or a file holding them, or '
                     '"-" for standard input')
        common.add_bulk_options(parser, wait=name != 'abort')


def load_clean_steps(value: str) -> list[dict[str, Any]]:
    """Clean steps from JSON text, a file, or standard input."""
    text = value
    if value == '-':
        text = sys.stdin.read()
    elif not value.lstrip().startswith('['):
        try:
            with open(value, encoding='utf-8') as handle:
                text = handle.read()
        except OSError as exc:
            raise CliError(
                f'cannot read clean steps from {value}: '
                f'{exc.strerror}') from None
    try:
        steps = json.loads(text)
    except ValueError as exc:
        raise CliError(
            f'clean steps are not valid JSON: {exc}') from None
    if not isinstance(steps, list):
        raise CliError('clean steps must be a JSON list')
    return steps


def _provision(args: argparse.Namespace, ctx: Context) -> int:
    target = args.provision_target
    steps = None
    if getattr(args, 'clean_steps', None) is not None:
        steps = load_clean_steps(args.clean_steps)
    instance_info = parse_key_values(getattr(args, 'instance_info', ()),
                                     '--instance-info', typed=True)
    boot_iso = getattr(args, 'boot_iso', None)
    if boot_iso is not None:
        try:
            instance_info['boot_iso'] = vmedia.check_image_url(
                boot_iso, '--boot-iso')
        except exceptions.InvalidParameterValue as exc:
            raise CliError(str(exc)) from None
    wait = getattr(args, 'wait', False)
    action = provision_actions.provision(
        ctx.client, target, wait, getattr(args, 'timeout', 0.0), steps,
        instance_info=instance_info)
    extra = columns(('Provision State', 'provision_state')) if wait else ()
    batch = None
    if target in BATCH_TARGETS:
        expected = provision_actions.TARGET_RESULT[target]
        batch = BatchSpec(
            'provision', {'target': target, 'clean_steps': steps}, wait=wait,
            success=f'reached {expected}', started=f'{target} requested',
            column='provision_state' if wait else None, expected=expected)
    return common.run_bulk(ctx, args, target, action, extra, batch)
