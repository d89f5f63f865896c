"""Absolute URLs in responses: resource links and ``next`` page links.

openstacksdk follows an absolute ``next`` as is, so its host must be
one the client reaches: ``[api] public_endpoint`` when set (an API
behind a proxy), else the scheme and ``Host`` the request came with.
"""

from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.requests import Request


def base_url(request: Request) -> str:
    """``scheme://host[:port]`` (or the public endpoint) without a slash."""
    public = request.app.state.public_endpoint
    if public:
        return str(public)
    host = request.headers.get('host')
    if not host:
        server = request.scope.get('server') or ('localhost', None)
        host = server[0] if server[1] is None else f'{server[0]}:{server[1]}'
    return f'{request.url.scheme}://{host}'


def resource_links(base: str, collection: str, ident: str
                   ) -> list[dict[str, str]]:
    """Ironic's ``self`` and ``bookmark`` links of one resource."""
    return [{'href': f'{base}/v1/{collection}/{ident}', 'rel': 'self'},
            {'href': f'{base}/{collection}/{ident}', 'rel': 'bookmark'}]


def collection_links(base: str, collection: str) -> list[dict[str, str]]:
    return [{'href': f'{base}/v1/{collection}/', 'rel': 'self'},
            {'href': f'{base}/{collection}/', 'rel': 'bookmark'}]


def next_link(base: str, path: str, params: Iterable[tuple[str, str]],
              limit: int, marker: str) -> str:
    """The URL of the page after ``marker``, keeping the other params."""
    query = [(k, v) for k, v in params if k not in ('limit', 'marker')]
    query += [('limit', str(limit)), ('marker', marker)]
    return f'{base}{path}?{urlencode(query)}'
