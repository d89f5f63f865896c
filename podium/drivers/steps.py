"""Clean steps: driver interface methods the conductor runs in cleaning.

A driver declares a step by decorating an interface method with
:func:`clean_step`, as Ironic's drivers do; the conductor collects the
steps of a node's interfaces with :func:`get_clean_steps`. Automated
cleaning (``provide``, and after tear-down) runs every step whose
priority is above zero, highest first; manual cleaning (``clean`` with
``clean_steps``) runs the steps the operator lists, in their order,
after :func:`validate_manual_steps` checked each one against what the
interface declares.

A step is called as ``method(task, **args)``; it returns when its work
is done (Podium's out-of-band steps are synchronous).
"""

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from podium.common import exceptions

F = TypeVar('F', bound=Callable[..., Any])

#: Interface kinds in the order steps of equal priority run, as Ironic
#: orders them (power last: a step may still need the node on).
INTERFACE_ORDER = ('deploy', 'management', 'bios', 'inspect', 'power')

_MARK = '_podium_clean_step'


@dataclasses.dataclass(frozen=True)
class StepInfo:
    """What :func:`clean_step` records on a method."""

    priority: int
    abortable: bool
    argsinfo: Mapping[str, Mapping[str, Any]]


def clean_step(priority: int, abortable: bool = False,
               argsinfo: Mapping[str, Mapping[str, Any]] | None = None
               ) -> Callable[[F], F]:
    """Declare an interface method a clean step.

    :param priority: automated cleaning runs steps above 0, highest
        first; 0 means manual cleaning only.
    :param abortable: whether ``abort`` may interrupt it.
    :param argsinfo: ``{name: {'description': str, 'required': bool}}``
        for the keyword arguments the step takes.
    """
    if priority < 0:
        raise ValueError('a clean step priority is 0 or more')
    info = StepInfo(priority, abortable, dict(argsinfo or {}))

    def decorate(func: F) -> F:
        setattr(func, _MARK, info)
        return func
    return decorate


def _declared(interface: object) -> Iterable[tuple[str, StepInfo]]:
    for name in dir(type(interface)):
        info = getattr(getattr(type(interface), name, None), _MARK, None)
        if isinstance(info, StepInfo):
            yield name, info


def get_clean_steps(interfaces: Iterable[tuple[str, object]]
                    ) -> list[dict[str, Any]]:
    """Every clean step of ``(kind, interface)`` pairs, as the API shows
    steps: ``interface``, ``step``, ``priority``, ``abortable``,
    ``argsinfo``; in the order automated cleaning runs them."""
    found = [{'interface': kind, 'step': name, 'priority': info.priority,
              'abortable': info.abortable,
              'argsinfo': {key: dict(value)
                           for key, value in info.argsinfo.items()}}
             for kind, interface in interfaces
             for name, info in _declared(interface)]
    return sorted(found, key=_run_order)


def _run_order(step: Mapping[str, Any]) -> tuple[int, int, str]:
    kind = step['interface']
    rank = (INTERFACE_ORDER.index(kind) if kind in INTERFACE_ORDER
            else len(INTERFACE_ORDER))
    return -int(step['priority']), rank, step['step']


def automated_steps(declared: Iterable[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
    """The steps automated cleaning runs, in order, with no arguments."""
    return [{'interface': step['interface'], 'step': step['step'],
             'args': {}, 'priority': step['priority']}
            for step in sorted(declared, key=_run_order)
            if step['priority'] > 0]


def validate_manual_steps(node: str, requested: Any,
                          declared: Iterable[Mapping[str, Any]]
                          ) -> list[dict[str, Any]]:
    """Check an operator's ``clean_steps`` and return them normalised.

    Each must name an ``interface`` and a ``step`` the node's interface
    declares, pass every required argument and no unknown one.

    :raises InvalidCleanSteps: naming the node and every problem.
    """
    if not isinstance(requested, list) or not requested:
        raise exceptions.InvalidCleanSteps(
            node=node, reason='clean_steps must be a non-empty list.')
    by_name = {(step['interface'], step['step']): step for step in declared}
    problems: list[str] = []
    result: list[dict[str, Any]] = []
    for index, item in enumerate(requested):
        if not isinstance(item, dict):
            problems.append(f'step {index} is not an object')
            continue
        unknown_keys = sorted(set(item) - {'interface', 'step', 'args',
                                           'priority'})
        if unknown_keys:
            problems.append(f'step {index} has unknown key(s) '
                            f'{", ".join(unknown_keys)}')
            continue
        interface, name = item.get('interface'), item.get('step')
        declared_step = by_name.get((interface, name))
        if declared_step is None:
            problems.append(f'no {interface} interface step named '
                            f'"{name}" (available: '
                            f'{_names(by_name) or "none"})')
            continue
        args = item.get('args') or {}
        if not isinstance(args, dict):
            problems.append(f'args of {interface}.{name} must be an object')
            continue
        argsinfo = declared_step['argsinfo']
        missing = sorted(key for key, info in argsinfo.items()
                         if info.get('required') and key not in args)
        extra = sorted(set(args) - set(argsinfo))
        if missing:
            problems.append(f'{interface}.{name} is missing required '
                            f'argument(s) {", ".join(missing)}')
        if extra:
            problems.append(f'{interface}.{name} does not take argument(s) '
                            f'{", ".join(extra)}')
        if not missing and not extra:
            result.append({'interface': interface, 'step': name,
                           'args': dict(args)})
    if problems:
        raise exceptions.InvalidCleanSteps(node=node,
                                           reason='; '.join(problems) + '.')
    return result


def check_args(interfaces: Mapping[str, Any], node: Any,
               plan: Iterable[Mapping[str, Any]]) -> None:
    """Let each step's interface check its arguments (say, BIOS
    settings against the cached registry) before anything runs.

    :raises InvalidParameterValue: from the interface, naming the
        problem.
    """
    for step in plan:
        interfaces[step['interface']].validate_step_args(
            node, step['step'], step.get('args') or {})


def _names(by_name: Mapping[tuple[str, str], Any]) -> str:
    return ', '.join(f'{kind}.{name}' for kind, name in sorted(by_name))


def run_step(interfaces: Mapping[str, object], task: Any,
             step: Mapping[str, Any]) -> None:
    """Call one step: ``interface.step(task, **args)``."""
    interface = interfaces[step['interface']]
    method = getattr(interface, step['step'])
    if not isinstance(getattr(method, _MARK, None), StepInfo):
        # Only declared steps may run; a stored step list must not be a
        # way to call any method of an interface.
        raise exceptions.InvalidCleanSteps(
            node=task.node.name or task.node.uuid,
            reason=f'{step["interface"]}.{step["step"]} is not a clean '
                   f'step.')
    method(task, **(step.get('args') or {}))
