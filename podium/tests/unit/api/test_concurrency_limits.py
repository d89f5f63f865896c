"""[conductor] max_concurrent_deploy, max_concurrent_clean and
max_concurrent_deploy_by_group: refused with 503 beyond the bound,
nothing changed, and room again once a node leaves the counted states."""

import concurrent.futures

from podium.common import context as podium_context
from podium.common import exceptions
from podium.db import api as db_api
from podium.tests.unit.api import base


class ConcurrencyLimitTest(base.APITestCase):

    def make(self, name: str, state: str = 'available',
             group: str = '') -> None:
        self.create_node(name=name, deploy_interface='anaconda',
                         boot_interface='pxe', conductor_group=group)
        db_api.update_node(name, {'provision_state': state})

    def deploy(self, name: str) -> None:
        self.move('active', 'wait call-back', name)

    def state(self, name: str) -> str:
        return str(self.client.get(f'/v1/nodes/{name}').json()[
            'provision_state'])

    def test_deploy_limit(self) -> None:
        self.config(max_concurrent_deploy=2, group='conductor')
        for name in ('n1', 'n2', 'n3'):
            self.make(name)
        self.deploy('n1')
        self.deploy('n2')
        fault = self.assertError(self.provision('active', 'n3'), 503,
                                 'concurrent action limit for '
                                 'provisioning')
        self.assertNotIn('2', fault)  # the bound itself is not told
        self.assertEqual('available', self.state('n3'))
        self.assertEqual(0, len(self.client.get(
            '/v1/nodes/n3/history').json()['history']))
        # A node leaving wait call-back (here: aborted) makes room.
        self.assertEqual(202, self.provision('abort', 'n1').status_code)
        self.wait_for('/v1/nodes/n1', 'provision_state', 'deploy failed')
        self.deploy('n3')

    def test_concurrent_requests_never_overshoot(self) -> None:
        self.config(max_concurrent_deploy=3, group='conductor')
        names = [f'n{i}' for i in range(8)]
        for name in names:
            self.make(name)
        manager = self.conductor.manager
        context = podium_context.RequestContext()

        def deploy(name: str) -> bool:
            try:
                manager.do_provisioning_action(context, name, 'active')
            except exceptions.ConcurrentActionLimit:
                return False
            return True

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            accepted = list(pool.map(deploy, names))
        self.assertEqual(3, sum(accepted))
        self.assertEqual(3, sum(
            db_api.count_nodes({'provision_state': state})
            for state in ('deploying', 'wait call-back')))

    def test_group_limit(self) -> None:
        self.config(max_concurrent_deploy_by_group={'Rack-A': 1},
                    group='conductor')
        self.make('a1', group='rack-a')
        self.make('a2', group='rack-a')
        self.make('b1', group='rack-b')
        self.make('none')
        self.deploy('a1')
        self.assertError(self.provision('active', 'a2'), 503,
                         'conductor group "rack-a"')
        self.deploy('b1')
        self.deploy('none')
        self.assertEqual('available', self.state('a2'))

    def test_clean_limit(self) -> None:
        self.config(max_concurrent_clean=1, group='conductor')
        self.make('busy', state='clean wait')
        self.make('m1', state='manageable')
        self.assertError(self.provision('provide', 'm1'), 503,
                         'limit for cleaning')
        self.assertEqual('manageable', self.state('m1'))
        db_api.update_node('busy', {'provision_state': 'clean failed'})
        self.assertEqual(202, self.provision('provide', 'm1').status_code)
        self.wait_for('/v1/nodes/m1', 'provision_state', 'available')

    def test_undeploy_cleaning_is_not_refused(self) -> None:
        self.config(max_concurrent_clean=1, group='conductor')
        self.make('busy', state='clean wait')
        self.create_node(name='act')
        db_api.update_node('act', {'provision_state': 'active'})
        self.assertEqual(202, self.provision('deleted', 'act').status_code)
        self.wait_for('/v1/nodes/act', 'provision_state', 'available')
