"""Scale-out: one API and three conductors over RabbitMQ and a server
database (PostgreSQL and MariaDB), with faults.

Each test starts its own :class:`~podium.tests.functional.cluster.Cluster`
(fresh database, exchange of its own) and, where nodes must be read over
the network, the project's Redfish simulator in its own process. The
checks are the deployment's promises: every node owned by exactly one
live conductor and read once per cycle; actions reach the owner; a
conductor killed with ``kill -9`` mid power action or mid cleaning has
its nodes adopted within ``heartbeat_timeout`` plus a sync interval, the
interrupted work reported and nothing left locked, and a call sent to it
meanwhile answers 503 and is never carried out; a namesake of a live
conductor refuses to start; broker connections cut while actions run
are re-established by every process, the acknowledged actions end and
a call that cannot reach the broker answers 503 in bounded time; a
database cut off (refusing, or silent) gives 503, not a hang, periodic
tasks log sparingly and back off, and everything resumes when it is
back."""

import collections
import contextlib
import statistics
import time
from typing import Any, ClassVar

import testtools

from bench import deploy, sim
from podium.common import states
from podium.db import api as db_api
from podium.db import engine as db_engine
from podium.tests import base
from podium.tests.functional import cluster as cluster_mod
from podium.tests.functional import fault_proxy
from podium.tests.functional.db import backends
from podium.tests.functional.fixtures import wait_until

NODES = 240
#: Sync cycles the read-once check watches.
WINDOW_CYCLES = 5
#: What a loaded two-core machine may add to a bound: a heartbeat
#: interval, the API's polling and scheduling delays.
SLACK = 10.0
#: ``[DEFAULT] rpc_send_retries`` of the broker test.
SEND_RETRIES = 1


class ClusterTestMixin:
    """Starting a cluster on the database server of a subclass, and
    watching it; shared by the scale-out suites."""

    server: ClassVar[backends.ServerDatabase]

    def setUp(self) -> None:
        super().setUp()
        self.require_service(base.tcp_reachable('127.0.0.1', 5672),
                             'RabbitMQ is not reachable on 127.0.0.1:5672')
        self.require_service(self.server.reachable(),
                             f'{self.server.title} is not reachable on '
                             f'127.0.0.1:{self.server.port}')

    def start_cluster(self, **kwargs: Any) -> cluster_mod.Cluster:
        cluster = self.useFixture(cluster_mod.Cluster(self.server, **kwargs))
        self.addDetail('workdir', testtools.content.text_content(
            cluster.workdir))
        # The test enrolls nodes straight into the cluster's database;
        # its connections close before the database is dropped.
        self.config(connection=cluster.database_url, group='database')
        self.addCleanup(db_engine.dispose)
        return cluster

    def start_simulator(self, count: int) -> sim.SimFleet:
        stack = contextlib.ExitStack()
        self.addCleanup(stack.close)
        return stack.enter_context(sim.simulator(count, power_state='Off'))

    def nodes(self, cluster: cluster_mod.Cluster,
              fields: str) -> list[dict[str, Any]]:
        return list(cluster.get(f'/v1/nodes?fields={fields}&limit=1000')[
            'nodes'])

    def wait_spread(self, cluster: cluster_mod.Cluster, hosts: set[str],
                    timeout: float) -> dict[str, int]:
        """Wait until the nodes are spread over exactly ``hosts``, every
        one of them owning some; return the node counts."""
        counts: dict[str, int] = {}

        def spread() -> bool:
            nonlocal counts
            rows = cluster.conductor_rows()
            counts = {host: row['node_count'] for host, row in rows.items()
                      if row['node_count']}
            return set(counts) == hosts and sum(counts.values()) == NODES
        wait_until(spread, timeout, f'nodes spread over {sorted(hosts)}',
                   interval=0.5)
        return counts

    def wait_power(self, cluster: cluster_mod.Cluster, ident: str,
                   power_state: str, timeout: float = 90) -> None:
        wait_until(lambda: cluster.node(ident)['power_state'] ==
                   power_state and not cluster.node(ident)[
                       'target_power_state'],
                   timeout, f'{ident} to reach {power_state}', interval=0.5)

    def assert_nothing_stuck(self, cluster: cluster_mod.Cluster) -> None:
        wait_until(lambda: not any(
            node['reservation'] or node['target_power_state']
            for node in self.nodes(cluster,
                                   'name,reservation,target_power_state')),
            60, 'no node locked or with a target state', interval=0.5)



class _ScaleOutBase(ClusterTestMixin):
    """The checks, on the database server of a subclass."""

    def test_ownership_reads_actions_and_takeover(self) -> None:
        fleet = self.start_simulator(NODES)
        cluster = self.start_cluster()
        db_api.create_nodes([deploy.redfish_node(index, system)
                             for index, system in enumerate(fleet.systems)])
        hosts = set(cluster.conductors)

        # Every node has exactly one owner, a live conductor, and the
        # API's node view agrees with the conductors' counts.
        counts = self.wait_spread(cluster, hosts, 120)
        owners = {node['name']: node['conductor']
                  for node in self.nodes(cluster, 'name,conductor')}
        self.assertEqual(NODES, len(owners))
        self.assertEqual(counts, dict(collections.Counter(owners.values())))

        # Read once per cycle across the cluster, never by two.
        self.assert_read_once(fleet)

        # An action reaches the node's owner, and only it.
        by_owner = {owner: name for name, owner in owners.items()}
        for name in by_owner.values():
            self.assertEqual(202, cluster.set_power(name, 'power on')
                             .status_code)
        for host, name in by_owner.items():
            self.wait_power(cluster, name, states.POWER_ON)
            line = f'Node {name}: power state is now power on'
            for other in hosts:
                self.assertEqual(other == host, line in cluster.log(other),
                                 f'{line!r} in the log of {other}')

        # A second conductor with a live one's name refuses to start.
        victim = sorted(hosts)[0]
        namesake = cluster.start_conductor(victim, log_name='namesake')
        self.assertNotEqual(0, namesake.process.wait(90))
        self.assertIn('is already registered and alive',
                      namesake.log_tail())
        self.assertNotIn('Traceback', namesake.log_tail())
        self.assertEqual(hosts, cluster.alive())

        # kill -9 in the middle of a power action.
        name = next(n for n, owner in owners.items()
                    if owner == victim and n not in by_owner.values())
        system = fleet.systems[int(name.rsplit('-', 1)[1])].uuid
        control = fleet.control(system)
        control.set_behaviour(system, power_delay=120)
        self.assertEqual(202, cluster.set_power(name, 'power on')
                         .status_code)
        wait_until(lambda: cluster.node(name)['reservation'] == victim, 30,
                   f'{victim} to lock {name}', interval=0.2)
        cluster.kill(victim)
        killed_at = time.monotonic()
        survivors = hosts - {victim}
        # Until its heartbeat times out the ring still sends its nodes'
        # calls to the dead conductor: 503 after the RPC timeout.
        other = next(n for n, owner in sorted(owners.items())
                     if owner == victim and n != name
                     and n not in by_owner.values())
        response = cluster.set_power(other, 'power on')
        self.assertEqual(503, response.status_code, response.text)
        self.assertLess(time.monotonic() - killed_at,
                        cluster_mod.RPC_RESPONSE_TIMEOUT + SLACK)

        def adopted() -> bool:
            node = cluster.node(name)
            return (node['reservation'] is None
                    and node['target_power_state'] is None
                    and node['conductor'] in survivors)
        bound = (cluster_mod.HEARTBEAT_TIMEOUT + cluster_mod.SYNC_INTERVAL
                 + SLACK)
        wait_until(adopted, bound, f'{name} adopted after {victim} died',
                   interval=0.2)
        self.addDetail('takeover_seconds', testtools.content.text_content(
            f'{time.monotonic() - killed_at:.1f}'))
        self.assertIn(f'Power action to "power on" was interrupted: '
                      f'conductor {victim} died', cluster.node(name)[
                          'last_error'])
        self.wait_spread(cluster, survivors, 60)
        self.assert_nothing_stuck(cluster)
        # Actions on the adopted node work again.
        control.set_behaviour(system, power_delay=0)
        self.assertEqual(202, cluster.set_power(name, 'power on')
                         .status_code)
        self.wait_power(cluster, name, states.POWER_ON)

        # The conductor comes back and the ring gives it nodes again.
        cluster.start_conductor(victim, log_name=f'{victim}-again')
        self.wait_spread(cluster, hosts, 180)
        # The call answered 503 was never carried out.
        self.assertEqual(states.POWER_OFF, cluster.node(other)['power_state'])

    def assert_read_once(self, fleet: sim.SimFleet) -> None:
        # Let a cycle end so that the window holds whole cycles.
        time.sleep(cluster_mod.SYNC_INTERVAL)
        fleet.reset_stats()
        time.sleep(WINDOW_CYCLES * cluster_mod.SYNC_INTERVAL)
        reads: dict[str, int] = {}
        for control in fleet.controls:
            reads.update(control.request('GET', 'stats?systems=1')[
                'systems'])
        self.assertEqual(NODES, len(reads))
        median = statistics.median(reads.values())
        self.addDetail('reads_per_node', testtools.content.text_content(
            f'median {median}, min {min(reads.values())}, '
            f'max {max(reads.values())} in {WINDOW_CYCLES} intervals'))
        # Every node read; none read about twice as often as the rest,
        # which is what two conductors both reading it would give.
        self.assertGreaterEqual(min(reads.values()), 1)
        self.assertLessEqual(max(reads.values()), median * 1.5 + 1)

    def test_database_outage_gives_503_then_resumes(self) -> None:
        proxy = self.useFixture(fault_proxy.FaultProxy(
            ('127.0.0.1', self.server.port)))
        cluster = self.start_cluster(database_port=proxy.port)
        # node-00011's BMC takes 4 s to act: its action is in flight when
        # the database goes.
        db_api.create_nodes([deploy.fake_node(index, delay=4 * (index == 11))
                             for index in range(NODES)])
        self.wait_spread(cluster, set(cluster.conductors), 120)
        self.assertEqual(202, cluster.set_power('node-00011', 'power on')
                         .status_code)
        wait_until(lambda: cluster.node('node-00011')['reservation'], 30,
                   'the action on node-00011 to start', interval=0.2)

        # A server that resets connections, then one that accepts them
        # and never answers. Each shorter than heartbeat_timeout: a
        # longer outage makes every conductor look dead to the others
        # when it ends.
        for mode in ('reset', 'hang'):
            proxy.set_mode(mode)
            proxy.cut()
            cut_at = time.monotonic()
            response = cluster.request('GET', '/v1/nodes', timeout=60)
            self.assertEqual(503, response.status_code, response.text)
            self.assertLess(time.monotonic() - cut_at, 30)
            self.assertIn('database', response.json()['error_message'])
            # An update refused with 503 is not applied later either.
            response = cluster.request(
                'PATCH', '/v1/nodes/node-00007', timeout=60,
                json=[{'op': 'add', 'path': f'/extra/{mode}',
                       'value': 'refused'}])
            self.assertEqual(503, response.status_code, response.text)
            time.sleep(max(0.0, 6 - (time.monotonic() - cut_at)))
            proxy.set_mode('pass')

            def answers() -> bool:
                return cluster.request('GET', '/v1/nodes').status_code == 200
            wait_until(answers, 60, 'the API to answer again', interval=1)

        # Nothing acknowledged is lost: the action acknowledged before
        # the outage ended or says why not; an update after it sticks.
        self.wait_settled(cluster, 'node-00011', states.POWER_ON)
        # A heartbeat caught on a connection that hangs fails only after
        # [database] socket_timeout, so a conductor may look dead for a
        # moment after the outage; every one must come back.
        cluster.wait_alive(set(cluster.conductors), 60)
        response = cluster.request(
            'PATCH', '/v1/nodes/node-00007',
            json=[{'op': 'add', 'path': '/extra/after', 'value': 'outage'}])
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual({'after': 'outage'},
                         db_api.get_node('node-00007').extra)
        # The API's ring is rebuilt once a heartbeat interval: for that
        # long it may still see every conductor dead, as they all were
        # for a moment after the outage, and refuse with 503.
        def power_on() -> bool:
            response = cluster.set_power('node-00007', 'power on')
            if (response.status_code == 503
                    and 'No conductor is available' in response.text):
                return False
            self.assertEqual(202, response.status_code, response.text)
            return True
        wait_until(power_on, 30, 'the API to route node-00007 again',
                   interval=0.5)
        self.wait_power(cluster, 'node-00007', states.POWER_ON)
        self.assertEqual(set(cluster.conductors), cluster.alive())
        self.assert_nothing_stuck(cluster)
        for host in cluster.conductors:
            self.assertIsNone(cluster.conductors[host].process.poll())
            self.assert_outage_logged_sparingly(cluster.log(host))

    def test_broker_cut_while_actions_in_flight(self) -> None:
        proxy = self.useFixture(fault_proxy.FaultProxy(
            ('127.0.0.1', cluster_mod.RABBIT_PORT)))
        # One retry keeps the test short; the bound below scales with it.
        cluster = self.start_cluster(
            rabbit_port=proxy.port,
            config={'DEFAULT': {'rpc_send_retries': SEND_RETRIES}})
        # The first nodes' BMC takes 3 s to act: their actions are in
        # flight when the broker connections go.
        db_api.create_nodes([deploy.fake_node(index, delay=3 * (index < 6))
                             for index in range(NODES)])
        hosts = set(cluster.conductors)
        self.wait_spread(cluster, hosts, 120)
        slow = [f'node-{index:05d}' for index in range(6)]
        for name in slow:
            self.assertEqual(202, cluster.set_power(name, 'power on')
                             .status_code)

        # Every connection cut: acknowledged actions end on their own and
        # API and conductors reconnect.
        proxy.cut()
        for name in slow:
            self.wait_settled(cluster, name, states.POWER_ON)
            node = cluster.node(name)
            self.assertEqual((states.POWER_ON, None),
                             (node['power_state'], node['last_error']))
        self.assert_actions_reach_every_owner(cluster, hosts, 'power on')

        # Broker unreachable (refused, then silent): a call answers 503
        # in bounded time, never hangs, and is not carried out later.
        # oslo.messaging tries rpc_send_retries times to connect, each
        # up to its 5 s connection timeout and a back-off of 1, 3, 5 s
        # (about 40 s against a silent broker with the default 3).
        bound = (cluster_mod.RPC_RESPONSE_TIMEOUT + SEND_RETRIES * 10
                 + 2 * SLACK)
        for mode in ('reset', 'hang'):
            proxy.set_mode(mode)
            proxy.cut()
            started = time.monotonic()
            response = cluster.set_power('node-00020', 'power on',
                                         timeout=bound + 30)
            elapsed = time.monotonic() - started
            self.assertEqual(503, response.status_code, response.text)
            self.assertLess(elapsed, bound, f'503 after {elapsed:.1f}s')
            self.addDetail(f'503_after_{mode}', testtools.content
                           .text_content(f'{elapsed:.1f}s'))
            # Reads need no conductor.
            self.assertEqual(200, cluster.request('GET', '/v1/nodes')
                             .status_code)
        proxy.set_mode('pass')
        self.assert_actions_reach_every_owner(cluster, hosts, 'power off')
        self.assertEqual(states.POWER_OFF,
                         cluster.node('node-00020')['power_state'])
        self.assertEqual(hosts, cluster.alive())
        self.assert_nothing_stuck(cluster)

    def assert_actions_reach_every_owner(self, cluster: cluster_mod.Cluster,
                                         hosts: set[str],
                                         target: str) -> None:
        """A power action on a node of each conductor is acknowledged
        (after reconnecting: within a minute) and carried out."""
        owners = {node['conductor']: node['name']
                  for node in self.nodes(cluster, 'name,conductor')
                  if node['name'] >= 'node-00100'}
        self.assertEqual(hosts, set(owners))
        for name in owners.values():
            wait_until(lambda name=name: cluster.set_power(
                name, target).status_code == 202, 60,
                f'{target} on {name} to be acknowledged', interval=1)
        for name in owners.values():
            self.wait_power(cluster, name, target)

    def test_kill_during_cleaning(self) -> None:
        cluster = self.start_cluster()
        # node-00000's BMC takes 30 s a call: automated cleaning's first
        # step is still running when its conductor is killed.
        db_api.create_nodes([deploy.fake_node(index, delay=30 * (index == 0))
                             for index in range(NODES)])
        hosts = set(cluster.conductors)
        self.wait_spread(cluster, hosts, 120)
        name = 'node-00000'
        response = cluster.request('PUT', f'/v1/nodes/{name}/states/provision',
                                   json={'target': 'provide'})
        self.assertEqual(202, response.status_code, response.text)
        wait_until(lambda: cluster.node(name)['clean_step'], 60,
                   f'the first clean step of {name} to start', interval=0.5)
        victim = cluster.node(name)['reservation']
        self.assertIn(victim, hosts)
        cluster.kill(victim)
        killed_at = time.monotonic()

        def failed() -> bool:
            return cluster.node(name)['provision_state'] == states.CLEANFAIL
        wait_until(failed, cluster_mod.HEARTBEAT_TIMEOUT
                   + cluster_mod.SYNC_INTERVAL + SLACK,
                   f'{name} to fail cleaning after {victim} died',
                   interval=0.2)
        self.addDetail('clean_failed_after', testtools.content.text_content(
            f'{time.monotonic() - killed_at:.1f}s'))
        node = cluster.node(name)
        self.assertEqual(f'Cleaning was interrupted: conductor {victim} '
                         f'died while it ran.', node['last_error'])
        # Clean failed heads to available, as in Ironic; nothing else is
        # left in flight.
        self.assertEqual((None, states.AVAILABLE, None),
                         (node['reservation'], node['target_provision_state'],
                          node['target_power_state']))
        self.assertFalse(node['clean_step'])
        self.wait_spread(cluster, hosts - {victim}, 60)
        self.assertIn(cluster.node(name)['conductor'], hosts - {victim})
        self.assert_nothing_stuck(cluster)
        # The operator takes the node back; actions work on it again.
        response = cluster.request('PATCH', f'/v1/nodes/{name}', json=[
            {'op': 'remove', 'path': '/driver_info/fake_delay'}])
        self.assertEqual(200, response.status_code, response.text)
        response = cluster.request('PUT', f'/v1/nodes/{name}/states/provision',
                                   json={'target': 'manage'})
        self.assertEqual(202, response.status_code, response.text)
        wait_until(lambda: cluster.node(name)['provision_state']
                   == states.MANAGEABLE, 60, f'{name} to be manageable',
                   interval=0.5)
        self.assertEqual(202, cluster.set_power(name, 'power on')
                         .status_code)
        self.wait_power(cluster, name, states.POWER_ON)

    def wait_settled(self, cluster: cluster_mod.Cluster, ident: str,
                     power_state: str) -> None:
        """Wait until an acknowledged power action on ``ident`` reached
        ``power_state`` or left a ``last_error``, and unlocked it."""
        def settled() -> bool:
            node = cluster.node(ident)
            return (not node['reservation'] and not node['target_power_state']
                    and (node['power_state'] == power_state
                         or bool(node['last_error'])))
        wait_until(settled, 60, f'the action on {ident} to settle',
                   interval=0.5)

    def assert_outage_logged_sparingly(self, log: str) -> None:
        """Periodic tasks said the database was gone, backed off and said
        when they worked again; no traceback a second per task."""
        self.assertNotIn('Failed to call periodic', log)
        failures = [line for line in log.splitlines()
                    if 'podium.conductor.backoff' in line
                    and ('failed' in line or 'still failing' in line)]
        self.assertTrue(failures, 'no periodic task failure logged')
        # Two outages of 6 s: the first failure and at most the 2nd and
        # 4th of each task per outage, not one a second per task.
        self.assertLessEqual(len(failures), 2 * 3 * 4, failures)
        self.assertIn('works again after', log)


class TestScaleOutPostgreSQL(_ScaleOutBase, base.TestCase):
    server = backends.POSTGRESQL


class TestScaleOutMariaDB(_ScaleOutBase, base.TestCase):
    server = backends.MARIADB
