"""The ``fake-hardware`` hardware type (Ironic's name, so tooling works).

Its interfaces keep the "hardware" state in the node record and can be
told through ``driver_info`` to be slow, to hang or to fail; tests,
benchmarks and the demo use it to exercise the real code paths.
"""

from podium.drivers import base


class FakeHardware(base.HardwareType):
    supported_power_interfaces = ('fake',)
    supported_management_interfaces = ('fake',)
    supported_bios_interfaces = ('fake', 'no-bios')
    supported_inspect_interfaces = ('fake', 'no-inspect')
    # As in Ironic, the real network-boot deploy works on fake hardware
    # too (not by default): tests drive it without a BMC.
    supported_boot_interfaces = ('fake', 'pxe')
    supported_deploy_interfaces = ('fake', 'anaconda', 'ramdisk')
