"""One node's power action, the pieces the single-node call
(``ConductorManager.change_node_power_state``) and the chunked one
(:mod:`podium.conductor.bulk_power`) share, so both check, drive the
BMC, count and record alike."""

from typing import Any

from oslo_log import log

from podium.common import exceptions, metrics, states
from podium.conductor import provisioning
from podium.conductor import task_manager as task_manager_mod
from podium.conf import CONF

LOG = log.getLogger(__name__)


def check_request(new_state: str, timeout: float | None) -> float:
    """The task budget of a power request; checks its target and timeout.

    :raises InvalidParameterValue: an unknown target or a timeout that
        is not a positive number of seconds.
    """
    if new_state not in states.POWER_TARGETS:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid power state {new_state}, valid targets are: '
                f'{", ".join(states.POWER_TARGETS)}.')
    if timeout is not None and timeout <= 0:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid power timeout {timeout}: it must be a '
                f'positive number of seconds.')
    return float(max(CONF.conductor.action_timeout, timeout or 0))


def check_node(task: task_manager_mod.TaskManager, new_state: str) -> None:
    """The node's power interface validates and supports ``new_state``.

    :raises InvalidParameterValue: it does not.
    """
    power = task.driver.power
    power.validate(task.node)
    supported = power.get_supported_power_states(task)
    if new_state not in supported:
        raise exceptions.InvalidParameterValue(
            err=f'Node {task.node.ident}: power state {new_state} is not '
                f'supported, supported: {", ".join(supported)}.')


def drive(task: task_manager_mod.TaskManager, new_state: str,
          timeout: float | None) -> dict[str, Any]:
    """Call the BMC (on a pool worker, under the task's lock); returns
    the values that record the outcome: the new power state, or the
    error in ``last_error``, and the target cleared either way. The BMC
    request is counted in the metrics; a failure is logged."""
    power = task.driver.power
    operation = ('reboot' if new_state == states.REBOOT
                 else 'set_power_state')
    timer = metrics.Timer()
    try:
        with timer:
            if new_state == states.REBOOT:
                power.reboot(task, timeout)
            else:
                power.set_power_state(task, new_state, timeout)
    except Exception as exc:
        metrics.observe_bmc_request(task.node.driver, operation,
                                    timer.seconds, failed=True)
        message = (f'Failed to change power state to {new_state}: '
                   f'{provisioning.error_text(exc, task.node)}')
        LOG.error('Node %s: %s', task.node.ident, message)
        return {'target_power_state': None, 'last_error': message}
    metrics.observe_bmc_request(task.node.driver, operation,
                                timer.seconds, failed=False)
    return {'power_state': states.POWER_TARGET_RESULT[new_state],
            'target_power_state': None, 'last_error': None}


def log_recorded(task: task_manager_mod.TaskManager, new_state: str,
                 values: dict[str, Any]) -> None:
    """Log a successful outcome once it is recorded."""
    if 'power_state' in values:
        LOG.info('Node %s: power state is now %s (%s requested)',
                 task.node.ident, values['power_state'], new_state)
