"""A node's sensor readings (a Podium extension):
``GET /v1/nodes/{node}/sensors``.

Ironic has no such resource; Podium serves it at this documented
extension path, beside the node's other sub-resources, at every
microversion. The readings come from the conductor that owns the node
(RPC 1.6), which serves them from its cache while they are younger than
``[conductor] sensor_cache_seconds`` and otherwise reads the BMC within
``sensor_read_timeout``: however many clients poll, a BMC is read at
most once per interval. The request waits outside the API's request
threads (``[api] max_bmc_requests``), as every request that waits on a
BMC does.

``kind`` (repeatable, or comma-separated) keeps the readings of those
kinds. ``format=prometheus`` answers in the Prometheus text format, for
a scraper pointed at one node: per-node series belong there rather
than on the shared ``/metrics``, whose label sets stay bounded.
"""

import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from prometheus_client import core as prometheus_core
from prometheus_client import exposition
from prometheus_client import registry as prometheus_registry
from starlette.responses import Response

from podium.api import responses
from podium.common import context as podium_context
from podium.common import exceptions
from podium.db import api as db_api
from podium.drivers import sensor_readings as sr

router = APIRouter(tags=['node sensors'])

FORMATS = ('json', 'prometheus')
KindQuery = Annotated[list[str] | None, Query()]


def _kinds(values: list[str]) -> set[str] | None:
    wanted = {kind.strip() for value in values for kind in value.split(',')
              if kind.strip()}
    unknown = wanted - set(sr.KINDS)
    if unknown:
        raise exceptions.InvalidParameterValue(
            err=f'Unknown sensor kind(s) {", ".join(sorted(unknown))}; '
                f'known: {", ".join(sr.KINDS)}.')
    return wanted or None


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(
        epoch, datetime.UTC).isoformat()


class _NodeCollector(prometheus_registry.Collector):
    """One node's readings as Prometheus gauges."""

    def __init__(self, result: dict[str, Any],
                 readings: list[sr.SensorReading]) -> None:
        self.result = result
        self.readings = readings

    def collect(self) -> Any:
        node = self.result['node_uuid']
        labels = ['node', 'sensor', 'kind', 'units']
        value = prometheus_core.GaugeMetricFamily(
            'podium_node_sensor_reading',
            'The sensor\'s last reading, in its units.', labels=labels)
        limit = prometheus_core.GaugeMetricFamily(
            'podium_node_sensor_threshold',
            'The sensor\'s thresholds, as the BMC reports them.',
            labels=labels + ['threshold'])
        critical = prometheus_core.GaugeMetricFamily(
            'podium_node_sensor_critical',
            '1 when the reading is at or past a critical threshold or '
            'the BMC calls it critical, else 0.', labels=labels)
        for reading in self.readings:
            key = [node, reading.name, reading.kind, reading.units]
            if reading.reading is not None:
                value.add_metric(key, reading.reading)
            for name, threshold in sorted(reading.thresholds.items()):
                limit.add_metric(key + [name], threshold)
            critical.add_metric(key, float(reading.over_critical()))
        yield from (value, limit, critical)
        age = prometheus_core.GaugeMetricFamily(
            'podium_node_sensor_age_seconds',
            'How old the readings are (the conductor caches them).',
            labels=['node'])
        age.add_metric([node], self.result['age'])
        yield age
        draw = sr.power_draw(self.readings)
        if draw is not None:
            watts = prometheus_core.GaugeMetricFamily(
                'podium_node_power_draw_watts',
                'The node\'s power draw (its power control readings).',
                labels=['node'])
            watts.add_metric([node], draw)
            yield watts


def _read(request: Request, node_ident: str) -> dict[str, Any]:
    """The readings, from the node's conductor (in a BMC-request
    thread)."""
    node = db_api.get_node(node_ident)
    rpcapi = request.app.state.rpcapi
    return rpcapi.get_sensors_data(
        podium_context.RequestContext(
            user_id=getattr(request.state, 'user', None)),
        node.uuid, topic=rpcapi.get_topic_for(node))


def _prometheus(result: dict[str, Any],
                readings: list[sr.SensorReading]) -> Response:
    registry = prometheus_registry.CollectorRegistry(auto_describe=False)
    registry.register(_NodeCollector(result, readings))
    return Response(exposition.generate_latest(registry),
                    media_type=exposition.CONTENT_TYPE_LATEST)


@router.get('/v1/nodes/{node_ident}/sensors',
            summary='Read the sensors (Podium extension)',
            description='Power, temperature, fan and voltage readings of '
                        'the node: name, kind, reading, units, health, '
                        'state and the thresholds the BMC reports. Served '
                        'from the conductor\'s cache for [conductor] '
                        'sensor_cache_seconds, else read from the BMC. '
                        'kind filters; format=prometheus answers in the '
                        'Prometheus text format.')
async def get_sensors(request: Request, node_ident: str,
                      kind: KindQuery = None,
                      format: str = 'json') -> Response:
    if format not in FORMATS:
        raise exceptions.InvalidParameterValue(
            err=f'Unknown format {format!r}; known: {", ".join(FORMATS)}.')
    kinds = _kinds(kind or [])
    result = await request.app.state.bmc_requests.run(
        _read, request, node_ident)
    readings = [sr.SensorReading.from_dict(item)
                for item in result['sensors']]
    if kinds is not None:
        readings = [r for r in readings if r.kind in kinds]
    if format == 'prometheus':
        return _prometheus(result, readings)
    return responses.JSONResponse({
        'node_uuid': result['node_uuid'],
        'read_at': _iso(result['read_at']),
        'age': round(float(result['age']), 3),
        'cached': bool(result['cached']),
        'power_draw_watts': sr.power_draw(readings),
        'sensors': [r.to_dict() for r in readings]})
