"""Secrets out of every output: responses, logs, errors, history, CLI.

One place decides what a secret is, so that the API, the log pipeline,
``last_error`` and the CLI cannot disagree:

* a mapping key is secret when it contains one of the words
  ``oslo_utils.strutils`` masks for every OpenStack service
  (``password``, ``token``, ``secret``, ...) or is made of a word Podium
  adds for BMC credentials (``kg``, ``key``, ``community``, ``pass``,
  ``passwd``, ``psk``, ...: ``ipmi_kg``, ``snmp_auth_key``,
  ``redfish_auth_token``), or is one of the operator's extra keys;
* mappings and lists are walked at any depth;
* free text (error messages, log lines) has ``key=value``/``"key":
  "value"`` pairs of those keys masked, and, where the caller knows them,
  the secret values themselves replaced wherever they appear.

Values are replaced by :data:`MASK`, Ironic's ``******``.
"""

import functools
import logging
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from oslo_utils import strutils

MASK = '******'

#: Words that make a key secret when they are a whole ``_``/``-``
#: separated part of it; the substrings of strutils cover the rest.
SECRET_WORDS = frozenset({
    'kg', 'key', 'keys', 'community', 'pass', 'passwd', 'pwd', 'psk',
    'credential', 'credentials', 'cookie', 'authkey', 'privkey',
})

#: Substrings that make a key secret, as every OpenStack service masks.
SECRET_SUBSTRINGS = tuple(strutils._SANITIZE_KEYS)

#: Secret values shorter than this are not searched for in free text:
#: replacing every "1" of a message would mangle it and hide nothing.
MIN_SCRUBBED_LENGTH = 4

_WORD_SPLIT = re.compile(r'[_\-.\s]+')

# A "word: value" or "word=value" pair in free text whose key is made of
# a Podium secret word (strutils.mask_password handles its own words).
_PAIR_KEY = (r'[\w\-]*?(?<![A-Za-z])(?:' +
             '|'.join(sorted(SECRET_WORDS, key=len, reverse=True)) +
             r')(?![A-Za-z])[\w\-]*')
_TEXT_PAIR = re.compile(
    r'''(?P<key>['"]?''' + _PAIR_KEY + r'''['"]?\s*[:=]\s*)'''
    r'''(?:(?P<quote>['"])[^'"]*(?P=quote)|[^\s,;'"}\]&]+)''',
    re.IGNORECASE)

# The password of credentials written into a URL: scheme://user:pw@host.
_URL_CREDENTIALS = re.compile(r'(://[^/\s:@]+:)[^@\s/]+@')


def _mask_pair(match: re.Match[str]) -> str:
    quote = match.group('quote') or ''
    return f'{match.group("key")}{quote}{MASK}{quote}'


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if any(word in lowered for word in SECRET_SUBSTRINGS):
        return True
    return any(part in SECRET_WORDS
               for part in _WORD_SPLIT.split(lowered) if part)


def is_secret_key(key: Any, extra_keys: Collection[str] = ()) -> bool:
    """Whether a mapping key names a secret."""
    if not isinstance(key, str):
        return False
    return key in extra_keys or _is_secret_key(key)


# Any secret substring or word anywhere in a lowered text: one regex
# scan instead of a containment test per word (this runs on every
# string value of every node a list shows).
_SECRET_HINT = re.compile('|'.join(
    re.escape(word) for word in sorted(set(SECRET_SUBSTRINGS) | SECRET_WORDS,
                                       key=len, reverse=True)))


def _has_secret_hint(lowered: str) -> bool:
    return _SECRET_HINT.search(lowered) is not None


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secret ``key=value`` pairs and the given secret
    values masked."""
    if secrets:
        for value in sorted(set(secrets), key=len, reverse=True):
            if len(value) >= MIN_SCRUBBED_LENGTH and value in text:
                text = text.replace(value, MASK)
    if '://' in text:
        text = _URL_CREDENTIALS.sub(r'\g<1>' + MASK + '@', text)
    if not _has_secret_hint(text.lower()):
        return text
    text = strutils.mask_password(text, secret=MASK)
    return _TEXT_PAIR.sub(_mask_pair, text)


def mask_error(error: BaseException, secrets: Collection[str] = ()) -> str:
    """The text of ``error`` with secrets masked, like :func:`mask_text`,
    but the given secret values are searched for only in what the error
    was given (a Podium exception's format arguments), never in Podium's
    own wording: a password that happens to be "Driver" must not turn
    "Driver error: no BMC" into "****** error: no BMC"."""
    text = str(error) or type(error).__name__
    msg_fmt = getattr(error, 'msg_fmt', None)
    kwargs = getattr(error, 'kwargs', None)
    if secrets and isinstance(msg_fmt, str) and isinstance(kwargs, dict) \
            and kwargs:
        try:
            if msg_fmt % kwargs == text:
                text = msg_fmt % {
                    key: (mask_text(value, secrets)
                          if isinstance(value, str) else value)
                    for key, value in kwargs.items()}
                secrets = ()
        except (KeyError, TypeError, ValueError):
            pass
    return mask_text(text, secrets)


def mask(value: Any, extra_keys: Collection[str] = ()) -> Any:
    """A copy of ``value`` with every secret masked, at any depth.

    Mappings have the values of secret keys replaced (whatever their
    type), lists and tuples are walked, strings are masked as free
    text. Anything else is returned as it is.
    """
    # Exact types first: JSON gives dicts, lists and strings, and these
    # checks are cheaper than the ABC's (this runs for every value of
    # every node a list shows).
    kind = type(value)
    if kind is str:
        return mask_text(value)
    if kind is dict or isinstance(value, Mapping):
        return {key: (MASK if is_secret_key(key, extra_keys)
                      else mask(item, extra_keys))
                for key, item in value.items()}
    if kind is list or isinstance(value, list | tuple):
        return [mask(item, extra_keys) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def secret_values(value: Any, extra_keys: Collection[str] = ()
                  ) -> set[str]:
    """Every string held under a secret key of ``value``, at any depth;
    what :func:`mask_text` should also hide in text about it."""
    found: set[str] = set()

    def walk(item: Any, secret: bool) -> None:
        if isinstance(item, Mapping):
            for key, child in item.items():
                walk(child, secret or is_secret_key(key, extra_keys))
        elif isinstance(item, list | tuple):
            for child in item:
                walk(child, secret)
        elif secret and isinstance(item, str | int) and \
                not isinstance(item, bool):
            found.add(str(item))

    walk(value, False)
    return found


class MaskingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback text.

    The record's arguments are merged into its message first, so a
    ``driver_info`` passed as an argument is masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let logging report it
            return True
        record.msg = mask_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(
                record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
            # Formatters (oslo.log's included) re-render a traceback from
            # exc_info, which would undo the masking.
            record.exc_info = None
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Put a :class:`MaskingFilter` on every handler of ``logger`` (the
    root logger by default); handler filters see every propagated
    record, logger filters only their own."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
