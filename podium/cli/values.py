"""``key=value`` arguments and the typing of their values.

``--property cpus=4`` is sent as the number 4, as ironicclient does, so
scalar-looking values are decoded as JSON (numbers, ``true``/``false``,
``null``, objects, lists); anything else stays a string. Credentials in
``--driver-info`` are never typed: a numeric password must stay a
string.
"""

import json
from collections.abc import Iterable
from typing import Any

from podium.cli.errors import CliError


def typed_value(text: str) -> Any:
    """``"4"`` -> 4, ``"true"`` -> True, ``"abc"`` -> ``"abc"``."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_key_values(items: Iterable[str], option: str,
                     typed: bool) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``."""
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key.strip():
            raise CliError(f'{option} expects KEY=VALUE, got {item!r}')
        result[key.strip()] = typed_value(value) if typed else value
    return result
