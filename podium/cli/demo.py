"""``podium demo``: a narrated tour on a throw-away service.

Starts simulated Redfish BMCs (``podium.simulator``, in this process)
and an all-in-one Podium (a child process, :mod:`podium.cli.local_service`)
in a temporary directory, then runs real ``podium`` commands against
them, explaining what happens:

1. bulk enrollment from a YAML file, each node then verified
   (``manage``: power sync reads only verified nodes, as in Ironic);
2. the power states the BMCs reported, recorded by verification;
3. a bulk power-on with ``--wait`` while two BMCs are slow and one has
   just stopped answering: the healthy nodes finish, the hung one ends
   FAILED with a timeout reason;
4. an out-of-band power-off noticed by the next sync;
5. the hung node's ``last_error``, and maintenance with fault
   ``power failure`` once sync gave up on it.

The tour checks that each of these happened; it returns 1 (and says
what did not happen) otherwise, so it doubles as an end-to-end check.
"""

import os
import shlex
import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import yaml

from podium.cli import main as cli_main
from podium.cli.client import ApiClient, node_path
from podium.cli.errors import CliError
from podium.cli.local_service import LocalService, wait_until
from podium.cli.settings import Settings

MIN_NODES = 4
SLOW_SECONDS = 1.5
SYNC_INTERVAL = 2
ACTION_TIMEOUT = 5.0
REQUEST_TIMEOUT = 2.0
SYNC_RETRIES = 2

SERVICE_OPTIONS: dict[str, dict[str, Any]] = {
    'DEFAULT': {
        'host': 'podium-demo',
        'enabled_hardware_types': ['fake-hardware', 'redfish'],
        'enabled_power_interfaces': ['fake', 'redfish'],
        'enabled_management_interfaces': ['fake', 'redfish'],
        'enabled_inspect_interfaces': ['fake', 'no-inspect', 'redfish'],
    },
    'conductor': {
        'sync_power_state_interval': SYNC_INTERVAL,
        'power_state_read_timeout': 2.0,
        'action_timeout': ACTION_TIMEOUT,
        'power_state_sync_max_retries': SYNC_RETRIES,
        'graceful_shutdown_timeout': 5,
    },
    'redfish': {
        'request_timeout': REQUEST_TIMEOUT,
        'auth_type': 'basic',
        'server_side_retries': 0,
    },
}


class DemoFailed(CliError):
    """Something the tour shows did not happen."""


class Tour:
    """Narration plus the commands it runs and the checks it makes."""

    def __init__(self, url: str, stream: TextIO) -> None:
        self.url = url
        self.stream = stream
        self.client = ApiClient(Settings(url=url))

    def heading(self, text: str) -> None:
        self.stream.write(f'\n=== {text} ===\n\n')
        self.stream.flush()

    def say(self, text: str) -> None:
        for paragraph in textwrap.dedent(text).strip().split('\n\n'):
            self.stream.write(textwrap.fill(' '.join(paragraph.split()),
                                            width=76) + '\n\n')
        self.stream.flush()

    def run(self, *argv: str) -> int:
        """Show and run one ``podium`` command; return its exit status."""
        self.stream.write(f'$ podium {shlex.join(argv)}\n')
        self.stream.flush()
        status = cli_main.main(['--url', self.url, *argv])
        sys.stdout.flush()
        sys.stderr.flush()
        self.stream.write(f'(exit status {status})\n\n')
        return status

    def node(self, name: str, fields: str) -> dict[str, Any]:
        return self.client.request('GET', node_path(name),
                                   params={'fields': fields}) or {}

    def expect(self, what: str, predicate: Callable[[], bool],
               timeout: float) -> float:
        """Wait for ``predicate``; return the seconds it took."""
        started = time.monotonic()
        if not wait_until(predicate, timeout):
            raise DemoFailed(f'the tour expected {what} within '
                             f'{timeout:g}s, and it did not happen')
        return time.monotonic() - started


def _enrollment(systems: Sequence[Any], names: Sequence[str]
                ) -> list[dict[str, Any]]:
    return [{'name': name, 'driver': 'redfish',
             'driver_info': {'redfish_address': system.address,
                             'redfish_system_id': system.system_id,
                             'redfish_username': system.username,
                             'redfish_password': system.password},
             'properties': {'cpus': 16, 'memory_mb': 65536}}
            for system, name in zip(systems, names, strict=True)]


def _verified(node: dict[str, Any]) -> bool:
    return node.get('provision_state') == 'manageable' and \
        bool(node.get('power_state'))


def run(nodes: int, keep_running: bool, stream: TextIO) -> int:
    """Run the tour; 0 when everything it shows happened."""
    if nodes < MIN_NODES:
        raise CliError(f'the demo needs at least {MIN_NODES} nodes')
    from podium.simulator import Simulator

    with tempfile.TemporaryDirectory(prefix='podium-demo-') as state_dir, \
            Simulator(endpoints=nodes, name_prefix='bmc', seed=7,
                      power_state='Off') as sim:
        service = LocalService(state_dir, SERVICE_OPTIONS)
        stream.write(f'Starting simulated BMCs and Podium in {state_dir} '
                     f'...\n')
        tour: Tour | None = None
        try:
            tour = Tour(service.start(), stream)
            _tour(tour, sim, state_dir, nodes)
            if keep_running:
                _keep_running(tour, service)
        finally:
            if tour is not None:
                tour.client.close()
            service.stop()
    stream.write('The demo service is stopped and its state directory '
                 'removed.\n')
    return 0


def _tour(tour: Tour, sim: Any, state_dir: str, count: int) -> None:
    systems = sim.systems
    names = [f'node-{i}' for i in range(1, count + 1)]
    slow, hung = names[1:3], names[-1]
    tour.say(f"""Podium is listening on {tour.url}, with its database and
        log ({state_dir}/podium.log) in a temporary directory. {count}
        simulated Redfish BMCs listen on loopback, each on its own port.
        Power sync runs every {SYNC_INTERVAL}s, a BMC action may take
        {ACTION_TIMEOUT:g}s.""")

    for index in (0, 3):
        sim.set_power(systems[index], 'On')
    tour.heading('1. Enroll the fleet from a file and verify it')
    path = os.path.join(state_dir, 'nodes.yaml')
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(_enrollment(systems, names), handle, sort_keys=False)
    tour.say("""The file lists one node per BMC. Every row is checked
        first (driver known, names unique and free, nested fields well
        formed) and nothing is created unless all rows are valid; then
        the nodes are created concurrently. With --manage each new node
        is then verified: its BMC credentials are checked with a real
        read, and it goes from enroll to manageable. As in Ironic, power
        sync leaves enrolled nodes alone until they are verified. The
        file's first entry (password masked here; Podium masks it in
        every answer):""")
    shown = _enrollment(systems[:1], names[:1])
    shown[0]['driver_info']['redfish_password'] = '******'  # noqa: S105
    first = yaml.safe_dump(shown, sort_keys=False)
    tour.stream.write(textwrap.indent(first, '    ') + '\n')
    if tour.run('node', 'create', '--from-file', path, '--manage',
                '--timeout', '60') != 0:
        raise DemoFailed('bulk enrollment failed')

    tour.heading('2. Verified nodes have their power state')
    tour.say(f"""The BMCs of {names[0]} and {names[3]} report On, the
        others Off. Verification recorded what each BMC said; from now
        on power sync reads every BMC each {SYNC_INTERVAL}s (in
        parallel, each read bounded by a timeout) and records any
        change.""")
    tour.expect('every node to be manageable with a power state',
                lambda: all(_verified(tour.node(
                    n, 'provision_state,power_state')) for n in names), 30)
    tour.run('node', 'list')

    tour.heading('3. Bulk power-on while BMCs misbehave')
    for name in slow:
        sim.set_system_behaviour(systems[names.index(name)],
                                 latency=SLOW_SECONDS)
    sim.set_system_behaviour(systems[-1], hang=True)
    hosts = os.path.join(state_dir, 'hosts.txt')
    with open(hosts, 'w', encoding='utf-8') as handle:
        handle.write('# the whole demo rack; names or BMC addresses\n'
                     + '\n'.join(names[:-1]) + '\n'
                     + f'{systems[-1].address}   # {hung}, by its BMC\n')
    tour.say(f"""Now {slow[0]} and {slow[1]} answer every request after
        {SLOW_SECONDS:g}s, and the BMC of {hung} stops answering at all:
        it accepts connections and never replies, the worst kind. The
        host list names the nodes, one of them by BMC address. Each node
        runs on its own; --wait polls until the node reaches the state
        or its action fails. Progress goes to stderr, the summary to
        stdout, and the exit status is 1 because a node failed.""")
    tour.run('node', 'power', 'on', '--host-list', hosts, '--wait',
             '--timeout', '60')
    healthy = names[:-1]
    if any(tour.node(n, 'power_state').get('power_state') != 'power on'
           for n in healthy):
        raise DemoFailed('a healthy node did not reach power on')
    failed = tour.node(hung, 'power_state,last_error')
    if not failed.get('last_error'):
        raise DemoFailed(f'{hung} has no last_error after its timeout')
    tour.say(f"""The healthy nodes were on at once, the slow ones a few
        seconds later; {hung} ended FAILED with the reason. Its BMC calls
        are bounded (a {REQUEST_TIMEOUT:g}s request timeout within a
        {ACTION_TIMEOUT:g}s action budget), so it held one conductor
        worker for that long and held up nothing else.""")

    tour.heading('4. An out-of-band change, noticed by the next sync')
    sim.set_power(systems[0], 'Off')
    tour.say(f"""Someone pulls the power of {names[0]} behind Podium's
        back (the simulator flips it). The next sync notices the
        difference and records it.""")
    took = tour.expect(f'{names[0]} to be recorded as off', lambda: (
        tour.node(names[0], 'power_state').get('power_state')
        == 'power off'), 30)
    tour.say(f'Recorded after {took:.1f}s:')
    tour.run('node', 'power', 'status', names[0], names[1])

    tour.heading('5. The hung BMC ends in maintenance, nothing else does')
    tour.say(f"""Sync keeps trying {hung}; each read is bounded by a
        timeout, and after {SYNC_RETRIES} failures in a row the node goes
        into maintenance with fault "power failure" (cleared by itself
        once the BMC answers again). The other nodes are synced as
        usual meanwhile.""")
    tour.expect(f'{hung} to go into maintenance', lambda: bool(
        tour.node(hung, 'maintenance').get('maintenance')), 60)
    tour.run('node', 'show', hung, '-c', 'power_state', '-c', 'last_error',
             '-c', 'maintenance', '-c', 'fault', '-c', 'maintenance_reason')
    tour.run('node', 'list', '-c', 'name', '-c', 'power_state', '-c',
             'maintenance', '-c', 'fault')


def _keep_running(tour: Tour, service: LocalService) -> None:
    tour.heading('The demo keeps running')
    tour.stream.write(textwrap.dedent(f"""\
        Podium: {tour.url}   (log: {service.log_path})
        Try, in another terminal:

            export PODIUM_URL={tour.url}
            podium node list --long
            podium node power off node-1 node-2 --wait
            podium node show node-1 -f yaml
            podium node validate node-1
            podium conductor list

        Press Ctrl-C to stop it and remove everything.
        """))
    tour.stream.flush()
    _wait_for_stop_signal()
    tour.stream.write('\nStopping ...\n')


def _wait_for_stop_signal() -> None:
    """Return on Ctrl-C (SIGINT) or SIGTERM.

    The handlers are installed here rather than relying on Python's
    KeyboardInterrupt: a process started with SIGINT ignored (a
    background job of a script, some test runners) inherits that, and
    Python then never raises KeyboardInterrupt, so Ctrl-C would not stop
    the demo.
    """
    stop = threading.Event()
    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda *_: stop.set())
                for signum in stopping}
    try:
        while not stop.wait(3600):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
