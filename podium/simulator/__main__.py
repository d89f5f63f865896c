"""``python -m podium.simulator redfish|ipmi ...``; see
:mod:`podium.simulator.cli`."""

import sys

from podium.simulator.cli import main

sys.exit(main())
