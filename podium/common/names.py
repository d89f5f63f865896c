"""The one rule for node names and the one wording for breaking it.

The API, the CLI and the CSV/YAML enrollment all check names here, so an
operator reads the same sentence whichever way the name came in. The
rule is Ironic's: RFC 3986 unreserved characters, and never a UUID
(which would make ``/v1/nodes/{name-or-uuid}`` ambiguous).

This module imports only the standard library: the CLI loads it.
"""

import re
import uuid

MAX_LENGTH = 255
#: Characters allowed besides letters and digits, as the message names them.
_PUNCTUATION = '. _ ~ -'
_NAME_RE = re.compile(r'^[A-Za-z0-9._~-]+$')


def _looks_like_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def name_problem(name: str, kind: str = 'node') -> str | None:
    """Why ``name`` cannot name a ``kind`` (node, port), or None if it can."""
    prefix = f'"{name}" is not a valid {kind} name: '
    if not name or len(name) > MAX_LENGTH or not _NAME_RE.match(name):
        return (f'{prefix}use 1 to {MAX_LENGTH} letters, digits and '
                f'{_PUNCTUATION}')
    if _looks_like_uuid(name):
        return f'{prefix}it looks like a UUID'
    return None
