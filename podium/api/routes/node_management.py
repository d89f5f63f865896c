"""Management actions on a node beyond the boot device: inject an NMI
(Ironic's ``PUT management/inject_nmi``, 1.29), reset the BMC (a Podium
extension, ``POST /v1/nodes/{node}/bmc_reset``) and vendor
passthru (Ironic's ``/vendor_passthru?method=...`` and
``/vendor_passthru/methods``), which serves the persistent boot order.

Each waits for the node's conductor, which waits for the BMC on its
pool, in a BMC-request thread (see ``bmc_requests``). The conductor
refuses bad input (400) and a busy node (409) before any BMC call.
"""

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium.api import responses
from podium.api.routes.node_actions import _call_waiting_on_bmc
from podium.common import exceptions

router = APIRouter(tags=['node management'])

#: HTTP methods vendor passthru takes, as Ironic's.
_PASSTHRU_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']


@router.put('/v1/nodes/{node_ident}/management/inject_nmi',
            status_code=202, summary='Inject a non-maskable interrupt',
            description='Ironic 1.29. Redfish: the Nmi reset type; IPMI: '
                        'a chassis diagnostic interrupt. Answers once the '
                        'BMC accepted it; written to node history.')
async def inject_nmi(request: Request, node_ident: str) -> Response:
    await _call_waiting_on_bmc(request, node_ident, 'inject_nmi')
    return responses.empty(202)


@router.post('/v1/nodes/{node_ident}/bmc_reset', status_code=202,
             summary='Reset the BMC (Podium extension)',
             description='Restarts the node\'s BMC (Redfish Manager.Reset, '
                         'IPMI mc reset cold); the BMC may not answer for '
                         'a while afterwards. 409, with nothing sent, '
                         'while an action is in flight on the node (it is '
                         'locked, or has a target power or provision '
                         'state). Written to node history.')
async def reset_bmc(request: Request, node_ident: str) -> Response:
    await _call_waiting_on_bmc(request, node_ident, 'reset_bmc')
    return responses.empty(202)


@router.get('/v1/nodes/{node_ident}/vendor_passthru/methods',
            summary='List vendor passthru methods',
            description='The methods the node\'s management interface '
                        'supports, in Ironic\'s shape.')
async def vendor_passthru_methods(request: Request,
                                  node_ident: str) -> Response:
    methods = await _call_waiting_on_bmc(request, node_ident,
                                         'get_vendor_passthru_methods')
    return responses.JSONResponse(methods)


async def _arguments(request: Request) -> dict[str, Any]:
    """The method's arguments: the JSON body, or for a request without
    one the query parameters other than ``method``."""
    body = await request.body()
    if body.strip():
        try:
            info = json.loads(body)
        except ValueError:
            raise exceptions.InvalidParameterValue(
                err='The request body is not JSON.') from None
        if not isinstance(info, dict):
            raise exceptions.InvalidParameterValue(
                err='The request body must be a JSON object.')
        return info
    return {key: value for key, value in request.query_params.items()
            if key != 'method'}


async def vendor_passthru(request: Request, node_ident: str,
                          method: str | None = None) -> Response:
    if not method:
        raise exceptions.InvalidParameterValue(
            err='Missing the method query parameter naming the vendor '
                'passthru method.')
    return await _passthru(request, node_ident, method)


async def vendor_passthru_by_path(request: Request, node_ident: str,
                                  method_name: str) -> Response:
    return await _passthru(request, node_ident, method_name)


async def _passthru(request: Request, node_ident: str,
                    method: str) -> Response:
    info = await _arguments(request)
    result = await _call_waiting_on_bmc(
        request, node_ident, 'vendor_passthru', driver_method=method,
        http_method=request.method, info=info)
    return responses.JSONResponse(result)


def _add_passthru_routes() -> None:
    """One route per HTTP method (each with its own OpenAPI operation
    id), for both ways of naming the method."""
    for verb in _PASSTHRU_METHODS:
        router.add_api_route(
            '/v1/nodes/{node_ident}/vendor_passthru', vendor_passthru,
            methods=[verb], operation_id=f'vendor_passthru_{verb.lower()}',
            summary='Call a vendor passthru method',
            description='?method=get_boot_order (GET), set_boot_order '
                        '(POST, body {"devices": [...]} or {"mac": ...}), '
                        'check_boot_order (GET with query parameters, or '
                        'POST). See vendor_passthru/methods.')
        router.add_api_route(
            '/v1/nodes/{node_ident}/vendor_passthru/{method_name}',
            vendor_passthru_by_path, methods=[verb],
            operation_id=f'vendor_passthru_by_path_{verb.lower()}',
            summary='Call a vendor passthru method (named in the path)',
            description='As ?method=..., with the method in the path, '
                        'which python-ironicclient sends.')


_add_passthru_routes()
