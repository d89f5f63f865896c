"""Parsing of query parameters shared by the list routes.

Ironic's clients send Python-style booleans (``True``/``False``) and
comma separated ``fields``; every parse error names the parameter.
"""

from collections.abc import Collection

from oslo_utils import strutils

from podium.common import exceptions


def parse_bool(name: str, value: str | None) -> bool | None:
    """``True``/``false``/``1``/... as a bool; None when absent.

    :raises InvalidParameterValue: naming the parameter.
    """
    if value is None:
        return None
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid value for query parameter {name}: "{value}"; '
                f'expected a boolean such as True or False.') from None


def parse_limit(value: str | None, max_limit: int) -> int:
    """The page size: ``max_limit`` when absent, capped at it.

    :raises InvalidParameterValue: not an integer, or not positive.
    """
    if value is None:
        return max_limit
    try:
        limit = int(value)
    except ValueError:
        raise exceptions.InvalidParameterValue(
            err=f'Invalid value for query parameter limit: "{value}"; '
                f'expected a positive integer.') from None
    if limit <= 0:
        raise exceptions.InvalidParameterValue(err='Limit must be positive')
    return min(limit, max_limit)


def parse_fields(value: str | None, allowed: Collection[str]
                 ) -> tuple[str, ...] | None:
    """The requested ``fields``, in order, without duplicates.

    :raises InvalidParameterValue: naming the unknown fields.
    """
    if value is None:
        return None
    fields = tuple(dict.fromkeys(
        name.strip() for name in value.split(',') if name.strip()))
    unknown = [name for name in fields if name not in allowed]
    if unknown or not fields:
        raise exceptions.InvalidParameterValue(
            err=f'Field(s) "{", ".join(unknown)}" are not valid'
            if unknown else 'The fields parameter names no field.')
    return fields


def parse_sort_dir(value: str | None) -> str:
    if value is None:
        return 'asc'
    if value not in ('asc', 'desc'):
        raise exceptions.InvalidParameterValue(
            err=f'Invalid sort direction: "{value}"; expected asc or desc.')
    return value
