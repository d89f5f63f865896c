"""Node actions that go through the node's conductor: power, boot
device, maintenance, validation and provisioning, plus the states view.

The conductor takes the node's lock before answering, so a busy node
gets 409 and a full worker pool 503 at once; the action itself runs on
the conductor's pool after the 202. Requests that wait for a BMC's
answer wait outside the request threads (see ``bmc_requests``).
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from podium.api import links, responses, schemas
from podium.common import context as podium_context
from podium.common import exceptions, provision, vmedia
from podium.db import api as db_api

router = APIRouter(tags=['node actions'])


class _Conductor:
    """The conductor call context of one request on one node."""

    def __init__(self, request: Request, node_ident: str) -> None:
        self.node = db_api.get_node(node_ident)
        self.rpcapi = request.app.state.rpcapi
        self.context = podium_context.RequestContext(
            user_id=getattr(request.state, 'user', None))
        self.topic = self.rpcapi.get_topic_for(self.node)

    def call(self, method: str, **kwargs: Any) -> Any:
        return getattr(self.rpcapi, method)(
            self.context, self.node.uuid, topic=self.topic, **kwargs)


async def _call_waiting_on_bmc(request: Request, node_ident: str,
                               method: str, **kwargs: Any) -> Any:
    """A conductor call whose answer comes from the BMC, made in a
    thread of ``app.state.bmc_requests`` (503 at once when it is full)."""
    return await request.app.state.bmc_requests.run(
        lambda: _Conductor(request, node_ident).call(method, **kwargs))


def _states_location(request: Request, node_ident: str) -> dict[str, str]:
    return {'Location':
            f'{links.base_url(request)}/v1/nodes/{node_ident}/states'}


@router.get('/v1/nodes/{node_ident}/states', summary='Show node states')
def get_states(request: Request, node_ident: str) -> Response:
    node = db_api.get_node(node_ident)
    return responses.JSONResponse(request.app.state.serializer.render_states(
        node, links.base_url(request)))


@router.put('/v1/nodes/{node_ident}/states/power', status_code=202,
            summary='Change the power state',
            description='Answers 202 once the conductor has locked the '
                        'node; power_state changes when the action ends.')
def set_power_state(request: Request, node_ident: str,
                    body: schemas.PowerRequest) -> Response:
    _Conductor(request, node_ident).call(
        'change_node_power_state', new_state=body.target,
        timeout=body.timeout)
    return responses.empty(202, _states_location(request, node_ident))


@router.put('/v1/nodes/{node_ident}/states/provision', status_code=202,
            summary='Change the provision state',
            description='Targets: manage, provide, inspect, clean (with '
                        'clean_steps), active/deploy, rebuild, '
                        'deleted/undeploy, abort, adopt. Answers 202 once '
                        'the node entered the transient state; the work '
                        'goes on in the background.')
def set_provision_state(request: Request, node_ident: str,
                        body: schemas.ProvisionRequest) -> Response:
    version = getattr(request.state, 'api_version', None)
    needed = provision.TARGET_MIN_VERSIONS.get(body.target)
    if version is not None and needed is not None and version < needed:
        raise exceptions.NotAcceptable(
            f'The provision target "{body.target}" needs API version '
            f'{needed[0]}.{needed[1]} or later.')
    _Conductor(request, node_ident).call(
        'do_provisioning_action', target=body.target,
        clean_steps=body.clean_steps)
    return responses.empty(202, _states_location(request, node_ident))


@router.put('/v1/nodes/{node_ident}/states/boot_mode', status_code=202,
            summary='Set the boot mode',
            description='target: uefi or bios (1.76). Answers once the '
                        'BMC reports the new mode; the node shows it in '
                        'boot_mode.')
async def set_boot_mode(request: Request, node_ident: str,
                        body: schemas.BootModeRequest) -> Response:
    await _call_waiting_on_bmc(request, node_ident, 'set_boot_mode',
                               mode=body.target)
    return responses.empty(202, _states_location(request, node_ident))


@router.put('/v1/nodes/{node_ident}/states/secure_boot', status_code=202,
            summary='Turn UEFI secure boot on or off',
            description='target: true or false (1.76). Answers once the '
                        'BMC reports it; the node shows it in secure_boot.')
async def set_secure_boot(request: Request, node_ident: str,
                          body: schemas.SecureBootRequest) -> Response:
    await _call_waiting_on_bmc(request, node_ident, 'set_secure_boot',
                               state=body.target)
    return responses.empty(202, _states_location(request, node_ident))


@router.get('/v1/nodes/{node_ident}/management/boot_device',
            summary='Show the boot device')
async def get_boot_device(request: Request, node_ident: str) -> Response:
    result = await _call_waiting_on_bmc(request, node_ident,
                                        'get_boot_device')
    return responses.JSONResponse(result)


@router.put('/v1/nodes/{node_ident}/management/boot_device',
            status_code=204, summary='Set the boot device')
async def set_boot_device(request: Request, node_ident: str,
                          body: schemas.BootDeviceRequest) -> Response:
    await _call_waiting_on_bmc(
        request, node_ident, 'set_boot_device', device=body.boot_device,
        persistent=body.persistent)
    return responses.empty(204)


@router.get('/v1/nodes/{node_ident}/management/boot_device/supported',
            summary='List supported boot devices')
async def get_supported_boot_devices(request: Request,
                                     node_ident: str) -> Response:
    devices = await _call_waiting_on_bmc(request, node_ident,
                                         'get_supported_boot_devices')
    return responses.JSONResponse({'supported_boot_devices': devices})


@router.post('/v1/nodes/{node_ident}/vmedia', status_code=204,
             summary='Attach virtual media',
             description='device_type (cdrom, disk or floppy), image_url '
                         '(http or https) and image_download_source '
                         '(http only: the BMC fetches the URL) (1.89). '
                         'Answers 204 once the BMC took the image; 400 '
                         'for a bad request before any BMC is asked.')
async def attach_vmedia(request: Request, node_ident: str,
                        body: schemas.VmediaRequest) -> Response:
    device_type = vmedia.device_type(body.device_type)
    image_url = vmedia.check_image_url(body.image_url)
    vmedia.check_download_source(body.image_download_source)
    await _call_waiting_on_bmc(request, node_ident, 'attach_virtual_media',
                               device_type=device_type, image_url=image_url)
    return responses.empty(204)


async def _device_types(request: Request) -> list[str] | None:
    """The device types a detach names: the ``device_types`` query
    parameter or JSON body field (openstacksdk sends the body), a comma
    separated string or a list; None (every type) when absent."""
    value: Any = request.query_params.get('device_types')
    raw = await request.body()
    if value is None and raw:
        try:
            doc = json.loads(raw)
        except ValueError:
            raise exceptions.InvalidParameterValue(
                err='The request body is not JSON.') from None
        if not isinstance(doc, dict) or set(doc) - {'device_types'}:
            raise exceptions.InvalidParameterValue(
                err='The body may only hold device_types.')
        value = doc.get('device_types')
    if value is None or value == '' or value == []:
        return None
    if isinstance(value, str):
        value = value.split(',')
    if not isinstance(value, list) or not all(
            isinstance(item, str) for item in value):
        raise exceptions.InvalidParameterValue(
            err='device_types must be a comma separated string or a list '
                'of strings.')
    return vmedia.device_types(value)


@router.delete('/v1/nodes/{node_ident}/vmedia', status_code=204,
               summary='Detach virtual media',
               description='Every device, or the device_types given '
                           '(query parameter or body, comma separated) '
                           '(1.89). Answers 204 once the BMC ejected them.')
async def detach_vmedia(request: Request, node_ident: str) -> Response:
    device_types = await _device_types(request)
    await _call_waiting_on_bmc(request, node_ident, 'detach_virtual_media',
                               device_types=device_types)
    return responses.empty(204)


@router.put('/v1/nodes/{node_ident}/maintenance', status_code=202,
            summary='Put a node into maintenance')
def set_maintenance(request: Request, node_ident: str,
                    body: Annotated[schemas.MaintenanceRequest | None,
                                    Body()] = None
                    ) -> Response:
    reason = body.reason if body is not None else None
    _Conductor(request, node_ident).call(
        'set_maintenance', maintenance=True, reason=reason)
    return responses.empty(202)


@router.delete('/v1/nodes/{node_ident}/maintenance', status_code=202,
               summary='Take a node out of maintenance')
def unset_maintenance(request: Request, node_ident: str) -> Response:
    _Conductor(request, node_ident).call('set_maintenance',
                                         maintenance=False)
    return responses.empty(202)


@router.get('/v1/nodes/{node_ident}/validate',
            summary='Validate the driver interfaces')
async def validate(request: Request, node_ident: str) -> Response:
    result = await _call_waiting_on_bmc(request, node_ident,
                                        'validate_driver_interfaces')
    return responses.JSONResponse(result)
