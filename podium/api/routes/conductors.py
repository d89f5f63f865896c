"""Conductors: which are registered and whether they are alive.

``alive`` compares the last heartbeat with ``[conductor]
heartbeat_timeout``; pages are ordered and keyed by hostname. Beyond
Ironic's fields a conductor shows ``last_heartbeat`` and ``node_count``,
the nodes the hash ring gives it now (a detail field: counting reads
every node's UUID). A list also says which conductor groups hold nodes
that no alive conductor serves (``unserved_conductor_groups``): those
nodes are managed by nobody until a conductor of their group starts.

``/v1/conductors/{hostname}/metrics`` (a Podium extension) relays a
conductor's Prometheus metrics over RPC, for the dashboard of an API
that runs no conductor itself.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from podium.api import links, params, responses
from podium.common import context as podium_context
from podium.common import exceptions, hash_ring
from podium.conf import CONF
from podium.db import api as db_api

router = APIRouter(tags=['conductors'])

_DEFAULT_FIELDS = ('hostname', 'conductor_group', 'alive')
_DETAIL_FIELDS = _DEFAULT_FIELDS + ('drivers', 'node_count',
                                     'last_heartbeat', 'created_at',
                                     'updated_at')
_ALL_FIELDS = frozenset(_DETAIL_FIELDS) | {'links'}


def _node_counts(fields: tuple[str, ...]) -> dict[str, int]:
    if 'node_count' not in fields:
        return {}
    rows = db_api.list_node_rows(('uuid', 'conductor_group'))
    return hash_ring.HashRingManager().node_counts(rows)


def _render(conductor: Any, base: str, fields: tuple[str, ...],
            node_counts: dict[str, int]) -> dict[str, Any]:
    alive = db_api.is_alive(conductor, CONF.conductor.heartbeat_timeout)
    values = {
        'hostname': conductor.hostname,
        'conductor_group': conductor.conductor_group or '',
        'alive': alive,
        'drivers': list(conductor.drivers or ()),
        # A dead conductor's nodes have moved to the others already.
        'node_count': node_counts.get(conductor.hostname, 0)
        if alive else 0,
        # The row changes only by heartbeats (and registering and
        # leaving, which are signs of life too).
        'last_heartbeat': conductor.updated_at or conductor.created_at,
        'created_at': conductor.created_at,
        'updated_at': conductor.updated_at,
    }
    result = {name: values[name] for name in fields if name != 'links'}
    result['links'] = links.resource_links(base, 'conductors',
                                           conductor.hostname)
    return result


@router.get('/v1/conductors', summary='List conductors')
def list_conductors(request: Request, detail: str | None = Query(None),
                    fields: str | None = Query(None),
                    limit: str | None = Query(None),
                    marker: str | None = Query(None)) -> Response:
    requested = params.parse_fields(fields, _ALL_FIELDS)
    show_detail = params.parse_bool('detail', detail)
    if show_detail and requested is not None:
        raise exceptions.InvalidParameterValue(
            err='Can not specify ?detail=True and fields in the same '
                'request.')
    shown = requested or (_DETAIL_FIELDS if show_detail else _DEFAULT_FIELDS)
    page_size = params.parse_limit(limit, request.app.state.max_limit)
    conductors = db_api.list_conductors(limit=page_size, marker=marker)
    base = links.base_url(request)
    counts = _node_counts(shown)
    body: dict[str, Any] = {
        'conductors': [_render(c, base, shown, counts) for c in conductors],
        'unserved_conductor_groups': hash_ring.HashRingManager()
        .unserved_groups(db_api.list_node_conductor_groups())}
    if len(conductors) == page_size:
        body['next'] = links.next_link(
            base, request.url.path, request.query_params.multi_items(),
            page_size, conductors[-1].hostname)
    return responses.JSONResponse(body)


@router.get('/v1/conductors/{hostname}', summary='Show a conductor')
def get_conductor(request: Request, hostname: str,
                  fields: str | None = Query(None)) -> Response:
    shown = params.parse_fields(fields, _ALL_FIELDS) or _DETAIL_FIELDS
    conductor = db_api.get_conductor(hostname)
    return responses.JSONResponse(
        _render(conductor, links.base_url(request), shown,
                _node_counts(shown)))


@router.get('/v1/conductors/{hostname}/metrics',
            summary="A conductor's Prometheus metrics (Podium extension)",
            description='The text the conductor\'s own metrics port would '
                        'serve (pool, periodic tasks, power sync, BMC '
                        'latency), asked for over RPC: the dashboard '
                        'reads it when the API runs apart from its '
                        'conductors. 503 for a conductor that is not '
                        'alive or does not answer.')
def get_conductor_metrics(request: Request, hostname: str) -> Response:
    conductor = db_api.get_conductor(hostname)
    if not db_api.is_alive(conductor, CONF.conductor.heartbeat_timeout):
        # Not worth an RPC timeout: nobody consumes its queue.
        raise exceptions.ConductorUnreachable(
            host=hostname, reason='its heartbeat is too old')
    text = request.app.state.rpcapi.get_metrics(
        podium_context.RequestContext(
            user_id=getattr(request.state, 'user', None)), hostname)
    return Response(text, media_type='text/plain; version=0.0.4; '
                                     'charset=utf-8')
