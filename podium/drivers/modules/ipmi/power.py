"""IPMI power interface (pyghmi).

A read is one Get Chassis Status over the BMC's cached session. Actions
send Chassis Control and poll until the BMC reports the target state,
within the caller's timeout. A reboot is "power off, then power on", as
Ironic's IPMI driver does (hard reset is not implemented by every BMC).
"""

import functools
from typing import Any

from podium.common import exceptions, states
from podium.conf import CONF
from podium.drivers import base
from podium.drivers.modules import deadline
from podium.drivers.modules.ipmi import client, commands, reactor, utils

#: Target -> the (directive, state to wait for) steps that reach it.
_STEPS: dict[str, tuple[tuple[int, str], ...]] = {
    states.POWER_ON: ((commands.POWER_ON, states.POWER_ON),),
    states.POWER_OFF: ((commands.POWER_OFF, states.POWER_OFF),),
    states.SOFT_POWER_OFF: ((commands.SOFT_OFF, states.POWER_OFF),),
    states.REBOOT: ((commands.POWER_OFF, states.POWER_OFF),
                    (commands.POWER_ON, states.POWER_ON)),
    states.SOFT_REBOOT: ((commands.SOFT_OFF, states.POWER_OFF),
                         (commands.POWER_ON, states.POWER_ON)),
}


def _control(cmd: Any, directive: int,
             bridge: dict[str, int] | None) -> None:
    commands.chassis_control(cmd, directive, bridge)


class IPMIPower(base.PowerInterface):
    """Power control over IPMI 2.0 LAN."""

    properties = utils.PROPERTIES

    def validate(self, node: base.NodeView) -> None:
        utils.parse(node)

    def get_power_state(self, task: base.Task) -> str:
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        return client.run(task, info, 'reading the power state',
                          lambda cmd: commands.get_power(cmd, bridge))

    def bmc_endpoint(self, node: base.NodeView) -> str | None:
        try:
            return utils.parse(node).label
        except exceptions.Invalid:
            return None

    def open_sessions(self, endpoint: str) -> int | None:
        return reactor.REACTOR.sessions_at(endpoint)

    def drop_session(self, node: base.NodeView) -> None:
        try:
            info = utils.parse(node)
        except exceptions.Invalid:
            return
        reactor.REACTOR.drop_sessions(info.session_key())

    def set_power_state(self, task: base.Task, power_state: str,
                        timeout: float | None = None) -> None:
        if power_state not in _STEPS:
            raise exceptions.InvalidParameterValue(
                err=f'Node {base.node_label(task.node)}: unsupported power '
                    f'state {power_state!r}; valid: {", ".join(_STEPS)}.')
        self._act(task, power_state, timeout)

    def reboot(self, task: base.Task, timeout: float | None = None) -> None:
        self._act(task, states.REBOOT, timeout)

    def get_supported_power_states(self, task: base.Task) -> list[str]:
        return list(_STEPS)

    def _act(self, task: base.Task, target: str,
             timeout: float | None) -> None:
        info = utils.parse(task.node)
        bridge = info.bridge_request()
        wait = timeout or CONF.ipmi.power_state_change_timeout
        with deadline.bounded(task.timeout):
            for directive, expected in _STEPS[target]:
                current = self.get_power_state(task)
                if current == expected:
                    continue
                client.run(task, info, f'setting power state {target}',
                           functools.partial(_control, directive=directive,
                                             bridge=bridge))
                deadline.wait_for_state(
                    task, functools.partial(self.get_power_state, task),
                    expected, wait, CONF.ipmi.power_state_poll_interval,
                    after=target)

