"""Redfish sensor readings against sushy-tools' emulator, whose chassis
serves Thermal (a CPU and an intake temperature, a fan) but no Power."""

from podium.drivers import sensor_readings as sr
from podium.drivers.modules.redfish import management
from podium.tests import base
from podium.tests.functional.drivers import emulators


class TestSushyToolsSensors(base.TestCase):

    def test_thermal_readings(self) -> None:
        emulator, task = emulators.one_system_task(self)
        readings = management.RedfishManagement().get_sensors_data(task)
        self.assertEqual({sr.TEMPERATURE, sr.FAN},
                         {reading.kind for reading in readings})
        by_name = {reading.name: reading for reading in readings}
        intake = by_name['Chassis Intake Temp']
        self.assertEqual((25.0, 'Cel', 'OK', 'Intake'),
                         (intake.reading, intake.units, intake.health,
                          intake.context))
        self.assertEqual({'lower_fatal': 0.0, 'lower_critical': 5.0,
                          'lower_caution': 10.0, 'upper_caution': 30.0,
                          'upper_critical': 40.0, 'upper_fatal': 50.0},
                         intake.thresholds)
        fan = by_name['BaseBoard System Fan']
        self.assertEqual((sr.FAN, 2100.0, 'RPM'),
                         (fan.kind, fan.reading, fan.units))
        # No Power resource: no power draw, not a failure.
        self.assertIsNone(sr.power_draw(readings))
