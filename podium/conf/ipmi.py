"""Options of the ``[ipmi]`` group."""

from oslo_config import cfg

from podium.conf import power_wait

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
    cfg.IntOpt(
        'session_idle_timeout',
        default=600, min=0,
        help='Seconds an unused IPMI session is kept before it is '
             'logged out.'),
] + power_wait.power_wait_opts(poll_interval=1.0)
