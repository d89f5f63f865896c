"""``podium-conductor`` start-up failures, as the operator sees them."""

import os

from podium.tests import base
from podium.tests.unit import process

CONFIG = """
[DEFAULT]
state_path = {state}
enabled_hardware_types = fake-hardware
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_inspect_interfaces = fake

[database]
connection = sqlite:///{database}

[conductor]
workers_pool_size = {pool_size}
reserved_workers_pool_percentage = 50
"""


class TestConductorCommand(base.DbTestCase):

    def run_conductor(self, database: str,
                      pool_size: int = 10) -> tuple[int, str]:
        path = process.write_config(self.state_dir, CONFIG.format(
            state=self.state_dir, pool_size=pool_size, database=database))
        result = process.run_python('-m', 'podium.cmd.conductor',
                                    '--config-file', path)
        return result.returncode, result.stderr

    def test_missing_schema_is_a_clear_error(self) -> None:
        code, stderr = self.run_conductor(
            os.path.join(self.state_dir, 'empty.sqlite'))
        self.assertNotEqual(0, code)
        self.assertIn('podium-dbsync upgrade', stderr)
        self.assertNotIn('Traceback', stderr)

    def test_pool_too_small_is_a_clear_error(self) -> None:
        # 3 workers, 2 kept for actions: no room for 2 periodic tasks.
        code, stderr = self.run_conductor(
            os.path.join(self.state_dir, 'podium.sqlite'), pool_size=3)
        self.assertNotEqual(0, code)
        self.assertIn('workers_pool_size=3', stderr)
        self.assertNotIn('Traceback', stderr)
