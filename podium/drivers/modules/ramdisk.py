"""The ``ramdisk`` deploy interface: the node boots an ISO from virtual
media (Ironic's ramdisk deploy with ``instance_info/boot_iso``).

The node is switched off, ``instance_info/boot_iso`` (an http(s) URL,
checked when the deploy is requested: a bad one is a 400) is inserted
into its virtual media CD through the management interface, a one-time
boot from the CD is set and the node is switched on. It then waits in
``wait call-back``, holding no lock and no conductor thread, until a
periodic check (``[deploy] ramdisk_boot_check_interval``) sees the BMC
report that it booted from the CD (the node's management interface
decides how: its ``virtual_media_booted``);
the node becomes ``active``. ``[conductor] deploy_callback_timeout``
fails a node that never boots. Undeploying ejects the CD and switches
the node off; a rebuild deploys again. The node's boot interface is
not used: the management interface inserts the ISO.
"""

from collections.abc import Mapping
from typing import Any

from oslo_log import log

from podium.common import exceptions, states, vmedia
from podium.conductor import periodics, provisioning, task_manager
from podium.db import api as db_api
from podium.drivers import base

LOG = log.getLogger(__name__)

#: The ``instance_info`` key naming the ISO (Ironic's).
BOOT_ISO = 'boot_iso'


def _boot_iso(node: base.NodeView) -> str:
    return str((getattr(node, "instance_info", None) or {}).get(BOOT_ISO))


class RamdiskDeploy(base.DeployInterface):
    """Boot ``instance_info/boot_iso`` from the virtual media CD."""

    def validate_deploy(self, node: base.NodeView,
                        instance_info: Mapping[str, Any]) -> None:
        url = instance_info.get(BOOT_ISO)
        if url is None:
            raise exceptions.MissingParameterValue(
                err=f'Node {base.node_label(node)}: the ramdisk deploy '
                    f'needs instance_info/{BOOT_ISO}, the URL of the ISO '
                    f'to boot.')
        vmedia.check_image_url(url, f'instance_info/{BOOT_ISO}')

    def deploy(self, task: base.DriverTask) -> str:
        url = _boot_iso(task.node)
        power = task.driver.power
        management = task.driver.management
        power.set_power_state(task, states.POWER_OFF)
        # A CD left from an earlier deploy or by hand would be booted.
        management.detach_virtual_media(task, [vmedia.CDROM])
        management.attach_virtual_media(task, vmedia.CDROM, url)
        management.set_boot_device(task, states.BOOT_DEVICE_CDROM,
                                   persistent=False)
        power.set_power_state(task, states.POWER_ON)
        return states.DEPLOYWAIT

    def tear_down(self, task: base.DriverTask) -> None:
        task.driver.power.set_power_state(task, states.POWER_OFF)
        task.driver.management.detach_virtual_media(task, [vmedia.CDROM])

    def abort(self, task: base.DriverTask) -> None:
        """Switch off the booting node and eject its CD."""
        self.tear_down(task)

    @periodics.node_periodic(
        'ramdisk boot check', 'deploy.ramdisk_boot_check_interval',
        filters={'provision_state': states.DEPLOYWAIT}, shared_task=False)
    def check_booted(self, task: task_manager.TaskManager,
                     context: Any) -> None:
        """Make a waiting node ``active`` once its BMC reports that it
        booted the ISO; a failed read is left to the next run (and to
        the call-back timeout)."""
        node = task.node
        if node.provision_state != states.DEPLOYWAIT:
            return  # moved on since it was listed
        url = _boot_iso(node)
        if not task.driver.management.virtual_media_booted(
                task, vmedia.CDROM, url):
            return
        db_api.add_node_history(node.id, f'Booted {url} from virtual '
                                         f'media.', 'deploying',
                                states.INFO, task.host)
        provisioning.transition(task, 'resume', None)
        provisioning.transition(task, 'done', None, deploy_step=None)
