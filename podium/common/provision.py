"""Ironic's provision state machine, declared once.

Every change of a node's ``provision_state`` goes through
:func:`next_state`, which runs the event on an ``automaton`` machine
(the library Ironic itself uses) started in the node's current state;
a transition the machine does not have is refused with Ironic's
message. The table-driven unit test iterates :data:`MACHINE`, so a
transition added here is tested without writing a test for it.

Events are Ironic's internal verbs (``deploy``, ``delete``, ``done``,
``fail`` ...); :data:`VERBS` maps the targets clients send in ``PUT
/v1/nodes/{id}/states/provision`` onto them.
"""

from automaton import exceptions as automaton_exc
from automaton import machines

from podium.common import exceptions
from podium.common import states as s

#: API target -> machine event. ``active`` and ``deploy`` deploy,
#: ``deleted`` and ``undeploy`` tear down, as in Ironic.
VERBS: dict[str, str] = {
    'active': 'deploy',
    'deploy': 'deploy',
    'rebuild': 'rebuild',
    'deleted': 'delete',
    'undeploy': 'delete',
    'manage': 'manage',
    'provide': 'provide',
    'inspect': 'inspect',
    'clean': 'clean',
    'abort': 'abort',
    'adopt': 'adopt',
}

#: Lowest microversion at which Ironic accepts each API target.
TARGET_MIN_VERSIONS: dict[str, tuple[int, int]] = {
    'manage': (1, 4), 'provide': (1, 4), 'inspect': (1, 6),
    'abort': (1, 13), 'clean': (1, 15), 'adopt': (1, 17),
    'deploy': (1, 73), 'undeploy': (1, 73),
}

#: The state each in-progress or failed state is heading to: what
#: ``target_provision_state`` shows while the node is in it. Stable
#: states have no target. Manual cleaning overrides the cleaning
#: states' target with ``manageable``.
TARGETS: dict[str, str] = {
    s.VERIFYING: s.MANAGEABLE,
    s.DEPLOYING: s.ACTIVE, s.DEPLOYWAIT: s.ACTIVE, s.DEPLOYFAIL: s.ACTIVE,
    s.CLEANING: s.AVAILABLE, s.CLEANWAIT: s.AVAILABLE,
    s.CLEANFAIL: s.AVAILABLE,
    s.DELETING: s.AVAILABLE,
    s.INSPECTING: s.MANAGEABLE, s.INSPECTWAIT: s.MANAGEABLE,
    s.INSPECTFAIL: s.MANAGEABLE,
    s.ADOPTING: s.ACTIVE, s.ADOPTFAIL: s.ACTIVE,
}

#: (from, event, to): every transition there is.
_TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    # Verifying the BMC credentials.
    (s.ENROLL, 'manage', s.VERIFYING),
    (s.VERIFYING, 'done', s.MANAGEABLE),
    (s.VERIFYING, 'fail', s.ENROLL),
    # Inspection, synchronous or waiting for an external inspector.
    (s.MANAGEABLE, 'inspect', s.INSPECTING),
    (s.INSPECTING, 'done', s.MANAGEABLE),
    (s.INSPECTING, 'fail', s.INSPECTFAIL),
    (s.INSPECTING, 'wait', s.INSPECTWAIT),
    (s.INSPECTWAIT, 'done', s.MANAGEABLE),
    (s.INSPECTWAIT, 'fail', s.INSPECTFAIL),
    (s.INSPECTWAIT, 'abort', s.INSPECTFAIL),
    (s.INSPECTWAIT, 'resume', s.INSPECTING),
    (s.INSPECTFAIL, 'manage', s.MANAGEABLE),
    (s.INSPECTFAIL, 'inspect', s.INSPECTING),
    # Cleaning: automated on provide and after tear-down, manual on
    # clean (ends in manageable through the 'manage' event).
    (s.MANAGEABLE, 'provide', s.CLEANING),
    (s.MANAGEABLE, 'clean', s.CLEANING),
    (s.CLEANING, 'done', s.AVAILABLE),
    (s.CLEANING, 'manage', s.MANAGEABLE),
    (s.CLEANING, 'fail', s.CLEANFAIL),
    (s.CLEANING, 'wait', s.CLEANWAIT),
    (s.CLEANWAIT, 'resume', s.CLEANING),
    (s.CLEANWAIT, 'fail', s.CLEANFAIL),
    (s.CLEANWAIT, 'abort', s.CLEANFAIL),
    (s.CLEANFAIL, 'manage', s.MANAGEABLE),
    (s.AVAILABLE, 'manage', s.MANAGEABLE),
    # Deployment.
    (s.AVAILABLE, 'deploy', s.DEPLOYING),
    (s.DEPLOYING, 'done', s.ACTIVE),
    (s.DEPLOYING, 'fail', s.DEPLOYFAIL),
    (s.DEPLOYING, 'wait', s.DEPLOYWAIT),
    (s.DEPLOYWAIT, 'resume', s.DEPLOYING),
    (s.DEPLOYWAIT, 'fail', s.DEPLOYFAIL),
    (s.DEPLOYWAIT, 'abort', s.DEPLOYFAIL),
    (s.DEPLOYFAIL, 'rebuild', s.DEPLOYING),
    (s.DEPLOYFAIL, 'deploy', s.DEPLOYING),
    (s.ACTIVE, 'rebuild', s.DEPLOYING),
    (s.ERROR, 'rebuild', s.DEPLOYING),
    # Tear-down, then automated cleaning.
    (s.ACTIVE, 'delete', s.DELETING),
    (s.DEPLOYWAIT, 'delete', s.DELETING),
    (s.DEPLOYFAIL, 'delete', s.DELETING),
    (s.ERROR, 'delete', s.DELETING),
    (s.DELETING, 'clean', s.CLEANING),
    (s.DELETING, 'fail', s.ERROR),
    # Adoption of a node deployed by other means.
    (s.MANAGEABLE, 'adopt', s.ADOPTING),
    (s.ADOPTING, 'done', s.ACTIVE),
    (s.ADOPTING, 'fail', s.ADOPTFAIL),
    (s.ADOPTFAIL, 'adopt', s.ADOPTING),
    (s.ADOPTFAIL, 'manage', s.MANAGEABLE),
)


def _build() -> machines.FiniteMachine:
    machine = machines.FiniteMachine()
    for state in s.STABLE_STATES + tuple(TARGETS):
        machine.add_state(state)
    for start, event, end in _TRANSITIONS:
        machine.add_transition(start, end, event)
    machine.freeze()
    return machine


#: The machine; iterate it for ``(from, event, to)`` triples. Frozen:
#: :func:`next_state` runs events on copies, so threads share nothing.
MACHINE = _build()

#: Every state the machine knows.
ALL_STATES = frozenset(MACHINE.states)


def next_state(node: str, current: str, event: str,
               action: str | None = None) -> str:
    """The state ``event`` leads to from ``current``.

    :param node: how the message names the node.
    :param action: what the message calls the request (default: the
        event).
    :raises InvalidStateRequested: the machine has no such transition.
    """
    machine = MACHINE.copy(shallow=True)
    try:
        machine.initialize(current)
        machine.process_event(event)
    except (automaton_exc.NotFound, automaton_exc.InvalidState):
        raise exceptions.InvalidStateRequested(
            action=action or event, node=node, state=current) from None
    return str(machine.current_state)


def target_of(state: str, manual_clean: bool = False) -> str | None:
    """``target_provision_state`` of a node in ``state``."""
    if manual_clean and state in (s.CLEANING, s.CLEANWAIT, s.CLEANFAIL):
        return s.MANAGEABLE
    return TARGETS.get(state)


def event_for_target(node: str, current: str, target: str) -> str:
    """The machine event an API ``target`` means.

    :raises InvalidStateRequested: an unknown target, named as Ironic
        names it.
    """
    try:
        return VERBS[target]
    except KeyError:
        raise exceptions.InvalidStateRequested(
            action=target, node=node, state=current) from None
