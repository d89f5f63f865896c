"""``GET /dashboard``: the fleet dashboard, a static page in the package.

The page (``podium/api/dashboard/``: HTML, CSS and JavaScript, no build
step, nothing loaded from elsewhere) reads the REST API and ``/metrics``
from the browser, so it shows what the API shows and needs no extra
server-side state. It sits behind the API's authentication like any
route: with ``http_basic`` the browser asks for credentials and sends
them on the page's own API requests.

The query string carries the node table's filters so that a filtered
view can be bookmarked; an unknown one is refused with a 400 here, as
the node list refuses it, instead of showing an unfiltered table.
"""

import importlib.resources
from collections.abc import Mapping

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.api.routes import nodes
from podium.common import exceptions

router = APIRouter(tags=['dashboard'])

#: The assets, by name, and their media types: nothing else is served.
ASSETS: Mapping[str, str] = {
    'index.html': 'text/html; charset=utf-8',
    'dashboard.css': 'text/css; charset=utf-8',
    'dashboard.js': 'text/javascript; charset=utf-8',
    'dom.js': 'text/javascript; charset=utf-8',
    'health.js': 'text/javascript; charset=utf-8',
    'metrics.js': 'text/javascript; charset=utf-8',
}

#: Query parameters of the page, one per filter field of its node
#: table: node list filters the API applies, plus a search text and a
#: power state filter the page applies itself (the API has no power
#: state filter, as in Ironic).
API_FILTERS = ('provision_state', 'maintenance', 'fault', 'driver',
               'conductor_group')
PAGE_PARAMETERS = frozenset(API_FILTERS + ('q', 'power_state'))

#: Only the page's own files and requests to this API: no inline
#: script, no other origin, no framing.
_HEADERS = {
    'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
}


def _read(name: str) -> bytes:
    resource = importlib.resources.files('podium.api') / 'dashboard' / name
    return resource.read_bytes()


def _asset(name: str) -> Response:
    return Response(_read(name), media_type=ASSETS[name], headers=_HEADERS)


@router.get('/dashboard', summary='Fleet dashboard (HTML)',
            include_in_schema=False)
def get_dashboard(request: Request) -> Response:
    nodes.check_parameters(request.query_params.keys(), PAGE_PARAMETERS)
    return _asset('index.html')


@router.get('/dashboard/{asset}', summary='Fleet dashboard asset',
            include_in_schema=False)
def get_asset(asset: str) -> Response:
    if asset not in ASSETS or asset == 'index.html':
        raise exceptions.NotFound(f'No dashboard asset {asset}.')
    return _asset(asset)
