"""A multi-process Podium deployment for scale-out tests.

:class:`Cluster` runs one ``podium-api`` and several ``podium-conductor``
processes with distinct host names on a fresh database of a server
(PostgreSQL or MariaDB, see :mod:`podium.tests.functional.db.backends`)
and RabbitMQ, with an exchange of their own, so parallel runs never
share a queue. Broker and database may be reached through
:class:`~podium.tests.functional.fault_proxy.FaultProxy` instances to
cut them off. Every process is killed and the database dropped at
cleanup, also when a test fails half-way.
"""

import os
import signal
import subprocess
import sys
import uuid
from typing import Any

import fixtures
import requests

from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional.db import backends

RABBIT_PORT = 5672

#: Short enough that takeover is quick, long enough that a loaded
#: two-core machine does not miss heartbeats.
HEARTBEAT_TIMEOUT = 8
SYNC_INTERVAL = 2
RPC_RESPONSE_TIMEOUT = 10
#: Four processes importing oslo.* at once on a busy two-core machine.
START_TIMEOUT = 180.0


class Cluster(fixtures.Fixture):
    """``conductors`` conductors and one API over ``server``.

    :param rabbit_port: where the processes find RabbitMQ (a proxy's
        port to cut it off).
    :param database_port: likewise for the database server.
    :param config: extra ``{section: {option: value}}`` for every process.
    :param groups: ``[conductor] conductor_group`` of each conductor, in
        order (default: all in the default group).
    """

    def __init__(self, server: backends.ServerDatabase, conductors: int = 3,
                 rabbit_port: int = RABBIT_PORT,
                 database_port: int | None = None,
                 config: podium_fixtures.Config | None = None,
                 groups: list[str] | None = None) -> None:
        super().__init__()
        self.groups = groups or [''] * conductors
        self.server = server
        self.count = conductors
        self.rabbit_port = rabbit_port
        self.database_port = database_port
        self.extra_config = config or {}
        self.run_id = uuid.uuid4().hex[:10]
        self.conductors: dict[str, podium_fixtures.PodiumProcess] = {}
        self.url = ''

    # Set-up ----------------------------------------------------------------

    def _setUp(self) -> None:
        self.workdir = self.useFixture(fixtures.TempDir()).path
        self.database = self.server.create_database()
        self.addCleanup(self.server.drop_database, self.database)
        self.database_url = self.server.url(self.database)
        url = self.database_url
        if self.database_port is not None:
            url = url.replace(f':{self.server.port}/',
                              f':{self.database_port}/')
        self.base_config: dict[str, dict[str, Any]] = {
            'DEFAULT': dict(
                podium_fixtures.FAKE_DRIVERS,
                enabled_hardware_types='fake-hardware,redfish',
                enabled_power_interfaces='fake,redfish',
                enabled_management_interfaces='fake,redfish',
                enabled_inspect_interfaces='fake,no-inspect',
                state_path=self.workdir, rpc_transport='oslo',
                transport_url=f'rabbit://guest:guest@127.0.0.1:'
                              f'{self.rabbit_port}/',
                control_exchange=f'podium_scale_{self.run_id}',
                rpc_response_timeout=RPC_RESPONSE_TIMEOUT,
                rpc_connect_timeout=20),
            'database': {'connection': url, 'connect_timeout': 3,
                         'socket_timeout': 5,
                         'connect_retries': 10},
            'api': {'host_ip': '127.0.0.1', 'port': 0},
            'conductor': {'heartbeat_interval': 1,
                          'heartbeat_timeout': HEARTBEAT_TIMEOUT,
                          'sync_power_state_interval': SYNC_INTERVAL,
                          'graceful_shutdown_timeout': 5,
                          'workers_pool_size': 40,
                          'sync_power_state_workers': 20,
                          'power_state_read_timeout': 5,
                          'action_timeout': 60},
            'redfish': {'request_timeout': 5},
        }
        # The schema is made through the direct URL: a test's proxy may
        # be cut already.
        config = self.write_config('dbsync', {
            'database': {'connection': self.database_url}})
        subprocess.run(
            [sys.executable, '-m', 'podium.cmd.dbsync', '--config-file',
             config, 'upgrade'], check=True, capture_output=True,
            timeout=120, env=dict(os.environ, PYTHONWARNINGS='ignore'))
        for index in range(self.count):
            self.start_conductor(self.hostname(index),
                                 group=self.groups[index])
        self.api = self.useFixture(podium_fixtures.PodiumProcess(
            'podium.cmd.api', self.write_config('api'),
            self.log_path('api'), start_timeout=START_TIMEOUT))
        assert self.api.url is not None
        self.url = self.api.url
        self.wait_alive(set(self.conductors))

    def hostname(self, index: int) -> str:
        return f'conductor-{index}-{self.run_id}'

    def log_path(self, name: str) -> str:
        return os.path.join(self.workdir, f'{name}.log')

    def write_config(self, name: str,
                     *extra: podium_fixtures.Config) -> str:
        path = os.path.join(self.workdir, f'{name}.conf')
        podium_fixtures.write_config(path, self.base_config,
                                     self.extra_config, *extra)
        return path

    # Processes -------------------------------------------------------------

    def start_conductor(self, host: str, log_name: str | None = None,
                        group: str = '') -> podium_fixtures.PodiumProcess:
        """Start ``podium-conductor`` as ``host`` (not waiting for it).

        :param log_name: for a process that is not the cluster's
            conductor ``host`` (a namesake expected to be refused).
        :param group: its ``[conductor] conductor_group``.
        """
        name = log_name or host
        process = self.useFixture(podium_fixtures.PodiumProcess(
            'podium.cmd.conductor',
            self.write_config(name, {'DEFAULT': {'host': host},
                                     'conductor': {'conductor_group': group}}),
            self.log_path(name), wait_ready=False))
        if log_name is None:
            self.conductors[host] = process
        return process

    def kill(self, host: str) -> None:
        """``kill -9`` a conductor: no goodbye, its locks stay behind."""
        process = self.conductors[host].process
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def log(self, host: str) -> str:
        with open(self.conductors[host].log_path, encoding='utf-8',
                  errors='replace') as handle:
            return handle.read()

    # API -------------------------------------------------------------------

    def request(self, method: str, path: str, timeout: float = 30,
                **kwargs: Any) -> requests.Response:
        headers = {'X-OpenStack-Ironic-API-Version': '1.99'}
        return requests.request(method, self.url + path, headers=headers,
                                timeout=timeout, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.request('GET', path, **kwargs)
        response.raise_for_status()
        return response.json()

    def conductor_rows(self) -> dict[str, dict[str, Any]]:
        body = self.get('/v1/conductors?detail=True')
        return {row['hostname']: row for row in body['conductors']}

    def alive(self) -> set[str]:
        return {host for host, row in self.conductor_rows().items()
                if row['alive']}

    def wait_alive(self, hosts: set[str],
                   timeout: float = START_TIMEOUT) -> None:
        """Wait until exactly ``hosts`` are alive; fail early if one of
        them exited."""
        def check() -> bool:
            for host in hosts:
                process = self.conductors[host].process
                if process.poll() is not None:
                    raise AssertionError(
                        f'{host} exited with {process.returncode}:\n'
                        + self.conductors[host].log_tail())
            return self.alive() == hosts
        podium_fixtures.wait_until(check, timeout,
                                   f'conductors {sorted(hosts)} alive',
                                   interval=0.5)

    def node(self, ident: str) -> dict[str, Any]:
        return dict(self.get(f'/v1/nodes/{ident}'))

    def set_power(self, ident: str, target: str,
                  timeout: float = 60) -> requests.Response:
        return self.request('PUT', f'/v1/nodes/{ident}/states/power',
                            json={'target': target}, timeout=timeout)
