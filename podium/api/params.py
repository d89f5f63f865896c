"""Parsing of query parameters shared by the list routes.

Ironic's clients send Python-style booleans (``True``/``False``) and
comma separated ``fields``; every parse error names the parameter.
"""

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from oslo_utils import strutils
from starlette.requests import Request

from podium.api import links
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


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """What a collection request asks for: shape, page and order."""

    detail: bool
    fields: tuple[str, ...] | None
    limit: int
    marker: str | None
    sort_key: str
    sort_dir: str

    def shown(self, default: Sequence[str]) -> Sequence[str] | None:
        """The fields to show; None means every field (detail)."""
        return None if self.detail else (self.fields or default)


def parse_list_query(request: Request, allowed_fields: Collection[str],
                     detail: bool, default_sort_key: str = 'id'
                     ) -> ListQuery:
    """The paging, sorting and shape parameters of a list request.

    :param detail: the route is a ``/detail`` one; ``?detail=True``
        asks for the same.
    :raises InvalidParameterValue: naming the parameter at fault.
    """
    query = request.query_params
    if parse_bool('detail', query.get('detail')):
        detail = True
    fields = parse_fields(query.get('fields'), allowed_fields)
    if detail and fields is not None:
        raise exceptions.InvalidParameterValue(
            err='Can not specify ?detail=True and fields in the same '
                'request.')
    return ListQuery(
        detail=detail, fields=fields,
        limit=parse_limit(query.get('limit'), request.app.state.max_limit),
        marker=query.get('marker'),
        sort_key=query.get('sort_key') or default_sort_key,
        sort_dir=parse_sort_dir(query.get('sort_dir')))


def collection(request: Request, key: str, items: list[Any],
               rows: Sequence[Any], listing: ListQuery,
               base: str) -> Mapping[str, Any]:
    """``{key: items}`` plus, when the page is full, the ``next`` link
    to the page after the last of ``rows`` (which have a ``uuid``)."""
    body: dict[str, Any] = {key: items}
    if len(rows) == listing.limit:
        kept = [(k, v) for k, v in request.query_params.multi_items()
                if k not in ('sort_key', 'sort_dir')]
        body['next'] = links.next_link(
            base, request.url.path,
            [('sort_key', listing.sort_key),
             ('sort_dir', listing.sort_dir), *kept],
            listing.limit, rows[-1].uuid)
    return body
