"""A throw-away Podium deployment: configuration, nodes, ``podium serve``.

A :class:`Deployment` lives in a temporary directory holding its
configuration file, its SQLite database and its logs. Benchmarks enroll
nodes into it (straight into the database, see :mod:`bench.enroll`) and
run either ``podium serve`` (API and conductor in one process, as an
operator runs it) or a bare conductor (:mod:`bench.sync_conductor`)
against it.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bench import procs
from bench.sim import SimSystem

#: Options every benchmark deployment starts from; benchmarks override.
BASE_OPTIONS: dict[str, dict[str, Any]] = {
    # Only what the benchmarks drive is loaded.
    'DEFAULT': {'host': 'bench-conductor', 'rpc_transport': 'local',
                'use_stderr': False, 'debug': False,
                'enabled_hardware_types': ['fake-hardware', 'redfish',
                                           'ipmi'],
                'enabled_power_interfaces': ['fake', 'redfish', 'ipmi'],
                'enabled_management_interfaces': ['fake', 'redfish',
                                                  'ipmi'],
                'enabled_inspect_interfaces': ['fake', 'no-inspect']},
    'conductor': {'sync_power_state_interval': 0,
                  'heartbeat_interval': 5},
}


def redfish_node(index: int, system: SimSystem,
                 power_state: str = 'power off') -> dict[str, Any]:
    """The database row of a node behind simulated system ``system``."""
    return {'name': f'node-{index:05d}', 'driver': 'redfish',
            'power_interface': 'redfish',
            'management_interface': 'redfish',
            'inspect_interface': 'no-inspect',
            'provision_state': 'manageable',
            'power_state': power_state,
            'driver_info': {'redfish_address': system.address,
                            'redfish_system_id': system.system_id,
                            'redfish_username': system.username,
                            'redfish_password': system.password,
                            'redfish_verify_ca': False}}


def ipmi_node(index: int, bmc: Mapping[str, Any],
              power_state: str = 'power off') -> dict[str, Any]:
    """The database row of a node behind simulated IPMI BMC ``bmc``."""
    return {'name': f'node-{index:05d}', 'driver': 'ipmi',
            'power_interface': 'ipmi', 'management_interface': 'ipmi',
            'inspect_interface': 'no-inspect',
            'provision_state': 'manageable', 'power_state': power_state,
            'driver_info': {'ipmi_address': bmc['address'],
                            'ipmi_port': bmc['port'],
                            'ipmi_username': bmc['username'],
                            'ipmi_password': bmc['password']}}


def fake_node(index: int, delay: float = 0.0, hang: bool = False,
              power_state: str = 'power off') -> dict[str, Any]:
    """The database row of a ``fake-hardware`` node with BMC latency."""
    info: dict[str, Any] = {}
    if delay:
        info['fake_delay'] = delay
    if hang:
        info['fake_hang'] = True
    return {'name': f'node-{index:05d}', 'driver': 'fake-hardware',
            'power_interface': 'fake', 'management_interface': 'fake',
            'inspect_interface': 'fake', 'provision_state': 'manageable',
            'power_state': power_state,
            'driver_internal_info': {'fake_power_state': power_state},
            'driver_info': info}


def pool_size_for(sync_workers: int) -> int:
    """A ``workers_pool_size`` leaving ``sync_workers`` for power sync.

    The pool keeps a share for operator actions and one slot per
    periodic task; this leaves room for both on top of the sync's
    parallelism, as an operator sizing the pool would.
    """
    return int(sync_workers * 1.1) + 12


def sync_options(workers: int, read_timeout: float,
                 interval: float = 0) -> dict[str, dict[str, Any]]:
    """Options for power sync with ``workers`` parallel reads, each
    bounded by ``read_timeout`` seconds, every ``interval`` seconds (0:
    never on its own)."""
    return {'conductor': {'workers_pool_size': pool_size_for(workers),
                          'sync_power_state_workers': workers,
                          'power_state_read_timeout': read_timeout,
                          'sync_power_state_interval': interval},
            'redfish': {'request_timeout': read_timeout}}


def merge_options(*layers: Mapping[str, Mapping[str, Any]]
                  ) -> dict[str, dict[str, Any]]:
    """Option layers merged group by group, later layers winning."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for group, values in layer.items():
            merged.setdefault(group, {}).update(values)
    return merged


class Deployment:
    """Configuration, database and logs of one benchmark deployment.

    :param name: a label used for the directory and log file names.
    :param options: ``{group: {option: value}}`` over
        :data:`BASE_OPTIONS`.
    :param keep: leave the directory behind (to inspect logs).
    """

    def __init__(self, name: str,
                 options: Mapping[str, Mapping[str, Any]] | None = None,
                 keep: bool = False) -> None:
        self.name = name
        self.keep = keep
        self.workdir = tempfile.mkdtemp(prefix=f'podium-bench-{name}-')
        self.api_port = procs.free_port()
        self.api_url = f'http://127.0.0.1:{self.api_port}'
        self.config_file = os.path.join(self.workdir, 'podium.conf')
        self.log_file = os.path.join(self.workdir, 'podium.log')
        self.options = merge_options(
            BASE_OPTIONS,
            {'DEFAULT': {'state_path': self.workdir,
                         'log_file': self.log_file},
             'database': {'connection': 'sqlite:///' + os.path.join(
                 self.workdir, 'podium.sqlite')},
             'api': {'host_ip': '127.0.0.1', 'port': self.api_port}},
            options or {})
        self.write_config()

    def write_config(self) -> None:
        """(Re)write the configuration file from :attr:`options`."""
        parser = configparser.ConfigParser(interpolation=None)
        for group, values in self.options.items():
            if group != 'DEFAULT':
                parser.add_section(group)
            for key, value in values.items():
                parser.set(group, key, _ini_value(value))
        with open(self.config_file, 'w', encoding='utf-8') as handle:
            parser.write(handle)

    def set_options(self, options: Mapping[str, Mapping[str, Any]]) -> None:
        """Change options for the next process started."""
        self.options = merge_options(self.options, options)
        self.write_config()

    def log_path(self, what: str) -> str:
        return os.path.join(self.workdir, f'{what}.out')

    def enroll(self, nodes: Sequence[Mapping[str, Any]],
               timeout: float = 600) -> None:
        """Create the schema and insert ``nodes`` (row dicts)."""
        path = os.path.join(self.workdir, 'nodes.json')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(list(nodes), handle)
        log = self.log_path('enroll')
        with procs.child([procs.PYTHON, '-m', 'bench.enroll',
                          '--config-file', self.config_file, path],
                         log) as proc:
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise procs.BenchError(
                    f'enrolling {len(nodes)} nodes took over '
                    f'{timeout:.0f} s') from None
        if code:
            raise procs.BenchError(f'enrollment failed:\n{procs.tail(log)}')

    @contextlib.contextmanager
    def serve(self, what: str = 'serve', start_timeout: float = 120
              ) -> Iterator[subprocess.Popen[bytes]]:
        """Run ``podium serve`` (API + conductor) until the block ends."""
        argv = [procs.PODIUM, 'serve', '--config-file', self.config_file]
        with procs.child(argv, self.log_path(what)) as proc:
            try:
                procs.wait_until(
                    lambda: procs.http_ok(self.api_url + '/v1/nodes?limit=1'),
                    start_timeout, 'podium serve start-up', proc=proc)
            except procs.BenchError as exc:
                raise procs.BenchError(
                    f'{exc}\n{procs.tail(self.log_path(what))}'
                    f'\n{procs.tail(self.log_file)}') from None
            yield proc

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list | tuple):
        return ','.join(str(v) for v in value)
    return str(value)
