"""oslo.messaging's own options, registered up front.

``[DEFAULT] transport_url``, ``rpc_response_timeout`` and
``control_exchange`` and the ``[oslo_messaging_*]`` driver groups belong
to oslo.messaging, which registers them lazily when a transport or
client is built. Registering the same options at start-up lets the
configuration check accept them in files before any transport exists;
oslo.messaging's later registration of equal options is a no-op.
(The eventlet deprecation warning importing oslo.messaging would print
is silenced in ``podium/__init__.py``.)
"""

from oslo_config import cfg
from oslo_messaging import opts as messaging_opts


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """oslo.messaging's ``(group, options)`` pairs."""
    return [(group, list(opts)) for group, opts in messaging_opts.list_opts()]


#: oslo.messaging groups Podium does not use, left out of the sample file
#: and the configuration reference (files may still set them): the Kafka
#: driver, and notifications, which Podium never emits.
#: ``oslo-config-generator --namespace oslo.messaging`` lists everything.
UNUSED_DRIVER_GROUPS = ('oslo_messaging_kafka',
                        'oslo_messaging_notifications')


def list_sample_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """oslo.messaging's options without the groups Podium does not use
    (the ``podium.messaging`` generator namespace)."""
    return [(group, opts) for group, opts in list_opts()
            if group not in UNUSED_DRIVER_GROUPS]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, opts in list_opts():
        conf.register_opts(opts, group=group)
