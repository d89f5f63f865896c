"""Sensor readings through the conductor: the per-node cache, one read
in flight per node, the deadline and the fleet sensor metrics."""

import threading
from unittest import mock

from podium.common import exceptions, metrics, states
from podium.conductor import sensor_cache
from podium.db import api as db_api
from podium.drivers import sensor_readings as sr
from podium.drivers.modules import fake
from podium.tests.unit.conductor import utils


def sample(name: str, **labels: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(name, labels)


class TestSensorsThroughManager(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.manager = self.make_manager(self.make_pool(size=12))
        self.config(sensor_cache_seconds=60, sensor_read_timeout=2,
                    group='conductor')

    def test_concurrent_requests_share_one_read(self) -> None:
        self.create_node('n1', driver_info={'fake_delay': 0.3})
        reads = []
        real = fake.FakeManagement.get_sensors_data

        def counted(interface: object, task: object) -> object:
            reads.append(1)
            return real(interface, task)  # type: ignore[arg-type]

        results: list[dict[str, object]] = []
        with mock.patch.object(fake.FakeManagement, 'get_sensors_data',
                               counted):
            threads = [threading.Thread(target=lambda: results.append(
                self.manager.get_sensors_data(self.context, 'n1')))
                for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=10)
        self.assertEqual(1, len(reads))
        self.assertEqual(6, len(results))
        self.assertEqual(1, sum(not r['cached'] for r in results))
        self.assertEqual({r['read_at'] for r in results},
                         {results[0]['read_at']})

    def test_hung_bmc_bounded_by_read_timeout(self) -> None:
        self.config(sensor_read_timeout=0.3, group='conductor')
        self.create_node('n1', driver_info={'fake_hang': True})
        before = sample('podium_bmc_request_failures_total',
                        driver='fake-hardware',
                        operation='get_sensors_data') or 0.0
        self.assertRaises(exceptions.BMCTimeout,
                          self.manager.get_sensors_data, self.context, 'n1')
        self.assertEqual(1.0, sample(
            'podium_bmc_request_failures_total', driver='fake-hardware',
            operation='get_sensors_data') - before)

    def test_unknown_node(self) -> None:
        self.assertRaises(exceptions.NodeNotFound,
                          self.manager.get_sensors_data, self.context,
                          'missing')

    def test_fleet_aggregates(self) -> None:
        hot = self.create_node('hot', power_state=states.POWER_ON)
        self.create_node('cool', power_state=states.POWER_ON)
        self.create_node('off', power_state=states.POWER_OFF)
        self.create_node('broken', driver_info={'fake_fail': 'gone'})
        self.set_fake_power(hot, states.POWER_ON)
        info = db_api.get_node('hot').driver_internal_info
        db_api.update_node('hot', {'driver_internal_info': dict(
            info, fake_sensors={'CPU1 Temp': 101, 'Fan1': 100})})
        for name in ('hot', 'cool', 'off'):
            self.manager.get_sensors_data(self.context, name)
        self.assertRaises(exceptions.DriverError,
                          self.manager.get_sensors_data, self.context,
                          'broken')
        figures = self.manager.sensors.aggregates()
        self.assertEqual(3, figures.nodes)
        self.assertEqual(3, figures.nodes_with_power)
        draws = [sr.power_draw(sr.SensorReading.from_dict(r) for r in
                               self.manager.get_sensors_data(
                                   self.context, name)['sensors'])
                 for name in ('hot', 'cool', 'off')]
        self.assertEqual(sum(d or 0 for d in draws), figures.power_watts)
        self.assertEqual(8.0, draws[2])
        self.assertEqual({'temperature': 1, 'fan': 1, 'power': 0,
                          'voltage': 0}, figures.critical_by_kind)
        # The collector reports them under this conductor's host only.
        metrics.SENSORS.register('sensor-test', self.manager.sensors)
        self.addCleanup(metrics.SENSORS.unregister, 'sensor-test')
        self.assertEqual(3.0, sample('podium_sensor_nodes',
                                     host='sensor-test'))
        self.assertEqual(1.0, sample('podium_sensor_nodes_critical',
                                     host='sensor-test',
                                     kind='temperature'))
        self.assertEqual(figures.power_watts, sample(
            'podium_sensor_power_draw_watts', host='sensor-test'))
        # Readings older than the window leave the figures.
        self.config(sensor_metrics_window=0, group='conductor')
        self.assertEqual(0, self.manager.sensors.aggregates().nodes)


class TestSensorCache(utils.ConductorTestCase):

    def test_waiter_gives_up_on_a_read_in_flight(self) -> None:
        self.config(sensor_cache_seconds=60, group='conductor')
        cache = sensor_cache.SensorCache()
        started, release = threading.Event(), threading.Event()

        def slow() -> list[sr.SensorReading]:
            started.set()
            release.wait(10)
            return []

        leader = threading.Thread(target=cache.get, args=('u', slow, 5))
        leader.start()
        self.addCleanup(leader.join, 10)
        self.addCleanup(release.set)
        self.assertTrue(started.wait(5))
        self.assertRaises(exceptions.BMCTimeout, cache.get, 'u',
                          lambda: self.fail('second read'), 0.05)
        release.set()
        leader.join(10)
        snapshot, cached = cache.get('u', lambda: self.fail('read'), 1)
        self.assertTrue(cached)
        self.assertEqual((), snapshot.readings)

    def test_pool_full_is_not_cached(self) -> None:
        self.config(sensor_cache_seconds=60, group='conductor')
        cache = sensor_cache.SensorCache()

        def full() -> list[sr.SensorReading]:
            raise exceptions.NoFreeConductorWorker()

        self.assertRaises(exceptions.NoFreeConductorWorker, cache.get, 'u',
                          full, 1)
        snapshot, cached = cache.get('u', lambda: [], 1)
        self.assertFalse(cached)
