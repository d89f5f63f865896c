"""Node history: ``GET /v1/nodes/{node}/history`` and one event,
``/history/{event}`` (microversion 1.78), in Ironic's shape.

A list shows each event's uuid, created_at, severity and event (cut to
255 characters, as Ironic does); ``detail=True`` and a single event add
event_type, conductor, user and, in newer microversions, project,
state, target_provision_state and duration_seconds.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from podium.api import links, microversions, params, responses
from podium.db import api as db_api
from podium.db import history

router = APIRouter(tags=['node history'])

OptionalQuery = Annotated[str | None, Query()]

STANDARD_FIELDS = ('uuid', 'created_at', 'severity', 'event')
DETAIL_FIELDS = ('uuid', 'created_at', 'severity', 'event_type', 'event',
                 'conductor', 'user', 'project', 'state',
                 'target_provision_state', 'duration_seconds')
#: A list shows at most this much of each event unless detailed.
EVENT_PREVIEW = 255


def render(entry: Any, node_uuid: str, base: str, detail: bool,
           version: microversions.Version) -> dict[str, Any]:
    """One history entry as the API shows it."""
    item = {name: getattr(entry, name)
            for name in (DETAIL_FIELDS if detail else STANDARD_FIELDS)}
    if not detail and len(item['event']) > EVENT_PREVIEW:
        item['event'] = item['event'][:EVENT_PREVIEW - 4] + '...'
    microversions.hide('node_history', version, (item,))
    item['links'] = [{
        'href': f'{base}/v1/nodes/{node_uuid}/history/{entry.uuid}',
        'rel': 'self'}]
    return item


@router.get('/v1/nodes/{node_ident}/history', summary='List node history',
            description='Query parameters: detail, limit, marker (an event '
                        'UUID), sort_key (default created_at), sort_dir.')
def list_history(request: Request, node_ident: str,
                 detail: OptionalQuery = None, limit: OptionalQuery = None,
                 marker: OptionalQuery = None) -> Response:
    listing = params.parse_list_query(request, (), False,
                                      default_sort_key='created_at')
    node = db_api.get_node(node_ident)
    events = history.list_node_history(
        node.id, limit=listing.limit, marker=listing.marker,
        sort_key=listing.sort_key, sort_dir=listing.sort_dir)
    base = links.base_url(request)
    version = microversions.requested(request)
    items = [render(entry, node.uuid, base, listing.detail, version)
             for entry in events]
    return responses.JSONResponse(params.collection(
        request, 'history', items, events, listing, base))


@router.get('/v1/nodes/{node_ident}/history/{event}',
            summary='Show a node history event')
def get_event(request: Request, node_ident: str, event: str) -> Response:
    node = db_api.get_node(node_ident)
    entry = history.get_node_history(node.id, event)
    return responses.JSONResponse(render(
        entry, node.uuid, links.base_url(request), True,
        microversions.requested(request)))
