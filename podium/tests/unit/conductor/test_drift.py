"""Drift detection against a simulated Redfish BMC: the boot mode seen by
power sync at no extra request, BIOS settings on the drift check, put
back with enforcement, reported when the BMC does not keep them."""

from typing import Any

import fixtures

from podium.common import intended, states
from podium.db import api as db_api
from podium.db import models
from podium.drivers.modules import fake
from podium.drivers.modules.redfish import connection
from podium.tests.unit.conductor import utils
from podium.tests.unit.drivers import helpers

PASSWORD = 'Sim-Pa55word-d7'


class DriftTestCase(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(enabled_hardware_types=['fake-hardware', 'redfish'],
                    enabled_power_interfaces=['fake', 'redfish'],
                    enabled_management_interfaces=['fake', 'redfish'],
                    enabled_bios_interfaces=['fake', 'redfish', 'no-bios'])
        self.config(request_timeout=2, power_state_change_timeout=3,
                    power_state_poll_interval=0.1, group='redfish')
        self.config(power_state_read_timeout=5.0, drift_check_timeout=20.0,
                    group='conductor')
        self.sim = helpers.start_simulator(
            self, endpoints=1, systems_per_endpoint=2, password=PASSWORD,
            seed=11)
        self.manager = self.make_manager(self.make_pool(size=12))
        self.sync = self.manager.power_sync
        self.nodes = [self._node(f'r{index}', system)
                      for index, system in enumerate(self.sim.systems)]

    def _node(self, name: str, system: Any) -> models.Node:
        return self.create_synced_node(
            name, driver='redfish', power_interface='redfish',
            management_interface='redfish', bios_interface='redfish',
            power_state=states.POWER_OFF,
            driver_info=system.driver_info())

    def intend(self, node: models.Node, **settings: Any) -> None:
        db_api.update_node(node.id, {
            'intended_settings': intended.normalise(settings)})

    def row(self, node: models.Node) -> models.Node:
        return db_api.get_node(node.id)

    def events(self, node: models.Node) -> list[str]:
        return [entry.event for entry in db_api.list_node_history(node.id)
                if entry.event_type == intended.EVENT_TYPE]

    def requests(self) -> int:
        return int(self.sim.stats()['requests'])


class TestBootModeInPowerSync(DriftTestCase):

    def test_drift_seen_at_no_extra_request(self) -> None:
        node, other = self.nodes
        self.sync.run(self.context)  # warm: sessions, $expand known
        before = self.requests()
        self.sync.run(self.context)
        plain = self.requests() - before
        self.assertGreater(plain, 0)
        self.intend(node, boot_mode='uefi')
        self.sim.set_boot(0, mode='Legacy')  # someone in the BIOS setup
        before = self.requests()
        self.sync.run(self.context)
        self.assertEqual(plain, self.requests() - before)
        drift = self.row(node).drift
        self.assertEqual(1, len(drift))
        self.assertEqual({'setting': 'boot_mode', 'intended': 'uefi',
                          'actual': 'bios', 'state': intended.DRIFTED,
                          'attempts': 0},
                         {k: v for k, v in drift[0].items() if k != 'since'})
        self.assertEqual(["Drift: boot_mode is 'bios' on the BMC, intended "
                          "'uefi'."], self.events(node))
        # A node without intended settings: untouched.
        self.assertIsNone(self.row(other).drift)
        self.assertEqual([], self.events(other))
        # Enforcement is off: the BMC is left as it is.
        self.assertEqual('Legacy', self.sim.get_boot(0)['mode'])
        # The same drift again: nothing new written.
        self.sync.run(self.context)
        self.assertEqual(drift, self.row(node).drift)
        self.assertEqual(1, len(self.events(node)))
        # Back to the intended mode: cleared.
        self.sim.set_boot(0, mode='UEFI')
        self.sync.run(self.context)
        self.assertIsNone(self.row(node).drift)
        self.assertIn("Drift cleared: boot_mode is 'uefi' again",
                      self.events(node)[-1])

    def test_threaded_reads_see_it_too(self) -> None:
        self.config(power_read_mode='threads', group='conductor')
        node, other = self.nodes
        self.sync.run(self.context)  # warm: the threaded path connects
        before = self.requests()
        self.sync.run(self.context)
        plain = self.requests() - before
        self.intend(node, boot_mode='uefi')
        self.sim.set_boot(0, mode='Legacy')
        before = self.requests()
        self.sync.run(self.context)
        self.assertEqual(plain, self.requests() - before)
        self.assertEqual('bios', self.row(node).drift[0]['actual'])
        self.assertIsNone(self.row(other).drift)

    def test_read_alone_sees_it_too(self) -> None:
        node, _other = self.nodes
        self.intend(node, boot_mode='bios')
        connection.CACHE.clear()  # the first cycle reads one by one
        self.sync.run(self.context)
        self.assertEqual('uefi', self.row(node).drift[0]['actual'])

    def test_put_back_with_enforcement(self) -> None:
        self.config(enforce_intended_settings=True, group='conductor')
        node, other = self.nodes
        self.intend(node, boot_mode='uefi')
        self.sim.set_boot(0, mode='Legacy')
        self.sync.run(self.context)
        self.assertEqual('UEFI', self.sim.get_boot(0)['mode'])
        stored = self.row(node)
        self.assertIsNone(stored.drift)
        self.assertEqual('uefi', stored.boot_mode)
        self.assertIsNone(stored.reservation)
        events = self.events(node)
        self.assertEqual(2, len(events), events)
        self.assertTrue(events[1].startswith(
            "Drift put back: boot_mode is 'uefi' again (attempt 1)"))
        self.assertEqual('UEFI', self.sim.get_boot(1)['mode'])
        self.assertEqual([], self.events(other))

    def test_not_kept_is_reported_and_not_retried_for_ever(self) -> None:
        self.config(enforce_intended_settings=True,
                    drift_put_back_attempts=2, group='conductor')
        node, _other = self.nodes
        self.intend(node, boot_mode='uefi')
        self.sim.set_boot(0, mode='Legacy')
        self.sim.set_boot_mode_not_kept(0)
        self.sync.run(self.context)
        entry = self.row(node).drift[0]
        self.assertEqual(intended.NOT_KEPT, entry['state'])
        self.assertEqual(1, entry['attempts'])
        self.assertEqual('bios', entry['actual'])
        self.assertIn('accepted boot mode uefi', entry['error'])
        for _ in range(3):
            self.sync.run(self.context)
        entry = self.row(node).drift[0]
        self.assertEqual(2, entry['attempts'])
        failures = [e for e in self.events(node) if e.startswith('Putting')]
        self.assertEqual(2, len(failures), failures)
        self.assertIn('attempt 2 of 2, not kept', failures[1])
        self.assertTrue(failures[1].endswith(
            'giving up, the drift stays reported.'))
        self.assertEqual('Legacy', self.sim.get_boot(0)['mode'])

    def test_not_put_back_while_an_action_holds_the_node(self) -> None:
        self.config(enforce_intended_settings=True, group='conductor')
        node, _other = self.nodes
        self.intend(node, boot_mode='uefi')
        self.sim.set_boot(0, mode='Legacy')
        db_api.update_node(node.id, {'reservation': 'other-conductor'})
        self.sync.run(self.context)
        self.assertEqual('Legacy', self.sim.get_boot(0)['mode'])
        self.assertEqual([], self.events(node))  # not even read
        db_api.update_node(node.id, {'reservation': None})
        self.sync.run(self.context)
        self.assertEqual('UEFI', self.sim.get_boot(0)['mode'])


class TestBiosDriftCheck(DriftTestCase):

    def test_detected_and_cleared(self) -> None:
        node, other = self.nodes
        self.intend(node, bios={'ProcTurboMode': 'Enabled',
                                'MemFrequency': 3200})
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual(1, stats.nodes)  # the other has no intent
        self.assertIsNone(self.row(node).drift)
        before = self.sim.stats(systems=True)['systems']
        self.sim.set_bios_attributes(0, {'ProcTurboMode': 'Disabled',
                                         'MemFrequency': 2400})
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual(1, stats.drifted)
        drift = self.row(node).drift
        self.assertEqual(['bios:MemFrequency', 'bios:ProcTurboMode'],
                         [entry['setting'] for entry in drift])
        self.assertEqual([2400, 'Disabled'],
                         [entry['actual'] for entry in drift])
        self.assertEqual(
            before[self.sim.systems[1].uuid],
            self.sim.stats(systems=True)['systems'][
                self.sim.systems[1].uuid])
        self.assertIsNone(self.row(other).drift)
        self.sim.set_bios_attributes(0, {'ProcTurboMode': 'Enabled',
                                         'MemFrequency': 3200})
        self.manager.drift_check.run(self.context)
        self.assertIsNone(self.row(node).drift)
        self.assertEqual(4, len(self.events(node)))

    def test_put_back_and_not_kept(self) -> None:
        self.config(enforce_intended_settings=True, group='conductor')
        node, _other = self.nodes
        self.intend(node, bios={'ProcTurboMode': 'Enabled',
                                'PxeDev1EnDis': 'Enabled'})
        self.sim.set_bios_attributes(0, {'ProcTurboMode': 'Disabled',
                                         'PxeDev1EnDis': 'Disabled'})
        self.sim.set_bios_not_kept(0, ['PxeDev1EnDis'])
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual(1, stats.put_back)
        attributes = self.sim.get_bios(0)['attributes']
        self.assertEqual('Enabled', attributes['ProcTurboMode'])
        self.assertEqual('Disabled', attributes['PxeDev1EnDis'])
        drift = self.row(node).drift
        self.assertEqual(['bios:PxeDev1EnDis'],
                         [entry['setting'] for entry in drift])
        self.assertEqual(intended.NOT_KEPT, drift[0]['state'])
        self.assertIn('did not keep PxeDev1EnDis', drift[0]['error'])
        self.assertIsNone(self.row(node).reservation)

    def test_active_node_not_restarted(self) -> None:
        self.config(enforce_intended_settings=True, group='conductor')
        node, _other = self.nodes
        db_api.update_node(node.id, {'provision_state': states.ACTIVE})
        self.intend(node, bios={'ProcTurboMode': 'Enabled'})
        self.sim.set_bios_attributes(0, {'ProcTurboMode': 'Disabled'})
        self.manager.drift_check.run(self.context)
        entry = self.row(node).drift[0]
        self.assertEqual(0, entry['attempts'])
        self.assertIn('restarts the node, which is active', entry['error'])
        self.assertEqual('Off', self.sim.get_power(0))
        self.manager.drift_check.run(self.context)
        self.assertEqual(2, len(self.events(node)))  # not said twice


class TestBootOrderDriftCheck(DriftTestCase):

    def order(self) -> list[str]:
        return self.sim.get_boot_order(0)

    def test_detected_put_back_and_changed_out_of_band(self) -> None:
        node, other = self.nodes
        original = self.order()
        self.assertEqual('Boot0000', original[0])  # the disk first
        self.intend(node, boot_order={'devices': ['pxe']})
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual((1, 1, 0), (stats.nodes, stats.drifted,
                                     stats.put_back))
        entry = self.row(node).drift[0]
        self.assertEqual(('boot_order', {'devices': ['pxe']}),
                         (entry['setting'], entry['intended']))
        self.assertEqual(original, entry['actual']['order'])
        self.assertEqual(original, self.order())  # only read
        self.config(enforce_intended_settings=True, group='conductor')
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual(1, stats.put_back)
        self.assertIsNone(self.row(node).drift)
        put_back = self.order()
        self.assertEqual('Boot0001', put_back[0])  # the first NIC
        # Someone puts the disk first again in the boot manager.
        self.sim.set_boot_order(0, original)
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual(put_back, self.order())
        self.assertIsNone(self.row(node).drift)
        self.assertIsNone(self.row(other).drift)
        events = self.events(node)
        self.assertEqual(4, len(events), events)
        self.assertIn('Drift put back: boot_order', events[-1])

    def test_order_set_through_podium_becomes_intended(self) -> None:
        node, _other = self.nodes
        request = {'mac': self.sim.systems[0].macs[1]}  # the second NIC
        self.manager.vendor_passthru(self.context, node.uuid,
                                     'set_boot_order', 'POST', request)
        stored = self.row(node)
        self.assertEqual({'boot_order': request}, stored.intended_settings)
        self.assertIn('Applied through Podium, recorded as intended: '
                      'boot_order.', self.events(node))
        stats = self.manager.drift_check.run(self.context)
        self.assertEqual(0, stats.drifted)


class TestFakeHardware(utils.ConductorTestCase):
    """Power sync's part for a driver whose read shows no setting, and
    the drift check reading the boot mode through management instead."""

    def test_only_nodes_with_intents_get_an_observed_dict(self) -> None:
        seen: dict[str, Any] = {}
        real = fake.FakePower.get_power_state

        def spy(interface: Any, task: Any) -> str:
            seen[task.node.name] = task.observed
            return real(interface, task)

        self.useFixture(fixtures.MockPatchObject(
            fake.FakePower, 'get_power_state', spy))
        manager = self.make_manager()
        self.create_synced_node('plain')
        node = self.create_synced_node(
            'intent', intended_settings={'boot_mode': 'uefi'})
        manager.power_sync.run(self.context)
        self.assertEqual({'plain': None, 'intent': {}}, seen)
        self.assertIsNone(db_api.get_node(node.id).drift)

    def test_drift_check_reads_the_boot_mode(self) -> None:
        manager = self.make_manager()
        node = self.create_synced_node(
            'n1', intended_settings={'boot_mode': 'bios'})
        stats = manager.drift_check.run(self.context)
        self.assertEqual(1, stats.drifted)
        entry = db_api.get_node(node.id).drift[0]
        self.assertEqual(('boot_mode', 'uefi'),
                         (entry['setting'], entry['actual']))


class TestRecordedOnApply(utils.ConductorTestCase):

    def test_boot_mode_set_becomes_intended(self) -> None:
        manager = self.make_manager()
        node = self.create_synced_node('n1')
        db_api.update_node(node.id, {'drift': [{
            'setting': 'boot_mode', 'intended': 'uefi', 'actual': 'bios',
            'since': '2026-12-01T00:00:00+00:00', 'state': 'drifted',
            'attempts': 0}], 'intended_settings': {'boot_mode': 'uefi'}})
        manager.set_boot_mode(self.context, node.uuid, 'bios')
        stored = db_api.get_node(node.id)
        self.assertEqual({'boot_mode': 'bios'}, stored.intended_settings)
        self.assertIsNone(stored.drift)
        events = [e.event for e in db_api.list_node_history(node.id)
                  if e.event_type == intended.EVENT_TYPE]
        self.assertEqual(['Applied through Podium, recorded as intended: '
                          'boot_mode.'], events)

    def test_not_recorded_when_turned_off(self) -> None:
        self.config(intend_applied_settings=False, group='conductor')
        manager = self.make_manager()
        node = self.create_synced_node('n1')
        manager.set_boot_mode(self.context, node.uuid, 'bios')
        self.assertIsNone(db_api.get_node(node.id).intended_settings)
