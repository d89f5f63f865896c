"""Podium's configuration: one global ``CONF`` with every group registered.

Each option group lives in its own module; :func:`podium.conf.opts.list_opts`
is the one list of them, read both here and by ``oslo-config-generator``.
oslo.messaging's own options are registered too (see
:mod:`podium.conf.messaging`), so config files may set them.
"""

from oslo_config import cfg

from podium.conf import messaging, opts

CONF = cfg.CONF

for _group, _opts in opts.list_opts():
    CONF.register_opts(_opts, group=None if _group == 'DEFAULT' else _group)
messaging.register_opts(CONF)
