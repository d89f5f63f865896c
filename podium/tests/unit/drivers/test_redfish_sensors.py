"""Redfish sensor readings: Power and Thermal or the Sensors collection,
read from Podium's simulator through the management interface, and the
parsing of documents other BMCs send."""

from typing import Any

from podium.common import exceptions
from podium.drivers import sensor_readings as sr
from podium.drivers.modules.redfish import management, sensors
from podium.tests.unit.drivers import simulated_sensors, test_redfish_driver


class RedfishSensorsTest(test_redfish_driver.SimulatorTestCase):

    systems_per_endpoint = 2

    def setUp(self) -> None:
        super().setUp()
        self.management = management.RedfishManagement()
        self.system = self.sim.systems[1]
        self.sim.set_power(self.system, 'On')

    def read(self) -> dict[str, sr.SensorReading]:
        return simulated_sensors.by_name(
            self.management.get_sensors_data(self.task(1)))

    def test_power_and_thermal(self) -> None:
        readings = self.read()
        self.assertEqual(
            {'System Power', 'PSU1 Output', 'PSU1 Input Voltage',
             'VRM1 12V', 'CPU1 Temp', 'Inlet Temp', 'Fan1'},
            set(readings))
        power = readings['System Power']
        self.assertEqual((sr.POWER, 181.0, 'W', 'PowerControl'),
                         (power.kind, power.reading, power.units,
                          power.context))
        cpu = readings['CPU1 Temp']
        self.assertEqual(('OK', 'Enabled'), (cpu.health, cpu.state))
        simulated_sensors.assert_powered_on(self, readings)

    def test_powered_off_and_over_threshold(self) -> None:
        self.sim.set_power(self.system, 'Off')
        readings = self.read()
        self.assertEqual(8.0, readings['System Power'].reading)
        self.assertIsNone(readings['CPU1 Temp'].reading)
        self.assertFalse(readings['CPU1 Temp'].over_critical())
        self.sim.set_sensors(self.system, {'Inlet Temp': 45})
        inlet = self.read()['Inlet Temp']
        self.assertEqual(('Critical', 45.0), (inlet.health, inlet.reading))
        self.assertTrue(inlet.over_critical())

    def test_sensors_collection(self) -> None:
        self.sim.set_sensors(self.system, style='sensors')
        self.read()  # connects
        before = self.requests()
        readings = self.read()
        # The system, the chassis and one $expand of the Sensors.
        self.assertEqual(3, self.requests() - before)
        self.assertEqual(7, len(readings))
        fan = readings['Fan1']
        self.assertEqual((sr.FAN, 6000.0, 'RPM', {'lower_critical': 500.0}),
                         (fan.kind, fan.reading, fan.units, fan.thresholds))
        self.assertEqual(181.0, sr.power_draw(readings.values()))
        # Without $expand, member by member.
        self.config(use_expand=False, group='redfish')
        self.assertEqual(readings, self.read())

    def test_hung_bmc_bounded(self) -> None:
        self.sim.set_system_behaviour(self.system, hang=True)
        self.assertRaises(exceptions.BMCTimeout,
                          self.management.get_sensors_data,
                          self.task(1, timeout=0.5))


def _status(health: str = 'OK') -> dict[str, Any]:
    return {'State': 'Enabled', 'Health': health}


class ParseTest(test_redfish_driver.base.TestCase):

    def test_thermal_of_sushy_tools(self) -> None:
        # The shape sushy-tools' emulator serves.
        readings = sensors.parse_thermal({
            'Temperatures': [{
                'MemberId': '0', 'Name': 'CPU Temp', 'ReadingCelsius': 41,
                'UpperThresholdNonCritical': 42,
                'UpperThresholdCritical': 45, 'UpperThresholdFatal': 48,
                'PhysicalContext': 'CPU', 'Status': _status()}],
            'Fans': [{'MemberId': '0', 'Name': 'BaseBoard System Fan',
                      'Reading': 2100, 'ReadingUnits': 'RPM',
                      'LowerThresholdFatal': 0, 'Status': _status()},
                     {'FanName': 'Fan 2', 'Reading': 40,
                      'ReadingUnits': 'Percent'}]})
        cpu, fan, other = readings
        self.assertEqual(('CPU Temp', 41.0, {'upper_caution': 42.0,
                                             'upper_critical': 45.0,
                                             'upper_fatal': 48.0}),
                         (cpu.name, cpu.reading, cpu.thresholds))
        self.assertEqual((2100.0, 'RPM', {'lower_fatal': 0.0}),
                         (fan.reading, fan.units, fan.thresholds))
        self.assertEqual(('Fan 2', 40.0, '%', None),
                         (other.name, other.reading, other.units,
                          other.health))

    def test_power_without_readings(self) -> None:
        readings = sensors.parse_power({
            'PowerControl': [{'Name': 'System Power Control',
                              'PowerConsumedWatts': None}],
            'PowerSupplies': [{'Name': 'PS1', 'Status': {
                'State': 'Absent'}}],
            'Voltages': ['garbage', {'ReadingVolts': '12'}]})
        self.assertEqual(
            [('System Power Control', None), ('Voltage 0', None)],
            [(r.name, r.reading) for r in readings])
        self.assertIsNone(sr.power_draw(readings))

    def test_sensor_kinds(self) -> None:
        self.assertIsNone(sensors.parse_sensor(
            {'Id': 'Hum', 'ReadingType': 'Humidity', 'Reading': 30}))
        fan = sensors.parse_sensor({
            'Id': 'FanPct', 'ReadingType': 'Percent',
            'PhysicalContext': 'Fan', 'Reading': 55,
            'Thresholds': {'LowerCritical': {'Reading': 5},
                           'Bogus': {'Reading': 1}, 'UpperCaution': 'x'}})
        assert fan is not None
        self.assertEqual(('FanPct', sr.FAN, '%', {'lower_critical': 5.0}),
                         (fan.name, fan.kind, fan.units, fan.thresholds))
        power = sensors.parse_sensor({
            'Id': 'TotalPower', 'Name': 'Total Power', 'ReadingType':
            'Power', 'Reading': 300, 'PhysicalContext': 'Chassis'})
        assert power is not None
        self.assertEqual(('Total Power', 'W', 300.0),
                         (power.name, power.units,
                          sr.power_draw([power])))
