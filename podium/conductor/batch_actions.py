"""What a batch can do to each of its nodes, and how it knows the end.

One class per batch action (``power``, ``boot_device``,
``maintenance``, ``provision``). Each one checks its arguments before a
batch is created (so a bad request is a 400 that touches no node),
starts the action on one node through the conductor RPC API, exactly
as the node's own API call does (``power`` starts a chunk of one
conductor's nodes per call, :meth:`BatchAction.dispatch_many`), and
tells a node's outcome:

* *synchronous* actions (boot device, maintenance) end when the RPC
  call returns;
* *asynchronous* ones (power, provision) return once the node is
  locked and its action started; the batch then reads the node's row
  until the action is over (:meth:`BatchAction.outcome`), one query for
  all the nodes in flight.
"""

import abc
from typing import Any, ClassVar

from oslo_log import log

from podium.common import context as podium_context
from podium.common import exceptions, states
from podium.conductor import bulk_power
from podium.conductor import rpcapi as rpcapi_mod
from podium.conf import CONF

LOG = log.getLogger(__name__)

#: ``(ok, error)``: the end of one node's action.
Outcome = tuple[bool, str | None]

#: Seconds added to an action's own deadline before the batch gives up
#: waiting for its outcome.
DEADLINE_GRACE = 60.0


def _invalid(message: str) -> exceptions.InvalidParameterValue:
    return exceptions.InvalidParameterValue(err=message)


def _check_keys(action: str, args: dict[str, Any], required: set[str],
                optional: set[str]) -> None:
    missing = sorted(required - set(args))
    if missing:
        raise _invalid(f'Action "{action}" needs args: '
                       f'{", ".join(missing)}.')
    unknown = sorted(set(args) - required - optional)
    if unknown:
        raise _invalid(f'Action "{action}" does not take args: '
                       f'{", ".join(unknown)}; it takes '
                       f'{", ".join(sorted(required | optional))}.')


class BatchAction(abc.ABC):
    """Base of the batch actions; see the module docstring.

    A subclass implements :meth:`validate` and :meth:`dispatch`; an
    asynchronous one also :meth:`outcome`, which is checked when the
    subclass is defined, so a missing piece fails at import time rather
    than in the middle of a batch.
    """

    name: ClassVar[str]
    #: The outcome is read from the node row, not the RPC answer.
    asynchronous: ClassVar[bool] = False
    #: Node columns :meth:`outcome` reads.
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    #: Starts a chunk of one conductor's nodes per call
    #: (:meth:`dispatch_many`) rather than one node per call.
    bulk: ClassVar[bool] = False

    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.asynchronous and cls.outcome is BatchAction.outcome:
            raise TypeError(f'{cls.__name__} is asynchronous and must '
                            f'read its outcome from the node row')
        if cls.bulk and cls.dispatch_many is BatchAction.dispatch_many:
            raise TypeError(f'{cls.__name__} is bulk and must start a '
                            f'chunk of nodes in dispatch_many')

    @classmethod
    @abc.abstractmethod
    def validate(cls, args: dict[str, Any]) -> dict[str, Any]:
        """``args`` checked and normalised.

        :raises InvalidParameterValue: naming the argument at fault.
        """

    @abc.abstractmethod
    def dispatch(self, rpcapi: rpcapi_mod.ConductorAPI,
                 context: podium_context.RequestContext, node_uuid: str,
                 topic: str) -> None:
        """Start the action on one node; raises what the node's own API
        call would (``NodeLocked``, ``InvalidStateRequested`` ...)."""

    def dispatch_many(self, rpcapi: rpcapi_mod.ConductorAPI,
                      context: podium_context.RequestContext,
                      node_uuids: list[str], topic: str
                      ) -> dict[str, BaseException | None]:
        """Start the action on a chunk of conductor ``topic``'s nodes in
        one call (only where :attr:`bulk`); each node's error, None for
        a node whose action started. Raises what fails the whole call
        (the conductor is unreachable, say).

        The runner calls it only for a :attr:`bulk` action, and a bulk
        action without its own is refused when its class is defined:
        this base version is never reached by a working batch."""
        raise NotImplementedError(f'{self.name} starts one node per call')

    def outcome(self, row: Any) -> Outcome | None:
        """An asynchronous action's end read from the node's row; None
        while it still runs.

        Only asynchronous actions are asked: a synchronous one is over,
        and succeeded, when its :meth:`dispatch` returned.
        """
        return True, None

    def deadline(self) -> float:
        """Seconds after its start a node's action counts as failed if
        no outcome was seen."""
        return CONF.conductor.action_timeout + DEADLINE_GRACE


class Power(BatchAction):
    """``{"target": <power target>, "timeout": <seconds>}``."""

    name = 'power'
    asynchronous = True
    COLUMNS = ('power_state', 'target_power_state', 'reservation',
               'last_error')

    @classmethod
    def validate(cls, args: dict[str, Any]) -> dict[str, Any]:
        _check_keys(cls.name, args, {'target'}, {'timeout'})
        if args['target'] not in states.POWER_TARGETS:
            raise _invalid(f'Invalid power target {args["target"]!r}; '
                           f'valid targets: '
                           f'{", ".join(states.POWER_TARGETS)}.')
        timeout = args.get('timeout')
        if timeout is not None and (
                isinstance(timeout, bool) or not isinstance(timeout, int)
                or not 0 < timeout <= 86400):
            raise _invalid('Invalid power timeout: a whole number of '
                           'seconds from 1 to 86400.')
        return {'target': args['target'], 'timeout': timeout}

    def dispatch(self, rpcapi: rpcapi_mod.ConductorAPI,
                 context: podium_context.RequestContext, node_uuid: str,
                 topic: str) -> None:
        rpcapi.change_node_power_state(
            context, node_uuid, self.args['target'],
            timeout=self.args.get('timeout'), topic=topic)

    bulk = True

    def dispatch_many(self, rpcapi: rpcapi_mod.ConductorAPI,
                      context: podium_context.RequestContext,
                      node_uuids: list[str], topic: str
                      ) -> dict[str, BaseException | None]:
        try:
            answers = rpcapi.change_nodes_power_state(
                context, node_uuids, self.args['target'],
                self.args.get('timeout'), topic)
        except exceptions.RPCVersionUnsupported as exc:
            # A conductor of an older release (a rolling upgrade): one
            # call per node, as before.
            LOG.info('%s; starting its nodes one by one', exc)
            return {uuid: self._dispatch_one(rpcapi, context, uuid, topic)
                    for uuid in node_uuids}
        errors: dict[str, BaseException | None] = {}
        for uuid in node_uuids:
            answer = answers.get(uuid, ['PodiumException',
                                        f'conductor {topic} gave no result'])
            errors[uuid] = (None if answer is None
                            else bulk_power.result_error(answer))
        return errors

    def _dispatch_one(self, rpcapi: rpcapi_mod.ConductorAPI,
                      context: podium_context.RequestContext,
                      node_uuid: str, topic: str) -> BaseException | None:
        try:
            self.dispatch(rpcapi, context, node_uuid, topic)
        except Exception as exc:
            return exc
        return None

    def outcome(self, row: Any) -> Outcome | None:
        # Over once the lock is gone too: the action records its result,
        # then releases the lock, and the batch counts the lock as its
        # own until then.
        if row.target_power_state or row.reservation:
            return None
        expected = states.POWER_TARGET_RESULT[self.args['target']]
        # A power action clears last_error when it succeeds.
        if row.last_error:
            return False, row.last_error
        if row.power_state != expected:
            return False, (f'power state is {row.power_state}, not '
                           f'{expected}')
        return True, None

    def deadline(self) -> float:
        return max(CONF.conductor.action_timeout,
                   self.args.get('timeout') or 0) + DEADLINE_GRACE


class BootDevice(BatchAction):
    """``{"boot_device": <device>, "persistent": <bool>}``."""

    name = 'boot_device'

    @classmethod
    def validate(cls, args: dict[str, Any]) -> dict[str, Any]:
        _check_keys(cls.name, args, {'boot_device'}, {'persistent'})
        if args['boot_device'] not in states.BOOT_DEVICES:
            raise _invalid(f'Invalid boot device {args["boot_device"]!r}; '
                           f'valid devices: '
                           f'{", ".join(states.BOOT_DEVICES)}.')
        persistent = args.get('persistent', False)
        if not isinstance(persistent, bool):
            raise _invalid('Invalid persistent: true or false.')
        return {'boot_device': args['boot_device'],
                'persistent': persistent}

    def dispatch(self, rpcapi: rpcapi_mod.ConductorAPI,
                 context: podium_context.RequestContext, node_uuid: str,
                 topic: str) -> None:
        rpcapi.set_boot_device(context, node_uuid, self.args['boot_device'],
                               persistent=self.args['persistent'],
                               topic=topic)


class Maintenance(BatchAction):
    """``{"enabled": <bool>, "reason": <text>}``."""

    name = 'maintenance'

    @classmethod
    def validate(cls, args: dict[str, Any]) -> dict[str, Any]:
        _check_keys(cls.name, args, {'enabled'}, {'reason'})
        if not isinstance(args['enabled'], bool):
            raise _invalid('Invalid enabled: true or false.')
        reason = args.get('reason')
        if reason is not None and (not isinstance(reason, str)
                                   or len(reason) > 4096):
            raise _invalid('Invalid reason: a text of at most 4096 '
                           'characters.')
        if reason is not None and not args['enabled']:
            raise _invalid('A reason goes with "enabled": true only.')
        return {'enabled': args['enabled'], 'reason': reason}

    def dispatch(self, rpcapi: rpcapi_mod.ConductorAPI,
                 context: podium_context.RequestContext, node_uuid: str,
                 topic: str) -> None:
        rpcapi.set_maintenance(context, node_uuid, self.args['enabled'],
                               reason=self.args.get('reason'), topic=topic)


class Provision(BatchAction):
    """``{"target": manage|provide|inspect|clean, "clean_steps": [...]}``."""

    name = 'provision'
    asynchronous = True
    COLUMNS = ('provision_state', 'target_provision_state', 'reservation',
               'last_error')

    #: Target -> (the stable state it ends in, the ``[conductor]``
    #: option bounding its transient states).
    TARGETS: ClassVar[dict[str, tuple[str, str]]] = {
        'manage': (states.MANAGEABLE, 'verify_timeout'),
        'provide': (states.AVAILABLE, 'clean_callback_timeout'),
        'inspect': (states.MANAGEABLE, 'inspect_wait_timeout'),
        'clean': (states.MANAGEABLE, 'clean_callback_timeout'),
    }

    @classmethod
    def validate(cls, args: dict[str, Any]) -> dict[str, Any]:
        _check_keys(cls.name, args, {'target'}, {'clean_steps'})
        target = args['target']
        if not isinstance(target, str) or target not in cls.TARGETS:
            raise _invalid(f'Invalid provision target {target!r} for a '
                           f'batch; valid targets: '
                           f'{", ".join(cls.TARGETS)}.')
        steps = args.get('clean_steps')
        if (target == 'clean') != (steps is not None):
            raise _invalid('clean_steps go with the "clean" target, '
                           'which needs them.')
        if steps is not None and (
                not isinstance(steps, list) or not steps
                or not all(isinstance(step, dict) for step in steps)):
            raise _invalid('Invalid clean_steps: a non-empty list of '
                           'objects.')
        return {'target': target, 'clean_steps': steps}

    def dispatch(self, rpcapi: rpcapi_mod.ConductorAPI,
                 context: podium_context.RequestContext, node_uuid: str,
                 topic: str) -> None:
        rpcapi.do_provisioning_action(
            context, node_uuid, self.args['target'],
            clean_steps=self.args.get('clean_steps'), topic=topic)

    def outcome(self, row: Any) -> Outcome | None:
        expected, _ = self.TARGETS[self.args['target']]
        state = row.provision_state
        if state in states.FAILURE_STATES:
            return False, row.last_error or f'provision state is {state}'
        if row.target_provision_state or row.reservation:
            return None
        if state in states.TRANSIENT_STATES:
            return None  # waiting (clean wait, inspect wait)
        if state != expected:
            return False, (row.last_error or
                           f'provision state is {state}, not {expected}')
        return True, None

    def deadline(self) -> float:
        option = self.TARGETS[self.args['target']][1]
        # 0 disables the conductor's own timeout: a day, then.
        return float(getattr(CONF.conductor, option) or 86400) + \
            DEADLINE_GRACE


#: Every batch action by name.
ACTIONS: dict[str, type[BatchAction]] = {
    cls.name: cls for cls in (Power, BootDevice, Maintenance, Provision)}


def load(name: str, args: dict[str, Any]) -> BatchAction:
    """The action ``name`` with ``args`` (as validated and stored)."""
    return ACTIONS[name](args)


def validate(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Check an action and its arguments before a batch is created.

    :raises InvalidParameterValue: an unknown action or a bad argument.
    """
    if name not in ACTIONS:
        raise _invalid(f'Unknown batch action {name!r}; valid actions: '
                       f'{", ".join(ACTIONS)}.')
    return ACTIONS[name].validate(dict(args))
