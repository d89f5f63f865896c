"""Start-up checks oslo.config does not make by itself.

oslo.config reports a malformed value only when the option is read, and
it ignores options it does not know, so a typo in a config file would
silently keep the default. Podium reads every option at start-up and
refuses unknown ones, naming the file, section and option.
"""

import configparser
from collections.abc import Iterator

from oslo_config import cfg


class UnknownOption(cfg.Error):
    """A config file sets an option no registered group knows."""


class InvalidValue(cfg.Error):
    """An option's value does not convert to the option's type."""


def _config_files(conf: cfg.ConfigOpts) -> list[str]:
    return list(conf.default_config_files) + list(conf.config_file or [])


def _file_sections(path: str) -> Iterator[tuple[str, list[str]]]:
    """``(section, keys)`` pairs a config file sets, DEFAULT first."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle)
    except OSError:
        return  # oslo.config already reported a missing file
    yield 'DEFAULT', list(parser.defaults())
    for section in parser.sections():
        yield section, [key for key, _value in parser.items(section)
                        if key not in parser.defaults()]


def _where(conf: cfg.ConfigOpts, section: str, name: str) -> str:
    # Later files override earlier ones, so the last file setting the
    # option holds the value oslo.config rejected.
    where = 'on the command line'
    for path in _config_files(conf):
        for file_section, keys in _file_sections(path):
            if file_section == section and name in keys:
                where = f'in {path}'
    return where


def _read(conf: cfg.ConfigOpts, namespace: object, section: str,
          name: str) -> object:
    try:
        return getattr(namespace, name)
    except cfg.ConfigFileValueError as exc:
        # oslo.config's own message embeds a LocationInfo repr and leaves
        # out the section; the conversion error it wraps says why.
        reason = exc.__context__ or exc
        raise InvalidValue(
            f'invalid value for option "{name}" in section [{section}] '
            f'{_where(conf, section, name)}: {reason}') from None


def check_all_values(conf: cfg.ConfigOpts) -> None:
    """Read every registered option so a bad value fails now.

    :raises InvalidValue: naming the section, option, file and reason.
    """
    for opt_name in list(conf):
        value = _read(conf, conf, 'DEFAULT', opt_name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for group_opt in list(value):
                _read(conf, value, opt_name, group_opt)


def _known_options(conf: cfg.ConfigOpts) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {'DEFAULT': set()}
    for opt_name in list(conf):
        value = getattr(conf, opt_name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            known[opt_name] = set(value)
        else:
            known['DEFAULT'].add(opt_name)
    return known


def check_unknown_options(conf: cfg.ConfigOpts) -> None:
    """Refuse sections and options the config files set but nobody reads.

    :raises UnknownOption: naming the file, section and option.
    """
    known = _known_options(conf)
    for path in _config_files(conf):
        for section, keys in _file_sections(path):
            if section not in known:
                raise UnknownOption(
                    f'{path}: unknown section [{section}]')
            for key in keys:
                if key not in known[section]:
                    raise UnknownOption(
                        f'{path}: unknown option "{key}" in section '
                        f'[{section}]')
