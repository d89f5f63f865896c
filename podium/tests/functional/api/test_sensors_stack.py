"""Sensor readings end to end: ``podium serve`` reading Redfish nodes of
Podium's simulator through the API (JSON and Prometheus text), the
conductor's cache between reads, readings that follow the power state
and a threshold, and the fleet aggregates at ``/metrics``."""

import time
from typing import Any

import requests

from podium.simulator import Simulator
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}
#: Seconds the conductor caches readings in this test.
CACHE_SECONDS = 2.0


def _metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(' ', 1)[1])
    raise AssertionError(f'no {line_start} in /metrics')


class TestSensorsThroughTheStack(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.sim = Simulator(endpoints=1, systems_per_endpoint=2, seed=3,
                             power_state='On')
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.podium = self.useFixture(podium_fixtures.AllInOne({
            'DEFAULT': {
                'enabled_hardware_types': 'fake-hardware,redfish',
                'enabled_power_interfaces': 'fake,redfish',
                'enabled_management_interfaces': 'fake,redfish',
                'enabled_inspect_interfaces': 'fake,redfish,no-inspect',
                'enabled_bios_interfaces': 'fake,redfish,no-bios'},
            'conductor': {'sensor_cache_seconds': CACHE_SECONDS,
                          'sync_power_state_interval': 3600},
            'redfish': {'request_timeout': 5}}))
        for index, system in enumerate(self.sim.systems):
            response = requests.post(
                f'{self.podium.url}/v1/nodes', timeout=30, headers=LATEST,
                json={'name': f'rf-{index}', 'driver': 'redfish',
                      'driver_info': {
                          'redfish_address': system.address,
                          'redfish_system_id': system.system_id,
                          'redfish_username': system.username,
                          'redfish_password': system.password}})
            self.assertEqual(201, response.status_code, response.text)

    def sensors(self, node: str, query: str = '') -> requests.Response:
        response = self.podium.get(f'/v1/nodes/{node}/sensors{query}')
        self.assertEqual(200, response.status_code, response.text)
        return response

    def fresh(self, node: str) -> dict[str, Any]:
        """Readings read after the cache interval, from the BMC."""
        deadline = time.monotonic() + 10 * CACHE_SECONDS
        while True:
            body: dict[str, Any] = self.sensors(node).json()
            if not body['cached']:
                return body
            self.assertLess(time.monotonic(), deadline, body)
            time.sleep(0.2)

    def test_readings_cache_and_metrics(self) -> None:
        first = self.sensors('rf-0').json()
        by_name = {item['name']: item for item in first['sensors']}
        self.assertEqual(180.0, by_name['System Power']['reading'])
        self.assertEqual(180.0, first['power_draw_watts'])
        self.assertEqual(95.0,
                         by_name['CPU1 Temp']['thresholds']['upper_critical'])
        # Behind Podium's back: the CPU overheats, the other node is off.
        self.sim.set_sensors(self.sim.systems[0], {'CPU1 Temp': 99})
        self.sim.set_power(self.sim.systems[1], 'Off')
        requests_before = self.sim.stats()['requests']
        cached = self.sensors('rf-0').json()
        self.assertTrue(cached['cached'])
        self.assertEqual(first['sensors'], cached['sensors'])
        self.assertEqual(requests_before, self.sim.stats()['requests'])

        cpu = {item['name']: item for item in self.fresh('rf-0')['sensors']
               }['CPU1 Temp']
        self.assertEqual((99.0, 'Critical'), (cpu['reading'],
                                              cpu['health']))
        off = self.fresh('rf-1')
        self.assertEqual(8.0, off['power_draw_watts'])
        text = self.sensors('rf-0', '?format=prometheus').text
        self.assertIn('sensor="CPU1 Temp",units="Cel"} 99.0', text)

        metrics = self.podium.get('/metrics').text
        self.assertEqual(2.0, _metric(metrics, 'podium_sensor_nodes{'))
        self.assertEqual(188.0, _metric(
            metrics, 'podium_sensor_power_draw_watts{'))
        self.assertEqual(1.0, _metric(
            metrics, 'podium_sensor_nodes_critical{host="podium-'
                     f'{self.podium.run_id}",kind="temperature"}}'))
        # No node identity on the shared /metrics.
        for line in metrics.splitlines():
            if line.startswith('podium_sensor'):
                self.assertNotIn('rf-0', line)
                self.assertNotIn('node=', line)
