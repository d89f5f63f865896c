"""Drift detection: intended settings compared with what the BMCs report.

Two sources of observations, one way of recording them
(:func:`podium.common.intended.compare`):

* **power sync**, at no extra BMC request: for a node with intended
  settings its read task carries an ``observed`` dict, which a power
  interface fills with the settings its answer shows
  (``PowerInterface.observed_settings``: the Redfish system document
  gives the boot mode). Nodes without intended settings get no dict and
  cost nothing more (:mod:`podium.conductor.power_sync`);
* :class:`DriftCheck`, every ``[conductor] drift_check_interval``
  seconds, for the settings power sync does not see: BIOS values (one
  read of the values, without the registry), the persistent boot order
  (one read of the options) and the boot mode of drivers whose power
  read does not show it. Only nodes with intended
  settings are listed (one query); ``drift_check_workers`` at a time,
  each node's BMC calls bounded by ``drift_check_timeout``.

A new difference, a changed one and one that went away are written to
the node's ``drift`` and its history (``event_type`` ``drift``).
Writes are conditional on the node being unlocked: an action that
changed the node meanwhile wins, and the next check sees its result.
With ``enforce_intended_settings`` the nodes with something to put
back go to :mod:`podium.conductor.drift_enforce` after the writes.
"""

import dataclasses
import time
from typing import Any

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, hash_ring, intended, masking, states
from podium.conductor import drift_enforce, sync_plan
from podium.conductor import pool as pool_mod
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers import driver_factory

LOG = log.getLogger(__name__)

#: ``event_type`` of the node history entries about drift.
EVENT_TYPE = intended.EVENT_TYPE

#: Columns a drift check reads.
COLUMNS = db_api.SYNC_COLUMNS + ('intended_settings', 'drift',
                                 'target_provision_state')

#: Seconds past the timeout after which a check that ignores it is no
#: longer waited for.
TIMEOUT_GRACE = 1.0


@dataclasses.dataclass
class CheckStats:
    """What one drift check did, for its log line and for tests."""

    nodes: int = 0
    failed: int = 0
    drifted: int = 0
    written: int = 0
    put_back: int = 0


@dataclasses.dataclass
class Recorded:
    """The outcome of comparing one node's observations."""

    #: Column values to write (empty: nothing changed).
    values: dict[str, Any]
    #: History entries, ``(event, severity)``.
    events: list[tuple[str, str]]
    #: Whether the node has something to put back.
    enforce: bool


def compare(row: Any, observed: dict[str, Any]) -> Recorded:
    """Compare a node's observed settings with its intended ones."""
    found = intended.compare(row.intended_settings, observed, row.drift)
    values = {} if found.drift == row.drift else {'drift': found.drift}
    for event, severity in found.events:
        if severity != states.INFO:
            LOG.warning('Node %s: %s', row.name or row.uuid, event)
    return Recorded(values, found.events,
                    drift_enforce.due(found.drift))


def write(host: str, rows_and_records: list[tuple[Any, Recorded]]) -> int:
    """Write the records of unlocked nodes, then their history; the
    nodes written."""
    changes = [(row.id, {'reservation': None}, record.values)
               for row, record in rows_and_records if record.values]
    written = db_api.update_nodes_if(changes) if changes else set()
    changed = {node_id for node_id, _, _ in changes}
    history = [(row.id, event, intended.EVENT_TYPE, severity)
               for row, record in rows_and_records
               if row.id in written or row.id not in changed
               for event, severity in record.events]
    if history:
        db_api.add_node_history_bulk(history, conductor=host)
    return len(written)


def record_applied(task: Any, boot_mode: str | None = None,
                   bios: dict[str, Any] | None = None,
                   bios_reset: bool = False,
                   boot_order: dict[str, Any] | None = None) -> str | None:
    """Make what an operator just applied through Podium the node's
    intended value (``[conductor] intend_applied_settings``), under the
    caller's exclusive lock; the settings just applied and read back
    lose their drift entries. A BIOS factory reset drops the intended
    BIOS settings. Returns a history event saying what changed, or None.
    """
    if not CONF.conductor.intend_applied_settings:
        return None
    node = task.node
    before = node.intended_settings
    if bios_reset:
        after = intended.without_bios(before)
        applied: set[str] = set(intended.flatten(before)) - set(
            intended.flatten(after))
        what = 'intended BIOS settings dropped (factory reset)'
    else:
        after = intended.with_applied(before, boot_mode=boot_mode,
                                      bios=bios, boot_order=boot_order)
        applied = set(intended.flatten(
            {intended.BOOT_MODE: boot_mode, intended.BOOT_ORDER: boot_order,
             intended.BIOS: bios or {}}))
        what = 'recorded as intended: ' + ', '.join(sorted(applied))
    remaining = [entry for entry in intended.prune(node.drift, after) or ()
                 if entry.get('setting') not in applied] or None
    if after == before and remaining == node.drift:
        return None
    task.save(intended_settings=after, drift=remaining)
    return f'Applied through Podium, {what}.'


def wanted(row: Any) -> bool:
    """Whether a node's settings are checked now: it has intended
    settings and no action owns it (as power sync decides)."""
    if not row.intended_settings:
        return False
    if row.reservation is not None or row.target_power_state:
        return False
    if row.provision_state in states.SYNC_EXCLUDED_STATES:
        return False
    return not row.maintenance


def put_back(context: podium_context.RequestContext, host: str,
             pool: pool_mod.WorkerPool, node_ids: list[int]) -> int:
    """Put back the drift of ``node_ids``, ``drift_check_workers`` at a
    time; the settings put back. A locked node is left for next time."""
    done = 0
    enforcer = drift_enforce.Enforcer(host)

    def on_result(node_id: int, result: int | None,
                  error: BaseException | None) -> None:
        nonlocal done
        if isinstance(error, exceptions.NodeLocked | exceptions.NodeNotFound):
            LOG.debug('Node %s: not put back now: %s', node_id, error)
        elif error is not None:
            LOG.warning('Node %s: putting its settings back failed: %s',
                        node_id, masking.mask_error(error, set()))
        else:
            done += result or 0

    if node_ids:
        pool.fan_out(lambda node_id: enforcer.put_back(context, node_id),
                     node_ids, CONF.conductor.drift_check_workers, on_result,
                     timeout=CONF.conductor.action_timeout + TIMEOUT_GRACE)
    return done


class DriftCheck:
    """The slower periodic drift check of the nodes one conductor owns."""

    def __init__(self, host: str, pool: pool_mod.WorkerPool,
                 ring: hash_ring.HashRingManager) -> None:
        self.host = host
        self.pool = pool
        self.ring = ring

    def run(self, context: podium_context.RequestContext) -> CheckStats:
        """One check of every owned node with intended settings."""
        started = time.monotonic()
        rows = db_api.list_node_rows(
            COLUMNS, filters={'has_intended_settings': True})
        rows = [row for row in self.ring.owned(self.host, rows)
                if wanted(row)]
        stats = CheckStats(nodes=len(rows))
        records: list[tuple[Any, Recorded]] = []

        def on_result(row: Any, observed: dict[str, Any] | None,
                      error: BaseException | None) -> None:
            if error is not None:
                stats.failed += 1
                LOG.warning('Node %s: drift check failed: %s',
                            row.name or row.uuid, masking.mask_error(
                                error, masking.secret_values(
                                    row.driver_info or {})))
                return
            record = compare(row, observed or {})
            records.append((row, record))

        timeout = CONF.conductor.drift_check_timeout
        self.pool.fan_out(self.observe, rows,
                          CONF.conductor.drift_check_workers, on_result,
                          timeout=timeout + TIMEOUT_GRACE)
        stats.written = write(self.host, records)
        stats.drifted = sum(
            1 for row, record in records
            if (record.values['drift'] if 'drift' in record.values
                else row.drift))
        stats.put_back = put_back(
            context, self.host, self.pool,
            [row.id for row, record in records if record.enforce])
        LOG.debug('Drift check: %(nodes)d node(s) read, %(failed)d '
                  'failed, %(drifted)d drifted, %(written)d written, '
                  '%(put_back)d setting(s) put back in %(secs).2fs',
                  dict(dataclasses.asdict(stats),
                       secs=time.monotonic() - started))
        return stats

    @staticmethod
    def observe(row: Any) -> dict[str, Any]:
        """The node's intended settings that power sync does not see,
        as the BMC reports them now (runs on a worker)."""
        driver = driver_factory.get_registry().for_node(row)
        task = sync_plan.ReadTask(row, CONF.conductor.drift_check_timeout)
        wanted_names = intended.flatten(row.intended_settings)
        observed: dict[str, Any] = {}
        bios_names = [name for name in wanted_names
                      if name.startswith(intended.BIOS_PREFIX)]
        if bios_names:
            try:
                values = driver.bios.get_values(task)
            except exceptions.UnsupportedDriverExtension as exc:
                LOG.debug('Node %s: BIOS drift not checked: %s',
                          row.name or row.uuid, exc)
            else:
                prefix = len(intended.BIOS_PREFIX)
                observed.update({name: values.get(name[prefix:])
                                 for name in bios_names})
        if intended.BOOT_ORDER in wanted_names:
            try:
                observed[intended.BOOT_ORDER] = \
                    drift_enforce.observed_boot_order(
                        driver.management, task,
                        wanted_names[intended.BOOT_ORDER])
            except exceptions.UnsupportedDriverExtension as exc:
                LOG.debug('Node %s: boot order drift not checked: %s',
                          row.name or row.uuid, exc)
        if (intended.BOOT_MODE in wanted_names and intended.BOOT_MODE
                not in driver.power.observed_settings):
            mode = driver.management.get_boot_mode(task)
            if mode is not None:
                observed[intended.BOOT_MODE] = mode
        return observed
