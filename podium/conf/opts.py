"""Lists Podium's options for ``oslo-config-generator``."""

from oslo_config import cfg

from podium.conf import (
    api,
    conductor,
    database,
    default,
    deploy,
    drivers,
    ipmi,
    redfish,
)


def list_opts() -> list[tuple[str | cfg.OptGroup, list[cfg.Opt]]]:
    """Return ``(group, options)`` pairs in the sample file's order."""
    return [
        ('DEFAULT', [*default.opts, *drivers.opts]),
        (conductor.group, conductor.opts),
        (deploy.group, deploy.opts),
        (database.group, database.opts),
        (api.group, api.opts),
        (redfish.group, redfish.opts),
        (ipmi.group, ipmi.opts),
    ]
