"""How benchmarks report: a printed table, a JSON file, the machine.

Every benchmark ends with :func:`emit`, which prints its rows as an
aligned table and writes ``bench/results/<name>.json`` holding the rows,
the parameters the run used, the command line and a description of the
machine, so a number in the README can always be traced back to the run
that produced it.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'results')

Row = dict[str, Any]


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Iterable[float]) -> float:
    """Median that tolerates an empty input (NaN) instead of raising."""
    items = [v for v in values if not math.isnan(v)]
    return statistics.median(items) if items else math.nan


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Count, p50, p99 and max of latencies given in seconds, in ms."""
    return {'count': len(seconds),
            'p50_ms': percentile(seconds, 50) * 1000,
            'p99_ms': percentile(seconds, 99) * 1000,
            'max_ms': (max(seconds) * 1000) if seconds else math.nan}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ''
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (math.nan,) * 3
    return {'cpus': os.cpu_count(), 'cpu_model': model,
            'python': platform.python_version(),
            'platform': platform.platform(),
            'loadavg_at_end': [round(x, 2) for x in load]}


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, float):
        if math.isnan(value):
            return '-'
        if value == 0 or abs(value) >= 100:
            return f'{value:.0f}'
        if abs(value) >= 1:
            return f'{value:.2f}'
        return f'{value:.3g}'
    return '-' if value is None else str(value)


def format_table(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """Rows as an aligned text table with the given columns."""
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells])
              for i, col in enumerate(columns)]
    lines = ['  '.join(col.rjust(w) for col, w in zip(columns, widths,
                                                      strict=True))]
    lines.append('  '.join('-' * w for w in widths))
    for r in cells:
        lines.append('  '.join(c.rjust(w) for c, w in zip(r, widths,
                                                          strict=True)))
    return '\n'.join(lines)


def _jsonable(value: Any) -> Any:
    # NaN is not JSON; null says "not measured" just as well.
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def command_line() -> str:
    """The command that ran the benchmark, as typed: ``python -m
    bench.<name> ...`` (``sys.argv[0]`` is then this machine's path of
    the module, which has no place in a committed results file)."""
    argv = list(sys.argv)
    here = os.path.dirname(os.path.abspath(__file__))
    if argv and os.path.dirname(os.path.abspath(argv[0])) == here:
        module = os.path.splitext(os.path.basename(argv[0]))[0]
        argv[:1] = ['-m', f'bench.{module}']
    return ' '.join(['python'] + argv)


def emit(name: str, rows: Sequence[Row], columns: Sequence[str],
         params: Mapping[str, Any], title: str = '',
         extra: Mapping[str, Any] | None = None,
         results_dir: str | None = None) -> str:
    """Print the table and write ``<results_dir>/<name>.json``.

    :returns: the path of the JSON file.
    """
    print()
    print(f'== {title or name} ==')
    print(format_table(rows, columns))
    directory = results_dir or RESULTS_DIR
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f'{name}.json')
    doc = {'benchmark': name,
           'finished_at': datetime.datetime.now(
               datetime.UTC).isoformat(timespec='seconds'),
           'command': command_line(),
           'machine': machine(), 'params': dict(params),
           'columns': list(columns), 'rows': list(rows),
           **dict(extra or {})}
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(_jsonable(doc), handle, indent=2, sort_keys=False)
        handle.write('\n')
    print(f'-> {path}')
    return path
