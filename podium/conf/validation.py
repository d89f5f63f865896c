"""Start-up checks oslo.config does not make by itself.

oslo.config reports a malformed value only when the option is read, and
it ignores options it does not know, so a typo in a config file would
silently keep the default. Podium reads every option at start-up and
refuses unknown ones, naming the file, section and option.
"""

import configparser

from oslo_config import cfg


class UnknownOption(cfg.Error):
    """A config file sets an option no registered group knows."""


def check_all_values(conf: cfg.ConfigOpts) -> None:
    """Read every registered option so a bad value fails now.

    :raises cfg.ConfigFileValueError: naming the option at fault.
    """
    for opt_name in list(conf):
        value = getattr(conf, opt_name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for group_opt in list(value):
                getattr(value, group_opt)


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
    for path in conf.default_config_files + list(conf.config_file or []):
        parser = configparser.RawConfigParser(strict=False)
        try:
            with open(path, encoding='utf-8') as handle:
                parser.read_file(handle)
        except OSError:
            continue  # oslo.config already reported a missing file
        sections = ['DEFAULT'] + parser.sections()
        for section in sections:
            items = (parser.defaults() if section == 'DEFAULT'
                     else {k: v for k, v in parser.items(section)
                           if k not in parser.defaults()})
            if section not in known:
                raise UnknownOption(
                    f'{path}: unknown section [{section}]')
            for key in items:
                if key not in known[section]:
                    raise UnknownOption(
                        f'{path}: unknown option "{key}" in section '
                        f'[{section}]')
