"""Helpers of the conductor tests: fake-hardware nodes and a manager."""

import time
from collections.abc import Callable
from typing import Any

from podium.common import context as podium_context
from podium.common import hash_ring, states
from podium.conductor import manager as manager_mod
from podium.conductor import pool as pool_mod
from podium.db import api as db_api
from podium.db import models
from podium.tests import base

#: Generous: the machine running the tests may be loaded.
WAIT_TIMEOUT = 20.0


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_TIMEOUT,
             interval: float = 0.01, what: str = 'condition') -> Any:
    """Poll ``predicate`` until it returns something true; fail after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(interval)


def verified(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of a node row power sync reads: verified
    (``manageable`` unless ``values`` say otherwise), as enrollment plus
    ``manage`` leave it; sync leaves freshly enrolled nodes alone."""
    return dict({'provision_state': states.MANAGEABLE}, **values)


class ConductorTestCase(base.DbTestCase):
    """A database, fake-hardware only, and this host registered alive."""

    HOST = 'test-conductor'

    def setUp(self) -> None:
        super().setUp()
        self.use_fake_drivers()
        self.config(node_locked_retry_attempts=1,
                    node_locked_retry_interval=0.01, group='conductor')
        hash_ring.HashRingManager.reset()
        self.addCleanup(hash_ring.HashRingManager.reset)
        db_api.register_conductor(self.HOST, ['fake-hardware'])
        self.context = podium_context.get_admin_context()

    def create_node(self, name: str | None = None,
                    **values: Any) -> models.Node:
        values.setdefault('driver', 'fake-hardware')
        values.setdefault('power_state', 'power off')
        return db_api.create_node(dict(values, name=name))

    def create_synced_node(self, name: str | None = None,
                           **values: Any) -> models.Node:
        """A node power sync reads: verified (``manageable``), unlike a
        freshly enrolled one, which sync leaves alone as Ironic does."""
        return ConductorTestCase.create_node(self, name, **verified(values))

    def make_pool(self, size: int = 10, reserved: int = 1,
                  periodic_slots: int = 1) -> pool_mod.WorkerPool:
        pool = pool_mod.WorkerPool(size, reserved)
        pool.reserve_periodic_slots(periodic_slots)
        self.addCleanup(pool.shutdown)
        return pool

    def make_manager(self, pool: pool_mod.WorkerPool | None = None
                     ) -> manager_mod.ConductorManager:
        return manager_mod.ConductorManager(self.HOST,
                                            pool or self.make_pool())

    def set_fake(self, node: models.Node, **driver_info: Any) -> None:
        """Change the fake BMC's behaviour of ``node``."""
        db_api.update_node(node.id, {'driver_info': driver_info})

    def set_fake_power(self, node: models.Node, power_state: str) -> None:
        """Change the power state behind the conductor's back."""
        current = db_api.get_node(node.id).driver_internal_info or {}
        db_api.update_node(node.id, {'driver_internal_info': dict(
            current, fake_power_state=power_state)})
