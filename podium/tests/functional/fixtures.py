"""Fixtures that run Podium processes for functional tests.

* :class:`PodiumProcess` runs one Podium command and stops it with
  SIGTERM, checking that it exits with 0.
* :class:`AllInOne` runs ``podium serve`` (API and conductor in one
  process, SQLite, ``rpc_transport = local``) on a free loopback port.
* :class:`SplitDeployment` runs ``podium-conductor`` and ``podium-api``
  talking over RabbitMQ, on a fresh PostgreSQL database.
* :class:`ClientEnvironment` points HOME and the XDG directories at a
  temporary directory, so that client caches and clouds.yaml files of
  the machine play no part.

Each takes extra configuration as ``{section: {option: value}}``.
"""

import configparser
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import bcrypt
import fixtures
import requests

from podium.api import server

Config = Mapping[str, Mapping[str, Any]]

RABBIT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
POSTGRES_ADMIN_URL = 'postgresql+psycopg2://postgres@127.0.0.1:5432/test'

#: Drivers the functional tests use: fake hardware only.
FAKE_DRIVERS = {
    'enabled_hardware_types': 'fake-hardware',
    'enabled_power_interfaces': 'fake',
    'enabled_management_interfaces': 'fake',
    'enabled_inspect_interfaces': 'fake,no-inspect',
}

START_TIMEOUT = 60.0

_READY_RE = re.compile(re.escape(server.READY_PREFIX) + r'(http://\S+)$')
STOP_TIMEOUT = 60.0


def wait_until(predicate: Callable[[], bool], timeout: float,
               what: str, interval: float = 0.1) -> None:
    """Poll ``predicate`` until it is true; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout}s waiting for '
                                 f'{what}')
        time.sleep(interval)


def write_htpasswd(directory: str, user: str, password: str) -> str:
    """An htpasswd file in ``directory`` with one bcrypt user; its path."""
    path = os.path.join(directory, 'htpasswd')
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(f'{user}:{hashed}\n')
    return path


def merge_configs(*configs: Config) -> dict[str, dict[str, Any]]:
    """``configs`` merged option by option, later ones winning."""
    merged: dict[str, dict[str, Any]] = {}
    for config in configs:
        for section, options in config.items():
            merged.setdefault(section, {}).update(options)
    return merged


def write_config(path: str, *configs: Config) -> None:
    """Write the merged ``configs`` (later ones win) as an ini file."""
    parser = configparser.RawConfigParser()
    for section, options in merge_configs(*configs).items():
        if section != 'DEFAULT':
            parser.add_section(section)
        for key, value in options.items():
            parser.set(section, key, str(value))
    with open(path, 'w', encoding='utf-8') as handle:
        parser.write(handle)


class PodiumProcess(fixtures.Fixture):
    """A Podium command as a child process.

    :param module: the ``podium.cmd`` module to run (``podium.cmd.serve``).
    :param wait_ready: wait for the API's "listening" line on stdout and
        set :attr:`url` from it.
    :param start_timeout: how long, default :data:`START_TIMEOUT`.
    """

    def __init__(self, module: str, config_file: str, log_path: str,
                 wait_ready: bool = True,
                 start_timeout: float | None = None) -> None:
        super().__init__()
        self.start_timeout = start_timeout or START_TIMEOUT
        self.module = module
        self.config_file = config_file
        self.log_path = log_path
        self.wait_ready = wait_ready
        self.url: str | None = None
        self.returncode: int | None = None
        self._ready = threading.Event()

    def _setUp(self) -> None:
        self._log = open(self.log_path, 'ab')
        self.addCleanup(self._log.close)
        self.process = subprocess.Popen(
            [sys.executable, '-m', self.module, '--config-file',
             self.config_file],
            stdout=subprocess.PIPE, stderr=self._log,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
        self.addCleanup(self._kill)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        if self.wait_ready:
            wait_until(lambda: self._ready.is_set() or
                       self.process.poll() is not None,
                       self.start_timeout, f'{self.module} to listen')
            if not self._ready.is_set():
                raise AssertionError(
                    f'{self.module} exited with {self.process.returncode} '
                    f'before listening:\n{self.log_tail()}')

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self._log.write(raw)
            self._log.flush()
            match = _READY_RE.search(raw.decode('utf-8', 'replace'))
            if match and self.url is None:
                self.url = match.group(1)
                self._ready.set()

    def log_tail(self, lines: int = 40) -> str:
        with open(self.log_path, encoding='utf-8', errors='replace') as log:
            return ''.join(log.readlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.returncode = self.process.wait(STOP_TIMEOUT)
        return self.returncode

    def _kill(self) -> None:
        if self.process.poll() is None:
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class _Deployment(fixtures.Fixture):
    """What both deployments share: a temp dir, config and API URL."""

    def __init__(self, config: Config | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        """:param credentials: what the fixture itself sends to check
            readiness, when the API requires http_basic auth."""
        super().__init__()
        self.extra_config = config or {}
        self.credentials = credentials
        self.run_id = uuid.uuid4().hex[:10]
        self.url = ''

    def base_config(self) -> dict[str, dict[str, Any]]:
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        return {'DEFAULT': dict(FAKE_DRIVERS, state_path=self.state_dir,
                                host=f'podium-{self.run_id}'),
                'api': {'host_ip': '127.0.0.1', 'port': 0},
                'conductor': {'heartbeat_interval': 1,
                              'graceful_shutdown_timeout': 10}}

    def path(self, name: str) -> str:
        return os.path.join(self.state_dir, name)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET at the newest microversion (no header would mean 1.1,
        where /v1/conductors, for one, does not exist)."""
        headers = {'X-OpenStack-Ironic-API-Version': 'latest',
                   **kwargs.pop('headers', {})}
        return requests.get(self.url + path, timeout=10, headers=headers,
                            **kwargs)


class AllInOne(_Deployment):
    """``podium serve`` on a free loopback port with a temp state dir."""

    def _setUp(self) -> None:
        self.config_file = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'podium.conf')
        write_config(self.config_file, self.base_config(),
                     self.extra_config)
        self.process = self.useFixture(PodiumProcess(
            'podium.cmd.serve', self.config_file, self.path('podium.log')))
        assert self.process.url is not None
        self.url = self.process.url

    def stop(self) -> int:
        return self.process.stop()


class SplitDeployment(_Deployment):
    """``podium-api`` and ``podium-conductor`` over RabbitMQ (a control
    exchange of their own) on a fresh PostgreSQL database, dropped at
    cleanup."""

    def _setUp(self) -> None:
        import sqlalchemy as sa

        self.database = f'podium_test_{self.run_id}'
        admin = sa.create_engine(POSTGRES_ADMIN_URL,
                                 isolation_level='AUTOCOMMIT')
        self.addCleanup(admin.dispose)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE {self.database}')
        self.addCleanup(self._drop_database, admin)
        config = self.base_config()
        config['DEFAULT'].update(
            rpc_transport='oslo', transport_url=RABBIT_URL,
            control_exchange=f'podium_test_{self.run_id}',
            rpc_response_timeout=10)
        config['database'] = {
            'connection': POSTGRES_ADMIN_URL.rsplit('/', 1)[0] + '/'
            + self.database}
        self.config_file = self.path('podium.conf')
        write_config(self.config_file, config, self.extra_config)
        subprocess.run(
            [sys.executable, '-m', 'podium.cmd.dbsync', '--config-file',
             self.config_file, 'upgrade'], check=True, capture_output=True,
            env=dict(os.environ, PYTHONWARNINGS='ignore'))
        self.conductor = self.useFixture(PodiumProcess(
            'podium.cmd.conductor', self.config_file,
            self.path('conductor.log'), wait_ready=False))
        self.api = self.useFixture(PodiumProcess(
            'podium.cmd.api', self.config_file, self.path('api.log')))
        assert self.api.url is not None
        self.url = self.api.url
        wait_until(self._conductor_alive, START_TIMEOUT,
                   'the conductor to register')

    def _conductor_alive(self) -> bool:
        if self.conductor.process.poll() is not None:
            raise AssertionError('podium-conductor exited:\n'
                                 + self.conductor.log_tail())
        response = self.get('/v1/conductors', auth=self.credentials)
        return response.ok and any(
            c['alive'] for c in response.json()['conductors'])

    def _drop_database(self, admin: Any) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f'DROP DATABASE IF EXISTS {self.database} WITH (FORCE)')

    def stop(self) -> int:
        """Stop the API, then the conductor; the worst exit status."""
        return max(self.api.stop(), self.conductor.stop())


class ClientEnvironment(fixtures.Fixture):
    """HOME, XDG dirs and no OS_* variables, for the OpenStack clients."""

    def _setUp(self) -> None:
        self.home = self.useFixture(fixtures.TempDir()).path
        for name in ('HOME', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME',
                     'XDG_DATA_HOME'):
            path = self.home if name == 'HOME' else os.path.join(
                self.home, name.lower())
            os.makedirs(path, exist_ok=True)
            self.useFixture(fixtures.EnvironmentVariable(name, path))
        for name in list(os.environ):
            if name.startswith('OS_'):
                self.useFixture(fixtures.EnvironmentVariable(name))
