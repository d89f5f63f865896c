"""Fixtures starting independent BMC emulators on loopback.

- :class:`SushyEmulator`: sushy-tools' ``sushy-emulator`` with its fake
  systems driver, basic auth (bcrypt cost 4: the check runs on every
  request), a fresh state directory and a free port;
- :class:`FakeIpmiBmcs`: pyghmi's fake BMC in a child process
  (:mod:`.fake_ipmi_bmc`), one UDP port per BMC.

Both are torn down with the test; both only ever bind 127.0.0.1.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence

import bcrypt
import fixtures
import requests

from podium.drivers.modules.redfish import connection
from podium.tests import base
from podium.tests.unit.drivers import helpers

USERNAME = 'admin'
# Test credentials of loopback-only emulators; tests check they never
# appear in logs or errors, so they are deliberately distinctive.
PASSWORD = 'Emu-S3cret-pw-7f1c'

_START_TIMEOUT = 30.0
# The fake driver applies a reset up to 11 s after accepting it.
_POWER_TIMEOUT = 30.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on now (the caller binds it next)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def _wait_for(predicate: object, what: str,
              timeout: float = _START_TIMEOUT) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f'{what} did not come up within {timeout}s')


class SushyEmulator(fixtures.Fixture):
    """A sushy-tools Redfish emulator with ``count`` fake systems.

    ``systems`` lists ``{'uuid', 'name', 'mac', 'path'}``; the first has a
    100 GB drive so inspection finds a disk. Every system starts in
    ``power_state``, unless ``power_states`` gives one per system.
    """

    def __init__(self, count: int = 3, power_state: str = 'Off',
                 power_states: Sequence[str] | None = None) -> None:
        super().__init__()
        if power_states is not None and len(power_states) != count:
            raise ValueError(f'{len(power_states)} power states given for '
                             f'{count} systems')
        self.count = count
        self.power_state = power_state
        self.power_states = list(power_states or [power_state] * count)

    def _setUp(self) -> None:
        workdir = self.useFixture(fixtures.TempDir()).path
        self.systems = []
        for index in range(self.count):
            ident = str(uuid.uuid4())
            self.systems.append({
                'uuid': ident, 'name': f'emu-{index}',
                'mac': f'52:54:00:aa:00:{index:02x}',
                'path': f'/redfish/v1/Systems/{ident}'})
        self.port = free_port()
        self.address = f'http://127.0.0.1:{self.port}'
        auth_file = os.path.join(workdir, 'htpasswd')
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4))
        with open(auth_file, 'w', encoding='utf-8') as handle:
            handle.write(f'{USERNAME}:{hashed.decode()}\n')
        config = os.path.join(workdir, 'emulator.conf')
        with open(config, 'w', encoding='utf-8') as handle:
            handle.write(self._config(workdir, auth_file))
        log = open(os.path.join(workdir, 'emulator.log'), 'wb')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'sushy_tools.emulator.main',
             '--config', config, '-i', '127.0.0.1', '-p', str(self.port)],
            stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self._stop)
        _wait_for(self._answers, 'sushy-emulator')
        # The fake driver starts on the first /Systems request.
        self.get('/redfish/v1/Systems')

    def _config(self, workdir: str, auth_file: str) -> str:
        systems = [{'uuid': s['uuid'], 'name': s['name'],
                    'power_state': power_state,
                    'external_notifier': False,
                    'nics': [{'mac': s['mac'], 'ip': '127.0.0.1'}]}
                   for s, power_state in zip(self.systems,
                                             self.power_states, strict=True)]
        first = self.systems[0]['uuid']
        storage = {first: [{'Id': '1', 'Name': 'Local Storage',
                            'StorageControllers': [
                                {'MemberId': '0', 'Name': 'RAID',
                                 'SpeedGbps': 12}],
                            'Drives': ['disk0']}]}
        drives = {(first, '1'): [{'Id': 'disk0', 'Name': 'Disk 0',
                                  'CapacityBytes': 100 * 1024 ** 3,
                                  'Protocol': 'SATA'}]}
        state_dir = os.path.join(workdir, 'state')
        return (f'SUSHY_EMULATOR_FAKE_DRIVER = True\n'
                f'SUSHY_EMULATOR_LISTEN_IP = "127.0.0.1"\n'
                f'SUSHY_EMULATOR_STATE_DIR = {state_dir!r}\n'
                f'SUSHY_EMULATOR_AUTH_FILE = {auth_file!r}\n'
                f'SUSHY_EMULATOR_FAKE_SYSTEMS = {systems!r}\n'
                f'SUSHY_EMULATOR_STORAGE = {storage!r}\n'
                f'SUSHY_EMULATOR_DRIVES = {drives!r}\n')

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError('sushy-emulator exited at start-up')
        try:
            requests.get(self.address + '/redfish/v1/', timeout=1)
        except requests.RequestException:
            return False
        return True

    def _stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def get(self, path: str) -> dict:
        response = requests.get(self.address + path,
                                auth=(USERNAME, PASSWORD), timeout=10)
        response.raise_for_status()
        return response.json()

    def power(self, index: int) -> str:
        """The emulator's own view of system ``index``'s PowerState."""
        return str(self.get(self.systems[index]['path'])['PowerState'])

    def reset_system(self, index: int, reset_type: str) -> None:
        """An out-of-band action, through the emulator's own API."""
        response = requests.post(
            f'{self.address}{self.systems[index]["path"]}'
            f'/Actions/ComputerSystem.Reset',
            json={'ResetType': reset_type}, auth=(USERNAME, PASSWORD),
            timeout=10)
        response.raise_for_status()

    def wait_for_power(self, index: int, power_state: str,
                       timeout: float = _POWER_TIMEOUT) -> None:
        """Poll until system ``index`` reports ``power_state`` (after an
        out-of-band :meth:`reset`, whose effect is delayed)."""
        _wait_for(lambda: self.power(index) == power_state,
                  f'PowerState {power_state} of system {index}', timeout)

    def driver_info(self, index: int, address: str | None = None,
                    password: str = PASSWORD) -> dict[str, str]:
        return {'redfish_address': address or self.address,
                'redfish_system_id': self.systems[index]['path'],
                'redfish_username': USERNAME,
                'redfish_password': password,
                'redfish_auth_type': 'basic'}


_START_ATTEMPTS = 3


def one_system_task(test: base.TestCase, request_timeout: float = 5,
                    timeout: float = 30.0
                    ) -> tuple[SushyEmulator, helpers.Task]:
    """A sushy-tools emulator of one system for redfish driver calls,
    its password checked never to be logged, with ``[redfish]
    request_timeout`` set, the connection cache emptied after the test,
    and a task of ``timeout`` seconds on the system."""
    emulator = test.useFixture(SushyEmulator(count=1))
    test.useFixture(helpers.SecretsNotLogged(PASSWORD))
    test.config(request_timeout=request_timeout, group='redfish')
    test.addCleanup(connection.CACHE.clear)
    return emulator, helpers.task_for(emulator.driver_info(0), timeout)


class FakeIpmiBmcs(fixtures.Fixture):
    """``count`` pyghmi fake BMCs served by one child process."""

    def __init__(self, count: int = 2) -> None:
        super().__init__()
        self.count = count

    def _setUp(self) -> None:
        # A port found free may be taken by another process before the
        # child binds it: start again on other ports, a few times.
        for _attempt in range(_START_ATTEMPTS):
            ports: set[int] = set()
            while len(ports) < self.count:
                ports.add(free_port(socket.SOCK_DGRAM))
            self.ports = sorted(ports)
            line = self._start()
            if line.strip() == 'READY':
                self.addCleanup(self._stop)
                return
            self._stop()
        raise AssertionError(f'fake BMC did not start: {line!r}')

    def _start(self) -> str:
        env = dict(os.environ, FAKE_BMC_USER=USERNAME,
                   FAKE_BMC_PASSWORD=PASSWORD)
        self.process = subprocess.Popen(
            [sys.executable, '-m',
             'podium.tests.functional.drivers.fake_ipmi_bmc',
             *map(str, self.ports)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            stderr=subprocess.DEVNULL, env=env)
        return self.process.stdout.readline()  # type: ignore[union-attr]

    def _stop(self) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()  # type: ignore[union-attr]

    def _ask(self, line: str) -> str:
        self.process.stdin.write(line + '\n')  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        return self.process.stdout.readline().strip()  # type: ignore

    def set_power(self, index: int, state: str) -> None:
        """An out-of-band change on the fake BMC object itself."""
        answer = self._ask(f'power {self.ports[index]} {state}')
        if answer != 'OK':
            raise AssertionError(answer)

    def set_mode(self, index: int, mode: str) -> None:
        """Make BMC ``index`` misbehave (see :mod:`.fake_ipmi_bmc`)."""
        answer = self._ask(f'mode {self.ports[index]} {mode}')
        if answer != 'OK':
            raise AssertionError(answer)

    def state(self, index: int) -> tuple[str, str, bool]:
        """``(power, boot device, persistent)`` as the BMC holds them."""
        power, bootdev, persistent, _resets = self._ask(
            f'get {self.ports[index]}').split()
        return power, bootdev, persistent == 'True'

    def resets(self, index: int) -> int:
        """``mc reset cold`` commands the BMC took."""
        return int(self._ask(f'get {self.ports[index]}').split()[3])

    def driver_info(self, index: int, port: int | None = None,
                    password: str = PASSWORD) -> dict[str, object]:
        return {'ipmi_address': '127.0.0.1',
                'ipmi_port': port or self.ports[index],
                'ipmi_username': USERNAME, 'ipmi_password': password}
