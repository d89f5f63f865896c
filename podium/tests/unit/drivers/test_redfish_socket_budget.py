"""The kept-alive socket budget of Redfish BMCs (``redfish.socket_budget``):
its policy on counted holders, its limit from RLIMIT_NOFILE, and the
getters against the in-process BMC simulator (sessions kept while
sockets are closed, on the threaded and the non-blocking read paths).
"""

import resource
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import fixtures

from podium.common import open_files, states
from podium.drivers import base as drivers_base
from podium.drivers.modules.redfish import (
    connection,
    power,
    socket_budget,
    utils,
)
from podium.tests import base
from podium.tests.unit.drivers import helpers
from podium.tests.unit.drivers.test_redfish_lean_get import wait_until

PASSWORD = 'Budget-Pa55word-k4'
WAIT = 10.0


class _Holder:
    """A BMC's getter as the budget sees it: sockets kept or not."""

    def __init__(self, budget: socket_budget.SocketBudget) -> None:
        self.budget = budget
        self.kept = 0

    def read(self) -> bool:
        """One read; whether it reused a kept socket."""
        if self.kept:
            self.budget.used(self)
            return True
        if self.budget.keep(self):
            self.kept += 1
        return False

    def shed(self) -> None:
        closed, self.kept = self.kept, 0
        self.budget.released(self, closed)


class PolicyTestCase(base.TestCase):

    def cycles(self, budget: socket_budget.SocketBudget,
               holders: Sequence[_Holder], count: int,
               others: Sequence[_Holder] = ()) -> list[int]:
        """Reads reusing a socket in each of ``count`` cyclic walks over
        ``holders`` (``others`` are not read, but may keep sockets)."""
        reused = []
        for _cycle in range(count):
            hits = 0
            for holder in holders:
                hits += holder.read()
                self.assertLessEqual(budget.kept, 20)
                self.assertEqual(budget.kept, sum(
                    h.kept for h in [*holders, *others]))
            reused.append(hits)
        return reused

    def test_cyclic_walk_over_more_holders_than_the_budget(self) -> None:
        budget = socket_budget.SocketBudget(budget=lambda: 20)
        holders = [_Holder(budget) for _ in range(25)]
        reused = self.cycles(budget, holders, 6)
        self.assertEqual(0, reused[0])
        # Least recently used eviction would reuse none; about 20 - 5/7
        # reads a cycle keep reusing theirs.
        for hits in reused[1:]:
            self.assertGreaterEqual(hits, 17, reused)
        lru = socket_budget.SocketBudget(budget=lambda: 20, admit_every=1)
        self.assertEqual([0] * 6, self.cycles(
            lru, [_Holder(lru) for _ in range(25)], 6))

    def test_sockets_move_to_the_holders_read(self) -> None:
        budget = socket_budget.SocketBudget(budget=lambda: 20)
        gone = [_Holder(budget) for _ in range(20)]
        self.cycles(budget, gone, 1)
        self.assertEqual(20, budget.kept)
        read = [_Holder(budget) for _ in range(25)]
        self.cycles(budget, read, 12, others=gone)
        self.assertEqual(0, sum(h.kept for h in gone))
        self.assertEqual(20, budget.kept)
        self.assertEqual(20, budget.holders())

    def test_releases_count_only_what_was_kept(self) -> None:
        budget = socket_budget.SocketBudget(budget=lambda: 4)
        holder = _Holder(budget)
        holder.read()
        budget.released(holder, 3)  # more than it kept
        budget.released(_Holder(budget))  # never kept any
        self.assertEqual(0, budget.kept)
        self.assertEqual(0, budget.holders())


class LimitTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                        (soft, hard))
        self.hard = hard

    def test_derived_from_the_soft_open_files_limit(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4000, self.hard))
        self.config(reserved_file_descriptors=1000, group='redfish')
        self.assertEqual(3000, socket_budget.limit())
        # The reserve takes at most half of a small limit.
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, self.hard))
        self.assertEqual(600, socket_budget.limit())

    def test_unlimited(self) -> None:
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        self.config(reserved_file_descriptors=1000, group='redfish')
        with mock.patch.object(resource, 'getrlimit',
                               return_value=unlimited):
            self.assertEqual(open_files.UNLIMITED_TARGET - 1000,
                             socket_budget.limit())

    def test_configured_budget_wins(self) -> None:
        self.config(socket_budget=7, group='redfish')
        self.assertEqual(7, socket_budget.limit())


class SimulatorTestCase(base.TestCase):
    """One system per simulated BMC, read through the power interface
    with a budget of this test's own."""

    endpoints = 6

    def setUp(self) -> None:
        super().setUp()
        self.sim = helpers.start_simulator(
            self, endpoints=self.endpoints, systems_per_endpoint=1,
            password=PASSWORD, seed=5)
        self.useFixture(helpers.SecretsNotLogged(PASSWORD))
        self.config(request_timeout=2, group='redfish')
        self.power = power.RedfishPower()

    def use_budget(self, size: int, admit_every: int = (
            socket_budget.ADMIT_EVERY)) -> socket_budget.SocketBudget:
        budget = socket_budget.SocketBudget(budget=lambda: size,
                                            admit_every=admit_every)
        self.useFixture(fixtures.MockPatchObject(socket_budget, 'BUDGET',
                                                 budget))
        return budget

    def task(self, index: int) -> drivers_base.Task:
        system = self.sim.systems[index]
        task: Any = helpers.task_for({
            'redfish_address': system.address,
            'redfish_system_id': system.system_id,
            'redfish_username': system.username,
            'redfish_password': PASSWORD,
            'redfish_auth_type': 'session'})
        return task

    def conn(self, index: int) -> connection.Connection:
        found = connection.CACHE.peek(utils.parse(self.task(index).node))
        assert found is not None
        return found

    def stat(self, name: str) -> int:
        return int(self.sim.stats()[name])

    def logins(self) -> int:
        return int(self.sim.stats()['status_counts'].get('201', 0))

    def sim_sockets(self, index: int) -> int:
        return int(self.sim.stats()['endpoints'][index]['connections'])

    def drop_requests_pools(self) -> None:
        """Close the sockets sushy's set-up left in the shared requests
        pools, so the simulator counts the getters' alone."""
        connection._SHARED_ADAPTER.poolmanager.clear()

    def wait_for(self, condition: Callable[[], bool]) -> None:
        self.assertTrue(wait_until(condition, WAIT))


class ThreadedReadsTestCase(SimulatorTestCase):

    def test_more_bmcs_than_the_budget_keep_their_sessions(self) -> None:
        budget = self.use_budget(2)
        for index in range(self.endpoints):
            self.assertEqual(states.POWER_OFF,
                             self.power.get_power_state(self.task(index)))
            self.assertLessEqual(budget.kept, 2)
        self.assertEqual(self.endpoints, self.logins())
        self.drop_requests_pools()
        opened = []
        for _cycle in range(3):
            before = self.stat('connections_total')
            for index in range(self.endpoints):
                self.assertEqual(
                    states.POWER_OFF,
                    self.power.get_power_state(self.task(index)))
                self.assertLessEqual(budget.kept, 2)
            opened.append(self.stat('connections_total') - before)
        # No BMC logged in again, and none was forgotten.
        self.assertEqual(self.endpoints, self.logins())
        self.assertEqual(self.endpoints, len(connection.CACHE))
        # The kept sockets are the open ones, within the budget.
        idle = sum(len(self.conn(i)._lean._idle)
                   for i in range(self.endpoints))
        self.assertEqual(budget.kept, idle)
        self.wait_for(lambda: self.stat('connections') == idle)
        # Some reads reused a socket every cycle (LRU: none would).
        for count in opened:
            self.assertLess(count, self.endpoints, opened)

    def test_eviction_closes_the_idle_socket(self) -> None:
        budget = self.use_budget(1, admit_every=1)
        self.power.get_power_state(self.task(0))
        self.drop_requests_pools()
        self.wait_for(lambda: self.sim_sockets(0) == 1)
        self.assertEqual(1, len(self.conn(0)._lean._idle))
        self.power.get_power_state(self.task(1))
        self.assertEqual([], self.conn(0)._lean._idle)
        self.assertEqual(1, len(self.conn(1)._lean._idle))
        self.assertEqual(1, budget.kept)
        self.drop_requests_pools()
        self.wait_for(lambda: self.sim_sockets(0) == 0)
        # The next read reconnects with the session it has.
        logins = self.logins()
        self.assertEqual(states.POWER_OFF,
                         self.power.get_power_state(self.task(0)))
        self.assertEqual(logins, self.logins())
        self.assertEqual(1, budget.kept)


class AsyncReadsTestCase(SimulatorTestCase):

    endpoints = 2

    def read_async(self, index: int) -> None:
        task = self.task(index)
        future = self.power.start_power_read([task])
        assert future is not None
        self.assertEqual({task.node.id: states.POWER_OFF},
                         future.result(WAIT))

    def test_eviction_closes_the_idle_socket(self) -> None:
        budget = self.use_budget(1, admit_every=1)
        for index in range(self.endpoints):
            self.power.get_power_state(self.task(index))  # logs in
        self.read_async(0)
        getter = self.conn(0).aio_getter()
        self.wait_for(lambda: len(getter._idle) == 1)
        self.drop_requests_pools()
        self.wait_for(lambda: self.sim_sockets(0) == 1)
        logins = self.logins()
        self.read_async(1)
        self.wait_for(lambda: not getter._idle)
        self.wait_for(lambda: self.sim_sockets(0) == 0)
        self.assertEqual(1, len(self.conn(1).aio_getter()._idle))
        self.assertEqual(1, budget.kept)
        # Read again: a new socket, the same session.
        self.read_async(0)
        self.assertEqual(logins, self.logins())
        self.wait_for(lambda: budget.kept == 1)
