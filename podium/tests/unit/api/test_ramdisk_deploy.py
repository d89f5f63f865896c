"""The ``ramdisk`` deploy interface (``instance_info/boot_iso`` booted
from virtual media) on fake hardware through the API, and
``[deploy] power_off_after_deploy_failure`` for every deploy failure."""

import datetime
from typing import Any
from unittest import mock

from podium.common import context as podium_context
from podium.common import exceptions
from podium.conductor import recovery
from podium.db import api as db_api
from podium.db import models
from podium.drivers import driver_factory
from podium.drivers.modules import fake
from podium.tests.unit.api import base

ISO = 'https://images.example.com/live.iso'


class RamdiskDeployTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.create_node(name='n1', deploy_interface='ramdisk')
        db_api.update_node('n1', {'provision_state': 'available',
                                  'instance_info': {'boot_iso': ISO}})
        self.context = podium_context.RequestContext()

    def internal(self) -> dict[str, Any]:
        return dict(db_api.get_node('n1').driver_internal_info or {})

    def check_booted(self) -> None:
        """One run of the ramdisk deploy's periodic boot check."""
        deploy = driver_factory.get_registry().for_node(
            db_api.get_node('n1')).deploy
        deploy.check_booted(self.conductor.manager, self.context)

    def test_deploy_waits_for_the_boot_then_rebuild_and_undeploy(self) -> None:
        self.assertEqual(202, self.provision('active').status_code)
        self.settle('wait call-back')
        internal = self.internal()
        self.assertEqual(({'cdrom': ISO}, 'cdrom', False, 'power on'),
                         (internal['fake_vmedia'],
                          internal['fake_boot_device'],
                          internal['fake_boot_persistent'],
                          internal['fake_power_state']))
        self.check_booted()
        node = self.settle('active')
        self.assertIsNone(node['last_error'])
        self.assertEqual({}, node['deploy_step'])
        history = [e['event'] for e in self.client.get(
            '/v1/nodes/n1/history?detail=True').json()['history']]
        self.assertIn(f'Booted {ISO} from virtual media.', history)

        # Rebuild boots the ISO again (a new one here).
        db_api.update_node('n1', {'instance_info': {'boot_iso': ISO + '2'}})
        self.assertEqual(202, self.provision('rebuild').status_code)
        self.settle('wait call-back')
        self.assertEqual({'cdrom': ISO + '2'}, self.internal()['fake_vmedia'])
        self.check_booted()
        self.settle('active')

        self.assertEqual(202, self.provision('deleted').status_code)
        self.settle('available')
        internal = self.internal()
        self.assertEqual(({}, 'power off'), (internal['fake_vmedia'],
                                             internal['fake_power_state']))

    def test_not_booted_yet_keeps_waiting(self) -> None:
        self.assertEqual(202, self.provision('active').status_code)
        self.settle('wait call-back')
        # The BMC shows the node off: no boot from the CD yet.
        db_api.update_node('n1', {'driver_internal_info': dict(
            self.internal(), fake_power_state='power off')})
        self.check_booted()
        self.assertEqual('wait call-back', self.node()['provision_state'])

    def test_bad_boot_iso_is_400_before_any_bmc_call(self) -> None:
        cases = [({}, 'needs instance_info/boot_iso'),
                 ({'boot_iso': 'nfs://h/live.iso'},
                  'instance_info/boot_iso must be an http or https URL'),
                 ({'boot_iso': 'live.iso'}, 'http or https URL')]
        for info, fragment in cases:
            db_api.update_node('n1', {'instance_info': info})
            self.assertError(self.provision('active'), 400, fragment)
            node = self.node()
            self.assertEqual(('available', None),
                             (node['provision_state'], node['last_error']))
        self.assertNotIn('fake_vmedia', self.internal())

    def test_failed_deploy_powers_off(self) -> None:
        db_api.update_node('n1', {'driver_internal_info': {
            'fake_power_state': 'power on'}})
        with mock.patch.object(
                fake.FakeManagement, 'attach_virtual_media',
                side_effect=exceptions.DriverError(reason='no CD drive')):
            self.assertEqual(202, self.provision('active').status_code)
            node = self.settle('deploy failed')
        self.assertIn('no CD drive', node['last_error'])
        self.assertEqual('power off', self.internal()['fake_power_state'])
        self.assertEqual('power off', node['power_state'])

    def test_timed_out_deploy_powers_off_unless_configured_not_to(
            self) -> None:
        self.config(deploy_callback_timeout=60, group='conductor')
        manager = self.conductor.manager
        for power_off, expected in ((True, 'power off'),
                                    (False, 'power on')):
            self.config(power_off_after_deploy_failure=power_off,
                        group='deploy')
            db_api.update_node('n1', {'provision_state': 'available'})
            self.assertEqual(202, self.provision('active').status_code)
            self.settle('wait call-back')
            self.assertEqual('power on',
                             self.internal()['fake_power_state'])
            db_api.update_node('n1', {
                'provision_updated_at':
                    models.utcnow() - datetime.timedelta(seconds=61)})
            self.assertEqual(1, recovery.fail_timed_out(
                self.context, manager.host, manager.ring))
            node = self.node()
            self.assertEqual('deploy failed', node['provision_state'])
            self.assertIn('Timeout reached', node['last_error'])
            self.assertEqual(expected, self.internal()['fake_power_state'])

    def test_power_off_failure_is_added_to_last_error(self) -> None:
        self.config(deploy_callback_timeout=60, group='conductor')
        self.assertEqual(202, self.provision('active').status_code)
        self.settle('wait call-back')
        db_api.update_node('n1', {
            'driver_info': {'fake_fail': 'BMC gone'},
            'provision_updated_at':
                models.utcnow() - datetime.timedelta(seconds=61)})
        manager = self.conductor.manager
        recovery.fail_timed_out(self.context, manager.host, manager.ring)
        node = self.node()
        self.assertEqual('deploy failed', node['provision_state'])
        self.assertIn('Timeout reached', node['last_error'])
        self.assertIn('Powering the node off afterwards failed: ',
                      node['last_error'])
        self.assertIn('BMC gone', node['last_error'])
