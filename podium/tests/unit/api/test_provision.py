"""PUT /v1/nodes/{id}/states/provision through the whole lifecycle."""


import fixtures

from podium.common import exceptions
from podium.conf import CONF
from podium.db import api as db_api
from podium.tests.unit.api import base

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


class ProvisionTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1')

    def test_whole_lifecycle(self) -> None:
        node = self.move('manage', 'manageable')
        self.assertIsNone(node['target_provision_state'])
        self.assertIsNotNone(node['provision_updated_at'])
        self.assertEqual('power off', node['power_state'])

        node = self.move('inspect', 'manageable')
        node = self.node()
        self.assertEqual(4, node['properties']['cpus'])
        self.assertIsNotNone(node['inspection_started_at'])
        self.assertIsNotNone(node['inspection_finished_at'])

        internal = {'fake_power_state': 'power on',
                    'fake_boot_device': 'pxe', 'fake_boot_persistent': False,
                    'fake_vmedia': {'cd': 'boot.iso'}}
        db_api.update_node('n1', {'driver_internal_info': internal})
        node = self.move('provide', 'available')
        node = self.node()
        self.assertEqual({}, node['clean_step'])
        self.assertEqual('power off', node['power_state'])
        info = node['driver_internal_info']
        self.assertEqual(('disk', True, {}),
                         (info['fake_boot_device'],
                          info['fake_boot_persistent'], info['fake_vmedia']))

        node = self.move('active', 'active')
        self.assertIsNone(self.node()['target_provision_state'])
        db_api.update_node('n1', {'instance_info': {'image_source': 'x'}})
        self.move('rebuild', 'active')
        self.move('deleted', 'available')
        self.assertEqual({}, self.node()['instance_info'])

        self.move('manage', 'manageable')
        self.move('clean', 'manageable', clean_steps=[
            {'interface': 'management', 'step': 'eject_vmedia',
             'args': {'boot_device': 'cd'}}])
        self.assertIsNone(self.node()['last_error'])

        history = db_api.list_node_history(db_api.get_node('n1').id)
        texts = [entry.event for entry in history]
        self.assertIn('Provision state changed from "enroll" to '
                      '"verifying" (manage)', texts)
        self.assertIn('Provision state changed from "deleting" to '
                      '"cleaning" (clean)', texts)

    def test_verify_failure_back_to_enroll(self) -> None:
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'no BMC'}})
        self.assertEqual(202, self.provision('manage').status_code)
        self.wait_for('/v1/nodes/n1', 'reservation', None)
        node = self.wait_for('/v1/nodes/n1', 'provision_state', 'enroll')
        self.assertIn('Failed to verify node power credentials',
                      node['last_error'])
        self.assertIn('no BMC', node['last_error'])
        self.assertIsNone(node['target_provision_state'])

    def test_clean_step_failure(self) -> None:
        self.move('manage', 'manageable')
        db_api.update_node('n1', {'driver_info': {'fake_fail': 'stuck'}})
        self.move('provide', 'clean failed')
        node = self.node()
        self.assertEqual('available', node['target_provision_state'])
        self.assertIn('Failed to run clean step management.eject_vmedia',
                      node['last_error'])
        self.assertEqual({}, node['clean_step'])
        db_api.update_node('n1', {'driver_info': {}})
        self.move('manage', 'manageable')

    def test_illegal_and_unknown_targets(self) -> None:
        for target in ('active', 'provide', 'explode', 'abort'):
            self.assertError(
                self.provision(target), 400,
                f'The requested action "{target}" can not be performed on '
                f'node "n1" while it is in state "enroll".')
        self.assertEqual('enroll', self.node()['provision_state'])

    def test_bad_clean_steps_write_nothing(self) -> None:
        self.move('manage', 'manageable')
        before = self.node()
        cases = [
            ([{'interface': 'management', 'step': 'no_such_step'}],
             'no management interface step named "no_such_step"'),
            ([{'interface': 'management', 'step': 'eject_vmedia',
               'args': {'colour': 'red'}}],
             'does not take argument(s) colour'),
            ([], 'non-empty list'),
            ('not a list', None),
        ]
        for steps, fragment in cases:
            with self.subTest(steps=steps):
                response = self.provision('clean', clean_steps=steps)
                self.assertEqual(400, response.status_code, response.text)
                if fragment:
                    self.assertError(response, 400, 'n1', fragment)
        self.assertError(self.provision('clean'), 400,
                         'clean_steps are required')
        self.assertError(self.provision('provide', clean_steps=[]), 400,
                         'only accepted with the "clean" target')
        after = self.node()
        self.assertEqual(before['provision_updated_at'],
                         after['provision_updated_at'])
        self.assertEqual('manageable', after['provision_state'])

    def test_old_microversion_refused(self) -> None:
        response = self.client.put(
            '/v1/nodes/n1/states/provision', json={'target': 'manage'},
            headers={'X-OpenStack-Ironic-API-Version': '1.3'})
        self.assertError(response, 406, 'needs API version 1.4')

    def test_maintenance_refuses_work(self) -> None:
        self.move('manage', 'manageable')
        db_api.update_node('n1', {'maintenance': True,
                                  'maintenance_reason': 'fan'})
        self.assertError(self.provision('provide'), 409, 'n1', 'fan')

    def test_no_free_worker_restores_state(self) -> None:
        self.move('manage', 'manageable')
        self.useFixture(fixtures.MockPatchObject(
            self.conductor.manager.provisioner.pool, 'spawn',
            side_effect=exceptions.NoFreeConductorWorker()))
        self.assertError(self.provision('provide'), 503, 'free conductor')
        node = self.node()
        self.assertEqual(('manageable', None, None),
                         (node['provision_state'],
                          node['target_provision_state'],
                          node['reservation']))

    def test_delete_only_in_allowed_states(self) -> None:
        self.move('manage', 'manageable')
        self.move('provide', 'available')
        self.assertError(self.client.delete('/v1/nodes/n1'), 409,
                         'provision state "available"')
        db_api.update_node('n1', {'maintenance': True})
        self.assertEqual(204, self.client.delete('/v1/nodes/n1').status_code)

    def test_automated_clean_off(self) -> None:
        CONF.set_override('automated_clean', False, group='conductor')
        self.addCleanup(CONF.clear_override, 'automated_clean',
                        group='conductor')
        self.move('manage', 'manageable')
        db_api.update_node('n1', {'driver_internal_info': {
            'fake_power_state': 'power on'}})
        self.move('provide', 'available')
        self.assertEqual('power on', self.node()['driver_internal_info'][
            'fake_power_state'])
