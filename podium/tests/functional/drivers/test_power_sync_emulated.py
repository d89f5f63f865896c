"""Power sync of emulated nodes: out-of-band changes and hung BMCs.

The conductor's own sync cycle (``ConductorManager.power_sync``, what its
periodic ``_sync_power_states`` runs) with the real ``redfish`` and
``ipmi`` drivers, against sushy-tools' Redfish emulator and pyghmi's fake
BMC. For each driver:

- after a cycle every node records the power state its BMC reports;
- a change made directly on one BMC, behind the conductor's back, is
  recorded by the next cycle in that node and its history, and in no
  other node;
- a BMC that never answers costs the cycle about one read timeout: the
  healthy nodes are synced and the hung one gets ``last_error`` and a
  failure count.
"""

import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from podium.common import states
from podium.conductor import sync_cycle
from podium.db import api as db_api
from podium.db import models
from podium.drivers import driver_factory
from podium.drivers.modules.ipmi import reactor as ipmi_reactor
from podium.drivers.modules.redfish import connection as redfish_connection
from podium.tests.functional.drivers import emulators
from podium.tests.functional.fault_proxy import FaultProxy
from podium.tests.unit.conductor import utils
from podium.tests.unit.drivers import helpers

#: ``[conductor] power_state_read_timeout``, and the drivers' own request
#: timeouts: small, so that a hung BMC costs the test little.
READ_TIMEOUT = 2.0

#: A cycle with a hung BMC should end about one read timeout after it
#: started (plus the pool's grace); a generous multiple of it, since the
#: machine may be loaded.
CYCLE_BOUND = 4 * READ_TIMEOUT

#: Initial power state of each emulated node: mixed, so that "matches
#: the BMC" cannot pass by accident.
INITIAL = (states.POWER_ON, states.POWER_OFF, states.POWER_ON,
           states.POWER_OFF)

#: The node whose power is changed out of band.
FLIPPED = 1

_OTHER = {states.POWER_ON: states.POWER_OFF,
          states.POWER_OFF: states.POWER_ON}


def _podium_state(names: Mapping[str, str], value: str) -> str:
    """The Podium power state a BMC's ``value`` stands for, ``names``
    mapping the former to the latter."""
    return next(state for state, name in names.items() if name == value)


class EmulatedBmcs(Protocol):
    """What the scenarios need of a set of emulated BMCs."""

    count: int

    def driver_info(self, index: int) -> dict[str, Any]:
        """``driver_info`` of the node whose BMC is ``index``."""

    def power(self, index: int) -> str:
        """The Podium power state the BMC itself holds."""

    def flip(self, index: int) -> str:
        """Change the power state out of band; return the new state once
        the BMC reports it."""


class RedfishBmcs:
    """The systems of one sushy-tools emulator."""

    _REDFISH = {states.POWER_ON: 'On', states.POWER_OFF: 'Off'}
    _RESET = {states.POWER_ON: 'On', states.POWER_OFF: 'ForceOff'}

    def __init__(self, emulator: emulators.SushyEmulator) -> None:
        self.emulator = emulator
        self.count = emulator.count

    @classmethod
    def power_states(cls, initial: Sequence[str]) -> list[str]:
        """The emulator's ``power_states`` for Podium's ``initial``."""
        return [cls._REDFISH[state] for state in initial]

    def driver_info(self, index: int) -> dict[str, Any]:
        return self.emulator.driver_info(index)

    def power(self, index: int) -> str:
        return _podium_state(self._REDFISH, self.emulator.power(index))

    def flip(self, index: int) -> str:
        target = _OTHER[self.power(index)]
        self.emulator.reset_system(index, self._RESET[target])
        # Applied 0-11 s later: sync must not race the emulator's delay.
        self.emulator.wait_for_power(index, self._REDFISH[target])
        return target


class IpmiBmcs:
    """The BMCs of one pyghmi fake BMC process."""

    _IPMI = {states.POWER_ON: 'on', states.POWER_OFF: 'off'}

    def __init__(self, bmcs: emulators.FakeIpmiBmcs,
                 initial: Sequence[str]) -> None:
        self.bmcs = bmcs
        self.count = bmcs.count
        for index, state in enumerate(initial):
            bmcs.set_power(index, self._IPMI[state])

    def driver_info(self, index: int) -> dict[str, Any]:
        return self.bmcs.driver_info(index)

    def power(self, index: int) -> str:
        return _podium_state(self._IPMI, self.bmcs.state(index)[0])

    def flip(self, index: int) -> str:
        target = _OTHER[self.power(index)]
        self.bmcs.set_power(index, self._IPMI[target])  # immediate
        return target


class PowerSyncTestCase(utils.ConductorTestCase):
    """A conductor manager syncing ``DRIVER`` nodes; the scenarios."""

    DRIVER: str
    bmcs: EmulatedBmcs

    def setUp(self) -> None:
        super().setUp()
        self.config(enabled_hardware_types=[self.DRIVER],
                    enabled_power_interfaces=[self.DRIVER],
                    enabled_management_interfaces=[self.DRIVER],
                    enabled_inspect_interfaces=['no-inspect'])
        self.config(power_state_read_timeout=READ_TIMEOUT,
                    sync_power_state_workers=4,
                    power_state_sync_max_retries=3, group='conductor')
        self.secrets = self.useFixture(
            helpers.SecretsNotLogged(emulators.PASSWORD))
        self.manager = self.make_manager(self.make_pool(size=12))

    def enroll(self, name: str, driver_info: dict[str, Any]) -> models.Node:
        """A node enrolled and verified, its power state not known yet
        (sync reads only verified nodes)."""
        interfaces = driver_factory.get_registry().resolve_interfaces(
            self.DRIVER, {})
        return db_api.create_node(utils.verified(dict(
            {f'{kind}_interface': name for kind, name in interfaces.items()},
            name=name, driver=self.DRIVER, driver_info=driver_info,
            power_state=None)))

    def enroll_bmcs(self, indexes: Iterable[int]) -> list[models.Node]:
        return [self.enroll(f'node-{index}', self.bmcs.driver_info(index))
                for index in indexes]

    def run_cycle(self) -> tuple[sync_cycle.CycleStats, float]:
        """One sync cycle; its stats and its wall time."""
        started = time.monotonic()
        stats = self.manager.power_sync.run(self.context)
        return stats, time.monotonic() - started

    @staticmethod
    def history(node: models.Node) -> list[tuple[str, str, str]]:
        return [(entry.event_type, entry.severity, entry.event)
                for entry in db_api.list_node_history(node.id)]

    def assert_match_bmcs(self, nodes: Sequence[models.Node]) -> None:
        """Each node (enrolled from BMC ``i`` in order) records what its
        BMC reports."""
        self.assertEqual([self.bmcs.power(i) for i in range(len(nodes))],
                         [db_api.get_node(n.id).power_state for n in nodes])

    # Scenarios -----------------------------------------------------------

    def check_out_of_band_change(self) -> None:
        nodes = self.enroll_bmcs(range(self.bmcs.count))
        count = len(nodes)
        stats, _secs = self.run_cycle()
        self.assertEqual((count, count, 0), (stats.nodes, stats.changed,
                                             stats.failed))
        self.assert_match_bmcs(nodes)
        self.assertEqual([[]] * count, [self.history(n) for n in nodes])
        before = {n.id: db_api.get_node(n.id) for n in nodes}

        flipped = nodes[FLIPPED]
        old = before[flipped.id].power_state
        new = self.bmcs.flip(FLIPPED)
        stats, _secs = self.run_cycle()
        self.assertEqual((count, 1, 0, 1), (stats.nodes, stats.changed,
                                            stats.failed, stats.written))
        self.assert_match_bmcs(nodes)
        self.assertEqual(new, db_api.get_node(flipped.id).power_state)
        self.assertEqual(
            [(sync_cycle.EVENT_TYPE, states.WARNING,
              f'Power state changed out-of-band from {old} to {new}.')],
            self.history(flipped))
        for node in nodes:
            if node.id == flipped.id:
                continue
            after = db_api.get_node(node.id)
            # Not even rewritten with the same values.
            self.assertEqual(
                (before[node.id].power_state, before[node.id].updated_at),
                (after.power_state, after.updated_at), f'node {node.name}')
            self.assertEqual([], self.history(node), f'node {node.name}')

    def check_hung_bmc(self, indexes: Sequence[int],
                       hung_info: dict[str, Any]) -> models.Node:
        """Sync the BMCs ``indexes`` and one that never answers; returns
        the hung node."""
        healthy = self.enroll_bmcs(indexes)
        hung = self.enroll('hung', hung_info)
        stats, secs = self.run_cycle()
        self.assertLess(secs, CYCLE_BOUND)
        self.assertEqual((len(healthy) + 1, len(healthy), 1),
                         (stats.nodes, stats.changed, stats.failed))
        self.assertEqual([self.bmcs.power(i) for i in indexes],
                         [db_api.get_node(n.id).power_state
                          for n in healthy])
        stored = db_api.get_node(hung.id)
        self.assertIsNone(stored.power_state)
        error = stored.last_error or ''
        self.assertIn('Failed to read the power state', error)
        self.secrets.check(error)
        self.assertFalse(stored.maintenance)  # 1 failure of 3 allowed
        self.assertEqual(1, self.manager.power_sync.failure_count(hung.id))
        for node in healthy:
            self.assertIsNone(db_api.get_node(node.id).last_error)
        return hung


class TestRedfishPowerSync(PowerSyncTestCase):
    """sushy-tools' emulator, four systems behind one endpoint."""

    DRIVER = 'redfish'

    def setUp(self) -> None:
        super().setUp()
        self.config(request_timeout=READ_TIMEOUT, group='redfish')
        self.addCleanup(redfish_connection.CACHE.clear)
        self.emulator = self.useFixture(emulators.SushyEmulator(
            count=len(INITIAL),
            power_states=RedfishBmcs.power_states(INITIAL)))
        self.bmcs = RedfishBmcs(self.emulator)

    def test_out_of_band_change_recorded(self) -> None:
        self.check_out_of_band_change()

    def test_hung_bmc_costs_one_read_timeout(self) -> None:
        proxy = self.useFixture(FaultProxy(('127.0.0.1', self.emulator.port),
                                           mode='hang'))
        last = self.emulator.count - 1
        hung = self.check_hung_bmc(
            range(last),
            self.emulator.driver_info(last, address=proxy.address))

        # The BMC answers again: the next cycle clears the error.
        proxy.set_mode('pass')
        stats, _secs = self.run_cycle()
        self.assertEqual(0, stats.failed)
        stored = db_api.get_node(hung.id)
        self.assertEqual((self.bmcs.power(last), None),
                         (stored.power_state, stored.last_error))
        self.assertEqual(0, self.manager.power_sync.failure_count(hung.id))


class TestIpmiPowerSync(PowerSyncTestCase):
    """pyghmi's fake BMC, three BMCs on their own ports."""

    DRIVER = 'ipmi'

    def setUp(self) -> None:
        super().setUp()
        self.config(command_timeout=READ_TIMEOUT, group='ipmi')
        self.addCleanup(ipmi_reactor.REACTOR.clear)
        count = 3
        self.bmcs = IpmiBmcs(
            self.useFixture(emulators.FakeIpmiBmcs(count=count)),
            INITIAL[:count])

    def test_out_of_band_change_recorded(self) -> None:
        self.check_out_of_band_change()

    def test_hung_bmc_costs_one_read_timeout(self) -> None:
        # A BMC that takes the packets and never answers.
        black_hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(black_hole.close)
        black_hole.bind(('127.0.0.1', 0))
        self.check_hung_bmc(
            range(self.bmcs.count),
            dict(self.bmcs.driver_info(0),
                 ipmi_port=black_hole.getsockname()[1]))
