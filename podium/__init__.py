"""Podium: a standalone bare-metal conductor in the style of Ironic."""

import warnings

# oslo.messaging imports oslo.service's eventlet backend, which warns
# that eventlet is deprecated on the first import, so every service
# command printed the warning (podium-conductor even for --help) although
# Podium runs on native threads and never uses eventlet. Set here, the
# filter is in place before any Podium module imports oslo.messaging,
# whatever the import order.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
