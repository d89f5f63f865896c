"""BIOS settings of Redfish nodes through the conductor, against
Podium's simulator (attributes, registry, pending settings applied at
the next boot) and sushy-tools' emulator (whose fake systems have no
Bios resource).

The manager caches the settings at inspection, checks a requested
change against the cached registry before anything is sent, applies it
as the manual clean step ``bios.apply_configuration`` (restarting the
node so the BIOS applies the pending values) and fails the step when
the BMC does not keep a value.
"""

from typing import Any

from podium.common import exceptions, states
from podium.db import api as db_api
from podium.db import bios as db_bios
from podium.db import firmware as db_firmware
from podium.db import models
from podium.drivers.modules.redfish import bios, connection
from podium.simulator import Simulator
from podium.tests import base
from podium.tests.functional.drivers import emulators
from podium.tests.unit.conductor import utils
from podium.tests.unit.drivers import helpers

#: Seconds a transition may take (a restart is part of every BIOS step).
TRANSITION_TIMEOUT = 60.0


def _apply(*settings: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{'interface': 'bios', 'step': 'apply_configuration',
             'args': {'settings': [{'name': name, 'value': value}
                                   for name, value in settings]}}]


class TestPodiumSimulatorBios(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(enabled_hardware_types=['redfish'],
                    enabled_power_interfaces=['redfish'],
                    enabled_management_interfaces=['redfish'],
                    enabled_inspect_interfaces=['redfish', 'no-inspect'],
                    enabled_bios_interfaces=['redfish', 'no-bios'])
        self.config(action_timeout=TRANSITION_TIMEOUT, group='conductor')
        self.config(power_state_poll_interval=0.2, request_timeout=5,
                    power_state_change_timeout=10, group='redfish')
        self.addCleanup(connection.CACHE.clear)
        # Not the default password: sushy logs the word "password"
        # (the Bios resource's change_password action) at DEBUG.
        self.sim = Simulator(endpoints=1, systems_per_endpoint=1, seed=5,
                             power_state='On', password='Bi0s-sim-Pw')
        self.sim.start()
        self.addCleanup(self.sim.stop)
        system = self.sim.systems[0]
        self.useFixture(helpers.SecretsNotLogged(system.password))
        self.manager = self.make_manager(self.make_pool(size=8))
        db_api.create_node({
            'name': 'rf-1', 'driver': 'redfish',
            'driver_info': {'redfish_address': system.address,
                            'redfish_system_id': system.system_id,
                            'redfish_username': system.username,
                            'redfish_password': system.password}})

    def move(self, target: str, expected: str,
             clean_steps: list[dict[str, Any]] | None = None
             ) -> models.Node:
        self.manager.do_provisioning_action(self.context, 'rf-1', target,
                                            clean_steps=clean_steps)
        return utils.wait_for(lambda: self._settled(expected),
                              timeout=TRANSITION_TIMEOUT, interval=0.1,
                              what=f'{target} to end in {expected}')

    @staticmethod
    def _settled(expected: str) -> models.Node | None:
        node = db_api.get_node('rf-1')
        if node.reservation is not None or node.target_provision_state \
                and node.provision_state not in states.FAILURE_STATES:
            return None
        if node.provision_state != expected:
            raise AssertionError(f'ended in {node.provision_state}: '
                                 f'{node.last_error}')
        return node

    def cached(self) -> dict[str, models.BiosSetting]:
        node = db_api.get_node('rf-1')
        return {row.name: row for row in db_bios.list_settings(node.id)}

    def test_cache_apply_refuse_and_not_kept(self) -> None:
        self.move('manage', states.MANAGEABLE)
        self.assertEqual({}, self.cached())
        self.move('inspect', states.MANAGEABLE)
        node = db_api.get_node('rf-1')
        self.assertEqual({'bios': '2.4.1', 'bmc': '1.0.0'}, {
            row.component: row.current_version
            for row in db_firmware.list_components(node.id)})
        cached = self.cached()
        self.assertEqual('Enabled', cached['ProcTurboMode'].value)
        self.assertEqual(['Enabled', 'Disabled'],
                         cached['ProcTurboMode'].allowable_values)
        self.assertEqual((1600, 4800, 'Integer'),
                         (cached['MemFrequency'].lower_bound,
                          cached['MemFrequency'].upper_bound,
                          cached['MemFrequency'].attribute_type))
        self.assertTrue(cached['SystemServiceTag'].read_only)
        self.assertEqual('false', cached['SriovGlobalEnable'].value)

        # Refused in the request; nothing reaches the BMC.
        for settings, message in (
                ((('Turbo', 'Enabled'),), 'unknown attribute Turbo'),
                ((('MemFrequency', 9000),), 'MemFrequency=9000 is above'),
                ((('SystemServiceTag', 'X'),), 'read-only')):
            exc = self.assertRaises(
                exceptions.InvalidParameterValue,
                self.manager.do_provisioning_action, self.context, 'rf-1',
                'clean', clean_steps=_apply(*settings))
            self.assertIn(message, str(exc))
        self.assertEqual({}, self.sim.get_bios(0)['pending'])
        self.assertEqual(states.MANAGEABLE,
                         db_api.get_node('rf-1').provision_state)

        # Applied at the restart the step makes, then cached.
        node = self.move('clean', states.MANAGEABLE, _apply(
            ('ProcTurboMode', 'Disabled'), ('MemFrequency', 2400),
            ('SriovGlobalEnable', True)))
        self.assertIsNone(node.last_error)
        bios_state = self.sim.get_bios(0)
        self.assertEqual({}, bios_state['pending'])
        self.assertEqual(('Disabled', 2400, True),
                         (bios_state['attributes']['ProcTurboMode'],
                          bios_state['attributes']['MemFrequency'],
                          bios_state['attributes']['SriovGlobalEnable']))
        cached = self.cached()
        self.assertEqual(('Disabled', '2400', 'true'),
                         (cached['ProcTurboMode'].value,
                          cached['MemFrequency'].value,
                          cached['SriovGlobalEnable'].value))
        self.assertEqual(states.POWER_ON, node.power_state)

        # Accepted, and dropped at boot: the step fails, naming it.
        self.sim.set_bios_not_kept(0, ['PxeDev1EnDis'])
        node = self.move('clean', states.CLEANFAIL, _apply(
            ('PxeDev1EnDis', 'Disabled'), ('ProcVirtualization',
                                           'Disabled')))
        self.assertIn('did not keep PxeDev1EnDis:', node.last_error)
        self.assertEqual('Disabled', self.sim.get_bios(0)['attributes'][
            'ProcVirtualization'])
        self.sim.set_bios_not_kept(0, [])

        self.move('manage', states.MANAGEABLE)
        self.move('clean', states.MANAGEABLE, [
            {'interface': 'bios', 'step': 'factory_reset'}])
        self.assertEqual('Enabled', self.sim.get_bios(0)['attributes'][
            'ProcTurboMode'])
        self.assertEqual('Enabled', self.cached()['ProcTurboMode'].value)
        self.assertEqual('3200', self.cached()['MemFrequency'].value)


class TestSushyToolsWithoutBios(base.TestCase):
    """sushy-tools' fake systems serve no Bios: a clear refusal."""

    def test_no_bios_resource(self) -> None:
        emulator, task = emulators.one_system_task(self)
        exc = self.assertRaises(exceptions.UnsupportedDriverExtension,
                                bios.RedfishBios().get_settings, task)
        self.assertIn('serves no Bios resource', str(exc))
