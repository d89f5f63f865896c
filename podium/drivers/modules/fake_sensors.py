"""Sensor readings of fake hardware: deterministic, and plausible for
the node's (fake) power state.

A powered-on node draws 180-187 W (the offset comes from its UUID, so
nodes differ but a node always reads the same), its CPU runs at
48-55 °C and its fan turns; a powered-off node draws 8 W of standby
power and its CPU and fan sensors have no reading, as on a real BMC.
A test sets a reading behind Podium's back (a CPU over its critical
threshold, say) with ``driver_internal_info['fake_sensors']``,
``{sensor name: value}``. ``fake_delay``, ``fake_hang`` and
``fake_fail`` steer the read as every fake BMC call.
"""

from typing import Any

from podium.common import states
from podium.drivers import base
from podium.drivers import sensor_readings as sr

#: ``(name, kind, units, context, on reading, off reading, thresholds)``;
#: the on readings of power and CPU get the node's offset added.
_SENSORS: tuple[tuple[str, str, str, str, float | None, float | None,
                      dict[str, float]], ...] = (
    ('System Power', sr.POWER, 'W', 'PowerControl', 180.0, 8.0,
     {'upper_critical': 450.0}),
    ('CPU1 Temp', sr.TEMPERATURE, 'Cel', 'CPU', 48.0, None,
     {'upper_caution': 85.0, 'upper_critical': 95.0,
      'upper_fatal': 100.0}),
    ('Inlet Temp', sr.TEMPERATURE, 'Cel', 'Intake', 22.0, 22.0,
     {'upper_caution': 35.0, 'upper_critical': 42.0}),
    ('Fan1', sr.FAN, 'RPM', 'Fan', 6000.0, None,
     {'lower_critical': 500.0}),
    ('PSU1 Input Voltage', sr.VOLTAGE, 'V', 'PowerSupply', 230.0, 230.0,
     {'lower_critical': 180.0, 'upper_critical': 264.0}),
)
#: The sensors whose on reading varies from node to node.
_VARYING = ('System Power', 'CPU1 Temp')


def _offset(node: base.NodeView) -> int:
    return int(node.uuid.replace('-', '')[-2:], 16) % 8


def readings(node: base.NodeView, power_state: str
             ) -> list[sr.SensorReading]:
    """The readings of ``node`` in ``power_state``, with the overrides of
    ``driver_internal_info['fake_sensors']`` applied."""
    on = power_state == states.POWER_ON
    overrides: dict[str, Any] = dict(
        (node.driver_internal_info or {}).get('fake_sensors') or {})
    result = []
    for name, kind, units, context, when_on, when_off, limits in _SENSORS:
        value = when_on if on else when_off
        if on and value is not None and name in _VARYING:
            value += _offset(node)
        if name in overrides:
            value = sr.number(overrides[name])
        health = None
        if value is not None:
            reading = sr.SensorReading(name, kind, value, units,
                                       thresholds=limits, context=context)
            health = 'Critical' if reading.over_critical() else sr.HEALTH_OK
        result.append(sr.SensorReading(
            name, kind, value, units, health=health,
            state='Enabled' if value is not None else 'StandbyOffline',
            thresholds=limits, context=context))
    return result
