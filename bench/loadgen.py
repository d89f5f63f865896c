"""HTTP load with a fixed number of keep-alive clients for a fixed time.

Two interchangeable generators measure the same thing:

- ``wrk`` (when installed): C, a few percent of a core for thousands of
  requests per second, so the client never is the bottleneck on a small
  machine. A generated Lua script rotates through the request list.
- a Python generator (``python -m bench.loadgen``, run as a separate
  process): threads with one keep-alive ``http.client`` connection each.

Either way the generator runs in its own process and its CPU is read
from the kernel (``wait4``) and reported next to the throughput, so a
reader can check that the client was not what limited the numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

from bench import procs, report


@dataclasses.dataclass(frozen=True)
class Req:
    """One request of the rotation."""

    method: str
    path: str
    body: Any = None

    def payload(self) -> bytes | None:
        return None if self.body is None else json.dumps(self.body).encode()


HEADERS = {'Content-Type': 'application/json',
           'Accept': 'application/json',
           'X-OpenStack-Ironic-API-Version': 'latest'}


def have_wrk() -> bool:
    return shutil.which('wrk') is not None


def run(base_url: str, requests: Sequence[Req], concurrency: int,
        duration: float, tool: str = 'auto') -> dict[str, Any]:
    """Load ``base_url`` with ``requests`` (in rotation).

    :param tool: ``wrk``, ``python`` or ``auto`` (wrk when installed).
    :returns: requests, rps, p50_ms, p99_ms, errors (non-2xx or failed),
        client_cpu_s, client_cpu_pct (of one core), tool.
    """
    if tool == 'auto':
        tool = 'wrk' if have_wrk() else 'python'
    with tempfile.TemporaryDirectory(prefix='podium-bench-load-') as tmp:
        if tool == 'wrk':
            argv = _wrk_argv(base_url, requests, concurrency, duration, tmp)
        else:
            spec = os.path.join(tmp, 'requests.json')
            with open(spec, 'w', encoding='utf-8') as handle:
                json.dump([dataclasses.asdict(r) for r in requests], handle)
            argv = [procs.PYTHON, '-m', 'bench.loadgen', base_url, spec,
                    '--concurrency', str(concurrency),
                    '--duration', str(duration)]
        out_path = os.path.join(tmp, 'out.txt')
        with open(out_path, 'wb') as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT,
                cwd=procs.REPO_ROOT,
                env=dict(os.environ, PYTHONPATH=procs.REPO_ROOT))
            # wait4 hands back the child's own CPU use; nothing else does
            # once it has exited.
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        with open(out_path, encoding='utf-8', errors='replace') as handle:
            output = handle.read()
    if proc.returncode:
        raise procs.BenchError(f'{tool} failed ({proc.returncode}):\n'
                               f'{output[-2000:]}')
    result = (_parse_wrk(output) if tool == 'wrk'
              else json.loads(output.strip().splitlines()[-1]))
    cpu = usage.ru_utime + usage.ru_stime
    result.update(tool=tool, client_cpu_s=cpu,
                  client_cpu_pct=100.0 * cpu / duration)
    return result


# wrk ----------------------------------------------------------------------

def _lua_string(text: str) -> str:
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _wrk_argv(base_url: str, requests: Sequence[Req], concurrency: int,
              duration: float, tmp: str) -> list[str]:
    lines = ['local reqs = {}', 'local n = 0']
    headers = ', '.join(f'[{_lua_string(k)}] = {_lua_string(v)}'
                        for k, v in HEADERS.items())
    lines.append(f'local headers = {{{headers}}}')
    lines.append('init = function(args)')
    for req in requests:
        body = req.payload()
        body_lua = _lua_string(body.decode()) if body is not None else 'nil'
        lines.append(f'  table.insert(reqs, wrk.format('
                     f'{_lua_string(req.method)}, {_lua_string(req.path)}, '
                     f'headers, {body_lua}))')
    # Threads start at different offsets so two never send the same
    # request at the same moment (a power PUT would meet a lock).
    lines += ['  n = math.random(#reqs)', 'end',
              'request = function()', '  n = n % #reqs + 1',
              '  return reqs[n]', 'end']
    script = os.path.join(tmp, 'rotate.lua')
    with open(script, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')
    threads = max(1, min(2, concurrency))
    return ['wrk', '-t', str(threads), '-c', str(concurrency),
            '-d', f'{max(1, round(duration))}s', '--timeout', '30s',
            '--latency', '-s', script, base_url]


_UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r'([\d.]+)(us|ms|s|m)', text.strip())
    if not match:
        raise procs.BenchError(f'cannot parse wrk latency {text!r}')
    return float(match.group(1)) * _UNITS[match.group(2)]


def _parse_wrk(output: str) -> dict[str, Any]:
    def find(pattern: str) -> str | None:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else None

    total = find(r'^\s*(\d+) requests in')
    rps = find(r'^Requests/sec:\s*([\d.]+)')
    if total is None or rps is None:
        raise procs.BenchError(f'unexpected wrk output:\n{output}')
    non2xx = int(find(r'Non-2xx or 3xx responses:\s*(\d+)') or 0)
    socket_errors = sum(int(x) for x in re.findall(
        r'(?:connect|read|write|timeout) (\d+)', output))
    return {'requests': int(total), 'rps': float(rps),
            'p50_ms': _ms(find(r'^\s*50%\s+(\S+)') or 'nanms'),
            'p99_ms': _ms(find(r'^\s*99%\s+(\S+)') or 'nanms'),
            'errors': non2xx + socket_errors}


# Python generator ----------------------------------------------------------

def _client(base: urllib.parse.SplitResult, requests: Sequence[Req],
            offset: int, deadline: float, latencies: list[float],
            errors: list[int]) -> None:
    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(base.hostname or '127.0.0.1',
                                          base.port, timeout=30)

    conn = connect()
    index = offset
    while time.monotonic() < deadline:
        req = requests[index % len(requests)]
        index += 1
        start = time.perf_counter()
        try:
            conn.request(req.method, req.path, body=req.payload(),
                         headers=HEADERS)
            resp = conn.getresponse()
            resp.read()
            ok = 200 <= resp.status < 300
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = connect()
        latencies.append(time.perf_counter() - start)
        if not ok:
            errors.append(1)
    conn.close()


def python_load(base_url: str, requests: Sequence[Req], concurrency: int,
                duration: float) -> dict[str, Any]:
    """The Python generator's body: threads, keep-alive, for ``duration``."""
    base = urllib.parse.urlsplit(base_url)
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + duration
    step = max(1, len(requests) // concurrency)
    threads = [threading.Thread(target=_client, args=(
        base, requests, i * step, deadline, latencies, errors))
        for i in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    summary = report.latency_summary(latencies)
    return {'requests': len(latencies), 'rps': len(latencies) / elapsed,
            'p50_ms': summary['p50_ms'], 'p99_ms': summary['p99_ms'],
            'errors': len(errors)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='Python HTTP load')
    parser.add_argument('base_url')
    parser.add_argument('requests', help='JSON list of {method,path,body}')
    parser.add_argument('--concurrency', type=int, default=8)
    parser.add_argument('--duration', type=float, default=10.0)
    args = parser.parse_args(argv)
    with open(args.requests, encoding='utf-8') as handle:
        requests = [Req(**r) for r in json.load(handle)]
    result = python_load(args.base_url, requests, args.concurrency,
                         args.duration)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
