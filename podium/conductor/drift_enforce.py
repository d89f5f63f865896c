"""Putting drifted settings back (``[conductor] enforce_intended_settings``).

A node whose drift (:mod:`podium.common.intended`) has entries still
worth a try (fewer than ``drift_put_back_attempts`` put-backs) is locked
like any action (an action in flight keeps the lock, and the node is
left for the next check), and only in a stable provision state with no
power or provision target. A boot mode and a boot order are put back in
``manageable``, ``available`` and ``active`` (they take effect at the
next boot). Each setting is then set to its intended
value and read back:

* the BMC reports the intended value: the entry is cleared (history:
  put back);
* the BMC accepted it and reports another value (the driver raised
  ``SettingNotKept``, or the read-back differs): the entry becomes
  ``not kept``, with the attempt counted; the value is not trusted;
* the BMC refused it: ``put back failed``, with its error.

After the last attempt Podium gives up and says so in history; the
entry stays, reported. BIOS settings are put back only on ``manageable``
or ``available`` nodes, because applying them restarts the node; on
others their entry says why it was not put back. All BIOS settings of a
node are applied in one go (one restart).
"""

from collections.abc import Callable
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, intended, masking, states
from podium.conductor import task_manager
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers import boot_order

LOG = log.getLogger(__name__)

#: Provision states in which a boot mode is put back.
BOOT_MODE_STATES = (states.MANAGEABLE, states.AVAILABLE, states.ACTIVE)
#: Provision states in which BIOS settings are put back (a restart).
BIOS_STATES = (states.MANAGEABLE, states.AVAILABLE)


def due(drift: list[dict[str, Any]] | None) -> bool:
    """Whether enforcement is on and ``drift`` has an entry to put back."""
    if not drift or not CONF.conductor.enforce_intended_settings:
        return False
    limit = CONF.conductor.drift_put_back_attempts
    return any(int(entry.get('attempts') or 0) < limit for entry in drift)


def observed_boot_order(management: Any, task: Any,
                        wanted: dict[str, Any]) -> dict[str, Any]:
    """The node's boot order as a drift observation: the intended value
    itself when the order already is what it asks for, else
    ``{"order": [option references, first first]}``."""
    check = management.check_boot_order(
        task, boot_order.OrderRequest.from_dict(wanted))
    return dict(wanted) if check.matches else {'order': check.actual}


def _may_act(node: Any) -> bool:
    return (not node.maintenance and node.target_power_state is None
            and node.target_provision_state is None
            and node.provision_state in BOOT_MODE_STATES)


def _masked(error: BaseException, node: Any) -> str:
    return masking.mask_error(error, masking.secret_values(
        node.driver_info or {}))


class Enforcer:
    """Puts a node's drifted settings back, one node per call."""

    def __init__(self, host: str) -> None:
        self.host = host

    def put_back(self, context: podium_context.RequestContext,
                 node_id: int) -> int:
        """Put back what is due on one node; the settings now as
        intended.

        :raises NodeLocked: an action holds the node (try next time).
        :raises NodeNotFound:
        """
        with task_manager.acquire(context, node_id,
                                  purpose='putting intended settings back',
                                  host=self.host) as task:
            node = task.node
            if not _may_act(node) or not due(node.drift):
                return 0
            limit = CONF.conductor.drift_put_back_attempts
            drift = [dict(entry) for entry in node.drift or ()]
            todo = [entry for entry in drift
                    if int(entry.get('attempts') or 0) < limit]
            events: list[tuple[str, str]] = []
            values: dict[str, Any] = {}
            cleared: set[str] = set()
            boot = [e for e in todo if e['setting'] == intended.BOOT_MODE]
            if boot:
                management = task.driver.management
                cleared |= self._put(
                    task, boot, events,
                    lambda wanted: management.set_boot_mode(
                        task, wanted[intended.BOOT_MODE]),
                    lambda: {intended.BOOT_MODE:
                             management.get_boot_mode(task)})
                if intended.BOOT_MODE in cleared:
                    values['boot_mode'] = boot[0]['intended']
            order = [e for e in todo if e['setting'] == intended.BOOT_ORDER]
            if order:
                cleared |= self._put_boot_order(task, order[0], events)
            bios = [e for e in todo
                    if e['setting'].startswith(intended.BIOS_PREFIX)]
            if bios and node.provision_state in BIOS_STATES:
                cleared |= self._put_bios(task, bios, events)
            elif bios:
                reason = (f'not put back: applying BIOS settings restarts '
                          f'the node, which is {node.provision_state}')
                for entry in bios:
                    if entry.get('error') != reason:
                        entry['error'] = reason
                        events.append((f'Drift of {entry["setting"]} '
                                       f'{reason}.', states.WARNING))
            values['drift'] = [e for e in drift
                               if e['setting'] not in cleared] or None
            task.save(**values)
        if events:
            db_api.add_node_history_bulk(
                [(node_id, event, intended.EVENT_TYPE, severity)
                 for event, severity in events], conductor=self.host)
        return len(cleared)

    def _put_boot_order(self, task: Any, entry: dict[str, Any],
                        events: list[tuple[str, str]]) -> set[str]:
        management = task.driver.management
        wanted = entry['intended']
        return self._put(
            task, [entry], events,
            lambda _values: management.set_boot_order(
                task, boot_order.OrderRequest.from_dict(wanted)),
            lambda: {intended.BOOT_ORDER: observed_boot_order(
                management, task, wanted)})

    def _put_bios(self, task: Any, entries: list[dict[str, Any]],
                  events: list[tuple[str, str]]) -> set[str]:
        bios = task.driver.bios
        prefix = len(intended.BIOS_PREFIX)

        def read() -> dict[str, Any]:
            current = bios.get_values(task)
            return {entry['setting']: current.get(entry['setting'][prefix:])
                    for entry in entries}

        return self._put(
            task, entries, events,
            lambda wanted: bios.apply_settings(
                task, {name[prefix:]: value
                       for name, value in wanted.items()}),
            read)

    def _put(self, task: Any, entries: list[dict[str, Any]],
             events: list[tuple[str, str]],
             apply: Callable[[dict[str, Any]], None],
             read: Callable[[], dict[str, Any]]) -> set[str]:
        """Apply the entries' intended values, read them back and update
        the entries in place; the settings now as intended."""
        node = task.node
        limit = CONF.conductor.drift_put_back_attempts
        error: str | None = None
        not_kept = False
        try:
            apply({entry['setting']: entry['intended']
                   for entry in entries})
        except exceptions.SettingNotKept as exc:
            not_kept, error = True, _masked(exc, node)
        except exceptions.PodiumException as exc:
            error = _masked(exc, node)
        try:
            actual = read()
        except exceptions.PodiumException as exc:
            actual = {}
            error = error or f'reading it back failed: {_masked(exc, node)}'
        cleared: set[str] = set()
        for entry in entries:
            name = entry['setting']
            attempt = int(entry.get('attempts') or 0) + 1
            entry['attempts'] = attempt
            if name in actual and intended.same(entry['intended'],
                                                actual[name]):
                cleared.add(name)
                events.append((f'Drift put back: {name} is '
                               f'{entry["intended"]!r} again (attempt '
                               f'{attempt}).', states.INFO))
                LOG.info('Node %s: %s put back to %r', node.ident, name,
                         entry['intended'])
                continue
            if name in actual:
                entry['actual'] = actual[name]
            if not_kept or (error is None):
                entry['state'] = intended.NOT_KEPT
                entry['error'] = error or (
                    f'the BMC accepted {entry["intended"]!r} and reports '
                    f'{entry.get("actual")!r}')
            else:
                entry['state'] = intended.PUT_BACK_FAILED
                entry['error'] = error
            gave_up = attempt >= limit
            events.append((
                f'Putting {name} back to {entry["intended"]!r} failed '
                f'(attempt {attempt} of {limit}, {entry["state"]}): '
                f'{entry["error"]}' + (
                    '; giving up, the drift stays reported.' if gave_up
                    else '.'), states.ERROR_SEVERITY))
            LOG.warning('Node %s: putting %s back failed (attempt %d of '
                        '%d, %s): %s', node.ident, name, attempt, limit,
                        entry['state'], entry['error'])
        return cleared
