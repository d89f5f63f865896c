"""The ``podium`` operator command line (see :mod:`podium.cli.main`)."""
