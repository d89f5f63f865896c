"""Normalised sensor readings: what every driver's ``get_sensors_data``
returns, whatever the BMC calls its sensors.

A reading is one sensor at one moment: its name, its kind (one of
:data:`KINDS`), the value and units, the health the BMC gives it and
the thresholds the BMC reports for it (only those it reports). Readings
cross the conductor RPC as plain dicts (:meth:`SensorReading.to_dict`).
"""

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

POWER = 'power'
TEMPERATURE = 'temperature'
FAN = 'fan'
VOLTAGE = 'voltage'
#: The kinds of sensor Podium reports; other sensors are left out.
KINDS = (POWER, TEMPERATURE, FAN, VOLTAGE)

#: Threshold names, Redfish's (``UpperThresholdCritical`` ->
#: ``upper_critical``; "NonCritical" is called caution, as in the
#: Sensor schema).
THRESHOLDS = ('lower_fatal', 'lower_critical', 'lower_caution',
              'upper_caution', 'upper_critical', 'upper_fatal')

#: Health values, Redfish's; None when the BMC gives none.
HEALTH_OK = 'OK'
HEALTHS = (HEALTH_OK, 'Warning', 'Critical')


@dataclasses.dataclass(frozen=True)
class SensorReading:
    """One sensor reading.

    ``reading`` is None when the BMC lists the sensor without a value
    (a powered-off system's CPU sensor, an empty PSU bay).
    """

    name: str
    kind: str
    reading: float | None
    units: str
    health: str | None = None
    state: str | None = None
    thresholds: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: Where it sits (Redfish PhysicalContext: CPU, Intake, PowerSupply).
    context: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f'unknown sensor kind {self.kind!r}')
        unknown = set(self.thresholds) - set(THRESHOLDS)
        if unknown:
            raise ValueError(f'unknown thresholds {sorted(unknown)}')

    def to_dict(self) -> dict[str, Any]:
        return {'name': self.name, 'kind': self.kind,
                'reading': self.reading, 'units': self.units,
                'health': self.health, 'state': self.state,
                'thresholds': dict(self.thresholds),
                'context': self.context}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> 'SensorReading':
        return cls(name=str(value['name']), kind=str(value['kind']),
                   reading=value.get('reading'), units=str(value['units']),
                   health=value.get('health'), state=value.get('state'),
                   thresholds=dict(value.get('thresholds') or {}),
                   context=value.get('context'))

    def over_critical(self) -> bool:
        """Whether the reading is at or past a critical (or fatal)
        threshold, upper or lower, or the BMC calls it Critical."""
        if self.health == 'Critical':
            return True
        if self.reading is None:
            return False
        limits = self.thresholds
        upper = [limits[k] for k in ('upper_critical', 'upper_fatal')
                 if k in limits]
        lower = [limits[k] for k in ('lower_critical', 'lower_fatal')
                 if k in limits]
        return (any(self.reading >= value for value in upper)
                or any(self.reading <= value for value in lower))


def number(value: Any) -> float | None:
    """A reading or threshold as a float; None for anything else (a BMC
    sends null, strings or nothing for sensors it cannot read)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def thresholds_of(values: Mapping[str, Any]) -> dict[str, float]:
    """The numeric thresholds among ``{name: value}``, None ones left out.
    """
    found = {}
    for name in THRESHOLDS:
        value = number(values.get(name))
        if value is not None:
            found[name] = value
    return found


def power_draw(readings: Iterable[SensorReading]) -> float | None:
    """The node's power draw in watts: the sum of its ``power`` readings
    in W that measure consumption (context ``PowerControl`` or a
    system-wide ``power`` sensor), else None. Power supply outputs are not
    added to it: they measure the same watts again."""
    total = None
    for reading in readings:
        if reading.kind == POWER and reading.units == 'W' \
                and reading.reading is not None \
                and reading.context in CONSUMPTION_CONTEXTS:
            total = (total or 0.0) + reading.reading
    return total


#: Contexts of power readings that measure what the node draws.
CONSUMPTION_CONTEXTS = frozenset({'PowerControl', 'Chassis', 'System'})
