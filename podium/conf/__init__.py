"""Podium's configuration: one global ``CONF`` with every group registered.

Each option group lives in its own module; :mod:`podium.conf.opts` lists
them for ``oslo-config-generator``.
"""

from oslo_config import cfg

from podium.conf import api
from podium.conf import conductor
from podium.conf import database
from podium.conf import default
from podium.conf import drivers
from podium.conf import ipmi
from podium.conf import redfish

CONF = cfg.CONF

for _module in (default, drivers, conductor, database, api, redfish, ipmi):
    _module.register_opts(CONF)
