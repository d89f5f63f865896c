"""Installer call-back endpoints: Ironic's ramdisk lookup and heartbeat.

``GET /v1/lookup`` finds the node a booting installer runs on by the
MAC addresses of its ports, ``POST /v1/heartbeat/{node}`` carries the
installer's report (``agent_status`` ``start``, ``end``, ``error``).
Both answer without credentials, as in Ironic: the installer has none;
the agent token the lookup hands out authenticates the heartbeat (see
:mod:`podium.conductor.callbacks`). A lookup answers 404 alike for an
unknown MAC and for a node that waits for no installer, so it tells
nothing about nodes that are not deploying.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from oslo_log import log
from starlette.responses import Response

from podium.api import links, microversions, responses, schemas
from podium.common import context as podium_context
from podium.common import exceptions, network
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import ports as db_ports

LOG = log.getLogger(__name__)

router = APIRouter(tags=['installer call-backs'])

#: The microversion that added ``agent_status`` and
#: ``agent_status_message`` to the heartbeat (Ironic's).
STATUS_VERSION = (1, 72)


def _context(request: Request) -> podium_context.RequestContext:
    return podium_context.RequestContext(
        user_id=getattr(request.state, 'user', None))


def _node_of_addresses(addresses: list[str]) -> Any:
    """The one node owning a port with one of ``addresses``.

    :raises NotFound: none, or ports of several nodes.
    """
    node_ids = {port.node_id for address in addresses
                for port in db_ports.list_ports(address=address)}
    if len(node_ids) != 1:
        LOG.warning('Lookup by %s found %d nodes', ', '.join(addresses),
                    len(node_ids))
        raise exceptions.NotFound('No suitable node was found.')
    return db_api.get_node(node_ids.pop())


@router.get('/v1/lookup', summary='Look up a node by its MAC addresses',
            description='For a booting installer: the node, in "wait '
                        'call-back", that has a port with one of the '
                        'addresses, and the agent token its heartbeats '
                        'must carry (shown to the first lookup of a '
                        'deploy only).')
def lookup(request: Request, addresses: str | None = Query(None),
           node_uuid: str | None = Query(None)) -> Response:
    valid = []
    for address in (addresses or '').split(','):
        if not address.strip():
            continue
        try:
            valid.append(network.validate_and_normalize_mac(
                address.strip()))
        except exceptions.InvalidMAC:
            LOG.warning('Lookup: ignoring the invalid MAC address %r',
                        address)
    if not valid and not node_uuid:
        raise exceptions.InvalidParameterValue(
            err='Lookup needs a node_uuid or at least one valid MAC '
                'address in addresses.')
    try:
        node = (db_api.get_node(node_uuid) if node_uuid
                else _node_of_addresses(valid))
        rpcapi = request.app.state.rpcapi
        found = rpcapi.get_node_with_token(
            _context(request), node.uuid, topic=rpcapi.get_topic_for(node))
    except exceptions.NotFound:
        raise exceptions.NotFound('No suitable node was found.') from None
    token = found.pop('agent_token')
    found['links'] = links.resource_links(links.base_url(request), 'nodes',
                                          found['uuid'])
    return responses.JSONResponse({
        'node': found,
        'config': {
            'agent_token': token,
            'agent_token_required': True,
            'heartbeat_timeout': CONF.conductor.deploy_callback_timeout,
        }})


@router.post('/v1/heartbeat/{node_ident}', status_code=202,
             summary='An installer reports on its deploy',
             description='agent_status start (the installation began; '
                         'the call-back timeout counts afresh), end (the '
                         'node becomes active) or error (deploy failed, '
                         'with agent_status_message as last_error). '
                         'Needs the agent token from GET /v1/lookup; '
                         'agent_status needs API version 1.72.')
def heartbeat(request: Request, node_ident: str,
              body: schemas.HeartbeatRequest) -> Response:
    if (body.agent_status is not None
            or body.agent_status_message is not None) and \
            microversions.requested(request) < STATUS_VERSION:
        raise exceptions.InvalidParameterValue(
            err='Fields "agent_status" and "agent_status_message" need '
                'API version 1.72 or later.')
    node = db_api.get_node(node_ident)
    rpcapi = request.app.state.rpcapi
    rpcapi.heartbeat(_context(request), node.uuid, body.agent_token,
                     body.agent_status, body.agent_status_message,
                     topic=rpcapi.get_topic_for(node))
    return responses.empty(202)
