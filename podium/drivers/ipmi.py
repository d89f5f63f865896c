"""The ``ipmi`` hardware type: BMCs speaking IPMI 2.0 over LAN (pyghmi)."""

from podium.drivers import base


class IPMIHardware(base.HardwareType):
    supported_power_interfaces = ('ipmi',)
    supported_management_interfaces = ('ipmi',)
    supported_inspect_interfaces = ('no-inspect',)
    supported_boot_interfaces = ('pxe',)
    supported_deploy_interfaces = ('anaconda',)
