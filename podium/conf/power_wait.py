"""Options every power driver group has: how to wait for a new state.

Each driver group gets its own copies (``[redfish]``, ``[ipmi]``, ...),
so BMC families with different pacing can be tuned apart.
"""

from oslo_config import cfg


def power_wait_opts(poll_interval: float) -> list[cfg.Opt]:
    """``power_state_poll_interval`` and ``power_state_change_timeout``,
    the first defaulting to ``poll_interval`` seconds."""
    return [
        cfg.FloatOpt(
            'power_state_poll_interval',
            default=poll_interval, min=0.1,
            help='Seconds between two reads of the power state while '
                 'waiting for a power action to take effect.'),
        cfg.FloatOpt(
            'power_state_change_timeout',
            default=60.0, min=1.0,
            help='Seconds a power action waits for the new state when the '
                 'caller gives no timeout (always bounded by the call\'s '
                 'own timeout).'),
    ]
