"""The simulated sensors of a system: its chassis' ``Power`` and
``Thermal`` resources, or the newer ``Sensors`` collection.

Each system has one chassis (``/redfish/v1/Chassis/<uuid>``). By default
the chassis links ``Power`` (PowerControl, a power supply, a voltage
rail) and ``Thermal`` (CPU and inlet temperatures, a fan), as most BMCs
in racks today do; with the ``sensors`` style it links only
``Sensors`` (one ``Sensor`` resource per reading, ``$expand`` served),
as BMCs that dropped the deprecated resources do.

Readings follow the power state: a powered-on system draws 180-187 W
(its offset comes from its index, so systems differ but each reads the
same every time), a powered-off one 8 W of standby power, with no CPU,
fan or rail reading. ``overrides`` sets a reading by sensor name, so a
test can push a temperature past its critical threshold; the sensor's
health follows its thresholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from podium.simulator.state import SimSystem

ROOT = "/redfish/v1"
LEGACY = "legacy"
SENSORS = "sensors"
STYLES = (LEGACY, SENSORS)


@dataclasses.dataclass(frozen=True)
class _Sensor:
    ident: str
    name: str
    #: Redfish ReadingType.
    reading_type: str
    units: str
    context: str
    on: float | None
    off: float | None
    #: Thresholds by Sensor.Thresholds member name (UpperCritical...).
    thresholds: dict[str, float]
    #: Whether the on reading gets the system's offset added.
    varies: bool = False


_SENSORS = (
    _Sensor("SystemPower", "System Power", "Power", "W", "PowerControl",
            180.0, 8.0, {"UpperCritical": 450.0}, varies=True),
    _Sensor("PSU1Output", "PSU1 Output", "Power", "W", "PowerSupply",
            170.0, 7.0, {}, varies=True),
    _Sensor("PSU1InputVoltage", "PSU1 Input Voltage", "Voltage", "V",
            "PowerSupply", 230.0, 230.0,
            {"LowerCritical": 180.0, "UpperCritical": 264.0}),
    _Sensor("VRM12V", "VRM1 12V", "Voltage", "V", "VoltageRegulator",
            12.1, None, {"LowerCritical": 11.4, "UpperCritical": 12.6}),
    _Sensor("CPU1Temp", "CPU1 Temp", "Temperature", "Cel", "CPU",
            48.0, None, {"UpperCaution": 85.0, "UpperCritical": 95.0,
                         "UpperFatal": 100.0}, varies=True),
    _Sensor("InletTemp", "Inlet Temp", "Temperature", "Cel", "Intake",
            22.0, 22.0, {"UpperCaution": 35.0, "UpperCritical": 42.0}),
    _Sensor("Fan1", "Fan1", "Rotational", "RPM", "Fan", 6000.0, None,
            {"LowerCritical": 500.0}),
)
NAMES = tuple(sensor.name for sensor in _SENSORS)
_BY_ID = {sensor.ident: sensor for sensor in _SENSORS}
#: Sensor.Thresholds member -> Power/Thermal property.
_LEGACY_THRESHOLD = {
    "LowerCaution": "LowerThresholdNonCritical",
    "LowerCritical": "LowerThresholdCritical",
    "LowerFatal": "LowerThresholdFatal",
    "UpperCaution": "UpperThresholdNonCritical",
    "UpperCritical": "UpperThresholdCritical",
    "UpperFatal": "UpperThresholdFatal",
}


def _health(value: float | None, limits: dict[str, float]) -> str:
    if value is None:
        return "OK"
    for level, health in (("Critical", "Critical"), ("Fatal", "Critical"),
                          ("Caution", "Warning")):
        upper, lower = limits.get("Upper" + level), limits.get(
            "Lower" + level)
        if (upper is not None and value >= upper) or (
                lower is not None and value <= lower):
            return health
    return "OK"


def set_overrides(overrides: dict[str, float], readings: Mapping[str, Any],
                  names: Sequence[str]) -> None:
    """Set ``readings`` (``{name: value or None}``, None drops an
    override) in ``overrides``: all of them, or none when one is wrong.

    Shared with the IPMI simulator's sensors, which mirror these.

    :raises ValueError: a name not among ``names`` or a value that is not
        a number.
    """
    for name, value in readings.items():
        if name not in names:
            raise ValueError(f"unknown sensor {name!r}; known: "
                             f"{list(names)}")
        if value is not None and (isinstance(value, bool) or
                                  not isinstance(value, int | float)):
            raise ValueError(f"reading of {name} must be a number")
    for name, value in readings.items():
        if value is None:
            overrides.pop(name, None)
        else:
            overrides[name] = float(value)


class SimSensors:
    """The sensor style and reading overrides of one system."""

    __slots__ = ("style", "overrides")

    def __init__(self) -> None:
        self.style = LEGACY
        self.overrides: dict[str, float] = {}

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply ``{"style": ..., "readings": {name: value or None}}``
        (None drops an override).

        :raises ValueError: an unknown style, sensor or a value that is
            not a number.
        """
        unknown = set(changes) - {"style", "readings"}
        if unknown:
            raise ValueError(f"unknown sensor fields {sorted(unknown)}")
        style = changes.get("style", self.style)
        if style not in STYLES:
            raise ValueError(f"sensor style must be one of {STYLES}")
        readings = changes.get("readings") or {}
        if not isinstance(readings, dict):
            raise ValueError("sensor readings must be an object")
        set_overrides(self.overrides, readings, NAMES)
        self.style = style

    def describe(self) -> dict[str, Any]:
        return {"style": self.style, "readings": dict(self.overrides)}

    def _value(self, sensor: _Sensor, system: SimSystem) -> float | None:
        if sensor.name in self.overrides:
            return self.overrides[sensor.name]
        on = system.power_state == "On"
        value = sensor.on if on else sensor.off
        if on and sensor.varies and value is not None:
            value += system.index % 8
        return value

    # documents

    def chassis_links(self, chassis_path: str) -> dict[str, Any]:
        """The links a chassis document carries for this style."""
        if self.style == SENSORS:
            return {"Sensors": {"@odata.id": chassis_path + "/Sensors"}}
        return {"Power": {"@odata.id": chassis_path + "/Power"},
                "Thermal": {"@odata.id": chassis_path + "/Thermal"}}

    def _legacy_item(self, sensor: _Sensor, system: SimSystem,
                     path: str, index: int) -> dict[str, Any]:
        value = self._value(sensor, system)
        item: dict[str, Any] = {
            "@odata.id": f"{path}/{index}", "MemberId": str(index),
            "Name": sensor.name, "PhysicalContext": sensor.context,
            "Status": {"State": "Enabled" if value is not None
                       else "StandbyOffline",
                       "Health": _health(value, sensor.thresholds)}}
        for ours, theirs in _LEGACY_THRESHOLD.items():
            if ours in sensor.thresholds:
                item[theirs] = sensor.thresholds[ours]
        return item

    def power_document(self, system: SimSystem,
                       chassis_path: str) -> dict[str, Any]:
        path = chassis_path + "/Power"
        draw = self._value(_BY_ID["SystemPower"], system)
        supply = self._legacy_item(_BY_ID["PSU1Output"], system,
                                   path + "#/PowerSupplies", 0)
        supply.update({
            "LastPowerOutputWatts": self._value(_BY_ID["PSU1Output"],
                                                system),
            "LineInputVoltage": self._value(_BY_ID["PSU1InputVoltage"],
                                            system),
            "PowerCapacityWatts": 800, "PowerSupplyType": "AC",
            "Name": "PSU1"})
        rail = self._legacy_item(_BY_ID["VRM12V"], system,
                                 path + "#/Voltages", 0)
        rail["ReadingVolts"] = self._value(_BY_ID["VRM12V"], system)
        return {
            "@odata.type": "#Power.v1_5_0.Power", "@odata.id": path,
            "Id": "Power", "Name": "Power",
            "PowerControl": [{
                "@odata.id": path + "#/PowerControl/0", "MemberId": "0",
                "Name": "System Power", "PowerConsumedWatts": draw,
                "PowerCapacityWatts": 800,
                "PowerMetrics": {"IntervalInMin": 1,
                                 "AverageConsumedWatts": draw},
                "Status": {"State": "Enabled", "Health": "OK"}}],
            "PowerSupplies": [supply],
            "Voltages": [rail],
        }

    def thermal_document(self, system: SimSystem,
                         chassis_path: str) -> dict[str, Any]:
        path = chassis_path + "/Thermal"
        temperatures = []
        for index, ident in enumerate(("CPU1Temp", "InletTemp")):
            sensor = _BY_ID[ident]
            item = self._legacy_item(sensor, system,
                                     path + "#/Temperatures", index)
            item["ReadingCelsius"] = self._value(sensor, system)
            temperatures.append(item)
        fan = self._legacy_item(_BY_ID["Fan1"], system, path + "#/Fans", 0)
        fan.update({"Reading": self._value(_BY_ID["Fan1"], system),
                    "ReadingUnits": "RPM"})
        return {"@odata.type": "#Thermal.v1_5_0.Thermal",
                "@odata.id": path, "Id": "Thermal", "Name": "Thermal",
                "Temperatures": temperatures, "Fans": [fan]}

    def sensor_document(self, system: SimSystem, chassis_path: str,
                        ident: str) -> dict[str, Any] | None:
        sensor = _BY_ID.get(ident)
        if sensor is None:
            return None
        value = self._value(sensor, system)
        return {
            "@odata.type": "#Sensor.v1_2_0.Sensor",
            "@odata.id": f"{chassis_path}/Sensors/{ident}",
            "Id": ident, "Name": sensor.name,
            "ReadingType": sensor.reading_type, "Reading": value,
            "ReadingUnits": sensor.units, "PhysicalContext": sensor.context,
            "Status": {"State": "Enabled" if value is not None
                       else "StandbyOffline",
                       "Health": _health(value, sensor.thresholds)},
            "Thresholds": {name: {"Reading": limit} for name, limit
                           in sensor.thresholds.items()},
        }

    def sensors_collection(self, system: SimSystem, chassis_path: str,
                           expand: bool) -> dict[str, Any]:
        path = chassis_path + "/Sensors"
        members: list[dict[str, Any]] = [
            self.sensor_document(system, chassis_path, s.ident)
            or {} for s in _SENSORS] if expand else [
            {"@odata.id": f"{path}/{s.ident}"} for s in _SENSORS]
        return {"@odata.type": "#SensorCollection.SensorCollection",
                "@odata.id": path, "Name": "Sensors",
                "Members@odata.count": len(members), "Members": members}

    def document(self, system: SimSystem, chassis_path: str, rest: str,
                 expand: bool) -> dict[str, Any] | None:
        """The document at ``<chassis>/<rest>``; None if this style
        serves none there."""
        if self.style == LEGACY:
            if rest == "Power":
                return self.power_document(system, chassis_path)
            if rest == "Thermal":
                return self.thermal_document(system, chassis_path)
            return None
        if rest == "Sensors":
            return self.sensors_collection(system, chassis_path, expand)
        kind, _, ident = rest.partition("/")
        if kind == "Sensors" and ident:
            return self.sensor_document(system, chassis_path, ident)
        return None



def chassis_document(system: SimSystem, rest: str,
                     query: str) -> dict[str, Any] | None:
    """A sensor resource under ``system``'s chassis
    (``/redfish/v1/Chassis/<uuid>/<rest>``); None when its style serves
    nothing there."""
    expand = "$expand" in unquote(query)
    return system.sensors.document(system, f"{ROOT}/Chassis/{system.uuid}",
                                   rest, expand)
