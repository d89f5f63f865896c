"""A node's firmware components: ``GET /v1/nodes/{node}/firmware``
(microversion 1.86), in Ironic's shape.

Read from what the last inspection recorded (re-inspect to refresh);
no BMC is contacted. Each component (``bios``, ``bmc``) shows the
version first seen (``initial_version``), the current one and
``last_version_flashed`` (null: Podium does not flash firmware yet).
"""

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.api import responses
from podium.db import api as db_api
from podium.db import firmware as db_firmware

router = APIRouter(tags=['node firmware'])

FIELDS = ('component', 'initial_version', 'current_version',
          'last_version_flashed', 'created_at', 'updated_at')


@router.get('/v1/nodes/{node_ident}/firmware',
            summary='List firmware components',
            description='The firmware versions of the node\'s components '
                        'as the last inspection found them.')
def list_components(request: Request, node_ident: str) -> Response:
    node = db_api.get_node(node_ident)
    return responses.JSONResponse({'firmware': [
        {name: getattr(row, name) for name in FIELDS}
        for row in db_firmware.list_components(node.id)]})
