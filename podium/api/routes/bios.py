"""A node's cached BIOS settings: ``GET /v1/nodes/{node}/bios`` and one
setting, ``/bios/{name}`` (microversion 1.40), in Ironic's shape.

Read from the cache that inspection, cleaning and the BIOS clean steps
refresh; no BMC is contacted. From 1.74 a list takes ``detail=True``
(every registry field) or ``fields``, and a single setting always shows
the registry fields: ``attribute_type``, ``allowable_values``,
``lower_bound``, ``upper_bound``, ``min_length``, ``max_length``,
``read_only``, ``reset_required`` and ``unique``. Settings change only
through the ``apply_configuration`` and ``factory_reset`` clean steps.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from podium.api import links, microversions, params, responses
from podium.common import exceptions
from podium.db import api as db_api
from podium.db import bios as db_bios
from podium.drivers import bios_settings

router = APIRouter(tags=['node bios'])

OptionalQuery = Annotated[str | None, Query()]

#: The microversion that added the registry fields, detail and fields.
REGISTRY_VERSION = (1, 74)
STANDARD_FIELDS = ('name', 'value', 'created_at', 'updated_at')
ALL_FIELDS = STANDARD_FIELDS + bios_settings.REGISTRY_FIELDS + ('links',)


def render(row: Any, node_uuid: str, base: str,
           fields: tuple[str, ...]) -> dict[str, Any]:
    """One setting as the API shows it: ``fields`` and its links."""
    item = {name: getattr(row, name) for name in fields if name != 'links'}
    item['links'] = links.resource_links(base, 'nodes',
                                         f'{node_uuid}/bios/{row.name}')
    return item


def _newer(request: Request, what: str) -> None:
    version = microversions.requested(request)
    if version < REGISTRY_VERSION:
        raise exceptions.NotAcceptable(
            f'The {what} parameter of BIOS settings needs API version '
            f'1.74 or later; {version[0]}.{version[1]} was requested.')


@router.get('/v1/nodes/{node_ident}/bios', summary='List BIOS settings',
            description='The cached BIOS settings of a node. From 1.74: '
                        'detail=True adds the attribute registry fields; '
                        'fields picks the fields shown.')
def list_settings(request: Request, node_ident: str,
                  detail: OptionalQuery = None,
                  fields: OptionalQuery = None) -> Response:
    shown: tuple[str, ...] = STANDARD_FIELDS
    wants_detail = params.parse_bool('detail', detail)
    if detail is not None:
        _newer(request, 'detail')
    if fields is not None:
        _newer(request, 'fields')
        if wants_detail:
            raise exceptions.InvalidParameterValue(
                err='Can not specify ?detail=True and fields in the same '
                    'request.')
        shown = params.parse_fields(fields, ALL_FIELDS) or shown
    elif wants_detail:
        shown = STANDARD_FIELDS + bios_settings.REGISTRY_FIELDS
    node = db_api.get_node(node_ident)
    base = links.base_url(request)
    return responses.JSONResponse({'bios': [
        render(row, node.uuid, base, shown)
        for row in db_bios.list_settings(node.id)]})


@router.get('/v1/nodes/{node_ident}/bios/{setting_name}',
            summary='Show a BIOS setting')
def get_setting(request: Request, node_ident: str,
                setting_name: str) -> Response:
    node = db_api.get_node(node_ident)
    row = db_bios.get_setting(node.id, node.ident, setting_name)
    shown: tuple[str, ...] = STANDARD_FIELDS
    if microversions.requested(request) >= REGISTRY_VERSION:
        shown += bios_settings.REGISTRY_FIELDS
    return responses.JSONResponse({setting_name: render(
        row, node.uuid, links.base_url(request), shown)})
