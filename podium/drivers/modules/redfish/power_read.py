"""Reading Redfish power states: one node, or every node of an endpoint.

A single read is one GET of the system document over the cached
connection (:meth:`Connection.get_json`). Power sync reads many nodes
behind one endpoint at once: when the BMC advertises
``ProtocolFeaturesSupported.ExpandQuery``, one
``GET <Systems>?$expand=.($levels=1)`` returns every system document, so
N nodes cost one request instead of N. Nodes missing from that answer,
or all of them when the BMC refuses the query, are left out of the
result, and power sync reads them one by one in parallel; an endpoint
that does not answer in time fails every node of the batch at once
rather than timing out N more times.
"""

import contextlib
import types
from collections.abc import Iterator, Sequence
from typing import Any

from oslo_log import log
from sushy import exceptions as sushy_exc

from podium.common import exceptions, states
from podium.conf import CONF
from podium.drivers import base
from podium.drivers.modules import deadline
from podium.drivers.modules.redfish import connection, errors, utils

LOG = log.getLogger(__name__)

#: Redfish PowerState -> Podium power state. Transitional states report
#: where the node is heading, as Ironic does; waiting for a power action
#: compares the Redfish state itself, so it waits for the real thing.
POWER_STATE_MAP = {
    'On': states.POWER_ON,
    'PoweringOn': states.POWER_ON,
    'Off': states.POWER_OFF,
    'PoweringOff': states.POWER_OFF,
}

EXPAND_QUERY = '?$expand=.($levels=1)'

#: Redfish BootSourceOverrideMode -> Podium boot mode.
BOOT_MODES = {'UEFI': states.BOOT_MODE_UEFI, 'Legacy': states.BOOT_MODE_BIOS}

#: What :func:`observe` can see in a system document.
OBSERVED_SETTINGS = frozenset({'boot_mode'})


def power_state_of(node: base.NodeView, doc: dict[str, Any]) -> str:
    """The Podium power state of a ComputerSystem document.

    :raises DriverError: the BMC reports no or an unknown PowerState.
    """
    value = doc.get('PowerState')
    try:
        return POWER_STATE_MAP[value]  # type: ignore[index]
    except (KeyError, TypeError):
        raise exceptions.DriverError(
            reason=f'node {base.node_label(node)}: the BMC reports an '
                   f'unknown PowerState {value!r} for '
                   f'{doc.get("@odata.id", "the system")}') from None


def observe(task: base.Task, doc: dict[str, Any]) -> None:
    """Put the settings the system document shows into the task's
    ``observed`` dict, when power sync gave it one (a node with intended
    settings); nothing otherwise."""
    observed = base.observed_settings(task)
    if observed is None:
        return
    boot = doc.get('Boot')
    mode = BOOT_MODES.get(str(boot.get('BootSourceOverrideMode'))) \
        if isinstance(boot, dict) else None
    if mode is not None:
        observed['boot_mode'] = mode


@contextlib.contextmanager
def connected(task: base.Task, action: str
              ) -> Iterator[tuple[utils.RedfishInfo, connection.Connection]]:
    """Parse ``driver_info``, bound the block by ``task.timeout``, get the
    cached connection and translate failures into driver errors.

    A connection whose credentials the BMC rejects is dropped from the
    cache, so a corrected password or a restarted BMC is picked up.
    """
    info = utils.parse(task.node)
    with deadline.bounded(task.timeout), \
            errors.translated(task.node, action, info.address):
        conn = connection.CACHE.get(info)
        try:
            yield info, conn
        except sushy_exc.AccessError:
            connection.CACHE.forget(info, conn)
            raise


def read_document(conn: connection.Connection, info: utils.RedfishInfo
                  ) -> dict[str, Any]:
    """GET the node's system document (one request once warm)."""
    return conn.get_json(conn.system_path(info))


def read_power_state(task: base.Task) -> str:
    """The power state of one node."""
    with connected(task, 'reading the power state') as (info, conn):
        doc = read_document(conn, info)
        state = power_state_of(task.node, doc)
        observe(task, doc)
        return state


def wait_for_power_state(task: base.Task, conn: connection.Connection,
                         info: utils.RedfishInfo, redfish_state: str,
                         wait: float) -> None:
    """Poll until the system's PowerState is ``redfish_state``.

    Must run inside :func:`connected` (the deadline bounds ``wait``).

    :raises PowerStateFailure: the state was not reached in ``wait``.
    """
    deadline.wait_for_state(
        task, lambda: str(read_document(conn, info).get('PowerState')),
        redfish_state, wait, CONF.redfish.power_state_poll_interval,
        after=f'the request at {info.address}',
        label=f'PowerState {redfish_state}')


def member_index(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Expanded members by path (and by collection path + Id)."""
    index: dict[str, dict[str, Any]] = {}
    for member in doc.get('Members') or ():
        if not isinstance(member, dict):
            continue
        path = str(member.get('@odata.id') or '').rstrip('/')
        if path:
            index[path] = member
            if member.get('Id'):
                parent = path.rsplit('/', 1)[0]
                index[f'{parent}/{member["Id"]}'] = member
    return index


def _expanded(conn: connection.Connection) -> dict[str, dict[str, Any]] | None:
    """Every system document in one request, or None if unavailable."""
    if not conn.expand_usable():
        return None
    try:
        doc = conn.get_json(conn.systems_path + EXPAND_QUERY)
    except (exceptions.BMCTimeout, exceptions.BMCAuthError,
            sushy_exc.AccessError):
        raise
    except Exception as exc:
        # A BMC may advertise $expand and still refuse it: remember, and
        # read its nodes one by one from now on.
        LOG.info('The Redfish BMC at %s refused $expand (%s); reading '
                 'its systems one by one', conn.address,
                 type(exc).__name__)
        conn.expand_refused = True
        return None
    members = member_index(doc)
    # Links-only members (a BMC that ignored the query) are no help.
    return members if any('PowerState' in m for m in members.values()) \
        else None


def read_power_states(tasks: Sequence[base.Task]
                      ) -> dict[int, str | Exception]:
    """Power states of nodes sharing one connection key, by node id.

    Nodes the ``$expand`` answer does not cover are left out, for the
    caller to read alone (see ``PowerInterface.get_power_states``).
    """
    if not tasks:
        return {}
    batch = BatchTask(tasks)
    try:
        with connected(batch, 'reading power states with $expand') \
                as (_info, conn):
            members = _expanded(conn)
    except exceptions.DriverError as exc:
        # Connecting and the expanded read concern the endpoint only:
        # every node of the batch would fail the same way.
        return {task.node.id: exc for task in tasks}
    result: dict[int, str | Exception] = {}
    if not members:
        return result
    for task in tasks:
        try:
            info = utils.parse(task.node)
            doc = members.get(conn.system_path(info))
            if doc is not None and 'PowerState' in doc:
                result[task.node.id] = power_state_of(task.node, doc)
                observe(task, doc)
        except Exception as exc:
            result[task.node.id] = exc
    return result


class BatchTask:
    """A task standing for the whole batch in messages and bounds.

    Its node is named after the batch (errors of the batch go to every
    node's last_error); its timeout is the longest of the batch's.
    """

    def __init__(self, tasks: Sequence[base.Task]) -> None:
        first = tasks[0].node
        self.node: Any = types.SimpleNamespace(
            id=first.id, uuid=first.uuid, driver=first.driver,
            name=f'{base.node_label(first)} and {len(tasks) - 1} other(s) '
                 f'on the same BMC',
            driver_info=first.driver_info,
            driver_internal_info=first.driver_internal_info,
            power_state=first.power_state)
        self.timeout = max(task.timeout for task in tasks)
        self.shared = True
