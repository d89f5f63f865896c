"""The ``example-hardware`` hardware type."""

from podium.drivers import base


class ExampleHardware(base.HardwareType):
    """Power through :class:`~podium_example_driver.power.FilePower`;
    boot devices and inspection through Podium's own interfaces.

    The first enabled name of each list is the default a node gets.
    """

    supported_power_interfaces = ('example-file',)
    supported_management_interfaces = ('fake',)
    supported_inspect_interfaces = ('no-inspect',)
