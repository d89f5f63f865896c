"""Conductor groups across processes, on PostgreSQL and RabbitMQ.

Two conductors in the default group and one in group ``rack-b``: nodes
of ``rack-b`` go only to the ``rack-b`` conductor and the others never
to it; when it dies, ``rack-b`` is reported unserved (``GET
/v1/conductors``, empty node ``conductor`` field, a warning in the other
conductors' logs) instead of being silently dropped or taken over by
conductors of another group, and an action on such a node answers 503.
"""

import collections

from bench import deploy
from podium.db import api as db_api
from podium.tests import base
from podium.tests.functional import cluster as cluster_mod
from podium.tests.functional.conductor import test_scale_out
from podium.tests.functional.db import backends
from podium.tests.functional.fixtures import wait_until

GROUP = 'rack-b'


class TestConductorGroups(test_scale_out.ClusterTestMixin, base.TestCase):
    server = backends.POSTGRESQL

    def test_group_nodes_stay_in_their_group(self) -> None:
        cluster = self.start_cluster(groups=['', '', GROUP])
        rack_b = cluster.hostname(2)
        nodes = [deploy.fake_node(index) for index in range(60)]
        for row in nodes[::3]:
            row['conductor_group'] = GROUP
        db_api.create_nodes(nodes)
        in_group = {row['name'] for row in nodes[::3]}

        def owners() -> dict[str, str]:
            return {node['name']: node['conductor'] for node in self.nodes(
                cluster, 'name,conductor,conductor_group')}
        wait_until(lambda: len(set(owners().values())) == 3, 120,
                   'all three conductors to own nodes', interval=0.5)
        seen = owners()
        self.assertEqual({rack_b}, {seen[name] for name in in_group})
        self.assertNotIn(rack_b, {owner for name, owner in seen.items()
                                  if name not in in_group})
        self.assertEqual({rack_b: len(in_group)}, dict(collections.Counter(
            owner for name, owner in seen.items() if name in in_group)))

        # rack-b's only conductor dies: its nodes are reported unserved,
        # not adopted by the default group.
        cluster.kill(rack_b)

        def unserved() -> bool:
            body = cluster.get('/v1/conductors')
            return body['unserved_conductor_groups'] == [GROUP]
        wait_until(unserved, cluster_mod.HEARTBEAT_TIMEOUT
                   + test_scale_out.SLACK, f'{GROUP} reported unserved',
                   interval=0.5)
        seen = owners()
        self.assertEqual({''}, {seen[name] or '' for name in in_group})
        self.assertNotIn('', {seen[name] for name in seen
                              if name not in in_group})
        response = cluster.set_power(sorted(in_group)[0], 'power on')
        self.assertEqual(503, response.status_code, response.text)
        wait_until(lambda: all(
            f'No alive conductor serves conductor group(s) "{GROUP}"'
            in cluster.log(host) for host in cluster.conductors
            if host != rack_b), 30, 'the survivors to log the unserved '
            'group', interval=0.5)
