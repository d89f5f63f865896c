"""The ``example-file`` power interface."""

import logging
import os

from podium.common import exceptions, states
from podium.conductor import periodics
from podium.drivers import base, steps

LOG = logging.getLogger(__name__)

_ON, _OFF = 'on', 'off'


class FilePower(base.PowerInterface):
    """Power state kept in a file named by ``driver_info``."""

    # ``validate`` (inherited) refuses a node without the required keys
    # and names them; ``GET /v1/drivers/example-hardware/properties``
    # lists them.
    properties = {
        'example_power_file': base.DriverInfoProperty(
            'Path of the file holding "on" or "off". Required.',
            required=True),
    }

    def _path(self, task: base.Task) -> str:
        return str(task.node.driver_info['example_power_file'])

    def get_power_state(self, task: base.Task) -> str:
        try:
            with open(self._path(task), encoding='ascii') as handle:
                value = handle.read().strip()
        except OSError as exc:
            # DriverError reaches the node's last_error and, after
            # [conductor] power_state_sync_max_retries failures, its
            # fault; it never escapes to other nodes.
            raise exceptions.DriverError(
                reason=f'cannot read {self._path(task)}: '
                       f'{exc.strerror}') from None
        if value not in (_ON, _OFF):
            raise exceptions.DriverError(
                reason=f'{self._path(task)} holds {value!r}, not on/off')
        return states.POWER_ON if value == _ON else states.POWER_OFF

    def set_power_state(self, task: base.Task, power_state: str,
                        timeout: float | None = None) -> None:
        if task.shared:
            # A shared lock may read the hardware, never change it.
            raise exceptions.DriverError(
                reason='changing power needs an exclusive lock')
        value = _ON if power_state in (states.POWER_ON,
                                       states.REBOOT) else _OFF
        try:
            with open(self._path(task), 'w', encoding='ascii') as handle:
                handle.write(value + '\n')
        except OSError as exc:
            raise exceptions.DriverError(
                reason=f'cannot write {self._path(task)}: '
                       f'{exc.strerror}') from None

    def reboot(self, task: base.Task, timeout: float | None = None) -> None:
        self.set_power_state(task, states.POWER_OFF, timeout)
        self.set_power_state(task, states.POWER_ON, timeout)

    def get_supported_power_states(self, task: base.Task) -> list[str]:
        # No soft power off: refused with a 400 naming what is supported.
        return [states.POWER_ON, states.POWER_OFF, states.REBOOT]

    @steps.clean_step(priority=0, argsinfo={
        'state': {'description': '"on" or "off": what the file starts '
                                 'with',
                  'required': True}})
    def write_power_file(self, task: base.Task, state: str) -> None:
        """Manual clean step: (re)create the power file holding
        ``state``. Priority 0: only an operator's ``clean`` runs it;
        automated cleaning runs the inherited ``power_off`` step."""
        if state not in (_ON, _OFF):
            raise exceptions.DriverError(
                reason=f'state must be "on" or "off", not {state!r}')
        self.set_power_state(
            task, states.POWER_ON if state == _ON else states.POWER_OFF)

    # The spacing names a Podium option: the check runs as often as
    # power sync, and [conductor] sync_power_state_interval = 0 turns
    # both off.
    @periodics.node_periodic(purpose='checking example power files',
                             spacing='conductor.sync_power_state_interval')
    def _check_power_files(self, task: base.Task, context: object) -> None:
        """For each node of this conductor using this interface (not in
        maintenance, not locked), on the conductor's worker pool: warn
        about a power file that went missing."""
        if not os.path.exists(self._path(task)):
            LOG.warning('Node %s: power file %s is missing',
                        base.node_label(task.node), self._path(task))
