"""The network-boot deploy (``anaconda`` over ``pxe``) and the installer
call-backs: lookup by MAC, heartbeat start/end/error, refusals, abort,
timeout, rebuild and undeploy, on fake hardware through the API."""

import datetime
from typing import Any

from podium.common import context as podium_context
from podium.conductor import recovery
from podium.db import api as db_api
from podium.db import models
from podium.tests.unit.api import base

MAC = '52:54:00:aa:bb:01'
#: The installer's microversion: agent_status needs 1.72.
CALLBACK = {'X-OpenStack-Ironic-API-Version': '1.72'}


class DeployCallbackTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        node = self.create_node(name='n1', deploy_interface='anaconda',
                                boot_interface='pxe')
        self.uuid = node['uuid']
        response = self.client.post('/v1/ports', json={
            'node_uuid': self.uuid, 'address': MAC})
        self.assertEqual(201, response.status_code, response.text)
        db_api.update_node('n1', {'provision_state': 'available'})

    # Helpers -----------------------------------------------------------

    def deploy(self) -> dict[str, Any]:
        self.assertEqual(202, self.provision('active').status_code)
        return self.settle('wait call-back')

    def lookup(self, addresses: str = MAC) -> Any:
        return self.client.get(f'/v1/lookup?addresses={addresses}',
                               headers=CALLBACK)

    def token(self) -> str:
        response = self.lookup()
        self.assertEqual(200, response.status_code, response.text)
        return str(response.json()['config']['agent_token'])

    def heartbeat(self, status: str, token: str | None,
                  message: str | None = None, node: str = 'n1',
                  headers: dict[str, str] | None = None,
                  **extra: Any) -> Any:
        body = {'callback_url': '', 'agent_token': token,
                'agent_status': status, 'agent_status_message': message,
                **extra}
        return self.client.post(f'/v1/heartbeat/{node}', json=body,
                                headers=headers or CALLBACK)

    def history(self) -> list[str]:
        return [event['event'] for event in self.client.get(
            '/v1/nodes/n1/history?detail=True').json()['history']]

    # Tests -------------------------------------------------------------

    def test_deploy_waits_without_lock_then_end_makes_active(self) -> None:
        db_api.update_node('n1', {'instance_info': {
            'kickstart': 'c.ks', 'image_password': 'pw-s3cret'}})
        node = self.deploy()
        self.assertEqual('active', node['target_provision_state'])
        self.assertIsNone(node['reservation'])
        internal = node['driver_internal_info']
        # Power-cycled into a one-time network boot.
        self.assertEqual(('power on', 'pxe', False),
                         (internal['fake_power_state'],
                          internal['fake_boot_device'],
                          internal['fake_boot_persistent']))
        self.assertNotIn('agent_secret_token', internal)

        response = self.lookup(f'11:22:33:44:55:66,{MAC.upper()}')
        self.assertEqual(200, response.status_code, response.text)
        found = response.json()
        self.assertEqual(self.uuid, found['node']['uuid'])
        self.assertEqual({'kickstart': 'c.ks', 'image_password': '******'},
                         found['node']['instance_info'])
        token = found['config']['agent_token']
        self.assertGreater(len(token), 30)
        # The token is shown once, and masked in the node.
        self.assertEqual('******', self.lookup().json()['config'][
            'agent_token'])
        self.assertEqual('******', self.node()['driver_internal_info'][
            'agent_secret_token'])

        self.assertEqual(202, self.heartbeat('start', token,
                                             'Installing').status_code)
        node = self.node()
        self.assertEqual('wait call-back', node['provision_state'])
        self.assertEqual('start',
                         node['driver_internal_info']['agent_status'])
        self.assertEqual(202, self.heartbeat('end', token,
                                             'Done').status_code)
        node = self.node()
        self.assertEqual(('active', None, None, {}),
                         (node['provision_state'],
                          node['target_provision_state'],
                          node['last_error'], node['deploy_step']))
        self.assertNotIn('agent_secret_token', node['driver_internal_info'])
        events = self.history()
        self.assertIn('Installer started: Installing', events)
        self.assertIn('Installer finished: Done', events)
        # The token died with the deploy: a late heartbeat is refused.
        self.assertError(self.heartbeat('end', token), 409, 'n1',
                         'not waiting')

    def test_error_fails_the_deploy_with_the_message(self) -> None:
        self.deploy()
        token = self.token()
        self.assertEqual(202, self.heartbeat(
            'error', token, 'disk /dev/sda not found').status_code)
        node = self.node()
        self.assertEqual('deploy failed', node['provision_state'])
        self.assertEqual('Deploy failed: the installer reported an error: '
                         'disk /dev/sda not found', node['last_error'])
        # [deploy] power_off_after_deploy_failure: the node is off.
        self.assertEqual('power off', node['power_state'])
        self.assertEqual('power off', db_api.get_node('n1')
                         .driver_internal_info['fake_power_state'])
        # deploy again from deploy failed works.
        self.assertEqual(202, self.provision('active').status_code)
        node = self.settle('wait call-back')
        self.assertIsNone(node['last_error'])

    def test_refusals_change_nothing(self) -> None:
        # Not waiting: 409 for a heartbeat, 404 for a lookup.
        self.assertError(self.heartbeat('end', 'x'), 409, 'not waiting')
        self.assertError(self.lookup(), 404)
        node = self.deploy()
        before = (node['provision_state'], node['driver_internal_info'])
        self.assertError(self.heartbeat('end', None), 400, 'agent token')
        token = self.token()
        checks = [
            (self.heartbeat('end', 'wrong-token'), 400, 'agent token'),
            (self.heartbeat('end', token, node='nope'), 404, 'nope'),
            (self.heartbeat('finished', token), 400, 'agent_status'),
            (self.heartbeat('end', token, colour='red'), 400, 'colour'),
            (self.heartbeat('end', 987654321), 400, 'agent_token'),
            (self.client.post('/v1/heartbeat/n1', json={
                'agent_token': token, 'agent_status': 'end'},
                headers=CALLBACK), 400, 'callback_url'),
            (self.client.post('/v1/heartbeat/n1', content=b'{nope',
                              headers=dict(CALLBACK, **{
                                  'Content-Type': 'application/json'})),
             400, ''),
            # agent_status is newer than 1.71, as in Ironic.
            (self.heartbeat('end', token, headers={
                'X-OpenStack-Ironic-API-Version': '1.71'}), 400, '1.72'),
            # The endpoints are newer than 1.21.
            (self.heartbeat('end', token, headers={
                'X-OpenStack-Ironic-API-Version': '1.21'}), 404, ''),
            (self.lookup('not-a-mac'), 400, 'MAC'),
            (self.lookup('52:54:00:00:00:99'), 404, 'No suitable node'),
        ]
        for response, status, fragment in checks:
            fault = self.assertError(response, status, fragment)
            # A token, even a malformed one, is never echoed.
            self.assertNotIn('987654321', fault)
        node = self.node()
        self.assertEqual('wait call-back', node['provision_state'])
        internal = dict(node['driver_internal_info'])
        self.assertEqual('******', internal.pop('agent_secret_token'))
        self.assertEqual(before[1], internal)

    def test_other_node_token_refused(self) -> None:
        other = self.create_node(name='n2', deploy_interface='anaconda',
                                 boot_interface='pxe')
        self.client.post('/v1/ports', json={
            'node_uuid': other['uuid'], 'address': '52:54:00:aa:bb:02'})
        db_api.update_node('n2', {'provision_state': 'available'})
        self.deploy()
        self.client.put('/v1/nodes/n2/states/provision',
                        json={'target': 'active'})
        self.wait_for('/v1/nodes/n2', 'provision_state', 'wait call-back')
        self.wait_for('/v1/nodes/n2', 'reservation', None)
        token_1 = self.token()
        self.assertError(self.heartbeat('end', token_1, node='n2'), 400,
                         'agent token')
        self.assertEqual('wait call-back',
                         self.client.get('/v1/nodes/n2').json()[
                             'provision_state'])

    def test_abort_powers_off(self) -> None:
        self.deploy()
        token = self.token()
        self.assertEqual(202, self.provision('abort').status_code)
        node = self.settle('deploy failed')
        self.assertIn('aborted', node['last_error'])
        internal = node['driver_internal_info']
        self.assertEqual(('power off', 'disk'),
                         (internal['fake_power_state'],
                          internal['fake_boot_device']))
        self.assertError(self.heartbeat('end', token), 409)
        # Only a waiting deploy can be aborted.
        self.assertError(self.provision('abort'), 400, 'abort')

    def test_callback_timeout_fails_the_deploy(self) -> None:
        self.config(deploy_callback_timeout=60, group='conductor')
        self.deploy()
        manager = self.conductor.manager
        context = podium_context.RequestContext()
        self.assertEqual(0, recovery.fail_timed_out(
            context, manager.host, manager.ring))
        db_api.update_node('n1', {
            'provision_updated_at':
                models.utcnow() - datetime.timedelta(seconds=61)})
        # A start heartbeat counts the timeout afresh.
        self.heartbeat('start', self.token())
        self.assertEqual(0, recovery.fail_timed_out(
            context, manager.host, manager.ring))
        db_api.update_node('n1', {
            'provision_updated_at':
                models.utcnow() - datetime.timedelta(seconds=61)})
        self.assertEqual(1, recovery.fail_timed_out(
            context, manager.host, manager.ring))
        node = self.node()
        self.assertEqual('deploy failed', node['provision_state'])
        self.assertIn('Timeout reached while wait call-back',
                      node['last_error'])
        self.assertIn('deploy_callback_timeout', node['last_error'])

    def test_rebuild_and_undeploy(self) -> None:
        self.deploy()
        self.heartbeat('end', self.token())
        self.assertEqual('active', self.node()['provision_state'])
        self.assertEqual(202, self.provision('rebuild').status_code)
        self.settle('wait call-back')
        self.heartbeat('end', self.token())
        self.assertEqual('active', self.node()['provision_state'])
        self.assertEqual(202, self.provision('deleted').status_code)
        node = self.settle('available')
        internal = node['driver_internal_info']
        self.assertEqual(('power off', 'disk', True),
                         (internal['fake_power_state'],
                          internal['fake_boot_device'],
                          internal['fake_boot_persistent']))
        self.assertEqual({}, node['instance_info'])

    def test_power_failure_fails_the_deploy(self) -> None:
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'BMC gone'}})
        self.assertEqual(202, self.provision('active').status_code)
        node = self.settle('deploy failed')
        self.assertIn('BMC gone', node['last_error'])

    def test_lookup_and_heartbeat_need_no_credentials(self) -> None:
        from podium.api import auth
        self.assertTrue(auth.is_public('/v1/lookup'))
        self.assertTrue(auth.is_public(f'/v1/heartbeat/{self.uuid}'))
        self.assertFalse(auth.is_public('/v1/nodes'))
        self.assertFalse(auth.is_public('/v1/lookupx'))
