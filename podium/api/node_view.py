"""How a node looks in the API: Ironic's field set, secrets masked.

Nodes are turned into plain dicts by table-driven functions (no response
models); a list of a thousand nodes costs a few milliseconds here. The
input is an ORM node or a database row holding at least the columns
:func:`columns_for` names.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from podium.api import links
from podium.common import masking

MASK = masking.MASK

#: API fields read straight from the database column of the same name.
COLUMN_FIELDS = (
    'uuid', 'name', 'description', 'driver', 'properties', 'extra',
    'instance_uuid', 'resource_class', 'owner',
    'power_interface', 'management_interface', 'inspect_interface',
    'bios_interface', 'boot_interface', 'deploy_interface', 'boot_mode',
    'secure_boot', 'power_state', 'target_power_state', 'provision_state',
    'target_provision_state', 'provision_updated_at',
    'inspection_started_at', 'inspection_finished_at', 'maintenance',
    'maintenance_reason', 'fault', 'reservation', 'conductor_group',
    'last_error', 'created_at', 'updated_at',
)

#: API fields whose secrets are masked, at any depth (as in Ironic).
MASKED_FIELDS = ('driver_info', 'driver_internal_info', 'instance_info')

#: Free-text fields that may quote a secret (a BMC's error message).
TEXT_FIELDS = ('last_error', 'maintenance_reason')

#: Step columns: NULL in the database, ``{}`` in the API, as Ironic.
STEP_FIELDS = ('clean_step', 'deploy_step')

#: Ironic fields Podium has no use for, with the value Ironic shows for
#: a node that never used them; clients print them, so they are there.
CONSTANT_FIELDS: dict[str, Any] = {
    'allocation_uuid': None, 'automated_clean': None,
    'chassis_uuid': None,
    'console_enabled': False, 'console_interface': None,
    'disable_power_off': False, 'firmware_interface': None,
    'lessee': None, 'network_data': {}, 'network_interface': None,
    'parent_node': None, 'protected': False, 'protected_reason': None,
    'raid_config': {},
    'raid_interface': None, 'rescue_interface': None, 'retired': False,
    'retired_reason': None, 'shard': None,
    'storage_interface': None, 'target_raid_config': {}, 'traits': [],
    'vendor_interface': None,
}

#: Every field a client may name in ``fields``.
ALL_FIELDS = frozenset(COLUMN_FIELDS + MASKED_FIELDS + STEP_FIELDS) | \
    frozenset(CONSTANT_FIELDS) | {'links', 'conductor'}

#: Podium extension fields of one node's document (``GET`` of the node
#: without ``fields``, and the answer to its ``PATCH``),
#: as ``bmc_health`` is: lists do not carry them and ``fields`` cannot
#: name them, so stock clients' requests are unchanged. The first is
#: PATCHable; the others are read-only.
EXTENSION_FIELDS = ('intended_settings', 'drift', 'bmc_health')


def settings_fields(node: Any) -> dict[str, Any]:
    """A node's intended settings and drift, as its document shows them
    (:mod:`podium.common.intended`)."""
    return {'intended_settings': node.intended_settings,
            'drift': node.drift}


#: Finds the conductor managing a node from its UUID and conductor
#: group; None when no alive conductor serves the group.
ConductorLookup = Callable[[str, str | None], str | None]

#: What ``GET /v1/nodes`` shows without ``detail`` or ``fields``.
DEFAULT_LIST_FIELDS = ('uuid', 'name', 'instance_uuid', 'power_state',
                       'provision_state', 'maintenance')

#: Fields of ``GET /v1/nodes/{id}/states``.
STATE_FIELDS = ('power_state', 'target_power_state', 'provision_state',
                'target_provision_state', 'provision_updated_at',
                'last_error', 'console_enabled', 'raid_config',
                'target_raid_config', 'boot_mode', 'secure_boot', 'fault')

#: Columns of a full node, in the order a list selects them.
ALL_COLUMNS = COLUMN_FIELDS + MASKED_FIELDS + STEP_FIELDS


#: Columns of one node's full document: a list's, then the extension
#: fields read from the database and the id (drivers' node view, for
#: the BMC health record).
SHOW_COLUMNS = ALL_COLUMNS + ('intended_settings', 'drift', 'id')

_N_COLUMNS = len(ALL_COLUMNS)

#: A full node's document with the constant fields set: its keys, in
#: the order the API shows them (columns, constants, conductor, links).
_FULL_TEMPLATE: dict[str, Any] = {
    **dict.fromkeys(ALL_COLUMNS), **CONSTANT_FIELDS,
    'conductor': None, 'links': None}


def columns_for(fields: Iterable[str]) -> tuple[str, ...]:
    """The database columns needed to show ``fields`` (uuid always)."""
    wanted = {'uuid'}
    wanted.update(name for name in fields
                  if name in ALL_COLUMNS)
    if 'conductor' in fields:
        wanted.add('conductor_group')
    return tuple(name for name in ALL_COLUMNS if name in wanted)


class NodeSerializer:
    """Renders nodes; built once per application with its masked keys."""

    def __init__(self, masked_keys: Collection[str],
                 conductor_of: ConductorLookup = lambda _uuid, _group: None
                 ) -> None:
        self._masked_keys = frozenset(masked_keys)
        self._conductor_of = conductor_of

    def is_secret(self, key: str) -> bool:
        return masking.is_secret_key(key, self._masked_keys)

    def mask(self, info: dict[str, Any] | None) -> dict[str, Any]:
        """``info`` with every secret value, at any depth, replaced by
        ``******``."""
        if not info:
            return {}
        masked: dict[str, Any] = masking.mask(info, self._masked_keys)
        return masked

    @staticmethod
    def mask_text(text: str | None) -> str | None:
        return masking.mask_text(text) if text else text

    def _getter(self, field: str) -> Callable[[Any], Any]:
        if field in MASKED_FIELDS:
            return lambda node: self.mask(getattr(node, field))
        if field in TEXT_FIELDS:
            return lambda node: self.mask_text(getattr(node, field))
        if field in STEP_FIELDS:
            return lambda node: getattr(node, field) or {}
        if field in CONSTANT_FIELDS:
            value = CONSTANT_FIELDS[field]
            return lambda _node: value
        if field == 'conductor':
            return lambda node: self._conductor_of(node.uuid,
                                                   node.conductor_group)
        return lambda node: getattr(node, field)

    def _render_full(self, node: Any, base: str,
                     is_row: bool = False) -> dict[str, Any]:
        # A copy of the full document's keys, filled in place: no
        # resizing of a dict growing to 60 keys, for each node.
        result = _FULL_TEMPLATE.copy()
        if is_row:
            # A database row of the list or show path (whose extra
            # columns follow): one C-level zip instead of an attribute
            # lookup per column, a third of the rendering.
            result.update(zip(ALL_COLUMNS, node, strict=False))
        else:
            result.update((name, getattr(node, name))
                          for name in ALL_COLUMNS)
        for name in MASKED_FIELDS:
            result[name] = self.mask(result[name])
        for name in TEXT_FIELDS:
            result[name] = self.mask_text(result[name])
        for name in STEP_FIELDS:
            result[name] = result[name] or {}
        uuid = result['uuid']
        result['conductor'] = self._conductor_of(uuid,
                                                 result['conductor_group'])
        result['links'] = links.resource_links(base, 'nodes', uuid)
        return result

    def render(self, node: Any, base: str,
               fields: Sequence[str] | None = None) -> dict[str, Any]:
        """One node as the API shows it; only ``fields`` when given."""
        return self.render_many((node,), base, fields)[0]

    def render_many(self, nodes: Iterable[Any], base: str,
                    fields: Sequence[str] | None = None
                    ) -> list[dict[str, Any]]:
        """Nodes as the API shows them; only ``fields`` (and links) when
        given."""
        if fields is None:
            nodes = list(nodes)
            # Rows of one query share their columns: asked once, as a
            # row's ``_fields`` is built anew at each access.
            is_row = bool(nodes) and \
                getattr(nodes[0], '_fields', ())[:_N_COLUMNS] == ALL_COLUMNS
            return [self._render_full(node, base, is_row) for node in nodes]
        getters = [(name, self._getter(name)) for name in fields
                   if name != 'links']
        rendered = []
        for node in nodes:
            item = {name: getter(node) for name, getter in getters}
            item['links'] = links.resource_links(base, 'nodes', node.uuid)
            rendered.append(item)
        return rendered

    def render_states(self, node: Any, base: str) -> dict[str, Any]:
        """``GET /v1/nodes/{id}/states``."""
        result = {name: (CONSTANT_FIELDS[name] if name in CONSTANT_FIELDS
                         else getattr(node, name))
                  for name in STATE_FIELDS}
        result['last_error'] = self.mask_text(result['last_error'])
        result['links'] = [
            {'href': f'{base}/v1/nodes/{node.uuid}/states', 'rel': 'self'},
            {'href': f'{base}/nodes/{node.uuid}/states',
             'rel': 'bookmark'}]
        return result
