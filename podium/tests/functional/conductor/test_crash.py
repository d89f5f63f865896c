"""A real ``podium serve`` killed with SIGKILL in the middle of a power
action or of cleaning, then started again: nothing is left half done,
and power sync reads the node again."""

import os
import time

import requests
from testtools import content

from podium.common import states
from podium.conf import CONF
from podium.db import api as db_api
from podium.tests import base
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.unit.conductor import utils
from podium.tests.unit.conductor.utils import wait_for

HOST = 'crash-conductor'
#: Seconds the fake BMC takes per call while the action is killed.
SLOW_BMC = 120
WAIT = 60.0
#: A restart within this of the last heartbeat is refused (the host
#: might be alive elsewhere): the test waits it out.
HEARTBEAT_TIMEOUT = 3
#: Seconds between two power sync cycles of the service.
SYNC_INTERVAL = 1
LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


class _Service(base.DbTestCase):
    """Runs ``podium serve`` on the test's database."""

    def start_service(self, log_name: str) -> podium_fixtures.PodiumProcess:
        config_file = os.path.join(self.state_dir, 'podium.conf')
        podium_fixtures.write_config(config_file, {
            'DEFAULT': dict(podium_fixtures.FAKE_DRIVERS,
                            state_path=self.state_dir, host=HOST),
            'database': {'connection': CONF.database.connection},
            'api': {'host_ip': '127.0.0.1', 'port': 0},
            'conductor': {'sync_power_state_interval': SYNC_INTERVAL,
                          'force_power_state_during_sync': False,
                          'heartbeat_interval': 1,
                          'heartbeat_timeout': HEARTBEAT_TIMEOUT,
                          'action_timeout': SLOW_BMC * 2}})
        return self.useFixture(podium_fixtures.PodiumProcess(
            'podium.cmd.serve', config_file,
            os.path.join(self.state_dir, log_name)))


class TestKilledMidPowerAction(_Service):

    def kill_and_restart(self, first: podium_fixtures.PodiumProcess,
                         node_id: int) -> podium_fixtures.PodiumProcess:
        """SIGKILL ``first``, let the node's BMC answer at once and say
        "on" (it had switched the server on before the crash), and start
        the service again once its heartbeat is stale."""
        first.process.kill()
        first.process.wait(30)
        time.sleep(HEARTBEAT_TIMEOUT + 1)
        db_api.update_node_by_id(node_id, {
            'driver_info': {},
            'driver_internal_info': {'fake_power_state': states.POWER_ON}})
        return self.start_service('second.log')

    def test_restart_aborts_the_power_action_and_syncs_again(self) -> None:
        node = db_api.create_node(utils.verified({
            'name': 'slow', 'driver': 'fake-hardware',
            'power_state': states.POWER_OFF,
            'driver_info': {'fake_delay': SLOW_BMC},
            'driver_internal_info': {'fake_power_state': states.POWER_OFF}}))
        first = self.start_service('first.log')
        response = requests.put(
            f'{first.url}/v1/nodes/{node.uuid}/states/power',
            json={'target': states.POWER_ON}, timeout=30)
        self.assertEqual(202, response.status_code, response.text)
        stored = db_api.get_node(node.id)
        self.assertEqual(HOST, stored.reservation)
        self.assertEqual(states.POWER_ON, stored.target_power_state)

        second = self.kill_and_restart(first, node.id)
        stored = wait_for(lambda: (lambda n: n if n.last_error else None)(
            db_api.get_node(node.id)), timeout=WAIT,
            what='the restarted conductor to record the abort')
        self.assertIsNone(stored.target_power_state)
        self.assertEqual(
            f'Power action to "{states.POWER_ON}" was interrupted: '
            f'conductor {HOST} restarted while it ran', stored.last_error)
        history = [entry.event for entry in db_api.list_node_history(node.id)]
        self.assertIn(stored.last_error, history)
        # Power sync owns the node again and records what the BMC says.
        wait_for(lambda: db_api.get_node(node.id).power_state
                 == states.POWER_ON, timeout=WAIT,
                 what='power sync to read the node again')
        shown = requests.get(f'{second.url}/v1/nodes/{node.uuid}',
                             timeout=30).json()
        self.assertIsNone(shown['target_power_state'])
        self.assertIsNone(shown['reservation'])
        self.assertEqual(stored.last_error, shown['last_error'])

    def test_restart_fails_the_cleaning_and_syncs_again(self) -> None:
        # Automated cleaning's first step hangs on the slow fake BMC.
        node = db_api.create_node(utils.verified({
            'name': 'cleaned', 'driver': 'fake-hardware',
            'power_state': states.POWER_OFF,
            'driver_info': {'fake_delay': SLOW_BMC},
            'driver_internal_info': {'fake_power_state': states.POWER_OFF}}))
        first = self.start_service('first.log')
        response = requests.put(
            f'{first.url}/v1/nodes/{node.uuid}/states/provision',
            json={'target': 'provide'}, headers=LATEST, timeout=30)
        self.assertEqual(202, response.status_code, response.text)
        stored = wait_for(lambda: (lambda n: n if n.clean_step else None)(
            db_api.get_node(node.id)), timeout=WAIT,
            what='the first clean step to start')
        self.assertEqual((states.CLEANING, HOST),
                         (stored.provision_state, stored.reservation))

        second = self.kill_and_restart(first, node.id)
        stored = wait_for(
            lambda: (lambda n: n if n.provision_state == states.CLEANFAIL
                     else None)(db_api.get_node(node.id)),
            timeout=WAIT, what='the restarted conductor to fail cleaning')
        failed_at = time.monotonic()
        self.assertEqual(f'Cleaning was interrupted: conductor {HOST} '
                         f'restarted while it ran.', stored.last_error)
        self.assertIsNone(stored.reservation)
        self.assertFalse(stored.clean_step)
        self.assertEqual(states.POWER_OFF, stored.power_state)
        history = [entry.event for entry in db_api.list_node_history(node.id)]
        self.assertIn(f'Provision state changed from "cleaning" to "clean '
                      f'failed" (fail): {stored.last_error}', history)
        # Not transient any more: the next sync cycle reads the BMC.
        wait_for(lambda: db_api.get_node(node.id).power_state
                 == states.POWER_ON, timeout=WAIT,
                 what='power sync to read the node again')
        synced_after = time.monotonic() - failed_at
        self.addDetail('synced after', content.text_content(
            f'{synced_after:.2f} s'))
        # One interval, and a second one's worth of slack for a busy
        # machine (the read itself, the cycle's start-up).
        self.assertLess(synced_after, 2 * SYNC_INTERVAL + 1)
        shown = requests.get(f'{second.url}/v1/nodes/{node.uuid}',
                             headers=LATEST, timeout=30).json()
        self.assertEqual((states.CLEANFAIL, None, stored.last_error),
                         (shown['provision_state'], shown['reservation'],
                          shown['last_error']))
        # The operator takes the node back and cleans it again.
        response = requests.put(
            f'{second.url}/v1/nodes/{node.uuid}/states/provision',
            json={'target': 'manage'}, headers=LATEST, timeout=30)
        self.assertEqual(202, response.status_code, response.text)
        wait_for(lambda: db_api.get_node(node.id).provision_state
                 == states.MANAGEABLE, timeout=WAIT,
                 what='manage after the failed cleaning')


class TestKilledWhileWaitingForInstallers(_Service):
    """Nodes waiting in ``wait call-back`` hold no lock: a conductor
    killed meanwhile leaves them waiting, and after the restart their
    installers' call-backs complete them (or the timeout fails them)."""

    def test_waiting_nodes_survive_a_restart(self) -> None:
        nodes = [db_api.create_node(utils.verified({
            'name': f'waiting-{index}', 'driver': 'fake-hardware',
            'deploy_interface': 'anaconda', 'boot_interface': 'pxe',
            'provision_state': states.AVAILABLE,
            'power_state': states.POWER_OFF}))
            for index in range(3)]
        first = self.start_service('first.log')
        for node in nodes:
            response = requests.put(
                f'{first.url}/v1/nodes/{node.uuid}/states/provision',
                json={'target': 'active'}, headers=LATEST, timeout=30)
            self.assertEqual(202, response.status_code, response.text)
        for node in nodes:
            wait_for(lambda node=node: (lambda n: n.provision_state ==
                                        states.DEPLOYWAIT and
                                        n.reservation is None)(
                db_api.get_node(node.id)), timeout=WAIT,
                what=f'{node.name} to wait for its installer')
        # One installer looked its node up before the crash.
        token = requests.get(f'{first.url}/v1/lookup',
                             params={'node_uuid': nodes[0].uuid},
                             headers=LATEST, timeout=30).json()[
                                 'config']['agent_token']

        first.process.kill()
        first.process.wait(30)
        time.sleep(HEARTBEAT_TIMEOUT + 1)
        second = self.start_service('second.log')
        for node in nodes:
            stored = db_api.get_node(node.id)
            self.assertEqual((states.DEPLOYWAIT, None),
                             (stored.provision_state, stored.last_error))

        def report(uuid: str, agent_token: str) -> int:
            return requests.post(
                f'{second.url}/v1/heartbeat/{uuid}', headers=LATEST,
                timeout=30, json={'callback_url': '',
                                  'agent_token': agent_token,
                                  'agent_status': 'end'}).status_code

        # The token handed out before the crash still works.
        self.assertEqual(202, report(nodes[0].uuid, token))
        found = requests.get(f'{second.url}/v1/lookup',
                             params={'node_uuid': nodes[1].uuid},
                             headers=LATEST, timeout=30).json()
        self.assertEqual(202, report(nodes[1].uuid,
                                     found['config']['agent_token']))
        self.assertEqual(
            [states.ACTIVE, states.ACTIVE, states.DEPLOYWAIT],
            [db_api.get_node(node.id).provision_state for node in nodes])
