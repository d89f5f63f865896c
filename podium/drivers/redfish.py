"""The ``redfish`` hardware type: BMCs speaking DMTF Redfish (sushy)."""

from podium.drivers import base


class RedfishHardware(base.HardwareType):
    supported_power_interfaces = ('redfish',)
    supported_management_interfaces = ('redfish',)
    supported_bios_interfaces = ('redfish', 'no-bios')
    supported_inspect_interfaces = ('redfish', 'no-inspect')
    supported_boot_interfaces = ('pxe',)
    supported_deploy_interfaces = ('anaconda', 'ramdisk')
