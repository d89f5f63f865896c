"""Node inventory: list, show, create, JSON-patch update, delete.

These routes touch only the database; actions that need the hardware
go through the conductor (:mod:`podium.api.routes.node_actions`).
"""

from collections.abc import Callable, Collection, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from starlette import concurrency
from starlette.responses import Response

from podium.api import (
    links,
    microversions,
    node_view,
    params,
    patch,
    responses,
    schemas,
)
from podium.api.routes import bmcs
from podium.common import exceptions, hash_ring, states
from podium.db import api as db_api
from podium.db import node_reads
from podium.drivers import base as drivers_base

router = APIRouter(tags=['nodes'])

OptionalQuery = Annotated[str | None, Query()]

#: List filters and how their values are parsed.
#: Times a PATCH is applied again when another one changed the node
#: meanwhile, before it answers 409.
PATCH_ATTEMPTS = 5

BOOL_FILTERS = ('maintenance', 'associated')
STRING_FILTERS = ('driver', 'provision_state', 'conductor_group',
                  'resource_class', 'owner', 'fault')
#: Every query parameter a node list accepts: the filters, the shape
#: and the page.
LIST_PARAMETERS = frozenset(BOOL_FILTERS + STRING_FILTERS + (
    'detail', 'fields', 'limit', 'marker', 'sort_key', 'sort_dir'))


def check_parameters(names: Iterable[str],
                     allowed: Collection[str] = LIST_PARAMETERS) -> None:
    """Refuse query parameters a node list does not know.

    Ignoring one would answer an unfiltered list to a client that asked
    for a filter Podium does not have (``instance_uuid=...``, a typo):
    the wrong nodes, silently.

    :raises InvalidParameterValue: naming the unknown parameters and
        listing the known ones.
    """
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise exceptions.InvalidParameterValue(
            err=f'Unknown query parameter(s): {", ".join(unknown)}. '
                f'Accepted: {", ".join(sorted(allowed))}.')


def _filters(request: Request) -> dict[str, Any]:
    query = request.query_params
    check_parameters(query.keys())
    filters: dict[str, Any] = {}
    for name in BOOL_FILTERS:
        value = params.parse_bool(name, query.get(name))
        if value is not None:
            filters[name] = value
    for name in STRING_FILTERS:
        if query.get(name) is not None:
            filters[name] = query[name]
    return filters


def _list(request: Request, detail: bool) -> Response:
    listing = params.parse_list_query(request, node_view.ALL_FIELDS, detail)
    microversions.check_request_fields('nodes', request, listing.fields)
    shown = listing.shown(node_view.DEFAULT_LIST_FIELDS)
    columns = (node_view.ALL_COLUMNS if shown is None
               else node_view.columns_for(shown))
    rows = db_api.list_node_page_rows(
        columns, filters=_filters(request), limit=listing.limit,
        marker=listing.marker, sort_key=listing.sort_key,
        sort_dir=listing.sort_dir)
    base = links.base_url(request)
    items = microversions.present('nodes', request,
                                  request.app.state.serializer.render_many(
                                      rows, base, shown))
    return responses.JSONResponse(
        params.collection(request, 'nodes', items, rows, listing, base))


_LIST_DESCRIPTION = (
    'Query parameters: detail, fields (comma separated), limit, marker '
    '(a node UUID), sort_key, sort_dir, and the filters maintenance, '
    'associated (booleans), driver, provision_state, conductor_group, '
    'resource_class, owner, fault.')


@router.get('/v1/nodes', summary='List nodes',
            description=_LIST_DESCRIPTION)
def list_nodes(request: Request, fields: OptionalQuery = None,
               limit: OptionalQuery = None,
               marker: OptionalQuery = None) -> Response:
    return _list(request, detail=False)


@router.get('/v1/nodes/detail', summary='List nodes with every field',
            description=_LIST_DESCRIPTION)
def list_nodes_detail(request: Request, limit: OptionalQuery = None,
                      marker: OptionalQuery = None) -> Response:
    return _list(request, detail=True)


#: How long the hash ring must stay fresh for a show on the event loop:
#: far longer than the show takes, so the show never rebuilds it there.
RING_MARGIN_SECONDS = 0.5


@router.get('/v1/nodes/{node_ident}', summary='Show a node')
async def get_node(request: Request, node_ident: str,
                   fields: OptionalQuery = None) -> Response:
    # On the event loop when nothing it reads can wait (see
    # podium.db.node_reads): the hand-off to a worker thread and back
    # costs more CPU than the whole show.
    shown = params.parse_fields(fields, node_view.ALL_FIELDS)
    microversions.check_request_fields('nodes', request, shown)
    columns = (node_view.SHOW_COLUMNS if shown is None
               else node_view.columns_for(shown))
    if hash_ring.HashRingManager.fresh_for(RING_MARGIN_SECONDS):
        try:
            node = node_reads.LOOP_READER.get_node_row(node_ident, columns)
            return _show(request, node, shown, bmcs.node_bmc_health_nowait)
        except node_reads.WouldWait:
            pass
    return await concurrency.run_in_threadpool(
        _show_on_worker, request, node_ident, columns, shown)


def _show_on_worker(request: Request, node_ident: str,
                    columns: tuple[str, ...],
                    shown: tuple[str, ...] | None) -> Response:
    node_reads.LOOP_READER.prepare()
    node = node_reads.get_node_row(node_ident, columns)
    return _show(request, node, shown, bmcs.node_bmc_health)


def _show(request: Request, node: Any, shown: tuple[str, ...] | None,
          bmc_health: Callable[[Request, Any], Any]) -> Response:
    extra = ({} if shown is not None else
             dict(node_view.settings_fields(node), **{
                 bmcs.NODE_FIELD: bmc_health(request, node)}))
    return _node_response(request, node, shown, extra=extra)


def _node_response(request: Request, node: Any,
                   shown: tuple[str, ...] | None = None,
                   extra: dict[str, Any] | None = None,
                   **kwargs: Any) -> Response:
    """One node, as the request's microversion shows it (plus Podium's
    ``extra`` fields)."""
    rendered = request.app.state.serializer.render(
        node, links.base_url(request), shown)
    rendered.update(extra or {})
    return responses.JSONResponse(
        microversions.present('nodes', request, [rendered])[0], **kwargs)


def _resolve_new_node_interfaces(values: dict[str, Any]) -> None:
    """Fill in the interfaces a new node uses, refusing unusable ones."""
    requested = {kind: values.get(f'{kind}_interface')
                 for kind in drivers_base.INTERFACE_KINDS}
    for kind, name in patch.resolve_interfaces(values['driver'],
                                               requested).items():
        values[f'{kind}_interface'] = name


@router.post('/v1/nodes', status_code=201, summary='Create a node')
def create_node(request: Request, node: schemas.NodeCreate) -> Response:
    microversions.check_request_fields('nodes', request,
                                       node.model_fields_set)
    values = node.model_dump()
    if values['uuid'] is None:
        del values['uuid']
    _resolve_new_node_interfaces(values)
    values['provision_state'] = states.ENROLL
    created = db_api.create_node(values)
    return _node_response(
        request, created, status_code=201,
        headers={'Location':
                 f'{links.base_url(request)}/v1/nodes/{created.uuid}'})


@router.patch('/v1/nodes/{node_ident}', summary='Update a node',
              description='The body is a JSON patch (RFC 6902) with the '
                          'operations add, replace and remove.')
def update_node(request: Request, node_ident: str,
                operations: Annotated[list[schemas.PatchOperation],
                                      Body()]) -> Response:
    microversions.check_request_fields(
        'nodes', request, [patch.root(op.path) for op in operations])
    for attempt in range(1, PATCH_ATTEMPTS + 1):
        node = db_api.get_node(node_ident)
        changes = patch.apply(node, operations)
        try:
            # Only an unlocked node is changed: a running action holds the
            # lock and may write the same row. Only fields still as read
            # are written: a concurrent PATCH of the same driver_info
            # would otherwise lose its keys to this one; the patch is then
            # applied again to what that one stored.
            updated = db_api.update_node(
                node.id, changes, expected_reservation=None,
                expected_values={key: getattr(node, key)
                                 for key in changes})
            break
        except exceptions.NodeChanged:
            if attempt == PATCH_ATTEMPTS:
                raise
    return _node_response(request, updated,
                          extra=node_view.settings_fields(updated))


@router.delete('/v1/nodes/{node_ident}', status_code=204,
               summary='Delete a node')
def delete_node(node_ident: str) -> Response:
    node = db_api.get_node(node_ident)
    # Ironic's rule: a node in use or mid-transition is not deleted
    # unless an operator put it into maintenance first.
    if (node.provision_state not in states.DELETE_ALLOWED_STATES
            and not node.maintenance):
        raise exceptions.InvalidState(
            node=node.ident,
            reason=f'can not delete node {node.ident} while it is in '
                   f'provision state "{node.provision_state}". Valid '
                   f'provision states to start deletion are '
                   f'{", ".join(states.DELETE_ALLOWED_STATES)}, in '
                   f'addition to any state if the node is in '
                   f'maintenance.')
    db_api.destroy_node(node.id)
    return responses.empty(204)
