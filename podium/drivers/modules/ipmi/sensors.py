"""IPMI sensor readings: the BMC's SDR repository, then Get Sensor
Reading and Get Sensor Thresholds for each threshold-based sensor.

The repository (Get SDR Repository Info, Reserve SDR Repository, Get
SDR) is fetched and its records decoded by pyghmi's ``sdr.SDR``, which
keeps the decoded records per BMC model and SDR time stamp in the
process, so a fleet of one model fetches the repository once; the
commands go through Podium's reactor (:mod:`.client`), bounded by the
call's deadline like every IPMI command. Temperature, voltage, fan and
power (watts) sensors are reported; discrete sensors and other kinds
are left out.
"""

from typing import Any

from pyghmi import constants as pyghmi_const
from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi import sdr as pyghmi_sdr
from pyghmi.ipmi.private import constants as pyghmi_events

from podium.drivers import base
from podium.drivers import sensor_readings as sr
from podium.drivers.modules.ipmi import client, utils

NETFN_SENSOR = 0x04
CMD_GET_READING = 0x2D
CMD_GET_THRESHOLDS = 0x27

#: pyghmi's sensor type names -> kinds (a sensor in watts is power,
#: whatever its type).
_KINDS = {'Temperature': sr.TEMPERATURE, 'Voltage': sr.VOLTAGE,
          'Fan': sr.FAN, 'Power': sr.POWER}
#: pyghmi's unit suffixes -> Redfish (UCUM) units.
_UNITS = {'°C': 'Cel', 'V': 'V', 'RPM': 'RPM', 'W': 'W', '% ': '%'}
#: Get Sensor Thresholds answer order (after the readable mask).
_THRESHOLDS = ('lower_caution', 'lower_critical', 'lower_fatal',
               'upper_caution', 'upper_critical', 'upper_fatal')


class _Command:
    """pyghmi's ``Command`` API over a reactor connection, for
    ``sdr.SDR``: ``xraw_command`` raises on a completion code,
    ``raw_command`` returns it (the SDR reader retries on some)."""

    def __init__(self, connection: client.Connection,
                 bridge: dict[str, int] | None) -> None:
        self.connection = connection
        self.bridge = bridge or ()

    def xraw_command(self, netfn: int, command: int,
                     data: Any = (), **_: Any) -> dict[str, Any]:
        return self.connection.xraw_command(
            netfn, command, bridge_request=self.bridge, data=data)

    @staticmethod
    def get_event_constants() -> Any:
        """pyghmi's generic event and sensor type names: what its OEM
        layer gives for a vendor it has no module for, without the
        vendor probe (a Get Device ID round trip per call)."""
        return pyghmi_events

    def raw_command(self, netfn: int, command: int, data: Any = (),
                    **_: Any) -> dict[str, Any]:
        try:
            return self.xraw_command(netfn, command, data)
        except pyghmi_exc.IpmiException as exc:
            code = getattr(exc, 'ipmicode', 0)
            if not code or code == 0xFFFF:
                raise  # no answer at all: not a completion code
            return {'code': code, 'error': str(exc), 'data': b''}


def _health(value: int) -> str:
    if value & (pyghmi_const.Health.Critical | pyghmi_const.Health.Failed):
        return 'Critical'
    if value & pyghmi_const.Health.Warning:
        return 'Warning'
    return sr.HEALTH_OK


def _thresholds(command: _Command, entry: Any) -> dict[str, float]:
    if not getattr(entry, 'has_thresholds', False):
        return {}
    answer = command.raw_command(NETFN_SENSOR, CMD_GET_THRESHOLDS,
                                 (entry.sensor_number,))
    data = bytes(answer.get('data') or b'')
    if answer.get('code') or len(data) < 7:
        return {}
    return {name: round(entry.decode_value(command, data[bit + 1]), 4)
            for bit, name in enumerate(_THRESHOLDS)
            if data[0] & (1 << bit)}


def _reading(command: _Command, entry: Any) -> sr.SensorReading | None:
    units = _UNITS.get(getattr(entry, 'unit_suffix', ''))
    kind = sr.POWER if units == 'W' else _KINDS.get(entry.sensor_type)
    if kind is None or units is None or entry.reading_type != 0x01:
        return None  # not a threshold sensor of a kind Podium reports
    answer = command.raw_command(NETFN_SENSOR, CMD_GET_READING,
                                 (entry.sensor_number,))
    if answer.get('code'):
        return None  # 0xcb: the sensor is not present
    decoded = entry.decode_sensor_reading(command, bytes(answer['data']))
    value = None if decoded.unavailable or decoded.value is None \
        else round(float(decoded.value), 4)
    return sr.SensorReading(
        name=str(decoded.name), kind=kind, reading=value, units=units,
        health=None if value is None else _health(decoded.health),
        thresholds=_thresholds(command, entry),
        context=_power_context(entry) if kind == sr.POWER else None)


def _power_context(entry: Any) -> str:
    """``PowerSupply`` for a power supply's watts, else ``System``: a
    watts sensor of another entity (an "other units" power meter) is
    what the node draws."""
    supply = 'Power Supply'
    if entry.sensor_type == supply or \
            str(getattr(entry, 'entity', '')).startswith(supply):
        return 'PowerSupply'
    return 'System'


def read(task: base.Task) -> list[sr.SensorReading]:
    """The node's readings, within the call's deadline."""
    info = utils.parse(task.node)
    bridge = info.bridge_request()

    def read_all(connection: client.Connection) -> list[sr.SensorReading]:
        command = _Command(connection, bridge)
        repository = pyghmi_sdr.SDR(command)
        found = []
        for number in repository.get_sensor_numbers():
            reading = _reading(command, repository.sensors[number])
            if reading is not None:
                found.append(reading)
        return found

    return client.run(task, info, 'reading the sensors', read_all)
