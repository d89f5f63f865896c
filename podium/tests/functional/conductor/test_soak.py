"""A bounded soak: threads, open files and memory stay flat.

A conductor runs power sync every second over a few hundred fake BMCs,
some slow, some hung, some failing, while operator actions go on in
parallel. After a warm-up, the process's threads, open file descriptors
and RSS are sampled every second; the test fails when any of them
trends upwards (least-squares slope above a small bound), which is what
a leak of threads, sockets, sessions or rows looks like.

The database's descriptors are counted apart. SQLAlchemy's pool keeps
up to ``pool_size`` SQLite connections (two descriptors each: the file
and its write-ahead log) and opens another only when that many are in
use at once, so they step up whenever the concurrency reaches a new
peak, at any time in the run (28 -> 32 descriptors 31 s and 60 s after
the start in two CI runs). That count is bounded by the pool, and the
test checks that bound instead of a slope.
"""

import os
import resource
import statistics
import threading
import time

from testtools import content

from podium.common import exceptions, states
from podium.conductor import service
from podium.db import api as db_api
from podium.db import engine
from podium.tests.unit.conductor import utils

NODES = 300
#: Every n-th node's BMC misbehaves this way (the rest answer at once).
SLOW, HUNG, FAILING = 7, 11, 13
WARM_UP = 20.0
MEASURE = 60.0
#: Upper bounds of the per-second slopes over the measured minute.
MAX_THREADS_PER_S = 0.05
MAX_FDS_PER_S = 0.05
MAX_RSS_KIB_PER_S = 64.0


def _rss_kib() -> int:
    with open('/proc/self/statm', encoding='ascii') as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _fds(database: str) -> tuple[int, int]:
    """Open descriptors of this process: (the database's, the others)."""
    ours = others = 0
    for fd in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink(f'/proc/self/fd/{fd}')
        except OSError:  # closed since the listing
            continue
        if target.startswith(database):
            ours += 1
        else:
            others += 1
    return ours, others


class TestSoak(utils.ConductorTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.config(rpc_transport='local')
        self.config(workers_pool_size=40, sync_power_state_interval=1,
                    power_state_read_timeout=0.5, action_timeout=1.0,
                    heartbeat_interval=1, graceful_shutdown_timeout=5,
                    power_state_sync_max_retries=1000, group='conductor')
        db_api.create_nodes([self._node(index) for index in range(NODES)])
        db_api.unregister_conductor(self.HOST)  # the service registers
        self.conductor = service.ConductorService()
        self.conductor.start()
        self.addCleanup(self.conductor.stop, graceful=False)
        self.stop_actions = threading.Event()
        self.addCleanup(self.stop_actions.set)

    @staticmethod
    def _node(index: int) -> dict[str, object]:
        info: dict[str, object] = {}
        if index % HUNG == 0:
            info['fake_hang'] = True
        elif index % FAILING == 0:
            info['fake_fail'] = 'the BMC answered 500'
        elif index % SLOW == 0:
            info['fake_delay'] = 0.2
        return utils.verified({'name': f'soak-{index}',
                               'driver': 'fake-hardware',
                               'power_state': states.POWER_OFF,
                               'driver_info': info})

    def _operator(self, offset: int) -> None:
        """Power and boot-device actions, as an operator would send."""
        manager = self.conductor.manager
        assert manager is not None
        index = offset
        while not self.stop_actions.is_set():
            name = f'soak-{index % NODES}'
            index += 5
            try:
                if index % 2:
                    manager.change_node_power_state(
                        self.context, name, states.REBOOT)
                else:
                    manager.get_boot_device(self.context, name)
            except (exceptions.NodeLocked, exceptions.NoFreeConductorWorker,
                    exceptions.DriverError):
                pass  # busy, full or broken: what the soak is made of
            self.stop_actions.wait(0.05)

    def test_resources_stay_flat(self) -> None:
        operators = [threading.Thread(target=self._operator, args=(n,),
                                      daemon=True) for n in range(4)]
        for thread in operators:
            thread.start()
        time.sleep(WARM_UP)
        database = engine.get_engine().url.database
        assert database is not None
        samples: list[tuple[float, int, int, int]] = []
        database_fds: list[int] = []
        start = time.monotonic()
        while time.monotonic() - start < MEASURE:
            ours, others = _fds(database)
            database_fds.append(ours)
            samples.append((time.monotonic() - start,
                            threading.active_count(), others, _rss_kib()))
            time.sleep(1.0)
        self.stop_actions.set()
        for thread in operators:
            thread.join(10)
        # Two per pooled connection and the shared-memory index; the
        # pool's overflow connections are closed when given back, but a
        # sample may catch them open.
        pool = engine.get_engine().pool
        # QueuePool has no public reader of its overflow limit.
        bound = 2 * (pool.size() + pool._max_overflow) + 1
        self.addDetail('database_fds', _text(database_fds))
        self.assertLessEqual(max(database_fds), bound)
        self.assertGreater(min(database_fds), 0, 'no database file seen')
        seconds = [sample[0] for sample in samples]
        report = []
        for column, name, bound in ((1, 'threads', MAX_THREADS_PER_S),
                                    (2, 'fds', MAX_FDS_PER_S),
                                    (3, 'rss_kib', MAX_RSS_KIB_PER_S)):
            values = [sample[column] for sample in samples]
            slope = statistics.linear_regression(seconds, values).slope
            report.append(f'{name}: {min(values)}..{max(values)}, '
                          f'slope {slope:.3f}/s (bound {bound}/s)')
            self.addDetail(name, _text(values))
            self.assertLess(slope, bound, '\n'.join(report))
        # The fleet was really exercised: a hung BMC failed every cycle.
        manager = self.conductor.manager
        assert manager is not None
        self.assertGreater(manager.power_sync.failure_count(
            db_api.get_node('soak-11').id), MEASURE / 4)


def _text(values: list[int]) -> content.Content:
    return content.text_content(' '.join(map(str, values)))
