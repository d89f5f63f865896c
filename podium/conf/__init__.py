"""Podium's configuration: one global ``CONF`` with every group registered.

Each option group lives in its own module; :mod:`podium.conf.opts` lists
them for ``oslo-config-generator``.
"""

from oslo_config import cfg

from podium.conf import (
    api,
    conductor,
    database,
    default,
    drivers,
    ipmi,
    messaging,
    redfish,
)

CONF = cfg.CONF

for _module in (default, drivers, conductor, database, api, redfish, ipmi,
                messaging):
    _module.register_opts(CONF)
