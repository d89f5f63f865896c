"""Provision actions: the work behind each transition of the machine.

:meth:`Provisioner.start` runs in the RPC call, under the node lock: it
checks the request against the machine (:mod:`podium.common.provision`)
and the driver, moves the node into the transient state (``verifying``,
``cleaning``, ...) and hands the lock to a pool worker, which does the
BMC work and moves the node on (``done``) or into the failure state
(``fail``) with ``last_error``. A full pool puts the node back where it
was and answers ``NoFreeConductorWorker``. Every transition is written to
node history with the user who asked.
"""

import collections.abc
from typing import Any

from oslo_log import log

from podium.common import exceptions, masking, provision
from podium.common import states as s
from podium.conductor import concurrency, drift, inspection, task_manager
from podium.conductor import pool as pool_mod
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import firmware as db_firmware
from podium.db import models
from podium.drivers import base, bios_settings, steps

LOG = log.getLogger(__name__)

#: Targets refused while a node is in maintenance (Ironic's rule: no
#: work on hardware an operator took out of service).
REFUSED_IN_MAINTENANCE = frozenset({'active', 'deploy', 'rebuild',
                                    'provide', 'clean', 'inspect', 'adopt'})

#: The node history event type of entering each state.
_EVENT_TYPES = {
    s.VERIFYING: 'verify', s.INSPECTING: 'introspection',
    s.INSPECTFAIL: 'introspection', s.CLEANING: 'cleaning',
    s.CLEANFAIL: 'cleaning', s.DEPLOYING: 'deploying',
    s.DEPLOYFAIL: 'deploying', s.DELETING: 'unprovision',
    s.ADOPTING: 'adoption', s.ADOPTFAIL: 'adoption',
}

#: What the deploy step shows while the fake deploy runs.
_DEPLOY_STEP = {'interface': 'deploy', 'step': 'deploy', 'priority': 100,
                'args': {}}


def error_text(error: BaseException, node: Any = None) -> str:
    """``last_error`` text of a failure; never shows a secret, not even
    one of ``node``'s credentials a BMC library quoted in its message."""
    secrets = masking.secret_values(node.driver_info) if node else ()
    return masking.mask_error(error, secrets)


def deploy_interface(task: task_manager.TaskManager
                     ) -> base.DeployInterface:
    """The node's deploy interface.

    :raises UnsupportedDriverExtension: its hardware type has none.
    """
    deploy = task.driver.deploy
    if deploy is None:
        raise exceptions.UnsupportedDriverExtension(
            extension='Deploy', node=task.node.ident)
    return deploy


def without_agent_token(node: Any) -> dict[str, Any]:
    """``driver_internal_info`` without the installer's call-back token
    (:mod:`podium.conductor.callbacks`): a token is good for one deploy
    only."""
    return {key: value for key, value in
            (node.driver_internal_info or {}).items()
            if key not in AGENT_KEYS}


#: ``driver_internal_info`` keys of one deploy's installer call-backs.
AGENT_KEYS = frozenset({'agent_secret_token', 'agent_last_heartbeat',
                        'agent_status', 'agent_status_message'})


def transition(task: task_manager.TaskManager, event: str,
               user: str | None, error: str | None = None,
               manual_clean: bool = False, **values: Any) -> str:
    """Run ``event`` on the node under ``task`` and record it.

    :param error: the failure this event reports: ``last_error`` and an
        ERROR history entry. Without it ``last_error`` is left as is.
    :returns: the new state.
    """
    node = task.node
    old = node.provision_state
    new = provision.next_state(node.ident, old, event)
    values.update(provision_state=new,
                  target_provision_state=provision.target_of(
                      new, manual_clean),
                  provision_updated_at=models.utcnow())
    if error is not None:
        values['last_error'] = error
    task.save(**values)
    text = f'Provision state changed from "{old}" to "{new}" ({event})'
    if error is not None:
        text = f'{text}: {error}'
    db_api.add_node_history(
        node.id, text, _EVENT_TYPES.get(new, 'provisioning'),
        s.ERROR_SEVERITY if error is not None else s.INFO, task.host,
        user=user)
    LOG.info('Node %s: %s', node.ident, text)
    if new == s.DEPLOYFAIL and event == 'fail' \
            and CONF.deploy.power_off_after_deploy_failure:
        power_off_after_failure(task)
    return new


def power_off_after_failure(task: task_manager.TaskManager) -> None:
    """Switch a node whose deploy failed off (``[deploy]
    power_off_after_deploy_failure``), whatever failed it: the deploy
    itself, its installer, a timeout or an interrupted conductor. A
    failure to do so is added to ``last_error``, not raised: the node
    is in ``deploy failed`` either way."""
    node = task.node
    try:
        task.driver.power.set_power_state(task, s.POWER_OFF)
    except Exception as exc:
        message = (f'{node.last_error or "Deploy failed."} Powering the '
                   f'node off afterwards failed: {error_text(exc, node)}')
        LOG.error('Node %s: %s', node.ident, message)
        task.save(last_error=message)
        return
    task.save(power_state=s.POWER_OFF)
    LOG.info('Node %s: powered off after the deploy failure',
             node.ident)


def refresh_bios_cache(task: task_manager.TaskManager, when: str) -> None:
    """Re-read the node's BIOS settings into its cache, as Ironic does at
    inspection and cleaning. A failure is logged, not fatal: the cache
    only serves reads and checks, and the BIOS steps refresh it again.
    """
    try:
        task.driver.bios.cache_bios_settings(task)
    except Exception as exc:
        LOG.warning('Node %s: could not cache the BIOS settings during '
                    '%s: %s', task.node.ident, when,
                    error_text(exc, task.node))


def read_boot_mode(task: task_manager.TaskManager) -> dict[str, Any]:
    """``boot_mode`` and ``secure_boot`` as the BMC reports them, for
    the node's fields; what cannot be read is left out (and logged)."""
    management = task.driver.management
    found: dict[str, Any] = {}
    for field, read in (('boot_mode', management.get_boot_mode),
                        ('secure_boot', management.get_secure_boot_state)):
        try:
            value = read(task)
        except Exception as exc:
            LOG.warning('Node %s: could not read %s: %s', task.node.ident,
                        field, error_text(exc, task.node))
            continue
        if value is not None:
            found[field] = value
    return found


class Provisioner:
    """Starts provision actions and runs them on the conductor's pool."""

    def __init__(self, pool: pool_mod.WorkerPool) -> None:
        self.pool = pool

    # In the RPC call, under the lock ---------------------------------------

    def start(self, task: task_manager.TaskManager, target: str,
              user: str | None,
              clean_steps: list[dict[str, Any]] | None = None) -> None:
        """Begin the action ``target`` asks for.

        :raises InvalidStateRequested: not allowed from the node's state.
        :raises InvalidCleanSteps: manual steps the node does not have.
        :raises NodeInMaintenance, InvalidParameterValue,
            MissingParameterValue, UnsupportedDriverExtension:
        :raises ConcurrentActionLimit: too many nodes deploy or clean
            already (:mod:`podium.conductor.concurrency`).
        """
        node = task.node
        current = node.provision_state
        event = provision.event_for_target(node.ident, current, target)
        new = provision.next_state(node.ident, current, event, action=target)
        if node.maintenance and target in REFUSED_IN_MAINTENANCE:
            raise exceptions.NodeInMaintenance(
                node=node.ident, reason=node.maintenance_reason or
                'no reason given')
        if clean_steps is not None and target != 'clean':
            raise exceptions.InvalidParameterValue(
                err=f'Node {node.ident}: clean_steps are only accepted '
                    f'with the "clean" target.')
        work, args, values = self._prepare(task, event, new, clean_steps)
        previous = {'provision_state': current,
                    'target_provision_state': node.target_provision_state}
        with concurrency.slot(current, new, node.conductor_group):
            transition(task, event, user, manual_clean=target == 'clean',
                       **values)
        if work is None:
            return
        task.set_spawn_error_hook(lambda _error: task.save(**previous))
        task.spawn_after(self.pool.spawn, work, user, *args)

    def _prepare(self, task: task_manager.TaskManager, event: str, new: str,
                 clean_steps: list[dict[str, Any]] | None
                 ) -> tuple[collections.abc.Callable[..., None] | None,
                            tuple[Any, ...], dict[str, Any]]:
        """Check what the action needs and pick its work: ``(work, args,
        node values to write on entering the new state)``."""
        node = task.node
        if new == s.VERIFYING:
            return self._verify, (), {'last_error': None}
        if new == s.INSPECTING:
            task.driver.inspect.validate(node)
            return self._inspect, (), {
                'last_error': None, 'inspection_started_at':
                    models.utcnow(), 'inspection_finished_at': None}
        if new == s.CLEANING:
            if event == 'clean':
                if clean_steps is None:
                    raise exceptions.MissingParameterValue(
                        err=f'Node {node.ident}: clean_steps are required '
                            f'for manual cleaning.')
                declared = steps.get_clean_steps(task.driver.interfaces())
                plan = steps.validate_manual_steps(node.ident, clean_steps,
                                                   declared)
                steps.check_args(dict(task.driver.interfaces()), node, plan)
            else:
                plan = self.automated_plan(task)
            return self._clean, (plan, event == 'clean'), {'last_error': None}
        if new == s.DEPLOYING:
            deploy = deploy_interface(task)
            deploy.validate(node)
            deploy.validate_deploy(node, node.instance_info or {})
            return self._deploy, (), {
                'last_error': None,
                'driver_internal_info': without_agent_token(node)}
        if new == s.DELETING:
            return self._tear_down, (), {
                'last_error': None,
                'driver_internal_info': without_agent_token(node)}
        if event == 'abort' and node.provision_state == s.DEPLOYWAIT:
            return self._abort_deploy, (), {
                'deploy_step': None,
                'driver_internal_info': without_agent_token(node),
                'last_error': 'Deploy aborted by request while waiting '
                              'for the installer\'s call-back.'}
        if new == s.ADOPTING:
            task.driver.power.validate(node)
            return self._adopt, (), {'last_error': None}
        if event == 'abort':
            return None, (), {
                'clean_step': None, 'last_error':
                    f'{node.provision_state.capitalize()} aborted by '
                    f'request.'}
        return None, (), {}

    @staticmethod
    def automated_plan(task: task_manager.TaskManager
                       ) -> list[dict[str, Any]]:
        """The automated clean steps of a node; none when automated
        cleaning is off."""
        if not CONF.conductor.automated_clean:
            return []
        return steps.automated_steps(
            steps.get_clean_steps(task.driver.interfaces()))

    # On a pool worker, holding the lock ------------------------------------

    @staticmethod
    def _fail(task: task_manager.TaskManager, user: str | None,
              what: str, exc: BaseException, manual_clean: bool = False,
              **values: Any) -> None:
        message = f'Failed to {what}: {error_text(exc, task.node)}'
        LOG.error('Node %s: %s', task.node.ident, message)
        transition(task, 'fail', user, error=message,
                   manual_clean=manual_clean, **values)

    def _verify(self, task: task_manager.TaskManager,
                user: str | None) -> None:
        power = task.driver.power
        try:
            power.validate(task.node)
            state = power.get_power_state(task)
        except Exception as exc:
            self._fail(task, user, 'verify node power credentials', exc)
            return
        transition(task, 'done', user, power_state=state)

    def _inspect(self, task: task_manager.TaskManager,
                 user: str | None) -> None:
        try:
            result = task.driver.inspect.inspect_hardware(task)
            found, macs = inspection.split(result)
            inspection.create_ports(task.node, macs)
            db_firmware.record_versions(
                task.node.id, inspection.firmware_versions(result))
            refresh_bios_cache(task, 'inspection')
            boot = read_boot_mode(task)
        except Exception as exc:
            self._fail(task, user, 'inspect hardware', exc,
                       inspection_finished_at=models.utcnow())
            return
        transition(task, 'done', user,
                   properties=dict(task.node.properties or {}, **found),
                   inspection_finished_at=models.utcnow(), **boot)

    def run_clean_steps(self, task: task_manager.TaskManager,
                        user: str | None, plan: list[dict[str, Any]],
                        manual: bool) -> bool:
        """Run ``plan`` step by step, showing each as ``clean_step``;
        on a failure the node goes to ``clean failed``. True when every
        step succeeded."""
        interfaces = dict(task.driver.interfaces())
        for step in plan:
            task.save(clean_step=step)
            try:
                steps.run_step(interfaces, task, step)
                self._record_applied(task, user, step)
            except Exception as exc:
                self._fail(task, user,
                           f'run clean step {step["interface"]}.'
                           f'{step["step"]}', exc, manual_clean=manual,
                           clean_step=None)
                return False
        self._record_power_state(task)
        return True

    def _record_applied(self, task: task_manager.TaskManager,
                        user: str | None, step: dict[str, Any]) -> None:
        """BIOS settings a clean step applied become intended ones
        (``conductor.drift.record_applied``)."""
        if step['interface'] != 'bios':
            return
        if step['step'] == 'apply_configuration':
            event = drift.record_applied(
                task, bios=bios_settings.normalise_request(
                    task.node.ident, (step.get('args') or {}).get('settings')))
        elif step['step'] == 'factory_reset':
            event = drift.record_applied(task, bios_reset=True)
        else:
            return
        if event:
            db_api.add_node_history(task.node.id, event, drift.EVENT_TYPE,
                                    s.INFO, task.host, user=user)

    def _clean(self, task: task_manager.TaskManager, user: str | None,
               plan: list[dict[str, Any]], manual: bool) -> None:
        refresh_bios_cache(task, 'cleaning')
        if self.run_clean_steps(task, user, plan, manual):
            transition(task, 'manage' if manual else 'done', user,
                       manual_clean=manual, clean_step=None)

    def _deploy(self, task: task_manager.TaskManager,
                user: str | None) -> None:
        task.save(deploy_step=dict(_DEPLOY_STEP))
        try:
            outcome = deploy_interface(task).deploy(task)
        except Exception as exc:
            self._fail(task, user, 'deploy', exc, deploy_step=None)
            return
        if outcome == s.DEPLOYWAIT:
            # The worker ends here and the lock goes with it: the node
            # waits for its installer's call-back holding neither.
            transition(task, 'wait', user)
            return
        transition(task, 'done', user, deploy_step=None)

    def _abort_deploy(self, task: task_manager.TaskManager,
                      user: str | None) -> None:
        """Stop the installer of an aborted deploy (the node is already
        ``deploy failed``); a failure is added to ``last_error``."""
        try:
            deploy_interface(task).abort(task)
        except Exception as exc:
            message = (f'{task.node.last_error} Stopping the installer '
                       f'failed: {error_text(exc, task.node)}')
            LOG.error('Node %s: %s', task.node.ident, message)
            task.save(last_error=message)

    def _tear_down(self, task: task_manager.TaskManager,
                   user: str | None) -> None:
        deploy = task.driver.deploy
        try:
            if deploy is not None:
                deploy.tear_down(task)
            else:
                # Adopted by a hardware type without a deploy interface:
                # tearing down means switching the node off.
                task.driver.power.set_power_state(task, s.POWER_OFF)
        except Exception as exc:
            self._fail(task, user, 'tear down', exc)
            return
        # Ironic forgets the instance once it is torn down.
        transition(task, 'clean', user, instance_info={},
                   instance_uuid=None)
        self._clean(task, user, self.automated_plan(task), False)

    def _adopt(self, task: task_manager.TaskManager,
               user: str | None) -> None:
        try:
            state = task.driver.power.get_power_state(task)
        except Exception as exc:
            self._fail(task, user, 'adopt', exc)
            return
        transition(task, 'done', user, power_state=state)

    @staticmethod
    def _record_power_state(task: task_manager.TaskManager) -> None:
        """Read the power state the steps left (a failure is only
        logged: power sync will read it again)."""
        try:
            state = task.driver.power.get_power_state(task)
        except Exception as exc:
            LOG.warning('Node %s: could not read the power state after '
                        'cleaning: %s', task.node.ident,
                        error_text(exc, task.node))
            return
        task.save(power_state=state)
