"""What every Podium process does first: configuration and logging."""

import sys

from oslo_config import cfg
from oslo_log import log

from podium.common import exceptions, log_queue, masking
from podium.conf import CONF, validation
from podium.db import engine as db_engine

LOG = log.getLogger(__name__)

_log_registered = False


def prepare_service(argv: list[str] | None = None,
                    check_database: bool = True) -> None:
    """Parse options, set up logging and reach the database.

    Configuration errors (an unknown or invalid value in a file or on the
    command line) end the process with a message naming the option,
    never a traceback; so does an unreachable database.
    """
    global _log_registered
    if not _log_registered:
        log.register_options(CONF)
        _log_registered = True
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'sushy=WARNING', 'pyghmi=WARNING', 'stevedore=WARNING',
        'alembic=WARNING', 'uvicorn.access=WARNING'])
    try:
        CONF(argv if argv is not None else sys.argv[1:], project='podium',
             validate_default_values=True)
        validation.check_all_values(CONF)
        validation.check_unknown_options(CONF)
    except (cfg.Error, ValueError) as exc:
        sys.exit(f'podium: configuration error: {exc}')
    log.setup(CONF, 'podium')
    # Before the queue takes the handlers over: it keeps their filters.
    masking.install_log_filter()
    log_queue.install()
    if check_database:
        try:
            db_engine.check_connection(db_engine.get_engine())
        except exceptions.DatabaseUnavailable as exc:
            sys.exit(f'podium: {exc}')
