"""Options of the ``[deploy]`` group: what every deploy does (Ironic's
group of the same name)."""

from oslo_config import cfg

group = cfg.OptGroup('deploy', title='Deploy options')

opts = [
    cfg.BoolOpt(
        'power_off_after_deploy_failure',
        default=True,
        mutable=True,
        help='Power a node off when its deploy fails (an error in the '
             'deploy, an installer reporting an error, a call-back or '
             'boot that timed out, an interrupted deploy), whatever its '
             'deploy interface, as Ironic does: a half-installed system '
             'does not keep running.'),
    cfg.IntOpt(
        'ramdisk_boot_check_interval',
        default=10, min=0,
        help='Seconds between two checks, by the ramdisk deploy '
             'interface, of whether the nodes waiting for their boot '
             'ISO booted from it (one BMC read per waiting node). 0 '
             'disables the check (the nodes then fail at [conductor] '
             'deploy_callback_timeout).'),
]
