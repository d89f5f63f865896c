"""Redfish sensor readings: the chassis' ``Power`` and ``Thermal``
resources, or the newer ``Sensors`` collection.

The chassis is the first of the system's ``Links/Chassis`` (else the
BMC's only chassis). From it, ``Power`` gives PowerControl
(``PowerConsumedWatts``), PowerSupplies (output watts, input volts) and
Voltages; ``Thermal`` gives Temperatures and Fans. A chassis with
neither (Power and Thermal are deprecated since Redfish 2020.4) is read
through its ``Sensors`` collection, in one ``$expand`` request where
the BMC advertises it, else member by member.

The documents are read raw (:meth:`Connection.get_json`), not through
sushy's resources: sushy 5's ``Power`` lacks PowerControl and Voltages
and it has no Sensor resource at all. Every request is bounded by the
call's deadline (:func:`power_read.connected`).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from podium.common import exceptions
from podium.drivers import base
from podium.drivers import sensor_readings as sr
from podium.drivers.modules.redfish import connection, power_read, utils

#: Redfish threshold properties of Power/Thermal members.
_LEGACY_THRESHOLDS = {
    'LowerThresholdFatal': 'lower_fatal',
    'LowerThresholdCritical': 'lower_critical',
    'LowerThresholdNonCritical': 'lower_caution',
    'UpperThresholdNonCritical': 'upper_caution',
    'UpperThresholdCritical': 'upper_critical',
    'UpperThresholdFatal': 'upper_fatal',
}
#: Redfish ``Sensor.Thresholds`` members.
_SENSOR_THRESHOLDS = {
    'LowerFatal': 'lower_fatal', 'LowerCritical': 'lower_critical',
    'LowerCaution': 'lower_caution', 'UpperCaution': 'upper_caution',
    'UpperCritical': 'upper_critical', 'UpperFatal': 'upper_fatal',
}
#: ``Sensor.ReadingType`` -> kind; a Percent sensor counts as a fan
#: when its PhysicalContext is Fan.
_READING_TYPES = {'Temperature': sr.TEMPERATURE, 'Power': sr.POWER,
                  'Voltage': sr.VOLTAGE, 'Rotational': sr.FAN}
#: Units of a sensor that names none, by kind (UCUM, as Redfish).
_DEFAULT_UNITS = {sr.TEMPERATURE: 'Cel', sr.POWER: 'W', sr.VOLTAGE: 'V',
                  sr.FAN: 'RPM'}
#: Fan ``ReadingUnits`` -> UCUM units.
_FAN_UNITS = {'RPM': 'RPM', 'Percent': '%'}


def _link(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if isinstance(value, dict) and isinstance(value.get('@odata.id'), str):
        return str(value['@odata.id'])
    return None


def _status(doc: Mapping[str, Any]) -> tuple[str | None, str | None]:
    status = doc.get('Status')
    if not isinstance(status, dict):
        return None, None
    return status.get('Health'), status.get('State')


def _members(doc: Mapping[str, Any], key: str) -> Iterator[dict[str, Any]]:
    for item in doc.get(key) or ():
        if isinstance(item, dict):
            yield item


def _reading(item: Mapping[str, Any], name: str, kind: str,
             value: Any, units: str, context: Any,
             thresholds: Mapping[str, Any] | None = None
             ) -> sr.SensorReading:
    health, state = _status(item)
    limits = sr.thresholds_of({
        ours: item.get(theirs)
        for theirs, ours in _LEGACY_THRESHOLDS.items()}
        if thresholds is None else thresholds)
    return sr.SensorReading(
        name=str(item.get('Name') or name), kind=kind,
        reading=sr.number(value), units=units, health=health, state=state,
        thresholds=limits,
        context=context if isinstance(context, str) else None)


def parse_power(doc: Mapping[str, Any]) -> list[sr.SensorReading]:
    """The readings of a ``Power`` document."""
    found = []
    for index, item in enumerate(_members(doc, 'PowerControl')):
        found.append(_reading(
            item, f'Power Control {index}', sr.POWER,
            item.get('PowerConsumedWatts'), 'W', 'PowerControl', {}))
    for index, item in enumerate(_members(doc, 'PowerSupplies')):
        name = str(item.get('Name') or f'Power Supply {index}')
        if 'LastPowerOutputWatts' in item:
            found.append(_reading(
                {**item, 'Name': f'{name} Output'}, name, sr.POWER,
                item['LastPowerOutputWatts'], 'W', 'PowerSupply', {}))
        if 'LineInputVoltage' in item:
            found.append(_reading(
                {**item, 'Name': f'{name} Input Voltage'}, name,
                sr.VOLTAGE, item['LineInputVoltage'], 'V', 'PowerSupply',
                {}))
    for index, item in enumerate(_members(doc, 'Voltages')):
        found.append(_reading(item, f'Voltage {index}', sr.VOLTAGE,
                              item.get('ReadingVolts'), 'V',
                              item.get('PhysicalContext')))
    return found


def parse_thermal(doc: Mapping[str, Any]) -> list[sr.SensorReading]:
    """The readings of a ``Thermal`` document."""
    found = []
    for index, item in enumerate(_members(doc, 'Temperatures')):
        found.append(_reading(item, f'Temperature {index}', sr.TEMPERATURE,
                              item.get('ReadingCelsius'), 'Cel',
                              item.get('PhysicalContext')))
    for index, item in enumerate(_members(doc, 'Fans')):
        name = item.get('Name') or item.get('FanName') or f'Fan {index}'
        found.append(_reading(
            {**item, 'Name': name}, name, sr.FAN, item.get('Reading'),
            _FAN_UNITS.get(str(item.get('ReadingUnits')), 'RPM'),
            item.get('PhysicalContext')))
    return found


def parse_sensor(doc: Mapping[str, Any]) -> sr.SensorReading | None:
    """The reading of one ``Sensor`` document; None for a kind Podium
    does not report (humidity, current, energy...)."""
    context = doc.get('PhysicalContext')
    reading_type = doc.get('ReadingType')
    kind = _READING_TYPES.get(str(reading_type))
    if kind is None and reading_type == 'Percent' and context == 'Fan':
        kind = sr.FAN
    if kind is None:
        return None
    raw = doc.get('Thresholds')
    limits = {ours: value.get('Reading')
              for theirs, ours in _SENSOR_THRESHOLDS.items()
              if isinstance(raw, dict)
              and isinstance(value := raw.get(theirs), dict)}
    units = doc.get('ReadingUnits')
    if not isinstance(units, str) or not units:
        units = '%' if reading_type == 'Percent' else _DEFAULT_UNITS[kind]
    return _reading(doc, str(doc.get('Id') or 'Sensor'), kind,
                    doc.get('Reading'), units, context, limits)


def _chassis_path(conn: connection.Connection,
                  info: utils.RedfishInfo) -> str:
    system = power_read.read_document(conn, info)
    chassis = (system.get('Links') or {}).get('Chassis') or []
    for link in chassis:
        if isinstance(link, dict) and link.get('@odata.id'):
            return str(link['@odata.id'])
    collection = conn.get_json(
        _link(conn.root.json or {}, 'Chassis') or '/redfish/v1/Chassis')
    members = list(_members(collection, 'Members'))
    if len(members) == 1 and members[0].get('@odata.id'):
        return str(members[0]['@odata.id'])
    raise exceptions.DriverError(
        reason=f'the system links no chassis and the BMC at '
               f'{conn.address} has {len(members)}; cannot tell which '
               f'chassis holds its sensors')


def _sensor_documents(conn: connection.Connection,
                      path: str) -> Iterator[dict[str, Any]]:
    if conn.expand_usable():
        expanded = conn.get_json(path + power_read.EXPAND_QUERY)
        members = list(_members(expanded, 'Members'))
        if all('Reading' in m or 'ReadingType' in m for m in members):
            yield from members
            return
    else:
        members = list(_members(conn.get_json(path), 'Members'))
    for member in members:
        member_path = member.get('@odata.id')
        if isinstance(member_path, str):
            yield conn.get_json(member_path)


def read(task: base.Task) -> list[sr.SensorReading]:
    """The node's readings.

    :raises UnsupportedDriverExtension: the chassis serves no Power,
        Thermal or Sensors resource.
    """
    with power_read.connected(task, 'reading the sensors') as (info, conn):
        chassis = conn.get_json(_chassis_path(conn, info))
        power, thermal = _link(chassis, 'Power'), _link(chassis, 'Thermal')
        found: list[sr.SensorReading] = []
        if power is not None:
            found += parse_power(conn.get_json(power))
        if thermal is not None:
            found += parse_thermal(conn.get_json(thermal))
        if power is not None or thermal is not None:
            return found
        sensors = _link(chassis, 'Sensors')
        if sensors is None:
            raise exceptions.UnsupportedDriverExtension(
                extension='Reading sensors (the chassis serves no Power, '
                          'Thermal or Sensors resource)',
                node=base.node_label(task.node))
        return [reading for doc in _sensor_documents(conn, sensors)
                if (reading := parse_sensor(doc)) is not None]
