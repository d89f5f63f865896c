"""Output formats: ``-f table|json|yaml|value`` and ``-c COLUMN``.

Like the OpenStack CLIs, a command prints either a *list* (rows with
named columns) or a *record* (one object as Field/Value pairs). Column
selection accepts the header as shown (``"Power State"``) or the API
field name (``power_state``), case-insensitively. prettytable and PyYAML
are imported only when a table or YAML is actually printed.
"""

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from podium.cli.errors import CliError

FORMATS = ('table', 'json', 'yaml', 'value')
#: Table cells wrap past this width so a long last_error stays readable.
MAX_CELL_WIDTH = 72


@dataclasses.dataclass(frozen=True)
class Column:
    """A list column: what the header says and which row key it shows."""

    header: str
    key: str


def columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(header, key) for header, key in pairs)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group('output formatting')
    group.add_argument('-f', '--format', choices=FORMATS, default='table',
                       help='output format (default: table)')
    group.add_argument('-c', '--column', action='append', default=[],
                       dest='columns', metavar='COLUMN',
                       help='show only this column (repeatable); the '
                            'header or the field name')


def _norm(name: str) -> str:
    return name.strip().lower().replace('_', ' ').replace('-', ' ')


def select_columns(available: Sequence[Column], wanted: Sequence[str],
                   selectable: Iterable[Column | str] = ()) -> list[Column]:
    """The columns ``-c`` asks for, in the order asked.

    ``selectable`` are columns (or bare row keys) not shown by default
    that may still be picked (every field of a node, say).
    """
    if not wanted:
        return list(available)
    pool = list(available) + [c if isinstance(c, Column) else Column(c, c)
                              for c in selectable]
    index: dict[str, Column] = {}
    for column in pool:
        index.setdefault(_norm(column.header), column)
        index.setdefault(_norm(column.key), column)
    chosen = []
    for name in wanted:
        found = index.get(_norm(name))
        if found is None:
            choices = ', '.join(c.header for c in available)
            raise CliError(f'unknown column {name!r}; choose from: '
                           f'{choices}')
        chosen.append(found)
    return chosen


def cell(value: Any) -> str:
    """How a value reads in a table or ``value`` output."""
    if value is None:
        return ''
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ', '.join(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


class Printer:
    """Prints lists and records in the format the user chose."""

    def __init__(self, fmt: str = 'table', wanted: Sequence[str] = (),
                 stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self.wanted = list(wanted)
        self.stream = stream or sys.stdout

    def print_list(self, rows: Sequence[Mapping[str, Any]],
                   available: Sequence[Column],
                   selectable: Iterable[Column | str] = ()) -> None:
        """Rows as a list; ``selectable`` columns show only with -c."""
        cols = select_columns(available, self.wanted, selectable)
        if self.fmt in ('json', 'yaml'):
            self._dump([{c.header: row.get(c.key) for c in cols}
                        for row in rows])
        elif self.fmt == 'value':
            for row in rows:
                self._write(' '.join(cell(row.get(c.key)) for c in cols))
        else:
            self._table([c.header for c in cols],
                        [[cell(row.get(c.key)) for c in cols]
                         for row in rows])

    def print_record(self, record: Mapping[str, Any]) -> None:
        keys = sorted(record)
        if self.wanted:
            keys = [c.key for c in select_columns(
                [Column(k, k) for k in keys], self.wanted)]
        if self.fmt in ('json', 'yaml'):
            self._dump({k: record[k] for k in keys})
        elif self.fmt == 'value':
            for key in keys:
                self._write(cell(record[key]))
        else:
            self._table(['Field', 'Value'],
                        [[k, cell(record[k])] for k in keys])

    def _dump(self, data: Any) -> None:
        if self.fmt == 'json':
            self._write(json.dumps(data, indent=4, sort_keys=False))
        else:
            import yaml

            self.stream.write(yaml.safe_dump(data, default_flow_style=False,
                                             sort_keys=False))

    def _table(self, headers: list[str], rows: list[list[str]]) -> None:
        import prettytable

        table = prettytable.PrettyTable(headers)
        table.align = 'l'
        table.max_width = MAX_CELL_WIDTH
        for row in rows:
            table.add_row(row)
        self._write(table.get_string())

    def _write(self, line: str) -> None:
        self.stream.write(line + '\n')
