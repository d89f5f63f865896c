"""The ``anaconda`` deploy interface: an external installer calls back.

The Foreman/kickstart model. The node is switched off, told to boot
from the network once (the boot interface, ``pxe``) and switched on;
the operator's installer service answers the network boot and installs
the system. The node meanwhile waits in ``wait call-back``, holding no
lock and no conductor thread, until the installer reports through
Ironic's ramdisk heartbeat (``POST /v1/heartbeat/{node}`` with
``agent_status`` ``start``, ``end`` or ``error``, as the kickstart of
Ironic's anaconda deploy sends it; :mod:`podium.conductor.callbacks`
handles it) or ``[conductor] deploy_callback_timeout`` fails it.
"""

from podium.common import exceptions, states
from podium.drivers import base


def _boot(task: base.DriverTask) -> base.BootInterface:
    boot = task.driver.boot
    if boot is None:
        raise exceptions.UnsupportedDriverExtension(
            extension='Boot', node=base.node_label(task.node))
    return boot


class AnacondaDeploy(base.DeployInterface):
    """Network-boot an external installer and wait for its call-back."""

    def deploy(self, task: base.DriverTask) -> str:
        power = task.driver.power
        power.set_power_state(task, states.POWER_OFF)
        _boot(task).prepare_ramdisk(task)
        power.set_power_state(task, states.POWER_ON)
        return states.DEPLOYWAIT

    def tear_down(self, task: base.DriverTask) -> None:
        task.driver.power.set_power_state(task, states.POWER_OFF)
        _boot(task).clean_up_ramdisk(task)

    def abort(self, task: base.DriverTask) -> None:
        """Switch off the installing node, so that its installer never
        reports a deploy that was given up, and take back the network
        boot."""
        self.tear_down(task)
