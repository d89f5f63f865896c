"""Where the CLI finds the API: flags, environment, config file, default.

Precedence is the usual one: a command-line flag beats an environment
variable, which beats the config file, which beats the built-in default.
The config file is YAML with the keys ``url``, ``user`` and ``password``;
PyYAML is imported only when such a file exists, to keep start-up fast.
"""

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from podium.cli.errors import CliError

DEFAULT_URL = 'http://127.0.0.1:6385'
CONFIG_ENV = 'PODIUM_CLI_CONFIG'
_KEYS = ('url', 'user', 'password', 'cacert', 'insecure')
_ENV = {'url': 'PODIUM_URL', 'user': 'PODIUM_USER',
        'password': 'PODIUM_PASSWORD', 'cacert': 'PODIUM_CACERT',
        'insecure': 'PODIUM_INSECURE'}
_TRUE = ('1', 'true', 'yes', 'on')


@dataclasses.dataclass(frozen=True)
class Settings:
    """The endpoint and the (optional) HTTP basic credentials."""

    url: str = DEFAULT_URL
    user: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    #: CA bundle that verifies an https:// endpoint (default: the
    #: system's); ``insecure`` skips verification altogether.
    cacert: str | None = None
    insecure: bool = False


def default_config_path(environ: Mapping[str, str]) -> str:
    """``$XDG_CONFIG_HOME/podium/cli.yaml``, else under ``~/.config``."""
    base = environ.get('XDG_CONFIG_HOME') or os.path.join(
        os.path.expanduser('~'), '.config')
    return os.path.join(base, 'podium', 'cli.yaml')


def load_config_file(path: str, required: bool) -> dict[str, Any]:
    """Read the config file; a missing optional file is an empty config."""
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except FileNotFoundError:
        if required:
            raise CliError(f'config file {path} does not exist') from None
        return {}
    except OSError as exc:
        raise CliError(f'cannot read config file {path}: '
                       f'{exc.strerror}') from None
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f'config file {path} is not valid YAML: '
                       f'{exc}') from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CliError(f'config file {path} must be a mapping with the '
                       f'keys {", ".join(_KEYS)}')
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise CliError(f'config file {path}: unknown key(s) '
                       f'{", ".join(map(str, unknown))}; expected '
                       f'{", ".join(_KEYS)}')
    return {k: str(v) for k, v in data.items() if v is not None}


def resolve(flags: Mapping[str, str | None],
            environ: Mapping[str, str]) -> Settings:
    """Merge flags, environment and config file into :class:`Settings`."""
    explicit = environ.get(CONFIG_ENV)
    path = explicit or default_config_path(environ)
    values: dict[str, Any] = load_config_file(path, required=bool(explicit))
    for key in _KEYS:
        if environ.get(_ENV[key]):
            values[key] = environ[_ENV[key]]
        if flags.get(key):
            values[key] = flags[key]
    url = str(values.get('url') or DEFAULT_URL).rstrip('/')
    # Accept an endpoint given as Ironic clients take it, with /v1.
    url = url.removesuffix('/v1')
    if not url.startswith(('http://', 'https://')):
        raise CliError(f'invalid URL {url!r}: it must start with http:// '
                       f'or https://')
    cacert = values.get('cacert')
    if cacert and not os.path.isfile(cacert):
        raise CliError(f'CA certificate file {cacert} does not exist')
    insecure = str(values.get('insecure') or '').lower() in _TRUE
    return Settings(url=url, user=values.get('user'),
                    password=values.get('password'), cacert=cacert,
                    insecure=insecure)
