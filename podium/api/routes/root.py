"""Version discovery: ``GET /`` (openstacksdk) and ``GET /v1``
(ironicclient reads the min/max headers the middleware adds)."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.api import links, responses, versions

router = APIRouter(tags=['versions'])


@router.get('/', summary='List API versions')
def root(request: Request) -> Response:
    base = links.base_url(request)
    version = versions.version_document(base)
    return responses.JSONResponse({
        'name': 'OpenStack Ironic API',
        'description': 'Podium: a standalone bare-metal conductor with an '
                       'Ironic v1 compatible API.',
        'versions': [version],
        'default_version': version,
    })


@router.get('/v1', summary='Describe API v1')
def v1(request: Request) -> Response:
    base = links.base_url(request)
    version = versions.version_document(base)
    return responses.JSONResponse({
        'id': 'v1',
        'links': version['links'],
        'version': version,
        'media_types': [{
            'base': 'application/json',
            'type': 'application/vnd.openstack.ironic.v1+json'}],
        'nodes': links.collection_links(base, 'nodes'),
        'drivers': links.collection_links(base, 'drivers'),
        'conductors': links.collection_links(base, 'conductors'),
    })
