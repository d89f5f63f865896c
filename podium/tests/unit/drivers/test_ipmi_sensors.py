"""IPMI sensor readings through the driver (Podium's reactor, pyghmi's
SDR decoding) against Podium's IPMI simulator: its SDR repository,
readings that follow the power state, thresholds and health."""

from podium.common import exceptions
from podium.drivers import sensor_readings as sr
from podium.drivers.modules.ipmi import management, reactor
from podium.simulator.ipmi_process import IpmiSimulatorProcess
from podium.tests import base
from podium.tests.unit.drivers import helpers, simulated_sensors
from podium.tests.unit.simulator import test_ipmi


class IPMISensorsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(command_timeout=3, group='ipmi')
        self.sim = IpmiSimulatorProcess(
            count=2, seed=5, password=test_ipmi.unique_password())
        self.sim.start()
        self.addCleanup(self.sim.stop)
        self.addCleanup(reactor.REACTOR.clear)
        self.management = management.IPMIManagement()

    def read(self, index: int = 1, timeout: float = 10.0
             ) -> dict[str, sr.SensorReading]:
        info = self.sim.bmcs[index]
        task = helpers.task_for(
            {'ipmi_address': info.address, 'ipmi_port': info.port,
             'ipmi_username': info.username,
             'ipmi_password': info.password}, timeout, driver='ipmi')
        return simulated_sensors.by_name(
            self.management.get_sensors_data(task))

    def test_readings_follow_power_state(self) -> None:
        self.sim.set_power(1, 'On')
        readings = self.read()
        self.assertEqual({'System Power', 'CPU1 Temp', 'Inlet Temp', 'Fan1',
                          'VRM1 12V'}, set(readings))
        power = readings['System Power']
        self.assertEqual((sr.POWER, 181.0, 'W', 'OK', 'System'),
                         (power.kind, power.reading, power.units,
                          power.health, power.context))
        simulated_sensors.assert_powered_on(self, readings)
        self.sim.set_power(1, 'Off')
        readings = self.read()
        self.assertEqual(8.0, readings['System Power'].reading)
        self.assertEqual((None, None), (readings['Fan1'].reading,
                                        readings['Fan1'].health))

    def test_threshold_crossed(self) -> None:
        self.sim.set_power(1, 'On')
        self.sim.set_sensors(1, {'CPU1 Temp': 97, 'Fan1': 400})
        readings = self.read()
        self.assertEqual((97.0, 'Critical'), (readings['CPU1 Temp'].reading,
                                              readings['CPU1 Temp'].health))
        self.assertTrue(readings['Fan1'].over_critical())
        self.assertEqual('Critical', readings['Fan1'].health)
        self.sim.set_sensors(1, {'CPU1 Temp': 86, 'Fan1': None})
        readings = self.read()
        self.assertEqual('Warning', readings['CPU1 Temp'].health)
        self.assertEqual('OK', readings['Fan1'].health)

    def test_hung_bmc_bounded(self) -> None:
        self.sim.set_behaviour(0, hang=True)
        self.assertRaises(exceptions.BMCTimeout, self.read, 0, 1.0)
