"""Verify, inspect (with ports) and automated cleaning of Redfish nodes.

The conductor manager drives nodes through ``manage``, ``inspect`` and
``provide`` with the real ``redfish`` interfaces, against sushy-tools'
emulator and against Podium's own simulator. Inspection must create a
port for each MAC address the system's EthernetInterfaces report, fill
the node's properties, keep a port that already has one of the MACs,
and create nothing new when run again.
"""

from typing import Any

from podium.common import states
from podium.db import api as db_api
from podium.db import models
from podium.db import ports as db_ports
from podium.drivers.modules.redfish import connection
from podium.simulator import Simulator
from podium.tests.functional.drivers import emulators
from podium.tests.unit.conductor import utils
from podium.tests.unit.drivers import helpers

#: Seconds a transition may take: the emulator applies a power change
#: up to 11 s after it is asked for, and cleaning switches power off.
TRANSITION_TIMEOUT = 60.0


class _Lifecycle:
    """The scenario; subclasses start the BMCs and describe them (a
    mixin, so that the runner does not collect it on its own)."""

    #: Properties inspection must find (what the BMC reports).
    expected_properties: dict[str, Any]

    def setUp(self) -> None:
        super().setUp()
        self.config(enabled_hardware_types=['redfish'],
                    enabled_power_interfaces=['redfish'],
                    enabled_management_interfaces=['redfish'],
                    enabled_inspect_interfaces=['redfish', 'no-inspect'])
        self.config(action_timeout=TRANSITION_TIMEOUT, automated_clean=True,
                    group='conductor')
        self.config(power_state_poll_interval=0.5, request_timeout=5,
                    group='redfish')
        self.addCleanup(connection.CACHE.clear)
        self.start_bmcs()
        self.manager = self.make_manager(self.make_pool(size=12))

    def start_bmcs(self) -> None:
        raise NotImplementedError

    def driver_info(self) -> dict[str, Any]:
        """``driver_info`` of the node of the first system."""
        raise NotImplementedError

    def system_macs(self) -> list[str]:
        """The MACs of the first system, as its BMC reports them."""
        raise NotImplementedError

    def move(self, target: str, expected: str) -> models.Node:
        self.manager.do_provisioning_action(self.context, 'rf-1', target)
        node = utils.wait_for(
            lambda: self._settled(expected), timeout=TRANSITION_TIMEOUT,
            interval=0.1, what=f'{target} to end in {expected}')
        self.assertIsNone(node.last_error)
        return node

    @staticmethod
    def _settled(expected: str) -> models.Node | None:
        node = db_api.get_node('rf-1')
        failed = node.provision_state in states.FAILURE_STATES
        if node.reservation is not None or (node.target_provision_state
                                            and not failed):
            return None
        if node.provision_state != expected:
            raise AssertionError(f'ended in {node.provision_state}: '
                                 f'{node.last_error}')
        return node

    def ports(self, node: models.Node) -> dict[str, models.Port]:
        return {port.address: port
                for port in db_ports.list_ports(node_id=node.id)}

    def test_verify_inspect_with_ports_and_clean(self) -> None:
        node = db_api.create_node({
            'name': 'rf-1', 'driver': 'redfish', 'power_interface':
                'redfish', 'management_interface': 'redfish',
            'inspect_interface': 'redfish',
            'driver_info': self.driver_info(),
            'properties': {'rack': 'r7'}})
        self.assertEqual(states.ENROLL, node.provision_state)
        node = self.move('manage', states.MANAGEABLE)
        self.assertIn(node.power_state, (states.POWER_ON, states.POWER_OFF))

        macs = sorted(mac.lower() for mac in self.system_macs())
        self.assertTrue(macs)
        # An operator registered the first NIC already, not for PXE.
        kept = db_ports.create_port({'node_id': node.id, 'address': macs[0],
                                     'pxe_enabled': False})
        node = self.move('inspect', states.MANAGEABLE)
        ports = self.ports(node)
        self.assertEqual(macs, sorted(ports))
        self.assertEqual((kept.uuid, False), (ports[macs[0]].uuid,
                                              ports[macs[0]].pxe_enabled))
        self.assertTrue(all(ports[mac].pxe_enabled for mac in macs[1:]))
        self.assertEqual('r7', node.properties['rack'])
        self.assertEqual(self.expected_properties,
                         {key: node.properties.get(key)
                          for key in self.expected_properties})
        self.assertNotIn('macs', node.properties)
        self.assertIsNotNone(node.inspection_finished_at)

        node = self.move('inspect', states.MANAGEABLE)
        self.assertEqual({mac: port.uuid for mac, port in ports.items()},
                         {mac: port.uuid for mac, port
                          in self.ports(node).items()})

        node = self.move('provide', states.AVAILABLE)
        self.assertEqual(states.POWER_OFF, node.power_state)
        self.assertEqual({}, node.clean_step or {})


class TestSushyToolsEmulator(_Lifecycle, utils.ConductorTestCase):
    """sushy-tools' emulator, fake driver: one NIC per system."""

    # Its fake systems have no processors; the first has a 100 GiB
    # drive (less 1 GiB for partitioning, as Ironic counts).
    expected_properties = {'local_gb': 99}

    def start_bmcs(self) -> None:
        self.emulator = self.useFixture(emulators.SushyEmulator(
            count=1, power_state='On'))
        self.useFixture(helpers.SecretsNotLogged(emulators.PASSWORD))

    def driver_info(self) -> dict[str, Any]:
        return self.emulator.driver_info(0)

    def system_macs(self) -> list[str]:
        collection = self.emulator.get(
            self.emulator.systems[0]['path'] + '/EthernetInterfaces')
        return [self.emulator.get(member['@odata.id'])['MACAddress']
                for member in collection['Members']]


class TestPodiumSimulator(_Lifecycle, utils.ConductorTestCase):
    """Podium's simulator: several NICs per system."""

    expected_properties = {'cpus': 32, 'cpu_arch': 'x86_64',
                           'memory_mb': 64 * 1024}

    def start_bmcs(self) -> None:
        # Not the default password "password": sushy logs that word at
        # DEBUG when it reads a Bios resource (its change_password action).
        self.sim = Simulator(endpoints=1, systems_per_endpoint=1, seed=11,
                             power_state='On', password='Lc-sim-Pw7')
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.useFixture(helpers.SecretsNotLogged(
            self.sim.systems[0].password))

    def driver_info(self) -> dict[str, Any]:
        system = self.sim.systems[0]
        return {'redfish_address': system.address,
                'redfish_system_id': system.system_id,
                'redfish_username': system.username,
                'redfish_password': system.password}

    def system_macs(self) -> list[str]:
        return list(self.sim.systems[0].macs)
