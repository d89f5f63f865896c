"""The per-node action of ``podium node sensors``: one ``GET
/v1/nodes/{node}/sensors`` (the conductor serves it from its short cache
or reads the BMC), summarised for the bulk table.

A node succeeds when its readings could be read; readings past a
critical threshold are named in the reason, not counted as failures
(``--name`` and ``-f json`` show them). A sensor named with ``--name``
that the node does not have fails the node, as ``bios show --name``
does.
"""

from collections.abc import Callable, Sequence
from typing import Any

from podium.cli.bulk import Action, Outcome
from podium.cli.client import ApiClient, node_path
from podium.cli.steps import Steps, busy_retries
from podium.drivers import sensor_readings as sr

Note = Callable[[str], None]


def _shown(reading: sr.SensorReading) -> str | None:
    if reading.reading is None:
        return None
    return f'{reading.reading:g} {reading.units}'


def summary(readings: Sequence[sr.SensorReading]) -> dict[str, Any]:
    """The summary columns' data: power draw, hottest temperature and
    the sensors past a critical threshold."""
    temps = [r.reading for r in readings
             if r.kind == sr.TEMPERATURE and r.reading is not None]
    return {'power_watts': sr.power_draw(readings),
            'max_temperature': max(temps) if temps else None,
            'critical': [r.name for r in readings if r.over_critical()]}


def sensors_show(client: ApiClient, kinds: Sequence[str] = (),
                 names: Sequence[str] = ()) -> Action:
    """The node's readings (of ``kinds`` only, when given), with each of
    ``names`` as its own column and every reading under ``sensors``."""
    params = {'kind': ','.join(kinds)} if kinds else None

    def action(ident: str, note: Note) -> Steps[Outcome]:
        doc = yield from busy_retries(lambda: client.request(
            'GET', node_path(ident, 'sensors'), params=params))
        items = (doc or {}).get('sensors') or []
        readings = [sr.SensorReading.from_dict(item) for item in items]
        by_name = {r.name: r for r in readings}
        data = summary(readings)
        data['sensors'] = items
        data.update({name: _shown(by_name[name]) for name in names
                     if name in by_name})
        missing = [name for name in names if name not in by_name]
        if missing:
            return Outcome(False, f'no sensor {", ".join(missing)}', data)
        reason = f'{len(readings)} readings'
        if data['critical']:
            reason += f'; critical: {", ".join(data["critical"])}'
        return Outcome(True, reason, data)
    return action
