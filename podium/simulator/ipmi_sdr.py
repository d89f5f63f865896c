"""The sensors of a simulated IPMI BMC: an SDR repository of Full
Sensor Records and the commands that read it (IPMI 2.0 sections 33 and
35).

Served: Get SDR Repository Info (NetFn Storage 0x0a, 0x20), Reserve SDR
Repository (0x22), Get SDR (0x23, whole records or partial reads) and,
on NetFn Sensor/Event (0x04), Get Sensor Reading (0x2d) and Get Sensor
Thresholds (0x27). These are what pyghmi's ``Command.get_sensor_data``
and Podium's IPMI driver send.

The sensors mirror the Redfish simulator's: a power meter, CPU and inlet
temperatures, a fan and a 12 V rail, all threshold-based and linear.
Readings follow the power state (a powered-off BMC reports standby
power, an unavailable CPU, fan and rail reading) and ``overrides`` sets
one by name, so a test can cross a threshold.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from podium.simulator import sensors

NETFN_STORAGE = 0x0A
NETFN_SENSOR = 0x04
CMD_SDR_INFO = 0x20
CMD_RESERVE_SDR = 0x22
CMD_GET_SDR = 0x23
CMD_GET_READING = 0x2D
CMD_GET_THRESHOLDS = 0x27

_SDR_VERSION = 0x51
_FULL_RECORD = 0x01
_LAST_RECORD = 0xFFFF
_NOT_PRESENT = 0xCB
_OUT_OF_RANGE = 0xC9

#: Threshold names in the order of their bits in the readable mask and
#: the threshold status (lower non-critical first).
THRESHOLDS = ("lower_caution", "lower_critical", "lower_fatal",
              "upper_caution", "upper_critical", "upper_fatal")


@dataclasses.dataclass(frozen=True)
class _Sensor:
    number: int
    name: str
    #: Sensor type (table 42-3) and base unit (table 43-15).
    sensor_type: int
    unit: int
    #: value = raw * m * 10 ** r_exp.
    m: int
    r_exp: int
    on: float | None
    off: float | None
    thresholds: dict[str, float]
    varies: bool = False

    def raw(self, value: float) -> int:
        return max(0, min(255, round(value / (self.m * 10 ** self.r_exp))))


_SENSORS = (
    _Sensor(1, "System Power", 0x0B, 6, 1, 0, 180.0, 8.0,
            {"upper_critical": 250.0}, varies=True),
    _Sensor(2, "CPU1 Temp", 0x01, 1, 1, 0, 48.0, None,
            {"upper_caution": 85.0, "upper_critical": 95.0,
             "upper_fatal": 100.0}, varies=True),
    _Sensor(3, "Inlet Temp", 0x01, 1, 1, 0, 22.0, 22.0,
            {"upper_caution": 35.0, "upper_critical": 42.0}),
    _Sensor(4, "Fan1", 0x04, 18, 50, 0, 6000.0, None,
            {"lower_critical": 500.0}),
    _Sensor(5, "VRM1 12V", 0x02, 4, 1, -1, 12.1, None,
            {"lower_critical": 11.4, "upper_critical": 12.6}),
)
NAMES = tuple(sensor.name for sensor in _SENSORS)
_BY_NUMBER = {sensor.number: sensor for sensor in _SENSORS}


def _signed4(value: int) -> int:
    return value & 0x0F


def _record(record_id: int, sensor: _Sensor) -> bytes:
    """The Full Sensor Record of ``sensor`` (table 43-1)."""
    mask = sum(1 << THRESHOLDS.index(name) for name in sensor.thresholds)
    limits = {name: sensor.raw(value)
              for name, value in sensor.thresholds.items()}
    name = sensor.name.encode()
    body = bytes([
        0x20, 0x00, sensor.number,          # owner, LUN, number
        0x07, 0x01,                         # entity: system board 1
        0x7F,                               # initialisation
        0x04,                               # thresholds readable
        sensor.sensor_type, 0x01,           # threshold-based
        0x00, 0x00, 0x00, 0x00,             # event masks
        mask, 0x00,                         # readable, settable
        0x00,                               # unsigned, no rate
        sensor.unit, 0x00,                  # base unit, no modifier
        0x00,                               # linear
        sensor.m & 0xFF, (sensor.m >> 8 & 0x03) << 6,
        0x00, 0x00,                         # B = 0
        0x00,                               # accuracy
        _signed4(sensor.r_exp) << 4,        # R exp, B exp 0
        0x00, 0x00, 0x00, 0x00,             # flags, nominal, normal max/min
        0xFF, 0x00,                         # sensor max, min
        limits.get("upper_fatal", 0), limits.get("upper_critical", 0),
        limits.get("upper_caution", 0), limits.get("lower_fatal", 0),
        limits.get("lower_critical", 0), limits.get("lower_caution", 0),
        0x00, 0x00, 0x00, 0x00, 0x00,       # hysteresis, reserved, OEM
        0xC0 | len(name),                   # 8-bit ASCII + Latin-1
    ]) + name
    header = bytes([record_id & 0xFF, record_id >> 8, _SDR_VERSION,
                    _FULL_RECORD, len(body)])
    return header + body


#: Records by id (1..N), and the repository's change time stamp.
_RECORDS = {index + 1: _record(index + 1, sensor)
            for index, sensor in enumerate(_SENSORS)}
_STAMP = (1_700_000_000).to_bytes(4, "little")


class SimSdr:
    """The sensor state of one BMC: reading overrides by name."""

    __slots__ = ("overrides", "reservation")

    def __init__(self) -> None:
        self.overrides: dict[str, float] = {}
        self.reservation = 0

    def set_readings(self, readings: dict[str, float | None]) -> None:
        """Set readings by name (None: follow the power state again).

        :raises ValueError: an unknown sensor or a value not a number.
        """
        sensors.set_overrides(self.overrides, readings, NAMES)

    def _value(self, sensor: _Sensor, powered_on: bool,
               index: int) -> float | None:
        if sensor.name in self.overrides:
            return self.overrides[sensor.name]
        value = sensor.on if powered_on else sensor.off
        if powered_on and sensor.varies and value is not None:
            value += index % 8
        return value

    def answer(self, request: dict[str, Any], powered_on: bool,
               index: int) -> tuple[int, bytes] | None:
        """``(completion code, data)`` for a sensor or SDR command; None
        for any other command."""
        netfn, command = request["netfn"], request["command"]
        data = bytes(request.get("data") or b"")
        if netfn == NETFN_STORAGE:
            if command == CMD_SDR_INFO:
                count = len(_RECORDS).to_bytes(2, "little")
                return 0, (bytes([_SDR_VERSION]) + count + b"\xff\xff"
                           + _STAMP + _STAMP + b"\x02")
            if command == CMD_RESERVE_SDR:
                self.reservation = self.reservation % 0xFFFF + 1
                return 0, self.reservation.to_bytes(2, "little")
            if command == CMD_GET_SDR:
                return self._get_sdr(data)
        elif netfn == NETFN_SENSOR and command in (CMD_GET_READING,
                                                   CMD_GET_THRESHOLDS):
            sensor = _BY_NUMBER.get(data[0]) if data else None
            if sensor is None:
                return _NOT_PRESENT, b""
            if command == CMD_GET_THRESHOLDS:
                mask = sum(1 << THRESHOLDS.index(n)
                           for n in sensor.thresholds)
                return 0, bytes([mask] + [
                    sensor.raw(sensor.thresholds[name])
                    if name in sensor.thresholds else 0
                    for name in THRESHOLDS])
            return 0, self._reading(sensor, powered_on, index)
        return None

    def _get_sdr(self, data: bytes) -> tuple[int, bytes]:
        if len(data) < 6:
            return 0xC7, b""  # request data length invalid
        record_id = int.from_bytes(data[2:4], "little") or 1
        offset, size = data[4], data[5]
        record = _RECORDS.get(record_id)
        if record is None:
            return _NOT_PRESENT, b""
        if offset and int.from_bytes(data[0:2], "little") \
                != self.reservation:
            return 0xC5, b""  # reservation cancelled or invalid
        if offset > len(record):
            return _OUT_OF_RANGE, b""
        following = record_id + 1 if record_id + 1 in _RECORDS \
            else _LAST_RECORD
        chunk = record[offset:] if size == 0xFF \
            else record[offset:offset + size]
        return 0, following.to_bytes(2, "little") + chunk

    def _reading(self, sensor: _Sensor, powered_on: bool,
                 index: int) -> bytes:
        value = self._value(sensor, powered_on, index)
        if value is None:
            # Scanning enabled, reading unavailable.
            return bytes([0, 0x40 | 0x20, 0])
        raw = sensor.raw(value)
        status = 0
        for bit, name in enumerate(THRESHOLDS):
            limit = sensor.thresholds.get(name)
            if limit is None:
                continue
            crossed = (raw <= sensor.raw(limit) if name.startswith("lower")
                       else raw >= sensor.raw(limit))
            if crossed:
                status |= 1 << bit
        return bytes([raw, 0x40, status])
