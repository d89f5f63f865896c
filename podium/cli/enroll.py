"""Bulk enrollment files: read, check every row, then build the bodies.

Two formats, chosen by extension:

YAML (``.yaml``, ``.yml``, ``.json``)
    a list of node documents, or a mapping with a ``nodes`` list; each
    document has ``driver`` and optionally ``name``, ``uuid``,
    ``driver_info``/``properties``/``extra`` mappings and a few scalar
    fields. Row *N* is the *N*-th document.
CSV (``.csv``)
    a header row naming the fields; nested keys are columns like
    ``driver_info/redfish_address`` or ``properties/cpus``. Empty cells
    are left out, ``properties`` and ``extra`` values are typed like
    ``--property``. Row *N* is line *N* of the file (the header is 1).

Nothing is created unless every row is valid: :func:`check_rows`
collects every problem of every row (row number, field, problem), so
the operator fixes the file in one go instead of one error per run.
"""

import csv
import dataclasses
import os
import uuid as uuidlib
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from podium.cli.errors import CliError
from podium.cli.values import typed_value
from podium.common import names

REQUIRED = ('driver',)
SCALAR_FIELDS = ('driver', 'name', 'uuid', 'description', 'resource_class',
                 'conductor_group', 'owner', 'power_interface',
                 'management_interface', 'inspect_interface')
MAPPING_FIELDS = ('driver_info', 'properties', 'extra')
#: Mapping fields whose CSV cells are typed (``cpus`` 4 is a number).
TYPED_FIELDS = ('properties', 'extra')
YAML_EXTENSIONS = ('.yaml', '.yml', '.json')


@dataclasses.dataclass(frozen=True)
class Problem:
    """What is wrong with one field of one row."""

    row: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f'row {self.row}: {self.field}: {self.problem}'


@dataclasses.dataclass
class Row:
    """One node to create, or the problems found while reading it."""

    number: int
    body: dict[str, Any]
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.body.get('name') or self.body.get('uuid')
                   or f'row {self.number}')


class EnrollmentError(CliError):
    """The file has bad rows; the message lists every one of them."""

    def __init__(self, path: str, problems: Sequence[Problem]) -> None:
        lines = '\n'.join(f'  {p}' for p in problems)
        rows = len({p.row for p in problems})
        super().__init__(f'{path}: {rows} invalid row(s), nothing was '
                         f'created:\n{lines}')
        self.problems = list(problems)


def read_rows(path: str) -> list[Row]:
    """Parse an enrollment file into rows (not yet checked)."""
    ext = os.path.splitext(path)[1].lower()
    if ext != '.csv' and ext not in YAML_EXTENSIONS:
        raise CliError(f'cannot tell the format of {path}: use a .csv, '
                       f'.yaml, .yml or .json file')
    try:
        with open(path, encoding='utf-8', newline='') as handle:
            if ext == '.csv':
                return csv_rows(handle)
            return yaml_rows(handle.read(), path)
    except OSError as exc:
        raise CliError(f'cannot read {path}: {exc.strerror}') from None
    except UnicodeDecodeError:
        raise CliError(f'{path} is not a UTF-8 text file') from None
    except csv.Error as exc:
        raise CliError(f'{path} is not valid CSV: {exc}') from None


def yaml_rows(text: str, path: str = '<input>',
              kind: str = 'nodes') -> list[Row]:
    """Rows of a YAML (or JSON) document: a list of ``kind`` (nodes,
    ports) or a mapping holding such a list under that key."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f'{path} is not valid YAML: {exc}') from None
    if isinstance(doc, dict) and set(doc) == {kind}:
        doc = doc[kind]
    if not isinstance(doc, list):
        raise CliError(f'{path} must hold a list of {kind} (or a mapping '
                       f'with a "{kind}" list)')
    rows = []
    for number, item in enumerate(doc, start=1):
        if isinstance(item, dict):
            rows.append(Row(number, dict(item)))
        else:
            rows.append(Row(number, {}, [Problem(
                number, '-', f'must be a mapping of {kind[:-1]} fields')]))
    return rows


def csv_rows(lines: Iterable[str]) -> list[Row]:
    """Rows of a CSV file whose first row is the header."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return []
    header_problems = [Problem(1, column or f'column {i}', problem)
                       for i, column in enumerate(header, start=1)
                       for problem in _column_problems(column)]
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells) or cells[0].startswith('#'):
            continue
        number = reader.line_num
        row = Row(number, {})
        if len(cells) > len(header):
            row.problems.append(Problem(
                number, '-', f'has {len(cells)} cells but the header has '
                             f'{len(header)}'))
        for column, value in zip(header, cells, strict=False):
            value = value.strip()
            if value:
                _put_cell(row.body, column.strip(), value)
        rows.append(row)
    if header_problems:
        # A bad header spoils every row; say it once, at row 1.
        rows.insert(0, Row(1, {}, header_problems))
    return rows


def _column_problems(column: str) -> list[str]:
    column = column.strip()
    if not column:
        return ['empty column name']
    group, sep, key = column.partition('/')
    if sep:
        if group not in MAPPING_FIELDS:
            return [f'unknown column; nested columns start with one of '
                    f'{", ".join(MAPPING_FIELDS)}']
        if not key or '/' in key:
            return ['a nested column is FIELD/KEY with one non-empty KEY']
        return []
    if column in MAPPING_FIELDS:
        return [f'give {column} keys as {column}/KEY columns']
    if column not in SCALAR_FIELDS:
        return [f'unknown column; expected one of '
                f'{", ".join(SCALAR_FIELDS)} or FIELD/KEY']
    return []


def _put_cell(body: dict[str, Any], column: str, value: str) -> None:
    group, sep, key = column.partition('/')
    if not sep:
        body[column] = value
    elif group in MAPPING_FIELDS and key:
        body.setdefault(group, {})[key] = (
            typed_value(value) if group in TYPED_FIELDS else value)


def check_rows(rows: Sequence[Row], drivers: Collection[str] | None = None,
               names: Collection[str] = (),
               uuids: Collection[str] = ()) -> list[Problem]:
    """Every problem of every row, in file order.

    ``drivers`` are the drivers the server has enabled (None: unknown,
    not checked); ``names`` and ``uuids`` those of the existing nodes.
    """
    problems: list[Problem] = []
    first_seen: dict[tuple[str, str], int] = {}
    existing = {'name': {n.lower() for n in names},
                'uuid': {u.lower() for u in uuids}}
    for row in rows:
        problems.extend(row.problems)
        problems.extend(_field_problems(row, drivers))
        for field in ('name', 'uuid'):
            value = row.body.get(field)
            if not isinstance(value, str):
                continue
            key = (field, value.lower())
            if key in first_seen:
                problems.append(Problem(row.number, field, f'{value!r} '
                                        f'repeats row {first_seen[key]}'))
                continue
            first_seen[key] = row.number
            if value.lower() in existing[field]:
                problems.append(Problem(row.number, field, f'a node with '
                                        f'{field} {value!r} already '
                                        f'exists'))
    return problems


def _field_problems(row: Row, drivers: Collection[str] | None
                    ) -> Iterable[Problem]:
    body, number = row.body, row.number
    if not body and row.problems:
        return
    for field in REQUIRED:
        if body.get(field) in (None, ''):
            yield Problem(number, field, 'is required')
    for field, value in body.items():
        if field in MAPPING_FIELDS:
            if not isinstance(value, dict):
                yield Problem(number, field, 'must be a mapping')
        elif field not in SCALAR_FIELDS:
            yield Problem(number, field, 'unknown field')
        elif value is not None and not isinstance(value, str):
            yield Problem(number, field, f'must be a string, got '
                                         f'{value!r}')
    name, node_uuid, driver = (body.get('name'), body.get('uuid'),
                               body.get('driver'))
    problem = names.name_problem(name) if isinstance(name, str) else None
    if problem:
        yield Problem(number, 'name', problem)
    if isinstance(node_uuid, str) and not _is_uuid(node_uuid):
        yield Problem(number, 'uuid', f'{node_uuid!r} is not a UUID')
    if drivers is not None and isinstance(driver, str) and driver and \
            driver not in drivers:
        yield Problem(number, 'driver', f'unknown driver {driver!r}; '
                                        f'enabled: {", ".join(drivers)}')


def _is_uuid(text: str) -> bool:
    try:
        uuidlib.UUID(text)
    except ValueError:
        return False
    return True
