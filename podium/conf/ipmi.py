"""Options of the ``[ipmi]`` group."""

from oslo_config import cfg

group = cfg.OptGroup('ipmi', title='IPMI driver options')

opts = [
    cfg.FloatOpt(
        'command_timeout',
        default=10.0, min=0.5,
        help='Seconds one IPMI command (with its retransmits) may take.'),
    cfg.IntOpt(
        'command_retries',
        default=1, min=0,
        help='Times a failed IPMI command is retried on a new session '
             'when time is left (a BMC may drop an idle session).'),
    cfg.FloatOpt(
        'power_state_poll_interval',
        default=1.0, min=0.1,
        help='Seconds between two reads of the power state while waiting '
             'for a power action to take effect.'),
    cfg.FloatOpt(
        'power_state_change_timeout',
        default=60.0, min=1.0,
        help='Seconds a power action waits for the new state when the '
             'caller gives no timeout (always bounded by the call\'s '
             'own timeout).'),
    cfg.IntOpt(
        'session_idle_timeout',
        default=600, min=0,
        help='Seconds an unused IPMI session is kept before it is '
             'logged out.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
