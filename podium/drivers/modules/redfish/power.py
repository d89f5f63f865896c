"""Redfish power interface (sushy).

Reads are one GET over the cached connection, batched per endpoint with
``$expand`` during power sync (:mod:`.power_read`), or the same GET
waiting on the read loop instead of a thread (:mod:`.power_read_async`).
Actions POST the ComputerSystem.Reset action and then poll until the
system reports the target state, within the caller's timeout.
"""

from collections.abc import Hashable, Mapping, Sequence

import sushy

from podium.common import exceptions, states
from podium.conf import CONF
from podium.drivers import base
from podium.drivers.modules.redfish import (
    connection,
    power_read,
    power_read_async,
    utils,
)

#: Target -> (reset type when the node is on, when it is off, final
#: Redfish PowerState). None: nothing to do in that state.
_ACTIONS: Mapping[str, tuple[sushy.ResetType | None,
                             sushy.ResetType | None, str]] = {
    states.POWER_ON: (None, sushy.ResetType.ON, 'On'),
    states.POWER_OFF: (sushy.ResetType.FORCE_OFF, None, 'Off'),
    states.SOFT_POWER_OFF: (sushy.ResetType.GRACEFUL_SHUTDOWN, None, 'Off'),
    states.REBOOT: (sushy.ResetType.FORCE_RESTART, sushy.ResetType.ON,
                    'On'),
    states.SOFT_REBOOT: (sushy.ResetType.GRACEFUL_RESTART,
                         sushy.ResetType.ON, 'On'),
}


class RedfishPower(base.PowerInterface):
    """Power control of a Redfish ComputerSystem."""

    properties = utils.PROPERTIES
    observed_settings = power_read.OBSERVED_SETTINGS

    def validate(self, node: base.NodeView) -> None:
        utils.parse(node)

    def get_power_state(self, task: base.Task) -> str:
        return power_read.read_power_state(task)

    def set_power_state(self, task: base.Task, power_state: str,
                        timeout: float | None = None) -> None:
        if power_state not in _ACTIONS:
            raise exceptions.InvalidParameterValue(
                err=f'Node {base.node_label(task.node)}: unsupported power '
                    f'state {power_state!r}; valid: '
                    f'{", ".join(_ACTIONS)}.')
        self._act(task, power_state, timeout)

    def reboot(self, task: base.Task, timeout: float | None = None) -> None:
        self._act(task, states.REBOOT, timeout)

    def get_supported_power_states(self, task: base.Task) -> list[str]:
        return list(_ACTIONS)

    def batch_key(self, node: base.NodeView) -> Hashable | None:
        """Nodes behind one endpoint with the same credentials, once that
        endpoint is known to serve ``$expand``.

        Until a connection has shown that (the first cycle warms it up),
        nodes are read alone and in parallel: a batch without
        ``$expand`` would read them one after the other.
        """
        try:
            info = utils.parse(node)
        except exceptions.Invalid:
            return None  # read alone, to report its own error
        conn = connection.CACHE.peek(info)
        if conn is None or not conn.expand_usable():
            return None
        return info.connection_key()

    def bmc_endpoint(self, node: base.NodeView) -> str | None:
        try:
            return utils.parse(node).address.split('://', 1)[1]
        except exceptions.Invalid:
            return None

    def open_sessions(self, endpoint: str) -> int | None:
        return connection.CACHE.sessions_at(endpoint)

    def drop_session(self, node: base.NodeView) -> None:
        try:
            info = utils.parse(node)
        except exceptions.Invalid:
            return
        connection.CACHE.forget(info)

    def get_power_states(self, tasks: Sequence[base.Task]
                         ) -> dict[int, str | Exception]:
        return power_read.read_power_states(tasks)

    def start_power_read(self, tasks: Sequence[base.Task]
                         ) -> base.PowerReadFuture | None:
        return power_read_async.start(tasks)

    @staticmethod
    def _act(task: base.Task, target: str, timeout: float | None) -> None:
        when_on, when_off, final = _ACTIONS[target]
        action = f'setting power state {target}'
        with power_read.connected(task, action) as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            current = system.power_state
            is_on = current in (sushy.PowerState.ON,
                                sushy.PowerState.POWERING_ON)
            reset = when_on if is_on else when_off
            if reset is not None:
                system.reset_system(reset)
            wait = timeout or CONF.redfish.power_state_change_timeout
            power_read.wait_for_power_state(task, conn, info, final, wait)
