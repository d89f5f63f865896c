"""Which microversion added which route, field and request feature.

The one table of Podium's microversion behaviour, with Ironic's numbers:
a route answers 404 below the version that added it; a response hides
the fields newer than the requested version; a request naming such a
field (in ``fields``, a body or a patch) gets 406, as Ironic's does.
A request without a version header gets the minimum version (1.1).
"""

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request

from podium.api import versions
from podium.common import exceptions

Version = tuple[int, int]

#: Route templates newer than 1.1.
ROUTES: dict[str, Version] = {
    '/v1/conductors': (1, 49),
    '/v1/conductors/{hostname}': (1, 49),
    '/v1/conductors/{hostname}/metrics': (1, 49),
    '/v1/nodes/{node_ident}/bios': (1, 40),
    '/v1/nodes/{node_ident}/bios/{setting_name}': (1, 40),
    '/v1/nodes/{node_ident}/states/boot_mode': (1, 76),
    '/v1/nodes/{node_ident}/states/secure_boot': (1, 76),
    '/v1/nodes/{node_ident}/management/inject_nmi': (1, 29),
    '/v1/nodes/{node_ident}/history': (1, 78),
    '/v1/nodes/{node_ident}/firmware': (1, 86),
    '/v1/nodes/{node_ident}/vmedia': (1, 89),
    '/v1/nodes/{node_ident}/history/{event}': (1, 78),
    '/v1/lookup': (1, 22),
    '/v1/heartbeat/{node_ident}': (1, 22),
}

_NODE_INTERFACES_1_31 = ('boot_interface', 'console_interface',
                         'deploy_interface', 'inspect_interface',
                         'management_interface', 'power_interface',
                         'raid_interface', 'vendor_interface')

#: Fields of each resource newer than 1.1 (others exist since 1.1).
FIELDS: dict[str, dict[str, Version]] = {
    'nodes': {
        'driver_internal_info': (1, 3),
        'name': (1, 5),
        'inspection_finished_at': (1, 6),
        'inspection_started_at': (1, 6),
        'clean_step': (1, 7),
        'raid_config': (1, 12),
        'target_raid_config': (1, 12),
        'network_interface': (1, 20),
        'resource_class': (1, 21),
        **{name: (1, 31) for name in _NODE_INTERFACES_1_31},
        'storage_interface': (1, 33),
        'traits': (1, 37),
        'rescue_interface': (1, 38),
        'bios_interface': (1, 40),
        'fault': (1, 42),
        'deploy_step': (1, 44),
        'conductor_group': (1, 46),
        'automated_clean': (1, 47),
        'protected': (1, 48),
        'protected_reason': (1, 48),
        'conductor': (1, 49),
        'owner': (1, 50),
        'description': (1, 51),
        'allocation_uuid': (1, 52),
        'retired': (1, 61),
        'retired_reason': (1, 61),
        'lessee': (1, 65),
        'network_data': (1, 66),
        'boot_mode': (1, 75),
        'secure_boot': (1, 75),
        'shard': (1, 82),
        'parent_node': (1, 83),
        'firmware_interface': (1, 86),
        'disable_power_off': (1, 95),
    },
    'ports': {
        'internal_info': (1, 18),
        'local_link_connection': (1, 19),
        'pxe_enabled': (1, 19),
        'portgroup_uuid': (1, 24),
        'physical_network': (1, 34),
        'is_smartnic': (1, 53),
        'name': (1, 88),
        'node_ident': (1, 94),
        'description': (1, 97),
        'vendor': (1, 100),
        'category': (1, 101),
    },
    'node_history': {
        'project': (1, 113),
        'state': (1, 115),
        'target_provision_state': (1, 115),
        'duration_seconds': (1, 115),
    },
}

#: Provision states older versions name otherwise: below the version,
#: the state is shown as the older name (Ironic renamed "None" to
#: "available" in 1.2 and added "inspect wait" in 1.39).
STATE_NAMES: tuple[tuple[Version, str, str | None], ...] = (
    ((1, 2), 'available', None),
    ((1, 39), 'inspect wait', 'inspecting'),
)

#: Query parameters and behaviours newer than 1.1.
FEATURES: dict[str, Version] = {
    'fields': (1, 8),
}


def requested(request: Request) -> Version:
    """The microversion the middleware negotiated for ``request``."""
    version: Version = request.scope.get('state', {}).get(
        'api_version', versions.MIN_VERSION)
    return version


def _name(version: Version) -> str:
    return versions.to_string(version)


@functools.cache
def hidden_fields(resource: str, version: Version) -> frozenset[str]:
    """The fields of ``resource`` that ``version`` does not have yet.

    Cached: the table is constant and every response asks (at most one
    entry per resource and microversion).
    """
    return frozenset(name for name, added in FIELDS[resource].items()
                     if added > version)


@functools.cache
def state_renames(version: Version) -> Mapping[str, str | None]:
    """The provision states ``version`` shows under an older name."""
    return {new: old for added, new, old in STATE_NAMES if version < added}


def hide(resource: str, version: Version,
         items: Iterable[dict[str, Any]]) -> None:
    """Drop from each rendered item the fields ``version`` lacks."""
    hidden = hidden_fields(resource, version)
    if not hidden:
        return
    for item in items:
        for name in hidden & item.keys():
            del item[name]


def present(resource: str, request: Request,
            items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` as the request's microversion shows them: newer fields
    dropped and, for nodes, older state names."""
    version = requested(request)
    hide(resource, version, items)
    if resource == 'nodes':
        renames = state_renames(version)
        if renames:
            for item in items:
                for key in ('provision_state', 'target_provision_state'):
                    if item.get(key) in renames:
                        item[key] = renames[item[key]]
    return items


def check_request_fields(resource: str, request: Request,
                         names: Iterable[str] | None) -> None:
    """:func:`check_fields` at the request's microversion."""
    if names is not None:
        check_fields(resource, requested(request), names)


def check_fields(resource: str, version: Version,
                 names: Iterable[str]) -> None:
    """Refuse a request naming a field newer than its version.

    :raises NotAcceptable: naming the field and the version it needs.
    """
    hidden = hidden_fields(resource, version)
    for name in names:
        if name in hidden:
            raise exceptions.NotAcceptable(
                f'Field "{name}" of {resource} needs API version '
                f'{_name(FIELDS[resource][name])} or later; '
                f'{_name(version)} was requested.')


def check_feature(feature: str, version: Version) -> None:
    """Refuse a request parameter newer than the request's version.

    :raises NotAcceptable:
    """
    needed = FEATURES[feature]
    if version < needed:
        raise exceptions.NotAcceptable(
            f'The {feature} parameter needs API version {_name(needed)} '
            f'or later; {_name(version)} was requested.')


def check_query(request: Request) -> None:
    """Refuse query parameters newer than the request's version."""
    version = requested(request)
    for feature in FEATURES:
        if feature in request.query_params:
            check_feature(feature, version)


async def route_guard(request: Request) -> None:
    """An app-wide dependency: routes newer than the requested version
    do not exist for that request (Ironic answers 404).

    A coroutine although it never waits: FastAPI runs a plain function
    dependency in a worker thread, a hand-off that cost more than the
    whole check on every request.

    :raises NotFound:
    """
    route = request.scope.get('route')
    added = ROUTES.get(getattr(route, 'path', ''))
    if added is not None and requested(request) < added:
        raise exceptions.NotFound('The resource could not be found.')
    check_query(request)


def table() -> Mapping[str, Any]:
    """The whole table, for documentation and tests."""
    return {'routes': ROUTES, 'fields': FIELDS, 'features': FEATURES}
