"""``GET /metrics`` of the API, and what only the API measures.

* :func:`record_request` counts requests and their latency by method,
  route *template* (``/v1/nodes/{node_ident}``, never the node asked
  for) and status;
* :class:`NodeStateCollector` counts nodes by power state, provision
  state, maintenance and fault with one grouped query per scrape.

The route serves everything registered in the process's registry: in
``podium serve`` that includes the conductor's pool, periodic tasks,
power sync and BMC latency.
"""

import time
from collections.abc import Iterator

from fastapi import APIRouter
from oslo_log import log
from prometheus_client import core as prometheus_core
from prometheus_client import registry as prometheus_registry
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Scope

from podium.common import metrics
from podium.db import api as db_api

LOG = log.getLogger(__name__)

router = APIRouter(tags=['metrics'])

#: Route label of a request no route matched (404s, 405s): one label
#: for all, so scanners cannot grow the label set.
UNMATCHED = 'unmatched'


@router.get('/metrics', summary='Prometheus metrics of this process',
            include_in_schema=False)
async def get_metrics() -> Response:
    # Collecting reads the database: keep it off the event loop.
    body, content_type = await run_in_threadpool(metrics.exposition)
    return Response(body, media_type=content_type)


def record_request(scope: Scope, status: int, started_at: float) -> None:
    """Count a finished request: method, route template, status and the
    time since ``started_at`` (``time.monotonic``). Called by
    :class:`~podium.api.middleware.APIMiddleware`, which sees every
    answer, its own 406s and authentication's 401s included."""
    route = getattr(scope.get('route'), 'path', None) or UNMATCHED
    method = scope.get('method', '')
    metrics.API_REQUESTS.labels(method, route, str(status)).inc()
    metrics.API_REQUEST_DURATION.labels(method, route).observe(
        time.monotonic() - started_at)


class NodeStateCollector(prometheus_registry.Collector):
    """Node counts by state, read from the database at scrape time."""

    @staticmethod
    def _families() -> tuple[prometheus_core.GaugeMetricFamily, ...]:
        """Empty families: total, power, provision, maintenance, fault."""
        return (
            prometheus_core.GaugeMetricFamily(
                'podium_nodes', 'Enrolled nodes.'),
            prometheus_core.GaugeMetricFamily(
                'podium_nodes_by_power_state', 'Nodes by power state.',
                labels=['power_state']),
            prometheus_core.GaugeMetricFamily(
                'podium_nodes_by_provision_state',
                'Nodes by provision state.', labels=['provision_state']),
            prometheus_core.GaugeMetricFamily(
                'podium_nodes_in_maintenance', 'Nodes in maintenance.'),
            prometheus_core.GaugeMetricFamily(
                'podium_nodes_by_fault', 'Nodes with a fault, by fault.',
                labels=['fault']))

    def describe(self) -> Iterator[prometheus_core.Metric]:
        """The metric names, without a query: the registry calls this
        when the collector is registered (otherwise it would call
        :meth:`collect`, reading the database while the API is built,
        and log a traceback where there is no database yet, as in the
        documentation build)."""
        yield from self._families()

    def collect(self) -> Iterator[prometheus_core.Metric]:
        total, power, provision, maintenance, fault = self._families()
        try:
            groups = db_api.count_nodes_by_state()
        except Exception:
            # A scrape during a database outage still shows the process
            # metrics; the missing node counts tell the story.
            LOG.exception('Cannot count nodes for /metrics')
            return
        by_power: dict[str, int] = {}
        by_provision: dict[str, int] = {}
        by_fault: dict[str, int] = {}
        in_maintenance = 0
        for power_state, provision_state, maint, node_fault, count in groups:
            key = power_state or 'None'
            by_power[key] = by_power.get(key, 0) + count
            key = provision_state or 'None'
            by_provision[key] = by_provision.get(key, 0) + count
            if maint:
                in_maintenance += count
            if node_fault:
                by_fault[node_fault] = by_fault.get(node_fault, 0) + count
        for family, counts in ((power, by_power), (provision, by_provision),
                               (fault, by_fault)):
            for label, count in sorted(counts.items()):
                family.add_metric([label], count)
        maintenance.add_metric([], in_maintenance)
        total.add_metric([], sum(count for *_, count in groups))
        yield from (total, power, provision, maintenance, fault)


_node_collector: NodeStateCollector | None = None


def install_node_collector() -> None:
    """Register the node counts once per process (apps may be built
    several times, e.g. in tests)."""
    global _node_collector
    if _node_collector is None:
        _node_collector = NodeStateCollector()
        metrics.REGISTRY.register(_node_collector)
