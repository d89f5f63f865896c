"""The command lines of the service commands.

``podium serve``, ``podium-api``, ``podium-conductor`` and
``podium-dbsync`` parse their arguments with oslo.config. Each gets a
usage line and a description here, ``--version`` (pbr), and the flags
that override a configuration option for one run (``--host``,
``--port``, ``--state-dir``): the flag wins over the configuration
file, the help says so, and when both are given and differ a start-up
log line says which value is used.

oslo.config gives every command a ``--shell_completion`` option of its
own; the version Podium runs with cannot print its script (its
templates are not installed), so Podium takes it out of the help and
refuses it with a pointer to ``podium completion``.
"""

import dataclasses
from collections.abc import Sequence

from oslo_config import cfg

from podium import version


@dataclasses.dataclass(frozen=True)
class Override:
    """A flag that overrides ``[group] option`` for this run."""

    flag: str
    group: str
    option: str
    opt: cfg.Opt

    @property
    def option_name(self) -> str:
        return f'[{self.group}] {self.option}'


def _override(flag: str, group: str, option: str, metavar: str,
              what: str) -> Override:
    # The flag's dest differs from the option's name, so that oslo.config
    # keeps the two apart and an option of the same name (``[DEFAULT]
    # host`` is the conductor's name) is not shadowed. The flag is a
    # plain string: the overridden option checks the value with its own
    # type, and the error names the flag (oslo.config would name the
    # dest).
    opt = cfg.StrOpt(flag, dest='cli_' + flag.replace('-', '_'),
                     metavar=metavar,
                     help=f'{what}; overrides [{group}] {option} of the '
                          f'configuration file (the flag wins).')
    return Override(flag, group, option, opt)


OVERRIDES = {
    'host': _override('host', 'api', 'host_ip', 'ADDRESS',
                      'Address the API listens on'),
    'port': _override('port', 'api', 'port', 'PORT',
                      'TCP port the API listens on'),
    'state-dir': _override('state-dir', 'DEFAULT', 'state_path', 'DIR',
                           'Directory of the embedded SQLite database '
                           'and other state'),
}


@dataclasses.dataclass(frozen=True)
class ServiceCommand:
    """What ``--help`` of one service command shows, and its flags."""

    prog: str
    description: str
    overrides: Sequence[str] = ()
    epilog: str | None = None

    def override_list(self) -> list[Override]:
        return [OVERRIDES[flag] for flag in self.overrides]


SERVE = ServiceCommand(
    'podium serve',
    'Run Podium in one process: the REST API and a conductor, calling each '
    'other directly (no message broker). The database defaults to SQLite '
    'under the state directory and its schema is upgraded at start-up. '
    'SIGTERM or Ctrl-C stops it gracefully; SIGHUP reloads mutable '
    'options.',
    ('host', 'port', 'state-dir'),
    'Example: podium serve --port 6385 --state-dir /var/lib/podium')
API = ServiceCommand(
    'podium-api',
    'Serve the REST API alone; it reaches the conductors over '
    'oslo.messaging ([DEFAULT] rpc_transport = oslo, transport_url) and '
    'shares their database. Run "podium-dbsync upgrade" first.',
    ('host', 'port', 'state-dir'),
    'Example: podium-api --config-file /etc/podium/podium.conf')
CONDUCTOR = ServiceCommand(
    'podium-conductor',
    'Run one conductor without the API. It registers under [DEFAULT] '
    'host (unique per conductor), takes its share of the nodes from the '
    'hash ring and answers RPC from the API. The schema must exist '
    '("podium-dbsync upgrade"); SIGTERM stops it gracefully.',
    ('state-dir',),
    'Example: podium-conductor --config-file /etc/podium/podium.conf')
DBSYNC = ServiceCommand(
    'podium-dbsync',
    'Create or upgrade the database schema before the services start '
    '(the all-in-one "podium serve" upgrades its SQLite database '
    'itself).',
    ('state-dir',),
    'Example: podium-dbsync --config-file /etc/podium/podium.conf upgrade')

COMMANDS = (SERVE, API, CONDUCTOR, DBSYNC)


#: oslo.config's own flag; see the module docstring.
SHELL_COMPLETION_FLAG = '--shell_completion'
SHELL_COMPLETION_REFUSED = (
    f'{SHELL_COMPLETION_FLAG} is not supported by the service commands; '
    f'"podium completion bash" (or zsh) prints the completion script of '
    f'the podium CLI, "podium serve" included')


def register(conf: cfg.ConfigOpts, command: ServiceCommand) -> None:
    """Register ``command``'s override flags before parsing, and take
    oslo.config's ``--shell_completion`` out of its help."""
    opts = [override.opt for override in command.override_list()]
    try:
        conf.register_cli_opts(opts)
    except cfg.ArgsAlreadyParsedError:
        # A second parse in one process (tests): start the parser over.
        conf.clear()
        conf.register_cli_opts(opts)
    conf.unregister_opt(cfg.ConfigOpts._shell_completion_opt)


def parse(conf: cfg.ConfigOpts, argv: Sequence[str],
          command: ServiceCommand | None) -> None:
    """Parse ``argv`` with ``command``'s usage, description and version.

    :raises ValueError: ``--shell_completion`` was given (oslo.config
        would die with a traceback on it).
    """
    if any(arg == SHELL_COMPLETION_FLAG
           or arg.startswith(SHELL_COMPLETION_FLAG + '=') for arg in argv):
        raise ValueError(SHELL_COMPLETION_REFUSED)
    conf(list(argv), project='podium', version=version.version_string(),
         validate_default_values=True,
         prog=command.prog if command else None,
         description=command.description if command else None,
         epilog=command.epilog if command else None)


def apply_overrides(conf: cfg.ConfigOpts,
                    command: ServiceCommand | None) -> list[str]:
    """Let the given flags win; return what a start-up log should say
    about flags that replaced a different configured value."""
    notes = []
    for override in command.override_list() if command else ():
        value = conf[override.opt.dest]
        if value is None:
            continue
        group = None if override.group == 'DEFAULT' else override.group
        configured = (conf[override.option] if group is None
                      else conf[group][override.option])
        where = conf.get_location(override.option, group)
        if where is not None and where.location == cfg.Locations.user \
                and str(configured) != value:
            notes.append(f'--{override.flag} {value} wins over '
                         f'{override.option_name} = {configured} from '
                         f'{where.detail}')
        try:
            conf.set_override(override.option, value, group=group)
        except ValueError as exc:
            raise ValueError(f'--{override.flag} {value}: {exc}') from None
    return notes
