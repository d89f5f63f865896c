"""What a driver must read from a powered-on simulated system, over
Redfish (:mod:`podium.simulator.sensors`) or IPMI
(:mod:`podium.simulator.ipmi_sdr`, whose sensors mirror the Redfish
ones)."""

from collections.abc import Iterable, Mapping

import testtools

from podium.drivers import sensor_readings as sr


def by_name(readings: Iterable[sr.SensorReading]
            ) -> dict[str, sr.SensorReading]:
    return {reading.name: reading for reading in readings}


def assert_powered_on(test: testtools.TestCase,
                      readings: Mapping[str, sr.SensorReading]) -> None:
    """The CPU temperature with its thresholds, the 12 V rail, the fan
    and the power draw of a powered-on simulated system."""
    cpu = readings['CPU1 Temp']
    test.assertEqual((sr.TEMPERATURE, 49.0, 'Cel'),
                     (cpu.kind, cpu.reading, cpu.units))
    test.assertEqual({'upper_caution': 85.0, 'upper_critical': 95.0,
                      'upper_fatal': 100.0}, cpu.thresholds)
    rail = readings['VRM1 12V']
    test.assertEqual((sr.VOLTAGE, 12.1, {'lower_critical': 11.4,
                                          'upper_critical': 12.6}),
                     (rail.kind, rail.reading, rail.thresholds))
    fan = readings['Fan1']
    test.assertEqual((sr.FAN, 6000.0, 'RPM'),
                     (fan.kind, fan.reading, fan.units))
    test.assertEqual(181.0, sr.power_draw(readings.values()))
