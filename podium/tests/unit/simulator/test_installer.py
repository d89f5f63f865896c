"""The Redfish simulator's installer, against a recording stand-in for
the Podium API: a system powered on with a one-time PXE or CD boot
looks its node up by MAC and reports start, then end or error; powering
off stops it; without an installer nothing of this happens."""

import http.server
import json
import threading
import time
import unittest
import urllib.parse
from typing import Any

import requests

from podium.simulator import Simulator
from podium.simulator.behaviour import Fixed
from podium.simulator.installer import InstallerConfig

TIMEOUT = 10.0


class _Podium(http.server.ThreadingHTTPServer):
    """Answers lookups for known MACs and records every call."""

    def __init__(self) -> None:
        super().__init__(('127.0.0.1', 0), _Handler)
        self.calls: list[tuple[str, Any]] = []
        self.nodes: dict[str, str] = {}  # MAC -> node UUID
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.server_address[1]}'


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Podium

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b''
        self.send_response(status)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urllib.parse.urlsplit(self.path)
        macs = urllib.parse.parse_qs(url.query)['addresses'][0].split(',')
        with self.server.lock:
            self.server.calls.append(('lookup', macs))
        node = next((self.server.nodes[m] for m in macs
                     if m in self.server.nodes), None)
        if node is None:
            self._answer(404, {'error_message': 'nope'})
            return
        self._answer(200, {'node': {'uuid': node},
                           'config': {'agent_token': f'token-{node}'}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers['Content-Length'])
        body = json.loads(self.rfile.read(length))
        version = self.headers['X-OpenStack-Ironic-API-Version']
        with self.server.lock:
            self.server.calls.append(
                ('heartbeat', (self.path, version, body)))
        self._answer(202)


class InstallerTest(unittest.TestCase):

    def setUp(self) -> None:
        self.podium = _Podium()
        thread = threading.Thread(target=self.podium.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.podium.server_close)
        self.addCleanup(self.podium.shutdown)
        self.sim = Simulator(systems_per_endpoint=3, seed=7,
                             installer=InstallerConfig(
                                 self.podium.url, boot_time=Fixed(0.05),
                                 install_time=Fixed(0.1),
                                 lookup_interval=0.05)).start()
        self.addCleanup(self.sim.stop)
        self.http = requests.Session()
        self.http.auth = ('admin', 'password')
        self.addCleanup(self.http.close)
        for index, system in enumerate(self.sim.systems):
            # The second NIC's port, as a node often has only one.
            self.podium.nodes[system.macs[1]] = f'node-{index}'

    def boot(self, index: int, target: str = 'Pxe',
             enabled: str = 'Once') -> None:
        info = self.sim.systems[index]
        response = self.http.patch(
            info.address + info.system_id, json={'Boot': {
                'BootSourceOverrideTarget': target,
                'BootSourceOverrideEnabled': enabled}}, timeout=5)
        self.assertEqual(204, response.status_code, response.text)
        response = self.http.post(
            info.address + info.system_id +
            '/Actions/ComputerSystem.Reset',
            json={'ResetType': 'On'}, timeout=5)
        self.assertEqual(204, response.status_code, response.text)

    def heartbeats(self, node: str) -> list[dict[str, Any]]:
        with self.podium.lock:
            return [body for kind, (path, _, body) in
                    ((k, v) for k, v in self.podium.calls
                     if k == 'heartbeat')
                    if path == f'/v1/heartbeat/{node}']

    def wait_outcome(self, index: int, outcome: str) -> dict[str, Any]:
        uuid = self.sim.systems[index].uuid
        deadline = time.monotonic() + TIMEOUT
        while True:
            stats = self.sim.installer_stats()
            if stats['outcomes'].get(uuid) == outcome:
                return stats
            if time.monotonic() > deadline:
                self.fail(f'installer of system {index}: {stats}')
            time.sleep(0.02)

    def test_pxe_boot_installs_and_reports(self) -> None:
        self.boot(0)
        self.wait_outcome(0, 'succeeded')
        beats = self.heartbeats('node-0')
        self.assertEqual(['start', 'end'],
                         [b['agent_status'] for b in beats])
        for beat in beats:
            self.assertEqual('', beat['callback_url'])
            self.assertEqual('token-node-0', beat['agent_token'])
        with self.podium.lock:
            path, version, _ = next(v for k, v in self.podium.calls
                                    if k == 'heartbeat')
        self.assertEqual('1.72', version)
        # The one-time override is spent; the node boots its disk now.
        self.assertEqual('Disabled', self.sim.get_boot(0)['enabled'])

    def test_planned_error_and_cd_boot(self) -> None:
        self.sim.set_installer_outcome(1, 'error')
        self.boot(1, target='Cd')
        self.wait_outcome(1, 'failed')
        self.assertEqual(['start', 'error'], [
            b['agent_status'] for b in self.heartbeats('node-1')])
        self.assertTrue(self.heartbeats('node-1')[1]['agent_status_message'])

    def test_disk_boot_and_power_off(self) -> None:
        self.boot(2, target='Hdd')
        time.sleep(0.3)
        self.assertEqual(0, self.sim.installer_stats()['counters'][
            'started'])
        self.sim.set_installer_outcome(2, 'silent')
        self.sim.set_power(2, 'Off')
        self.boot(2)
        self.sim.set_power(2, 'Off')
        self.wait_outcome(2, 'stopped')
        time.sleep(0.3)
        self.assertEqual([], [b for b in self.heartbeats('node-2')
                              if b['agent_status'] != 'start'])

    def test_unknown_node_gives_up(self) -> None:
        self.podium.nodes.clear()
        self.boot(0)
        stats = self.wait_outcome(0, 'gave_up')
        self.assertEqual(1, stats['counters']['gave_up'])

    def test_callback_must_be_loopback(self) -> None:
        self.assertRaises(ValueError, InstallerConfig,
                          'http://192.0.2.1:6385')
        self.assertRaises(ValueError, InstallerConfig, 'ftp://127.0.0.1')


class NoInstallerTest(unittest.TestCase):

    def test_override_kept_without_installer(self) -> None:
        sim = Simulator(seed=1).start()
        self.addCleanup(sim.stop)
        self.assertRaises(RuntimeError, sim.installer_stats)
        info = sim.systems[0]
        with requests.Session() as http:
            http.auth = ('admin', 'password')
            http.patch(info.address + info.system_id, json={'Boot': {
                'BootSourceOverrideTarget': 'Pxe',
                'BootSourceOverrideEnabled': 'Once'}}, timeout=5)
        sim.set_power(0, 'On')
        self.assertEqual({'target': 'Pxe', 'enabled': 'Once',
                          'mode': 'UEFI'}, sim.get_boot(0))
