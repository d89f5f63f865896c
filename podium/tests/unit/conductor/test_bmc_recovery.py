"""The BMC recovery ladder: its steps in order in node history, against
the fake hardware and against a simulated Redfish BMC that recovers
after a ``Manager.Reset``."""

from typing import Any

import fixtures

from podium.common import states
from podium.conductor import bmc_recovery
from podium.db import api as db_api
from podium.db import models
from podium.tests.unit.conductor import utils
from podium.tests.unit.db import test_bmc_resets
from podium.tests.unit.drivers import helpers

PASSWORD = 'Sim-Pa55word-q8'

STEP1 = 'Step 1 of 4: dropping the cached BMC session and reconnecting.'
RECONNECT_FAILED = 'Reconnecting did not help'
STEP2 = 'Step 2 of 4: resetting the BMC.'
STEP3 = 'Step 3 of 4: waiting up to'
ANSWERS = 'recovered without maintenance'
STEP4 = 'Step 4 of 4: the BMC did not recover'


class LadderTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(bmc_recovery=True, power_state_sync_max_retries=2,
                    power_state_read_timeout=2.0, bmc_recovery_wait=5.0,
                    bmc_reset_interval=300, group='conductor')
        self.useFixture(fixtures.MockPatch(
            'podium.conductor.bmc_recovery.POLL_INTERVAL', 0.1))
        self.manager = self.make_manager(self.make_pool(size=12))
        self.sync = self.manager.power_sync

    def row(self, node: models.Node) -> Any:
        return db_api.get_node(node.id)

    def ladder(self, node: models.Node) -> list[str]:
        return [entry.event for entry in db_api.list_node_history(node.id)
                if entry.event_type == bmc_recovery.EVENT_TYPE]

    def assertSteps(self, expected: list[str], events: list[str]) -> None:
        self.assertEqual(len(expected), len(events), events)
        for start, event in zip(expected, events, strict=True):
            self.assertTrue(event.startswith(start), (start, event))

    def assertResetRefused(self, node: models.Node, group: str) -> None:
        """The rate limit of ``group`` refused ``node``'s reset: not
        reset, and in maintenance as without the ladder."""
        self.assertSteps([STEP1, RECONNECT_FAILED, 'BMC reset not attempted'
                          f': a BMC of conductor group "{group}"', STEP4],
                         self.ladder(node))
        self.assertTrue(self.row(node).maintenance)
        self.assertNotIn('fake_bmc_reset',
                         self.row(node).driver_internal_info or {})

    def sync_until_ladder_ends(self, node: models.Node) -> None:
        """Sync until the ladder of ``node`` started and ended."""
        for _ in range(3):
            self.sync.run(self.context)
            if self.ladder(node):
                break
        utils.wait_for(lambda: not self.sync.recovery.running(node.id),
                       what='the ladder to end')


class TestFakeLadder(LadderTestCase):

    def test_reset_recovers_without_maintenance(self) -> None:
        node = self.create_synced_node('n1', driver_info={
            'fake_fail': 'BMC web server wedged', 'fake_reset_fixes': True})
        self.sync.run(self.context)
        # One failed read: not yet.
        self.assertEqual([], self.ladder(node))
        self.sync_until_ladder_ends(node)
        self.assertSteps([STEP1, RECONNECT_FAILED, STEP2, STEP3,
                          'The BMC answers again'], self.ladder(node))
        stored = self.row(node)
        self.assertFalse(stored.maintenance)
        self.assertIsNone(stored.fault)
        self.assertTrue(stored.driver_internal_info['fake_bmc_reset'])
        self.assertEqual(0, self.sync.failure_count(node.id))
        # The next cycle reads it and clears the read error.
        self.sync.run(self.context)
        self.assertIsNone(self.row(node).last_error)

    def test_no_recovery_ends_in_maintenance(self) -> None:
        self.config(bmc_recovery_wait=1.0, group='conductor')
        node = self.create_synced_node('n1', driver_info={
            'fake_fail': 'no route to host'})
        self.sync_until_ladder_ends(node)
        self.assertSteps([STEP1, RECONNECT_FAILED, STEP2, STEP3, STEP4],
                         self.ladder(node))
        stored = self.row(node)
        self.assertTrue(stored.maintenance)
        self.assertEqual(states.POWER_FAILURE, stored.fault)
        self.assertIn('no route to host', stored.maintenance_reason)
        # In maintenance with its fault, it is not laddered again.
        self.sync.run(self.context)
        self.assertEqual(5, len(self.ladder(node)))

    def test_reset_rate_limited_per_conductor_group(self) -> None:
        first = self.create_synced_node('n1', conductor_group='rack-1',
                                        driver_info={
                                            'fake_fail': 'wedged',
                                            'fake_reset_fixes': True})
        second = self.create_synced_node('n2', conductor_group='rack-1',
                                         driver_info={'fake_fail': 'wedged'})
        other = self.create_synced_node('n3', conductor_group='rack-2',
                                        driver_info={
                                            'fake_fail': 'wedged',
                                            'fake_reset_fixes': True})
        self.assertTrue(self.sync.recovery.climb(self.context,
                                                 self.row(first)))
        self.assertFalse(self.sync.recovery.climb(self.context,
                                                  self.row(second)))
        self.assertResetRefused(second, 'rack-1')
        # Another group has its own budget.
        self.assertTrue(self.sync.recovery.climb(self.context,
                                                 self.row(other)))

    def test_reset_rate_limited_across_the_group_s_conductors(self) -> None:
        # Two conductors sharing the database: this one and another.
        other_host = bmc_recovery.Ladder('other-conductor',
                                         self.make_pool(size=4))
        here = self.sync.recovery
        fixed = {'fake_fail': 'wedged', 'fake_reset_fixes': True}
        first = self.create_synced_node('n1', conductor_group='rack-1',
                                        driver_info=dict(fixed))
        second = self.create_synced_node('n2', conductor_group='rack-1',
                                         driver_info=dict(fixed))
        other = self.create_synced_node('n3', conductor_group='rack-2',
                                        driver_info=dict(fixed))
        self.assertTrue(here.climb(self.context, self.row(first)))
        # The other conductor's first reset in the group is refused.
        self.assertFalse(other_host.climb(self.context, self.row(second)))
        self.assertResetRefused(second, 'rack-1')
        # Another group is not limited by it, on either conductor.
        self.assertTrue(other_host.climb(self.context, self.row(other)))
        # Once the interval passed, the next reset in the group is allowed.
        test_bmc_resets.age_last_reset('rack-1', 301)
        db_api.update_node_by_id(second.id, {
            'maintenance': False, 'fault': None, 'maintenance_reason': None})
        self.assertTrue(other_host.climb(self.context, self.row(second)))
        self.assertTrue(self.row(second).driver_internal_info[
            'fake_bmc_reset'])
        self.assertFalse(self.row(second).maintenance)

    def test_never_while_an_action_is_in_flight(self) -> None:
        node = self.create_synced_node('n1', driver_info={
            'fake_fail': 'wedged', 'fake_reset_fixes': True})
        db_api.update_node_by_id(node.id, {
            'target_power_state': states.POWER_ON})
        self.assertFalse(self.sync.recovery.climb(self.context,
                                                  self.row(node)))
        db_api.update_node_by_id(node.id, {'target_power_state': None,
                                           'reservation': 'other-host'})
        self.assertFalse(self.sync.recovery.climb(self.context,
                                                  self.row(node)))
        events = self.ladder(node)
        self.assertIn('an action is in flight', events[2])
        self.assertIn('an action holds the node\'s lock', events[-1])
        stored = self.row(node)
        self.assertFalse(stored.maintenance)
        self.assertNotIn('fake_bmc_reset', stored.driver_internal_info or {})

    def test_off_by_default_maintenance_at_once(self) -> None:
        self.config(bmc_recovery=False, group='conductor')
        node = self.create_synced_node('n1', driver_info={
            'fake_fail': 'wedged', 'fake_reset_fixes': True})
        self.sync.run(self.context)
        self.sync.run(self.context)
        self.assertEqual([], self.ladder(node))
        self.assertTrue(self.row(node).maintenance)


class TestRedfishLadder(LadderTestCase):
    """A simulated Redfish BMC whose system hangs until a Manager.Reset,
    then answers nothing for a while, then recovers."""

    def setUp(self) -> None:
        super().setUp()
        self.config(enabled_hardware_types=['fake-hardware', 'redfish'],
                    enabled_power_interfaces=['fake', 'redfish'],
                    enabled_management_interfaces=['fake', 'redfish'])
        self.config(request_timeout=1, group='redfish')
        self.config(power_state_read_timeout=1.0, bmc_recovery_wait=20.0,
                    group='conductor')
        self.sim = helpers.start_simulator(
            self, endpoints=1, password=PASSWORD, seed=5)
        self.sim.set_bmc_reset_seconds(0, 1.5)
        system = self.sim.systems[0]
        self.node = self.create_synced_node(
            'r1', driver='redfish', power_interface='redfish',
            management_interface='redfish', power_state=states.POWER_OFF,
            driver_info=system.driver_info())
        self.sync.run(self.context)
        self.assertIsNone(self.row(self.node).last_error)
        self.sim.set_system_behaviour(0, hang=True)

    def test_reset_recovers_the_node_without_maintenance(self) -> None:
        self.sync_until_ladder_ends(self.node)
        self.assertSteps([STEP1, RECONNECT_FAILED, STEP2, STEP3,
                          'The BMC answers again'], self.ladder(self.node))
        answered = self.ladder(self.node)[-1]
        self.assertIn(ANSWERS, answered)
        # The BMC answered nothing for its 1.5 s restart: waited for.
        waited = int(answered.split('again ')[1].split(' s after')[0])
        self.assertGreaterEqual(waited, 1)
        self.assertFalse(self.row(self.node).maintenance)
        self.assertEqual(1, self.sim.stats()['endpoints'][0]['bmc_resets'])
        self.sync.run(self.context)
        stored = self.row(self.node)
        self.assertIsNone(stored.last_error)
        self.assertFalse(stored.maintenance)
