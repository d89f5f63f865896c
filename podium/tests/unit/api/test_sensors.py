"""GET /v1/nodes/{id}/sensors (a Podium extension) on fake-hardware:
readings through the node's conductor, its cache, filters, the
Prometheus format and the errors."""

from typing import Any
from unittest import mock

from podium.db import api as db_api
from podium.drivers import base as drivers_base
from podium.drivers.modules import fake
from podium.tests.unit.api import base


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item['name']: item for item in body['sensors']}


class SensorsTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.node = self.create_node(name='n1')
        # Read afresh on every request unless a test says otherwise.
        self.config(sensor_cache_seconds=0, group='conductor')

    def get(self, query: str = '', node: str = 'n1') -> Any:
        return self.client.get(f'/v1/nodes/{node}/sensors{query}')

    def set_internal(self, **values: Any) -> None:
        node = db_api.get_node('n1')
        db_api.update_node('n1', {'driver_internal_info': {
            **(node.driver_internal_info or {}), **values}})

    def test_readings_follow_power_state(self) -> None:
        self.set_internal(fake_power_state='power off')
        response = self.get()
        self.assertEqual(200, response.status_code, response.text)
        body = response.json()
        self.assertEqual(self.node['uuid'], body['node_uuid'])
        self.assertFalse(body['cached'])
        sensors = _by_name(body)
        self.assertEqual({'power', 'temperature', 'fan', 'voltage'},
                         {item['kind'] for item in body['sensors']})
        self.assertEqual(8.0, sensors['System Power']['reading'])
        self.assertEqual(8.0, body['power_draw_watts'])
        self.assertIsNone(sensors['CPU1 Temp']['reading'])
        self.assertEqual('StandbyOffline', sensors['CPU1 Temp']['state'])
        self.set_internal(fake_power_state='power on')
        sensors = _by_name(self.get().json())
        cpu = sensors['CPU1 Temp']
        self.assertGreaterEqual(cpu['reading'], 48.0)
        self.assertEqual(('Cel', 'OK', 'CPU'),
                         (cpu['units'], cpu['health'], cpu['context']))
        self.assertEqual({'upper_caution': 85.0, 'upper_critical': 95.0,
                          'upper_fatal': 100.0}, cpu['thresholds'])
        self.assertGreaterEqual(sensors['System Power']['reading'], 180.0)
        # The same node reads the same every time (deterministic).
        self.assertEqual(sensors, _by_name(self.get().json()))

    def test_kind_filter_and_bad_query(self) -> None:
        body = self.get('?kind=temperature&kind=fan').json()
        self.assertEqual({'temperature', 'fan'},
                         {item['kind'] for item in body['sensors']})
        body = self.get('?kind=power,voltage').json()
        self.assertEqual({'power', 'voltage'},
                         {item['kind'] for item in body['sensors']})
        self.assertError(self.get('?kind=humidity'), 400, 'humidity',
                         'temperature')
        self.assertError(self.get('?format=xml'), 400, 'xml',
                         'prometheus')

    def test_unknown_node(self) -> None:
        self.assertError(self.get(node='nope'), 404, 'nope')

    def test_unsupported_driver(self) -> None:
        with mock.patch.object(
                fake.FakeManagement, 'get_sensors_data',
                drivers_base.ManagementInterface.get_sensors_data):
            self.assertError(self.get(), 400, 'Reading sensors',
                             'not supported', 'n1')

    def test_bmc_failure_not_written_to_node(self) -> None:
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'no BMC'}})
        self.assertError(self.get(), 500, 'no BMC')
        self.assertIsNone(db_api.get_node('n1').last_error)

    def test_cache(self) -> None:
        self.config(sensor_cache_seconds=60, group='conductor')
        self.set_internal(fake_power_state='power on')
        first = self.get().json()
        self.assertFalse(first['cached'])
        # A change behind Podium's back is not seen while cached...
        self.set_internal(fake_sensors={'CPU1 Temp': 99})
        with mock.patch.object(fake.FakeManagement, 'get_sensors_data',
                               side_effect=AssertionError('BMC read')):
            second = self.get().json()
        self.assertTrue(second['cached'])
        self.assertEqual(first['sensors'], second['sensors'])
        self.assertEqual(first['read_at'], second['read_at'])
        # ...and is once the cache expires.
        self.config(sensor_cache_seconds=0, group='conductor')
        third = self.get().json()
        self.assertFalse(third['cached'])
        cpu = _by_name(third)['CPU1 Temp']
        self.assertEqual((99.0, 'Critical'), (cpu['reading'],
                                              cpu['health']))

    def test_failures_cached_too(self) -> None:
        self.config(sensor_cache_seconds=60, group='conductor')
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'broken'}})
        self.assertError(self.get(), 500, 'broken')
        db_api.update_node('n1', {'driver_info': {}})
        # The broken BMC is not read again within the interval.
        self.assertError(self.get(), 500, 'broken')
        self.config(sensor_cache_seconds=0, group='conductor')
        self.assertEqual(200, self.get().status_code)

    def test_prometheus_format(self) -> None:
        self.set_internal(fake_power_state='power on',
                          fake_sensors={'CPU1 Temp': 97})
        response = self.get('?format=prometheus')
        self.assertEqual(200, response.status_code, response.text)
        self.assertIn('text/plain', response.headers['content-type'])
        text = response.text
        uuid = self.node['uuid']
        self.assertIn(
            f'podium_node_sensor_reading{{kind="temperature",node="{uuid}",'
            f'sensor="CPU1 Temp",units="Cel"}} 97.0', text)
        self.assertIn(
            f'podium_node_sensor_critical{{kind="temperature",node="{uuid}",'
            f'sensor="CPU1 Temp",units="Cel"}} 1.0', text)
        self.assertIn('threshold="upper_critical",units="Cel"} 95.0', text)
        self.assertIn(f'podium_node_power_draw_watts{{node="{uuid}"}}',
                      text)
        self.assertIn('podium_node_sensor_age_seconds', text)
