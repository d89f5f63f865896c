"""Conductor metrics: pool, periodic tasks, power sync, metrics port."""

import socket
import threading
import time
import urllib.request

from futurist import periodics as futurist_periodics

from podium.common import exceptions, metrics, states
from podium.conductor import periodics, service
from podium.db import api as db_api
from podium.tests.unit.conductor import utils


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


class Deltas:
    """Values of some samples now, to compare with later."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self._before = {(name, tuple(sorted(labels.items()))):
                        sample(name, **labels) for name, labels in samples}

    def __call__(self, name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return sample(name, **labels) - self._before[key]


class TestPowerSyncMetrics(utils.ConductorTestCase):

    def test_outcomes_and_cycle_time(self) -> None:
        self.config(power_state_read_timeout=0.2, sync_power_state_workers=4,
                    group='conductor')
        manager = self.make_manager(self.make_pool(size=12))
        changed = self.create_synced_node('changed',
                                          power_state=states.POWER_OFF)
        self.set_fake_power(changed, states.POWER_ON)
        self.create_synced_node('same', power_state=states.POWER_OFF)
        self.create_synced_node('broken', driver_info={'fake_fail': 'boom'})
        self.create_synced_node('slow', driver_info={'fake_delay': 5})
        outcome = {'read', 'changed', 'failed', 'timed_out'}
        delta = Deltas(
            *(('podium_power_sync_nodes_total', {'outcome': name})
              for name in outcome),
            ('podium_power_sync_cycle_duration_seconds_count', {}),
            ('podium_bmc_request_duration_seconds_count',
             {'driver': 'fake-hardware', 'operation': 'get_power_state'}),
            ('podium_bmc_request_failures_total',
             {'driver': 'fake-hardware', 'operation': 'get_power_state'}))
        manager.power_sync.run(self.context)
        self.assertEqual(
            {'read': 2, 'changed': 1, 'failed': 1, 'timed_out': 1},
            {name: delta('podium_power_sync_nodes_total', outcome=name)
             for name in outcome})
        self.assertEqual(1, delta(
            'podium_power_sync_cycle_duration_seconds_count'))
        self.assertGreater(sample('podium_power_sync_last_cycle_seconds'),
                           0.0)
        labels = {'driver': 'fake-hardware', 'operation': 'get_power_state'}
        self.assertEqual(4, delta(
            'podium_bmc_request_duration_seconds_count', **labels))
        self.assertEqual(2, delta('podium_bmc_request_failures_total',
                                  **labels))


class TestPeriodicMetrics(utils.ConductorTestCase):

    def test_runs_failures_duration_lateness(self) -> None:
        calls = []

        def body() -> None:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError('second run fails')

        name = 'test.metrics_task'
        delta = Deltas(('podium_periodic_task_runs_total', {'task': name}),
                       ('podium_periodic_task_failures_total',
                        {'task': name}),
                       ('podium_periodic_task_duration_seconds_count',
                        {'task': name}))
        # A spacing far below the gap between the calls below: the
        # second run is late by about that gap.
        run = metrics.timed_periodic(name, 0.001, body)
        run()
        self.assertEqual(0.0, sample('podium_periodic_task_lateness_seconds',
                                     task=name))
        time.sleep(0.05)
        self.assertRaises(RuntimeError, run)
        self.assertEqual(2, delta('podium_periodic_task_runs_total',
                                  task=name))
        self.assertEqual(1, delta('podium_periodic_task_failures_total',
                                  task=name))
        self.assertEqual(2, delta(
            'podium_periodic_task_duration_seconds_count', task=name))
        self.assertGreaterEqual(
            sample('podium_periodic_task_lateness_seconds', task=name), 0.04)

    def test_collected_tasks_are_measured(self) -> None:
        manager = self.make_manager()
        self.config(sync_power_state_interval=60, group='conductor')
        [task] = [task for task in periodics.collect(manager)
                  if task.name.endswith('_sync_power_states')]
        self.assertTrue(futurist_periodics.is_periodic(task.run))
        delta = Deltas(('podium_periodic_task_runs_total',
                        {'task': task.name}))
        task.run()
        self.assertEqual(1, delta('podium_periodic_task_runs_total',
                                  task=task.name))


class TestPoolMetrics(utils.ConductorTestCase):

    def test_refused_actions_counted(self) -> None:
        pool = self.make_pool(3, 1, periodic_slots=1)
        delta = Deltas(('podium_conductor_pool_refused_total',
                        {'kind': 'action'}))
        pool.close()
        # A closed pool refuses too, but that is shutdown, not load.
        self.assertRaises(exceptions.NoFreeConductorWorker, pool.spawn,
                          lambda: None)
        self.assertEqual(0, delta('podium_conductor_pool_refused_total',
                                  kind='action'))
        pool = self.make_pool(3, 1, periodic_slots=1)
        release = threading.Event()
        futures = [pool.spawn(release.wait, 10.0) for _ in range(2)]
        self.assertRaises(exceptions.NoFreeConductorWorker, pool.spawn,
                          lambda: None)
        self.assertEqual(1, delta('podium_conductor_pool_refused_total',
                                  kind='action'))
        self.assertEqual({'actions': 2, 'steps': 0, 'periodic_runs': 0},
                         pool.busy_by_kind())
        release.set()
        for future in futures:
            self.assertTrue(future.result(10))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


class TestMetricsPort(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(rpc_transport='local')
        self.config(workers_pool_size=8, sync_power_state_interval=0,
                    group='conductor')
        # The service registers itself.
        db_api.unregister_conductor(self.HOST)

    def test_conductor_serves_its_metrics(self) -> None:
        port = _free_port()
        self.config(metrics_port=port, group='conductor')
        conductor = service.ConductorService()
        conductor.start()
        self.addCleanup(conductor.stop, graceful=False)
        url = f'http://127.0.0.1:{port}/metrics'
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
        self.assertIn('podium_conductor_pool_idle{host="test-conductor"}',
                      body)
        self.assertIn('podium_periodic_task_runs_total', body)
        conductor.stop(graceful=False)
        self.assertRaises(OSError, urllib.request.urlopen, url, timeout=2)
        self.assertIsNone(sample('podium_conductor_pool_idle',
                                 host='test-conductor') or None)

    def test_port_taken_refuses_to_start(self) -> None:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            sock.listen()
            self.config(metrics_port=sock.getsockname()[1],
                        group='conductor')
            conductor = service.ConductorService()
            error = self.assertRaises(exceptions.ConfigInvalid,
                                      conductor.start)
        self.assertIn('metrics_port', str(error))
        self.assertTrue(conductor.wait(10))
