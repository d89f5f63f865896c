"""The demo's throw-away service: config rendering, the ready line and
its log."""

import os

import httpx

from podium.api import server
from podium.cli import demo, local_service
from podium.cli.errors import CliError
from podium.tests import base


class LocalServiceTest(base.TestCase):

    def test_ready_prefix_matches_the_server(self) -> None:
        self.assertEqual(server.READY_PREFIX, local_service.READY_PREFIX)

    def test_render_config(self) -> None:
        text = local_service.render_config({
            'DEFAULT': {'enabled_hardware_types': ['fake-hardware',
                                                   'redfish']},
            'conductor': {'action_timeout': 5.0}})
        self.assertEqual('[DEFAULT]\n'
                         'enabled_hardware_types = fake-hardware,redfish\n'
                         '\n[conductor]\naction_timeout = 5.0\n', text)

    def test_options_are_merged_over_the_defaults(self) -> None:
        service = local_service.LocalService(
            self.state_dir, {'api': {'port': 1234}, 'x': {'y': 1}})
        self.assertIn(f'state_path = {self.state_dir}', service._config)
        self.assertIn('host_ip = 127.0.0.1\nport = 1234', service._config)
        self.assertIn('[x]\ny = 1', service._config)

    def test_wait_until(self) -> None:
        calls = []
        self.assertTrue(local_service.wait_until(
            lambda: calls.append(1) or len(calls) == 3, 10, interval=0))
        self.assertFalse(local_service.wait_until(lambda: False, 0))


class LocalServiceLogTest(base.TestCase):
    """``podium.log``, which the demo names, holds what the service said
    (it was created and left empty)."""

    def read_log(self, service: local_service.LocalService) -> str:
        self.assertEqual(os.path.join(self.state_dir, 'podium.log'),
                         service.log_path)
        with open(service.log_path, encoding='utf-8') as handle:
            return handle.read()

    def test_running_service_logs_there(self) -> None:
        service = local_service.LocalService(self.state_dir,
                                             demo.SERVICE_OPTIONS)
        self.addCleanup(service.stop)
        url = service.start()
        self.assertEqual(200, httpx.get(url + '/v1/', timeout=30)
                         .status_code)
        service.stop()
        log = self.read_log(service)
        self.assertIn('Conductor podium-demo started', log)
        self.assertIn('Conductor podium-demo stopped', log)

    def test_failed_start_explained_there(self) -> None:
        service = local_service.LocalService(
            self.state_dir, {'conductor': {'workers_pool_size': 2}})
        self.addCleanup(service.stop)
        error = self.assertRaises(CliError, service.start)
        self.assertIn(f'see {service.log_path}', str(error))
        self.assertIn('workers_pool_size', self.read_log(service))
