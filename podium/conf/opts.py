"""Lists Podium's options for ``oslo-config-generator``."""

from oslo_config import cfg

from podium.conf import api
from podium.conf import conductor
from podium.conf import database
from podium.conf import default
from podium.conf import drivers
from podium.conf import ipmi
from podium.conf import redfish


def list_opts() -> list[tuple[str | cfg.OptGroup, list[cfg.Opt]]]:
    """Return ``(group, options)`` pairs in the sample file's order."""
    return [
        ('DEFAULT', default.opts + drivers.opts),
        (conductor.group, conductor.opts),
        (database.group, database.opts),
        (api.group, api.opts),
        (redfish.group, redfish.opts),
        (ipmi.group, ipmi.opts),
    ]
