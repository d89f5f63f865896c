"""Redfish inspect interface: the inventory a BMC reports.

Reads ``cpus`` and ``cpu_arch`` (Processors, else ProcessorSummary),
``memory_mb`` (MemorySummary), ``local_gb`` (the largest drive of Storage
or SimpleStorage, less 1 GiB for partitioning, as Ironic does) and
``macs`` (the enabled, healthy EthernetInterfaces, which the conductor
turns into ports), and the firmware versions of the BIOS and the BMC.
A BMC that lacks one of these resources
simply does not report that property; a BMC that fails or does not
answer fails the inspection.
"""

import collections.abc
from typing import Any, TypeVar

import sushy
from oslo_log import log
from sushy import exceptions as sushy_exc

from podium.drivers import base
from podium.drivers.modules.redfish import power_read, utils

LOG = log.getLogger(__name__)
T = TypeVar('T')

CPU_ARCH_MAP = {
    sushy.ProcessorArchitecture.X86: 'x86_64',
    sushy.ProcessorArchitecture.IA_64: 'ia64',
    sushy.ProcessorArchitecture.ARM: 'aarch64',
    sushy.ProcessorArchitecture.MIPS: 'mips',
    sushy.ProcessorArchitecture.POWER: 'ppc64le',
}
_GIB = 1024 ** 3


def _optional(node: base.NodeView, what: str,
              read: collections.abc.Callable[[], T]) -> T | None:
    """``read()``, or None when the BMC does not have that resource.

    Missing links and error answers for one sub-resource (some BMCs answer
    500 for a resource they do not have) leave that property unknown;
    rejected credentials and timeouts still fail the inspection.
    """
    try:
        return read()
    except sushy_exc.AccessError:
        raise
    except (sushy_exc.MissingAttributeError, sushy_exc.HTTPError) as exc:
        LOG.debug('Node %s: the BMC reports no %s (%s)',
                  base.node_label(node), what, type(exc).__name__)
        return None


def _cpus(node: base.NodeView, system: Any) -> tuple[int | None, str | None]:
    summary = _optional(node, 'processors',
                        lambda: system.processors.summary)
    count = summary.count if summary else None
    arch = CPU_ARCH_MAP.get(summary.architecture) if summary else None
    if not count:
        doc = system.json.get('ProcessorSummary') or {}
        count = doc.get('LogicalProcessorCount') or doc.get('Count')
    return (int(count) if count else None), arch


def _local_gb(node: base.NodeView, system: Any) -> int | None:
    sizes: list[int] = []
    storage = _optional(node, 'storage',
                        lambda: system.storage.drives_sizes_bytes)
    sizes.extend(storage or ())
    simple = _optional(node, 'simple storage',
                       lambda: system.simple_storage.disks_sizes_bytes)
    sizes.extend(simple or ())
    if not sizes:
        return None
    return max(max(sizes) // _GIB - 1, 0)


def enabled_macs(summary: collections.abc.Mapping[str, Any]) -> list[str]:
    """The MACs of sushy's EthernetInterfaces summary (MAC -> state of
    the healthy NICs) whose NIC is enabled, sorted: Ironic creates ports
    only for those."""
    return sorted(str(mac).lower() for mac, state in summary.items()
                  if state == sushy.State.ENABLED)


def _firmware(node: base.NodeView, system: Any) -> dict[str, str]:
    """The BIOS version of the system and the firmware version of its
    first manager (the BMC), where the BMC reports them."""
    versions = {}
    if system.bios_version:
        versions['bios'] = str(system.bios_version)
    managers = _optional(node, 'managers', lambda: system.managers) or []
    if managers and managers[0].firmware_version:
        versions['bmc'] = str(managers[0].firmware_version)
    return versions


class RedfishInspect(base.InspectInterface):
    """Inventory of a Redfish ComputerSystem."""

    properties = utils.PROPERTIES

    def validate(self, node: base.NodeView) -> None:
        utils.parse(node)

    def inspect_hardware(self, task: base.Task) -> dict[str, Any]:
        node = task.node
        with power_read.connected(task, 'inspecting the hardware') \
                as (info, conn):
            system = conn.root.get_system(conn.system_path(info))
            cpus, arch = _cpus(node, system)
            memory = system.memory_summary
            interfaces = _optional(node, 'ethernet interfaces',
                                   lambda: system.ethernet_interfaces.summary)
            values = {
                'cpus': cpus,
                'cpu_arch': arch,
                'memory_mb': (memory.size_gib * 1024
                              if memory and memory.size_gib else None),
                'local_gb': _local_gb(node, system),
            }
            found: dict[str, Any] = {
                key: value for key, value in values.items()
                if value is not None}
            found['macs'] = enabled_macs(interfaces or {})
            found['firmware'] = _firmware(node, system)
            return found
