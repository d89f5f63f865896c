"""Nodes left mid-transition: restart, takeover and timeouts."""

import datetime

from podium.common import states
from podium.conductor import recovery
from podium.db import api as db_api
from podium.db import models
from podium.tests.unit.conductor import test_service, utils


class _Stuck(utils.ConductorTestCase):

    def stuck(self, name: str, state: str, holder: str | None = None,
              age: float = 0.0) -> int:
        """A node left in ``state`` ``age`` seconds ago."""
        node = self.create_node(name, provision_state=state)
        values = {'provision_updated_at': models.utcnow()
                  - datetime.timedelta(seconds=age),
                  'clean_step': {'interface': 'power', 'step': 'power_off'}}
        db_api.update_node(node.id, values)
        if holder is not None:
            db_api.reserve_node(holder, node.id)
        return node.id


class InterruptedTest(test_service.ServiceTestCase, _Stuck):

    def test_restart_fails_what_it_was_doing(self) -> None:
        cases = {'c': (states.CLEANING, states.CLEANFAIL),
                 'd': (states.DEPLOYING, states.DEPLOYFAIL),
                 'v': (states.VERIFYING, states.ENROLL),
                 'x': (states.DELETING, states.ERROR)}
        for name, (state, _failed) in cases.items():
            self.stuck(name, state, holder=self.HOST)
        self.start_service()
        for name, (state, failed) in cases.items():
            node = db_api.get_node(name)
            self.assertEqual(failed, node.provision_state, name)
            self.assertIsNone(node.reservation)
            self.assertIsNone(node.clean_step)
            self.assertEqual(f'{state.capitalize()} was interrupted: '
                             f'conductor {self.HOST} restarted while it '
                             f'ran.',
                             node.last_error)

    def test_takeover_fails_dead_conductors_nodes(self) -> None:
        conductor = self.start_service()
        db_api.register_conductor('dead-host', ['fake-hardware'])
        self.make_stale('dead-host')
        self.stuck('i', states.INSPECTING, holder='dead-host')
        self.assertEqual(1, conductor.release_dead_conductor_locks())
        node = db_api.get_node('i')
        self.assertEqual(states.INSPECTFAIL, node.provision_state)
        self.assertEqual(states.MANAGEABLE, node.target_provision_state)
        self.assertIn('conductor dead-host died while it ran',
                      node.last_error)


class TimeoutTest(_Stuck):

    def test_timeouts(self) -> None:
        self.config(clean_callback_timeout=60, deploy_callback_timeout=0,
                    group='conductor')
        old = self.stuck('old', states.CLEANWAIT, age=3600)
        self.stuck('new', states.CLEANWAIT, age=1)
        self.stuck('locked', states.CLEANING, holder='other', age=3600)
        self.stuck('off', states.DEPLOYWAIT, age=3600)
        manager = self.make_manager()
        self.assertEqual(1, recovery.fail_timed_out(
            self.context, self.HOST, manager.ring))
        node = db_api.get_node(old)
        self.assertEqual(states.CLEANFAIL, node.provision_state)
        self.assertIn('Timeout reached while clean wait', node.last_error)
        self.assertIn('clean_callback_timeout', node.last_error)
        for name, state in (('new', states.CLEANWAIT),
                            ('locked', states.CLEANING),
                            ('off', states.DEPLOYWAIT)):
            self.assertEqual(state, db_api.get_node(name).provision_state)
        history = db_api.list_node_history(old)
        self.assertEqual('ERROR', history[-1].severity)

    def test_power_sync_leaves_transient_nodes_alone(self) -> None:
        self.stuck('busy', states.CLEANING)
        self.create_node('idle', provision_state=states.AVAILABLE)
        manager = self.make_manager()
        stats = manager.power_sync.run(self.context)
        self.assertEqual(1, stats.nodes)
