"""Drivers (hardware types): which exist, where, with which interfaces.

A driver is listed when an alive conductor registered it, with those
conductors as its ``hosts``, as in Ironic. Interface details come from
this process's driver registry.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from podium.api import links, params, responses
from podium.common import exceptions
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers import base as drivers_base
from podium.drivers import driver_factory

router = APIRouter(tags=['drivers'])

#: Ironic's interface kinds; clients print a column for each.
IRONIC_INTERFACE_KINDS = ('bios', 'boot', 'console', 'deploy', 'firmware',
                          'inspect', 'management', 'network', 'power',
                          'raid', 'rescue', 'storage', 'vendor')


def _driver_hosts() -> dict[str, list[str]]:
    """``{driver: [alive conductor hosts]}``."""
    hosts: dict[str, list[str]] = {}
    for conductor in db_api.get_alive_conductors(
            CONF.conductor.heartbeat_timeout):
        for driver in conductor.drivers or ():
            hosts.setdefault(driver, []).append(conductor.hostname)
    return hosts


def _interface_details(name: str) -> dict[str, Any]:
    registry = driver_factory.get_registry()
    known = name in registry.hardware_types
    details: dict[str, Any] = {}
    for kind in IRONIC_INTERFACE_KINDS:
        ours = known and kind in drivers_base.INTERFACE_KINDS
        details[f'default_{kind}_interface'] = (
            registry.default_interface(name, kind) if ours else None)
        details[f'enabled_{kind}_interfaces'] = (
            registry.enabled_interfaces(name, kind) if ours else [])
    return details


def _render(base: str, name: str, hosts: list[str],
            detail: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        'name': name, 'hosts': sorted(hosts), 'type': 'dynamic',
        'links': links.resource_links(base, 'drivers', name),
        'properties': links.resource_links(base, 'drivers',
                                           f'{name}/properties'),
    }
    if detail:
        result.update(_interface_details(name))
    return result


@router.get('/v1/drivers', summary='List drivers')
def list_drivers(request: Request,
                 driver_type: str | None = Query(None, alias='type'),
                 detail: str | None = Query(None)) -> Response:
    if driver_type not in (None, 'dynamic', 'classic'):
        raise exceptions.InvalidParameterValue(
            err=f'Invalid driver type "{driver_type}"; expected dynamic '
                f'or classic.')
    show_detail = bool(params.parse_bool('detail', detail))
    base = links.base_url(request)
    drivers = [] if driver_type == 'classic' else [
        _render(base, name, hosts, show_detail)
        for name, hosts in sorted(_driver_hosts().items())]
    return responses.JSONResponse({'drivers': drivers})


def _hosts_of(name: str) -> list[str]:
    hosts = _driver_hosts().get(name)
    if hosts is None:
        raise exceptions.DriverNotFound(driver_name=name)
    return hosts


@router.get('/v1/drivers/{driver_name}', summary='Show a driver')
def get_driver(request: Request, driver_name: str) -> Response:
    hosts = _hosts_of(driver_name)
    return responses.JSONResponse(
        _render(links.base_url(request), driver_name, hosts, detail=True))


@router.get('/v1/drivers/{driver_name}/properties',
            summary='List the driver_info keys a driver understands')
def get_driver_properties(driver_name: str) -> Response:
    _hosts_of(driver_name)
    registry = driver_factory.get_registry()
    result: dict[str, str] = {}
    for kind in drivers_base.INTERFACE_KINDS:
        for iface in registry.enabled_interfaces(driver_name, kind):
            obj = registry.interfaces[kind][iface]
            for key, prop in obj.get_properties().items():
                required = ' Required.' if prop.required else ''
                result[key] = prop.description + required
    return responses.JSONResponse(result)
