"""Options saying which hardware types and interfaces are enabled."""

from oslo_config import cfg

INTERFACE_KINDS = ('power', 'management', 'inspect', 'bios', 'boot',
                   'deploy')

opts = [
    cfg.ListOpt(
        'enabled_hardware_types',
        default=['fake-hardware', 'redfish', 'ipmi'],
        help='Hardware types this conductor loads. A node whose driver '
             'is not in this list is refused.'),
    cfg.ListOpt(
        'enabled_power_interfaces',
        default=['fake', 'redfish', 'ipmi'],
        help='Power interfaces this conductor loads.'),
    cfg.ListOpt(
        'enabled_management_interfaces',
        default=['fake', 'redfish', 'ipmi'],
        help='Management interfaces this conductor loads.'),
    cfg.ListOpt(
        'enabled_inspect_interfaces',
        default=['fake', 'no-inspect', 'redfish'],
        help='Inspect interfaces this conductor loads.'),
    cfg.ListOpt(
        'enabled_bios_interfaces',
        default=['fake', 'redfish', 'no-bios'],
        help='BIOS interfaces this conductor loads. no-bios (the '
             'interface of hardware without BIOS settings support) must '
             'stay enabled while a node or hardware type uses it.'),
    cfg.ListOpt(
        'enabled_boot_interfaces',
        default=['fake', 'pxe'],
        help='Boot interfaces this conductor loads: how a node boots '
             'its deploy environment (pxe: a one-time network boot into '
             'an external installer).'),
    cfg.ListOpt(
        'enabled_deploy_interfaces',
        default=['fake', 'anaconda', 'ramdisk'],
        help='Deploy interfaces this conductor loads (anaconda: an '
             'external installer reports its progress with heartbeats, '
             'as Ironic\'s anaconda deploy does; ramdisk: the node boots '
             'instance_info/boot_iso from virtual media).'),
]
