"""Redfish persistent boot order: the system's ``Boot.BootOrder`` and
its ``BootOptions`` collection.

The installed sushy models neither, so both are read as JSON over the
node's cached connection and the order is changed by a PATCH of
``{"Boot": {"BootOrder": [...]}}`` to the system (with the system's
ETag as If-Match, as sushy sends its own PATCHes), which every BMC
implementing BootOrder takes. Each option's device kind comes from its
``Alias`` where the BMC gives one, else from its name and
``UefiDevicePath``; a NIC's MAC from the device path's ``MAC(...)`` node
or a MAC in its name. A BMC with a BootOrder but no BootOptions lists
the references alone (device kinds unknown, so only references can be
ordered). An order the BMC accepted and does not report afterwards is an
error, not a success.
"""

from typing import Any

from podium.common import exceptions
from podium.drivers import base, boot_order
from podium.drivers.modules.redfish import connection, power_read, utils


def _options_by_ref(conn: connection.Connection,
                    boot: dict[str, Any]) -> dict[str, boot_order.BootOption]:
    link = (boot.get('BootOptions') or {}).get('@odata.id')
    if not link:
        return {}
    found: dict[str, boot_order.BootOption] = {}
    for member in conn.get_json(link).get('Members') or ():
        path = member.get('@odata.id') if isinstance(member, dict) else None
        if not path:
            continue
        doc = conn.get_json(path)
        ref = str(doc.get('BootOptionReference') or doc.get('Id') or '')
        if not ref:
            continue
        name = str(doc.get('DisplayName') or doc.get('Name') or ref)
        device_path = doc.get('UefiDevicePath')
        found[ref] = boot_order.BootOption(
            ref=ref, name=name,
            device=boot_order.device_of(doc.get('Alias'), name, device_path),
            mac=boot_order.mac_in(device_path, name),
            enabled=doc.get('BootOptionEnabled'))
    return found


def _read(task: base.Task, conn: connection.Connection,
          info: utils.RedfishInfo) -> list[boot_order.BootOption]:
    return _order_of(task, conn, power_read.read_document(conn, info))


def _order_of(task: base.Task, conn: connection.Connection,
              system: dict[str, Any]) -> list[boot_order.BootOption]:
    """The boot order of a system document, with each option read."""
    boot = system.get('Boot') or {}
    order = boot.get('BootOrder')
    if not isinstance(order, list):
        raise exceptions.UnsupportedDriverExtension(
            extension='The boot order (the BMC reports no Boot.BootOrder)',
            node=base.node_label(task.node))
    options = _options_by_ref(conn, boot)
    return [options.get(str(ref)) or boot_order.BootOption(str(ref),
                                                           str(ref))
            for ref in order]


def get_boot_order(task: base.Task) -> list[boot_order.BootOption]:
    """The system's BootOrder, each reference with its option."""
    with power_read.connected(task, 'reading the boot order') \
            as (info, conn):
        return _read(task, conn, info)


def set_boot_order(task: base.Task, request: boot_order.OrderRequest
                   ) -> list[boot_order.BootOption]:
    """Reorder as ``request`` says (refused before the PATCH when no
    option matches), PATCH BootOrder and read it back."""
    label = base.node_label(task.node)
    with power_read.connected(task, 'setting the boot order') \
            as (info, conn):
        path = conn.system_path(info)
        # Through sushy's connector, for the system's ETag: BMCs that
        # want If-Match on a PATCH get it (sushy retries without it
        # where the BMC refuses the tag).
        response = conn.connector.get(path)
        current = _order_of(task, conn, response.json())
        wanted = boot_order.reorder(current, request, label)
        refs = [option.ref for option in wanted]
        if refs != [option.ref for option in current]:
            conn.connector.patch(path, data={'Boot': {'BootOrder': refs}},
                                 etag=response.headers.get('ETag'))
        now = _read(task, conn, info)
    if [option.ref for option in now] != refs:
        raise exceptions.DriverError(
            reason=f'Node {label}: the BMC accepted the boot order '
                   f'{", ".join(refs)} but reports '
                   f'{", ".join(o.ref for o in now) or "none"}.')
    return now
