"""``python -m podium.cli``: the ``podium`` command without the script."""

import sys

from podium.cli.main import main

sys.exit(main())
