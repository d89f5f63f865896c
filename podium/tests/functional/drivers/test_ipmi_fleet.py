"""Many IPMI BMCs: logged into at once, and synced while some misbehave.

Power sync does exactly this on its first cycle over an IPMI fleet: every
login must be prompt, and none may wait for another BMC's. The BMCs are
pyghmi's fake BMC in a child process, so the only pyghmi code in this
process is the driver's.
"""

import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time

from podium.common import states
from podium.conf import CONF
from podium.db import api as db_api
from podium.drivers.modules.ipmi import power, reactor
from podium.tests import base, threads
from podium.tests.functional.drivers import emulators
from podium.tests.unit import process
from podium.tests.unit.conductor import utils
from podium.tests.unit.conductor.utils import wait_for
from podium.tests.unit.drivers import helpers

BMCS = 120
TIMEOUT = 10.0


class ConcurrentFirstLoginsTestCase(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.bmcs = self.useFixture(emulators.FakeIpmiBmcs(count=BMCS))
        self.addCleanup(reactor.REACTOR.clear)

    def test_every_bmc_answers_when_all_log_in_at_once(self) -> None:
        interface = power.IPMIPower()
        tasks = [helpers.task_for(self.bmcs.driver_info(index),
                                  timeout=TIMEOUT, driver='ipmi')
                 for index in range(BMCS)]
        for index, task in enumerate(tasks):
            task.node.id = index
        readers = threads.DaemonExecutor(BMCS)
        self.addCleanup(readers.shutdown, wait=False, cancel_futures=True)
        futures = [readers.submit(interface.get_power_state, task)
                   for task in tasks]
        answers = [future.result(TIMEOUT + 5) for future in futures]
        self.assertEqual([states.POWER_OFF] * BMCS, answers)
        self.bmcs.set_power(5, 'on')
        # Sessions are reused: the second round needs no login.
        self.assertEqual(states.POWER_ON,
                         interface.get_power_state(tasks[5]))
        self.assertEqual(BMCS, reactor.REACTOR.sessions())
        # Only the reactor thread ever ran pyghmi code.
        self.assertIn('podium-ipmi-reactor',
                      [t.name for t in threading.enumerate()])


#: Seconds of sync cycles the fault test runs (the issue asks for
#: minutes; CI keeps the default short).
FAULT_SECONDS = float(os.environ.get('PODIUM_IPMI_FLEET_SECONDS', '40'))
FAULT_BMCS = 110
HUNG = range(0, 11)  # a tenth: every command after login dropped
GARBAGE, NOCIPHER, RESET = 11, 12, 13
DEAD = 3  # nodes whose port has no BMC at all
# Generous against a loaded CI machine: the fake BMCs are one Python
# process serving them all.
READ_TIMEOUT = 4
GRACEFUL = 5
SYNC_INTERVAL = 2
#: A cycle waits for its hung reads (and a push-back), never longer.
CYCLE_BOUND = READ_TIMEOUT + 3
#: An out-of-band change is pushed back by the cycle after the one that
#: was running when it happened.
PUSH_BACK_BOUND = 2 * (CYCLE_BOUND + SYNC_INTERVAL)
#: The pool grows with the work and shrinks when idle; this bounds it.
POOL_SIZE = 80
#: Threads of a conductor that are not pool workers (main, heartbeat,
#: periodic runner, IPMI reactor, log writer, watchdog, ...), rounded up.
FIXED_THREADS = 25

CONDUCTOR_CONFIG = """
[DEFAULT]
host = ipmi-fleet
debug = true
state_path = {state}
rpc_transport = local
enabled_hardware_types = ipmi
enabled_power_interfaces = ipmi
enabled_management_interfaces = ipmi
enabled_inspect_interfaces = no-inspect

[database]
connection = {connection}

[conductor]
sync_power_state_interval = {sync_interval}
power_state_read_timeout = {read_timeout}
power_state_sync_max_retries = 1000
force_power_state_during_sync = true
heartbeat_interval = 1
graceful_shutdown_timeout = {graceful}
workers_pool_size = {pool_size}

[ipmi]
command_timeout = 1.5
command_retries = 1
power_state_poll_interval = 0.2
"""

_CYCLE_RE = re.compile(r'Power sync: (\d+) node\(s\) read.* in ([\d.]+)s')


class FleetUnderFaultsTestCase(base.DbTestCase):
    """A real conductor syncing 113 IPMI nodes, some of them broken.

    A tenth of the BMCs hang after login, a few ports have no BMC, one
    BMC answers garbage, one resets the session on every command and one
    refuses every cipher suite; power actions (the sync pushing back
    out-of-band changes) run on healthy nodes meanwhile. No healthy node
    may ever fail a read, no cycle may outlast the read timeout, the
    conductor's threads stay flat, and SIGTERM ends it in time.
    """

    def setUp(self) -> None:
        super().setUp()
        self.bmcs = self.useFixture(emulators.FakeIpmiBmcs(FAULT_BMCS))
        self.nodes: dict[str, int] = {}
        for index in range(FAULT_BMCS):
            self.add_node(self.name_of(index), self.bmcs.driver_info(index))
        for index in range(DEAD):
            self.add_node(f'dead-{index}', self.bmcs.driver_info(
                0, port=emulators.free_port(socket.SOCK_DGRAM)))

    @staticmethod
    def name_of(index: int) -> str:
        if index in HUNG:
            return f'hung-{index}'
        return {GARBAGE: 'garbage', NOCIPHER: 'nocipher',
                RESET: 'reset'}.get(index, f'healthy-{index}')

    def add_node(self, name: str, info: dict[str, object]) -> None:
        node = db_api.create_node(utils.verified({
            'name': name, 'driver': 'ipmi', 'power_state': states.POWER_OFF,
            'driver_info': info}))
        self.nodes[name] = node.id

    def start_conductor(self) -> subprocess.Popen[str]:
        self.conductor = self.useFixture(process.ConductorProcess(
            self.state_dir, CONDUCTOR_CONFIG.format(
                state=self.state_dir, connection=CONF.database.connection,
                read_timeout=READ_TIMEOUT, graceful=GRACEFUL,
                sync_interval=SYNC_INTERVAL, pool_size=POOL_SIZE)))
        return self.conductor.child

    def output(self) -> str:
        return self.conductor.output()

    def last_errors(self) -> dict[str, str | None]:
        return {name: db_api.get_node(node_id).last_error
                for name, node_id in self.nodes.items()}

    @staticmethod
    def threads(child: subprocess.Popen[str]) -> int:
        with open(f'/proc/{child.pid}/status', encoding='utf-8') as status:
            for line in status:
                if line.startswith('Threads:'):
                    return int(line.split()[1])
        raise AssertionError('no thread count')

    def test_faults_cost_only_their_own_nodes(self) -> None:
        for mode, indexes in (('garbage', [GARBAGE]),
                              ('nocipher', [NOCIPHER]),
                              ('reset', [RESET])):
            for index in indexes:
                self.bmcs.set_mode(index, mode)
        child = self.start_conductor()
        healthy = [name for name in self.nodes if name.startswith('healthy')]
        # Every healthy node read once: then the hung BMCs wedge.
        wait_for(lambda: child.poll() is not None
                 or len(_CYCLE_RE.findall(self.output())) >= 2,
                 timeout=process.TIMEOUT, interval=0.2,
                 what='two sync cycles')
        self.assertIsNone(child.poll(), self.output()[-3000:])
        for index in HUNG:
            self.bmcs.set_mode(index, 'hang')
        thread_counts: list[int] = []
        flipped = 0
        #: When each BMC was last switched on behind the conductor's back.
        last_flip: dict[int, float] = {}
        until = time.monotonic() + FAULT_SECONDS
        while time.monotonic() < until:
            # An out-of-band change the sync pushes back: a power action.
            index = RESET + 1 + flipped % (FAULT_BMCS - RESET - 1)
            self.bmcs.set_power(index, 'on')
            last_flip[index] = time.monotonic()
            flipped += 1
            thread_counts.append(self.threads(child))
            errors = self.last_errors()
            self.assertEqual({}, {name: errors[name] for name in healthy
                                  if errors[name]})
            time.sleep(1.0)
        self.assertIsNone(child.poll(), self.output()[-3000:])

        errors = self.last_errors()
        for name, error in errors.items():
            if name.startswith(('hung', 'dead', 'reset')):
                self.assertIn('did not answer within', error or '', name)
        self.assertIn('malformed answer', errors['garbage'] or '')
        self.assertIn('No Cipher suite match', errors['nocipher'] or '')
        log = self.output()
        for name in healthy:
            self.assertNotIn(f'Node {name}: power state read failed', log)
        # Every out-of-band change was pushed back within two cycles: the
        # cycle running at the flip may have read that BMC just before
        # it, the next one reads it and pushes back. A long run flips the
        # same BMC again: judge each by its last flip.
        checked = time.monotonic()
        for index, when in last_flip.items():
            if checked - when > PUSH_BACK_BOUND:
                self.assertEqual('off', self.bmcs.state(index)[0],
                                 f'BMC {index}, switched on '
                                 f'{checked - when:.1f}s ago')
        # A cycle waits for its hung reads (and a push-back), never
        # longer; the first two also log every BMC in.
        cycles = [float(secs) for _n, secs in _CYCLE_RE.findall(log)]
        self.assertGreaterEqual(len(cycles), FAULT_SECONDS / 8)
        self.assertLess(max(cycles[2:]), CYCLE_BOUND, cycles)
        # The pool follows the work: it grows while a cycle reads and
        # shrinks between cycles, down to the workers that wait on hung
        # reads still in flight. Never past its size, and no leak: once
        # the hung reads overlap every cycle (after the first few
        # samples), the floor at the end is the floor at the start.
        self.assertLessEqual(max(thread_counts), POOL_SIZE + FIXED_THREADS,
                             thread_counts)
        # Medians, not minimums: hung reads that end together dip the
        # floor for a sample or two at any time.
        settled = thread_counts[4:]
        third = max(len(settled) // 3, 1)
        self.assertLessEqual(statistics.median(settled[-third:]),
                             statistics.median(settled[:third]) + 5,
                             thread_counts)

        started = time.monotonic()
        child.send_signal(signal.SIGTERM)
        self.assertEqual(0, child.wait(GRACEFUL + 10), log[-3000:])
        # In-flight work gets GRACEFUL seconds, then the stop itself and
        # the interpreter's exit (a loaded CI machine: a few more).
        self.assertLess(time.monotonic() - started, GRACEFUL + 8)
        self.assertNotIn('Traceback', self.output())
