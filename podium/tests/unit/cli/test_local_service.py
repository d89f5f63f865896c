"""The demo's throw-away service: config rendering and the ready line."""

from podium.api import server
from podium.cli import local_service
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
