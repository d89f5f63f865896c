"""What every Podium process does first: configuration and logging."""

import os
import sys

from oslo_config import cfg
from oslo_log import log

from podium.common import (
    command_line,
    exceptions,
    log_queue,
    masking,
    private_files,
)
from podium.conf import CONF, validation
from podium.db import engine as db_engine

LOG = log.getLogger(__name__)

_log_registered = False


def prepare_service(argv: list[str] | None = None,
                    check_database: bool = True,
                    command: command_line.ServiceCommand | None = None
                    ) -> None:
    """Parse options, set up logging and reach the database.

    ``command`` gives the usage line, description and override flags of
    a service command. Configuration errors (an unknown or invalid value
    in a file or on the command line) end the process with a message
    naming the option, never a traceback; so does an unreachable
    database.
    """
    global _log_registered
    if not _log_registered:
        log.register_options(CONF)
        _log_registered = True
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'sushy=WARNING', 'pyghmi=WARNING', 'stevedore=WARNING',
        'alembic=WARNING', 'uvicorn.access=WARNING'])
    if command is not None:
        command_line.register(CONF, command)
    try:
        command_line.parse(CONF, argv if argv is not None else sys.argv[1:],
                           command)
        notes = command_line.apply_overrides(CONF, command)
        validation.check_all_values(CONF)
        validation.check_unknown_options(CONF)
    except (cfg.Error, ValueError) as exc:
        sys.exit(f'podium: configuration error: {exc}')
    # What the service creates (database, logs, rotated logs) is private.
    private_files.restrict_umask()
    try:
        log.setup(CONF, 'podium')
    except OSError as exc:
        sys.exit(f'podium: cannot open the log: {exc}')
    private_files.restrict_log_files()
    # Before the queue takes the handlers over: it keeps their filters.
    masking.install_log_filter()
    log_queue.install()
    for note in notes:
        LOG.info('%s', note)
    if check_database:
        try:
            db_engine.check_connection(db_engine.get_engine())
        except (exceptions.DatabaseUnavailable,
                exceptions.ConfigInvalid) as exc:
            sys.exit(f'podium: {exc}')


def log_destination(conf: cfg.ConfigOpts) -> str | None:
    """The log file oslo.log writes to, or None when it is not a file.

    oslo.log's rule: ``log_dir``/``log_file`` when both are set, either
    one alone (``log_dir`` gets ``<program>.log``), else no file.
    """
    if conf.log_file:
        return os.path.join(conf.log_dir or '', conf.log_file)
    if conf.log_dir:
        # oslo.log names the file after the program that runs.
        binary = os.path.basename(sys.argv[0]) if sys.argv else 'podium'
        return os.path.join(conf.log_dir, f'{binary}.log')
    return None


def describe_log(conf: cfg.ConfigOpts) -> str:
    """Where the log goes, in words an operator can act on."""
    if conf.log_config_append:
        return f'as {conf.log_config_append} configures it'
    targets = []
    path = log_destination(conf)
    targets.append(path if path else 'standard error')
    if conf.use_journal:
        targets.append('the systemd journal')
    if conf.use_syslog:
        targets.append('syslog')
    return ' and '.join(targets)


def announce_locations(prog: str) -> None:
    """Say at start-up where the database and the log are.

    The line goes to the log; when the log is not on standard error it
    is printed there too, so whoever started the service sees it.
    """
    url = db_engine.get_engine().url.render_as_string(hide_password=True)
    line = f'{prog}: database {url}; log {describe_log(CONF)}'
    LOG.info('%s', line)
    if CONF.log_config_append or log_destination(CONF) or \
            CONF.use_journal or CONF.use_syslog:
        print(line, file=sys.stderr, flush=True)
