"""Conductors: which are registered and whether they are alive.

``alive`` compares the last heartbeat with ``[conductor]
heartbeat_timeout``; pages are ordered and keyed by hostname.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from podium.api import links, params, responses
from podium.common import exceptions
from podium.conf import CONF
from podium.db import api as db_api

router = APIRouter(tags=['conductors'])

_DEFAULT_FIELDS = ('hostname', 'conductor_group', 'alive')
_DETAIL_FIELDS = _DEFAULT_FIELDS + ('drivers', 'created_at', 'updated_at')
_ALL_FIELDS = frozenset(_DETAIL_FIELDS) | {'links'}


def _render(conductor: Any, base: str, fields: tuple[str, ...]
            ) -> dict[str, Any]:
    values = {
        'hostname': conductor.hostname,
        'conductor_group': conductor.conductor_group or '',
        'alive': db_api.is_alive(conductor,
                                 CONF.conductor.heartbeat_timeout),
        'drivers': list(conductor.drivers or ()),
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
    body: dict[str, Any] = {
        'conductors': [_render(c, base, shown) for c in conductors]}
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
        _render(conductor, links.base_url(request), shown))
