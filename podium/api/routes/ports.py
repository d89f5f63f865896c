"""Ports: list, show, create, JSON-patch update, delete, and a node's
ports under ``/v1/nodes/{node}/ports``.

A port is a row in the database; nothing here talks to a BMC. Changes
are refused while an action holds the port's node (409, as Ironic's
conductor refuses them), and the rules Ironic applies to a port of a
deployed or inspecting node are checked against the locked node row.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from starlette.responses import Response

from podium.api import (
    links,
    microversions,
    params,
    patch,
    port_view,
    responses,
    schemas,
)
from podium.common import exceptions, network, states
from podium.db import api as db_api
from podium.db import models
from podium.db import ports as db_ports

router = APIRouter(tags=['ports'])

OptionalQuery = Annotated[str | None, Query()]

#: Attributes that change how a node is wired; Ironic lets them change
#: only before deployment or in maintenance.
_CONNECTIVITY = ('pxe_enabled', 'local_link_connection', 'physical_network')
_CONNECTIVITY_STATES = (states.ENROLL, states.INSPECTING, states.INSPECTWAIT,
                        states.MANAGEABLE)

_LIST_DESCRIPTION = (
    'Query parameters: node (UUID or name), node_uuid, address (a MAC), '
    'detail, fields (comma separated), limit, marker (a port UUID), '
    'sort_key, sort_dir.')


def _list(request: Request, detail: bool, node_ident: str | None) -> Response:
    listing = params.parse_list_query(request, port_view.ALL_FIELDS, detail)
    microversions.check_request_fields('ports', request, listing.fields)
    query = request.query_params
    node_ident = node_ident or query.get('node') or query.get('node_uuid')
    node_id = db_api.get_node(node_ident).id if node_ident else None
    address = query.get('address')
    if address is not None:
        address = network.validate_and_normalize_mac(address)
    found = db_ports.list_ports(
        node_id=node_id, address=address, limit=listing.limit,
        marker=listing.marker, sort_key=listing.sort_key,
        sort_dir=listing.sort_dir)
    base = links.base_url(request)
    items = microversions.present('ports', request, port_view.render_many(
        found, base, listing.shown(port_view.DEFAULT_LIST_FIELDS)))
    return responses.JSONResponse(
        params.collection(request, 'ports', items, found, listing, base))


@router.get('/v1/ports', summary='List ports', description=_LIST_DESCRIPTION)
def list_ports(request: Request, node: OptionalQuery = None,
               address: OptionalQuery = None, fields: OptionalQuery = None,
               limit: OptionalQuery = None,
               marker: OptionalQuery = None) -> Response:
    return _list(request, detail=False, node_ident=None)


@router.get('/v1/ports/detail', summary='List ports with every field',
            description=_LIST_DESCRIPTION)
def list_ports_detail(request: Request, node: OptionalQuery = None,
                      address: OptionalQuery = None,
                      limit: OptionalQuery = None,
                      marker: OptionalQuery = None) -> Response:
    return _list(request, detail=True, node_ident=None)


@router.get('/v1/nodes/{node_ident}/ports', summary='List a node\'s ports')
def list_node_ports(request: Request, node_ident: str,
                    fields: OptionalQuery = None, limit: OptionalQuery = None,
                    marker: OptionalQuery = None) -> Response:
    return _list(request, detail=False, node_ident=node_ident)


@router.get('/v1/nodes/{node_ident}/ports/detail',
            summary='List a node\'s ports with every field')
def list_node_ports_detail(request: Request, node_ident: str,
                           limit: OptionalQuery = None,
                           marker: OptionalQuery = None) -> Response:
    return _list(request, detail=True, node_ident=node_ident)


@router.get('/v1/ports/{port_ident}', summary='Show a port')
def get_port(request: Request, port_ident: str,
             fields: OptionalQuery = None) -> Response:
    shown = params.parse_fields(fields, port_view.ALL_FIELDS)
    microversions.check_request_fields('ports', request, shown)
    port = db_ports.get_port(port_ident)
    return _port_response(request, port, shown)


def _port_response(request: Request, port: Any,
                   shown: tuple[str, ...] | None = None,
                   **kwargs: Any) -> Response:
    """One port, as the request's microversion shows it."""
    rendered = port_view.render(port, links.base_url(request), shown)
    return responses.JSONResponse(
        microversions.present('ports', request, [rendered])[0], **kwargs)


def _checked_values(values: dict[str, Any]) -> dict[str, Any]:
    """Port attributes normalised and checked as Ironic checks them;
    ``node_uuid`` becomes ``node_id``.

    :raises InvalidParameterValue, InvalidMAC: naming the attribute.
    """
    values = dict(values)
    values['address'] = network.validate_and_normalize_mac(values['address'])
    values['local_link_connection'] = network.validate_local_link_connection(
        values.get('local_link_connection'))
    if values.get('extra') is None:
        values['extra'] = {}
    if values.get('physical_network') == '':
        raise exceptions.InvalidParameterValue(
            err='A non-empty value is required when setting '
                'physical_network')
    group = values.pop('portgroup_uuid', None)
    if group is not None:
        # Podium has no port groups, so no UUID can name one.
        raise exceptions.InvalidParameterValue(
            err=f'Portgroup {group} could not be found.')
    if values.get('is_smartnic'):
        link = values['local_link_connection']
        if not ('port_id' in link and 'hostname' in link):
            raise exceptions.InvalidParameterValue(
                err='Smart NIC port must have port_id and hostname in '
                    'local_link_connection')
    ident = values.pop('node_uuid', None)
    if ident is not None:
        try:
            values['node_id'] = db_api.get_node(ident).id
        except exceptions.NodeNotFound as exc:
            # A missing node is bad input here, not a missing resource.
            raise exceptions.InvalidParameterValue(err=str(exc)) from None
    return values


@router.post('/v1/ports', status_code=201, summary='Create a port',
             description='The node is named by node_uuid, or by '
                         'node_ident (a UUID or a name).')
def create_port(request: Request, port: schemas.PortCreate) -> Response:
    microversions.check_request_fields('ports', request,
                                       port.model_fields_set)
    values = port.model_dump()
    node_ident = values.pop('node_ident')
    if (node_ident is None) == (values['node_uuid'] is None):
        raise exceptions.InvalidParameterValue(
            err='Exactly one of node_uuid and node_ident must be given.')
    values['node_uuid'] = values['node_uuid'] or node_ident
    if values['uuid'] is None:
        del values['uuid']
    created = db_ports.create_port(_checked_values(values))
    return _port_response(
        request, created, status_code=201,
        headers={'Location':
                 f'{links.base_url(request)}/v1/ports/{created.uuid}'})


def _update_rules(changes: dict[str, Any]) -> db_ports.Check:
    """Ironic's rules for changing a port of a node in a given state."""

    def check(node: models.Node, port: models.Port) -> None:
        if node.provision_state == states.INSPECTING:
            raise exceptions.Conflict(
                f'Cannot update port "{port.uuid}" on "{node.uuid}" while '
                f'it is in state "{states.INSPECTING}".')
        if node.maintenance:
            return
        if 'address' in changes and (node.provision_state == states.ACTIVE
                                     or node.instance_uuid):
            raise exceptions.InvalidState(
                f'Cannot update hardware address for port {port.uuid} as '
                f'node {node.uuid} is active or has instance UUID '
                f'assigned')
        changed = [name for name in _CONNECTIVITY if name in changes]
        if changed and node.provision_state not in _CONNECTIVITY_STATES:
            raise exceptions.InvalidState(
                f'Port {port.uuid} can not have any connectivity '
                f'attributes ({", ".join(_CONNECTIVITY)}) updated unless '
                f'node {node.uuid} is in a '
                f'{", ".join(_CONNECTIVITY_STATES)} state or in '
                f'maintenance mode. The current state is '
                f'{node.provision_state}.')

    return check


@router.patch('/v1/ports/{port_ident}', summary='Update a port',
              description='The body is a JSON patch (RFC 6902) with the '
                          'operations add, replace and remove.')
def update_port(request: Request, port_ident: str,
                operations: Annotated[list[schemas.PatchOperation],
                                      Body()]) -> Response:
    microversions.check_request_fields(
        'ports', request, [patch.root(op.path) for op in operations])
    port = db_ports.get_port(port_ident)
    document = {name: getattr(port, name)
                for name in schemas.PortFields.model_fields
                if name != 'portgroup_uuid'}
    patched = patch.apply_to_document(document, operations,
                                      schemas.PortFields, port_view.ALL_FIELDS)
    if patched['node_uuid'] is None:
        raise exceptions.InvalidParameterValue(
            err='Mandatory field "node_uuid" is missing.')
    values = _checked_values(patched)
    changes = {name: value for name, value in values.items()
               if getattr(port, name) != value}
    updated = db_ports.update_port(port.uuid, changes,
                                   check=_update_rules(changes))
    return _port_response(request, updated)


def _check_deletable(node: models.Node, port: models.Port) -> None:
    """A port a tenant network is bound to stays, unless in maintenance."""
    vif = (port.internal_info or {}).get('tenant_vif_port_id') or \
        (port.extra or {}).get('vif_port_id')
    if vif and not node.maintenance:
        raise exceptions.InvalidState(
            f'Cannot delete the port {port.uuid} as it is bound to VIF '
            f'{vif} for use.')


@router.delete('/v1/ports/{port_ident}', status_code=204,
               summary='Delete a port')
def delete_port(port_ident: str) -> Response:
    db_ports.destroy_port(port_ident, check=_check_deletable)
    return responses.empty(204)
