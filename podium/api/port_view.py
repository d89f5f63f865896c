"""How a port looks in the API: Ironic's fields and defaults."""

from collections.abc import Iterable, Sequence
from typing import Any

from podium.api import links
from podium.common import masking

#: API fields read from the port's column of the same name.
COLUMN_FIELDS = (
    'uuid', 'address', 'node_uuid', 'extra', 'internal_info',
    'local_link_connection', 'pxe_enabled', 'physical_network',
    'is_smartnic', 'name', 'description', 'vendor', 'category',
    'created_at', 'updated_at',
)

#: Free-form fields: any secret in them is masked at any depth, as in a
#: node's ``driver_info`` (a switch password in ``extra``, say).
MASKED_FIELDS = frozenset({'extra', 'internal_info',
                           'local_link_connection'})

#: Ironic fields of features Podium does not have, with the value
#: Ironic shows for a port that does not use them.
CONSTANT_FIELDS: dict[str, Any] = {'portgroup_uuid': None}

#: Every field a client may name in ``fields``.
ALL_FIELDS = frozenset(COLUMN_FIELDS) | frozenset(CONSTANT_FIELDS) | \
    {'links'}

#: What a port list shows without ``detail`` or ``fields``.
DEFAULT_LIST_FIELDS = ('uuid', 'address')


def render(port: Any, base: str,
           fields: Sequence[str] | None = None) -> dict[str, Any]:
    """One port as the API shows it; only ``fields`` (and links) when
    given."""
    names: Iterable[str] = COLUMN_FIELDS + tuple(CONSTANT_FIELDS) \
        if fields is None else fields
    result = {name: (CONSTANT_FIELDS[name] if name in CONSTANT_FIELDS
                     else masking.mask(getattr(port, name) or {})
                     if name in MASKED_FIELDS else getattr(port, name))
              for name in names if name != 'links'}
    result['links'] = links.resource_links(base, 'ports', port.uuid)
    return result


def render_many(ports: Iterable[Any], base: str,
                fields: Sequence[str] | None = None
                ) -> list[dict[str, Any]]:
    return [render(port, base, fields) for port in ports]
