"""Hung BMCs do not stall the API: requests that wait on a BMC wait
outside the request threads, and a full pool answers 503 at once."""

import time

import requests

from podium.tests import base, threads
from podium.tests.functional import fixtures as podium_fixtures

HUNG_NODES = 60
#: What the API lets wait on BMCs at once; the rest must get 503.
MAX_BMC_REQUESTS = 40
#: Seconds a hung BMC holds each request (the fake BMC hangs this long).
ACTION_TIMEOUT = 10
#: What "answers fast" means on a loaded two-core test machine.
FAST = 3.0
#: Node names need microversion 1.5; a request without one gets 1.1.
LATEST = {'X-OpenStack-Ironic-API-Version': 'latest'}


class TestHungBMCs(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.podium = self.useFixture(podium_fixtures.AllInOne({
            'api': {'max_bmc_requests': MAX_BMC_REQUESTS},
            'conductor': {'action_timeout': ACTION_TIMEOUT,
                          'sync_power_state_interval': 3600}}))
        self.uuids = []
        for index in range(HUNG_NODES):
            response = requests.post(
                f'{self.podium.url}/v1/nodes', timeout=30, headers=LATEST,
                json={'name': f'hung-{index}', 'driver': 'fake-hardware',
                      'driver_info': {'fake_hang': True}})
            self.assertEqual(201, response.status_code, response.text)
            self.uuids.append(response.json()['uuid'])

    def _ask(self, index: int) -> tuple[int, float]:
        url = (f'{self.podium.url}/v1/nodes/{self.uuids[index]}'
               f'/management/boot_device')
        started = time.monotonic()
        if index % 2:
            response = requests.put(url, json={'boot_device': 'pxe'},
                                    timeout=ACTION_TIMEOUT * 6)
        else:
            response = requests.get(url, timeout=ACTION_TIMEOUT * 6)
        return response.status_code, time.monotonic() - started

    def test_node_list_answers_while_bmcs_hang(self) -> None:
        with threads.executor(HUNG_NODES) as pool:
            futures = [pool.submit(self._ask, index)
                       for index in range(HUNG_NODES)]
            # Let every hung request reach the API before measuring.
            time.sleep(2)
            slowest = 0.0
            while not all(future.done() for future in futures):
                started = time.monotonic()
                response = requests.get(f'{self.podium.url}/v1/nodes',
                                        timeout=30)
                slowest = max(slowest, time.monotonic() - started)
                self.assertEqual(200, response.status_code)
                self.assertEqual(HUNG_NODES, len(response.json()['nodes']))
                time.sleep(0.2)
            outcomes = [future.result() for future in futures]
        self.assertLess(slowest, FAST, 'GET /v1/nodes stalled')
        refused = [took for code, took in outcomes if code == 503]
        waited = [code for code, _took in outcomes if code != 503]
        # Beyond what may wait on BMCs, requests are refused at once.
        self.assertEqual(HUNG_NODES - MAX_BMC_REQUESTS, len(refused),
                         outcomes)
        self.assertLess(max(refused), FAST, outcomes)
        # The hung BMC's calls end at their deadline, with an error.
        self.assertEqual({500}, set(waited), outcomes)
        # Answered without the BMC, through the same path.
        for path in ('validate', 'management/boot_device/supported'):
            answer = requests.get(
                f'{self.podium.url}/v1/nodes/{self.uuids[0]}/{path}',
                timeout=30)
            self.assertEqual(200, answer.status_code, answer.text)
