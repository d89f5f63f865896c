"""Which nodes a bulk command acts on.

Nodes are named on the command line and/or in a host-list file (one
name, UUID or BMC address per line, ``#`` comments and blank lines
ignored). Plain names and UUIDs go straight into the URL: the API
accepts both. When a host list is given, or an entry looks like a BMC
address, the nodes are listed *once* and every entry is matched against
their UUID, name, and ``driver_info`` ``redfish_address`` /
``ipmi_address``. An entry that matches nothing (or several nodes) is
not an error for the whole command: it becomes a target that fails with
the reason, so it shows up as a FAILED row in the summary.
"""

import dataclasses
import ipaddress
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from podium.cli.errors import CliError

ADDRESS_KEYS = ('redfish_address', 'ipmi_address')
NO_NODES = 'no nodes given: name nodes or use --host-list'
#: Fields a host-list resolution needs from the node listing.
LISTING_FIELDS = ('uuid', 'name', 'driver_info')


@dataclasses.dataclass(frozen=True)
class Target:
    """One host of a bulk command.

    ``ident`` is what goes into the URL; when the entry could not be
    resolved it is None and ``error`` says why.
    """

    label: str
    ident: str | None
    error: str | None = None


def parse_host_list(lines: Iterable[str]) -> list[str]:
    """The entries of a host list: comments, blanks and spaces dropped."""
    entries = []
    for line in lines:
        entry = line.split('#', 1)[0].strip()
        if entry:
            entries.append(entry)
    return entries


def read_host_list(path: str) -> list[str]:
    """Read a host-list file (``-`` is standard input)."""
    if path == '-':
        return parse_host_list(sys.stdin)
    try:
        with open(path, encoding='utf-8') as handle:
            return parse_host_list(handle)
    except OSError as exc:
        raise CliError(f'cannot read host list {path}: '
                       f'{exc.strerror}') from None
    except UnicodeDecodeError:
        raise CliError(f'host list {path} is not a text file') from None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip('[]'))
    except ValueError:
        return False
    return True


def looks_like_address(entry: str) -> bool:
    """True for ``10.0.0.5``, ``bmc:8000``, ``https://bmc/redfish``.

    Node names never contain ``:`` or ``/`` (Ironic allows only RFC 3986
    unreserved characters), so those mark an address unambiguously.
    """
    return ':' in entry or '/' in entry or _is_ip(entry)


def split_address(address: str) -> tuple[str, int | None]:
    """``(host, port)`` of a BMC address given with or without a scheme."""
    text = address.strip()
    if '//' not in text:
        text = '//' + text
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError:
        return address.strip().lower(), None
    return (parts.hostname or '').lower(), port


class NodeIndex:
    """Matches host-list entries against one listing of the nodes."""

    def __init__(self, nodes: Iterable[dict[str, Any]]) -> None:
        self._by_id: dict[str, dict[str, Any]] = {}
        self._by_address: dict[tuple[str, int | None],
                               list[dict[str, Any]]] = {}
        self._by_host: dict[str, list[dict[str, Any]]] = {}
        for node in nodes:
            self._by_id[node['uuid'].lower()] = node
            if node.get('name'):
                self._by_id.setdefault(node['name'].lower(), node)
            info = node.get('driver_info') or {}
            for key in ADDRESS_KEYS:
                if info.get(key):
                    host, port = split_address(str(info[key]))
                    self._by_address.setdefault((host, port), []).append(
                        node)
                    self._by_host.setdefault(host, []).append(node)

    def resolve(self, entry: str) -> Target:
        node = self._by_id.get(entry.lower())
        if node is not None:
            return Target(node.get('name') or node['uuid'], node['uuid'])
        host, port = split_address(entry)
        matches = self._by_address.get((host, port))
        if not matches and port is None:
            matches = self._by_host.get(host)
        if not matches:
            return Target(entry, None, 'no node has this name, UUID or '
                                       'BMC address')
        unique = {n['uuid']: n for n in matches}
        if len(unique) > 1:
            names = ', '.join(sorted(n.get('name') or n['uuid']
                                     for n in unique.values()))
            return Target(entry, None, f'BMC address matches '
                                       f'{len(unique)} nodes ({names}); '
                                       f'name one of them')
        node = matches[0]
        return Target(node.get('name') or node['uuid'], node['uuid'])


def gather_entries(idents: Sequence[str],
                   host_list: str | None) -> list[str]:
    """The command line's nodes and the host list's entries, in order.

    Needs no server, so "no nodes given" is said before any connection
    is tried.
    """
    entries = list(idents)
    if host_list is not None:
        entries += read_host_list(host_list)
    if not entries:
        raise CliError(NO_NODES)
    return entries


def resolve_targets(entries: Sequence[str], host_list: str | None,
                    list_nodes: Callable[[], Iterable[dict[str, Any]]]
                    ) -> list[Target]:
    """The targets of ``entries`` (from :func:`gather_entries`), in the
    order given, deduplicated.

    ``list_nodes`` is called at most once, and only when needed: when a
    host list was given or an entry looks like a BMC address.
    """
    if host_list is not None or any(map(looks_like_address, entries)):
        index = NodeIndex(list_nodes())
        targets = [index.resolve(e) for e in entries]
    else:
        targets = [Target(e, e) for e in entries]
    seen: set[str] = set()
    unique = []
    for target in targets:
        key = (target.ident or '\0' + target.label).lower()
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique
