"""The dashboard in a real headless browser against ``podium serve``.

With http_basic on: the page and its assets answer 401 without
credentials; with them the page lists the enrolled nodes, a power
action clicked on the page (two clicks: the first arms the button)
powers a node on as the API then reports, a maintenance click puts
another into maintenance, the sync cycle chart appears, and that node's
page shows the event in its history and takes it out of maintenance.
Screenshots of both views are saved as the test's artefacts and their
paths printed.
"""

import base64
import os
import re
import time
from collections.abc import Callable
from typing import Any

import requests
from testtools import content

from podium.tests import base
from podium.tests.functional import browser
from podium.tests.functional import fixtures as podium_fixtures
from podium.tests.functional.browser import By, WebDriverWait

USER, PASSWORD = 'operator', 'dash-s3cret'
NODES = ('rack1-node0', 'rack1-node1', 'rack1-node2', 'rack2-node0')
#: Seconds any wait of this test may take.
WAIT = 30.0
API_HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest'}


def bmc_of(name: str) -> str:
    """The fake BMC endpoint of an enrolled node."""
    return f'bmc-{name}:623'


class _BrowserTest(base.TestCase):
    """A browser, a deployment (from :meth:`make_deployment`) and an
    API session with its credentials."""

    credentials: tuple[str, str] | None = None

    def make_deployment(self) -> Any:
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()
        binaries, reason = browser.find()
        self.require_service(binaries is not None, reason)
        assert binaries is not None
        self.deployment = self.make_deployment()
        self.session = requests.Session()
        self.session.auth = self.credentials
        self.session.headers.update(API_HEADERS)
        self.browser = self.useFixture(browser.Browser(binaries))
        self.driver = self.browser.driver

    def enroll(self, names: tuple[str, ...]) -> dict[str, str]:
        """Nodes created and verified (manageable: power sync leaves
        enroll nodes alone), read by power sync; ``{name: uuid}``."""
        uuids = {}
        for name in names:
            uuids[name] = self.api('POST', '/v1/nodes', json={
                'driver': 'fake-hardware', 'name': name,
                'driver_info': {'fake_bmc': bmc_of(name)}})['uuid']
            self.api('PUT', f'/v1/nodes/{name}/states/provision',
                     json={'target': 'manage'})
        podium_fixtures.wait_until(
            lambda: all(self.node(n)['provision_state'] == 'manageable'
                        and self.node(n)['power_state'] == 'power off'
                        for n in names), WAIT, 'nodes verified and synced')
        return uuids

    # Helpers -----------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, self.deployment.url + path,
                                        timeout=10, **kwargs)
        self.assertLess(response.status_code, 300, response.text)
        return response.json() if response.content else None

    def node(self, name: str) -> dict[str, Any]:
        return self.api('GET', f'/v1/nodes/{name}')

    def wait_page(self, condition: Callable[[Any], Any], what: str) -> Any:
        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.2,
                                 ignored_exceptions=(
                                     browser.StaleElementReferenceException,)
                                 ).until(condition)
        except browser.TimeoutException:
            error = self.driver.find_element(By.ID, 'error').text
            raise AssertionError(
                f'page: timed out after {WAIT}s waiting for {what}; error '
                f'banner: {error!r}; console: {self.browser.console()}'
            ) from None

    def click_twice(self, uuid: str, action: str) -> None:
        """Click an action button, then its confirmation if it asks."""
        selector = (f'tr[data-node="{uuid}"] '
                    f'button[data-action="{action}"]')
        self.wait_page(lambda d: d.find_element(By.CSS_SELECTOR, selector),
                       f'the {action} button').click()
        armed = self.wait_page(
            lambda d: d.find_element(By.CSS_SELECTOR, selector),
            f'the {action} button again')
        if 'confirm' in (armed.get_attribute('class') or ''):
            self.assertTrue(armed.text.startswith('Confirm'), armed.text)
            armed.click()

    def cell(self, uuid: str, field: str) -> str:
        return self.driver.find_element(
            By.CSS_SELECTOR,
            f'tr[data-node="{uuid}"] [data-field="{field}"]').text

    def screenshot(self, name: str) -> str:
        path = os.path.join(browser.artefact_dir(),
                            f'{self.id().rsplit(".", 1)[-1]}-{name}.png')
        self.assertTrue(self.driver.save_screenshot(path), path)
        self.addDetail(f'screenshot-{name}', content.text_content(path))
        print(f'dashboard screenshot: {path}')
        return path

    def check_metrics_module(self) -> None:
        """The page's own Prometheus parsing, run in the browser on a
        known scrape: escaped label values, sums over series, and a
        quantile interpolated as Prometheus' histogram_quantile does."""
        result = self.driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            import('/dashboard/metrics.js').then(({Metrics}) => {
              const m = new Metrics(arguments[0]);
              done([m.total('t_total'), m.metric('t_total', {a: 'x"y'}),
                    m.quantile(0.5, 'h'), m.quantile(0.95, 'h'),
                    m.quantile(0.5, 'none'),
                    m.groupBy('t_total', ['a']).length]);
            }).catch((error) => done(String(error)));
            """,
            '# TYPE t counter\n'
            't_total{a="x\\"y"} 3\n'
            't_total{a="z"} 4\n'
            '# TYPE h histogram\n'
            'h_bucket{le="1.0"} 2\n'
            'h_bucket{le="2.0"} 6\n'
            'h_bucket{le="4.0"} 10\n'
            'h_bucket{le="+Inf"} 10\n'
            'h_count 10\nh_sum 21.0\n')
        # Median: rank 5 of 10 falls in (1, 2] holding ranks 3..6:
        # 1 + (5 - 2) / 4. p95: rank 9.5 in (2, 4]: 2 + 2 * 3.5 / 4.
        self.assertEqual([7, 3, 1.75, 3.75, None, 2], result)

class TestDashboardInBrowser(_BrowserTest):
    """``podium serve`` with http_basic."""

    credentials = (USER, PASSWORD)

    def make_deployment(self) -> Any:
        htpasswd = podium_fixtures.write_htpasswd(
            self.useFixture(podium_fixtures.fixtures.TempDir()).path,
            USER, PASSWORD)
        return self.useFixture(podium_fixtures.AllInOne(
            {'api': {'auth_strategy': 'http_basic',
                     'http_basic_auth_user_file': htpasswd},
             # Cycles every second, so the chart has points soon.
             'conductor': {'sync_power_state_interval': 1}},
            credentials=(USER, PASSWORD)))

    # The test ------------------------------------------------------------

    def test_dashboard(self) -> None:
        url = self.deployment.url
        # Without credentials: a challenge, for the page and its assets.
        for path in ('/dashboard', '/dashboard/dashboard.js'):
            response = requests.get(url + path, timeout=10)
            self.assertEqual(401, response.status_code, path)
            self.assertIn('Basic', response.headers['WWW-Authenticate'])
        # A filter the page does not know: a clear 400, not a page.
        response = self.session.get(url + '/dashboard?colour=red',
                                    timeout=10)
        self.assertEqual(400, response.status_code)
        self.assertIn('Unknown query parameter(s): colour', response.text)

        uuids = self.enroll(NODES)

        token = base64.b64encode(f'{USER}:{PASSWORD}'.encode()).decode()
        self.browser.set_basic_auth(f'Basic {token}')
        self.driver.get(url + '/dashboard')
        self.check_metrics_module()
        self.wait_page(
            lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                          'tr[data-node]')) == len(NODES),
            'the node rows')
        listed = [e.text for e in self.driver.find_elements(
            By.CSS_SELECTOR, 'tr[data-node] td:first-child a')]
        self.assertEqual(sorted(NODES), listed)

        # The search narrows the table, then is cleared.
        search = self.driver.find_element(By.ID, 'f-q')
        search.send_keys('rack2')
        self.wait_page(lambda d: [e.text for e in d.find_elements(
            By.CSS_SELECTOR, 'tr[data-node] td:first-child a')]
            == ['rack2-node0'], 'the search to narrow the table')
        self.driver.find_element(By.CSS_SELECTOR,
                                 '#filters button[type=reset]').click()
        self.wait_page(lambda d: len(d.find_elements(
            By.CSS_SELECTOR, 'tr[data-node]')) == len(NODES),
            'the cleared search')

        # Power on, clicked on the page; the API and the page agree.
        target = uuids['rack1-node1']
        self.assertEqual('power off', self.cell(target, 'power_state'))
        self.click_twice(target, 'power-on')
        podium_fixtures.wait_until(
            lambda: self.node(target)['power_state'] == 'power on', WAIT,
            'the API to report the node powered on')
        self.wait_page(lambda d: self.cell(target, 'power_state')
                       == 'power on', 'the page to show power on')
        self.assertEqual('power off', self.node('rack1-node0')['power_state'])

        # Maintenance, clicked on the page.
        resting = uuids['rack2-node0']
        self.click_twice(resting, 'maintenance-on')
        podium_fixtures.wait_until(
            lambda: self.node(resting)['maintenance'], WAIT,
            'the API to report maintenance')
        self.wait_page(lambda d: d.find_elements(
            By.CSS_SELECTOR,
            f'tr[data-node="{resting}"] button[data-action='
            f'"maintenance-off"]'), 'the maintenance-off button')

        # Sync cycle time, from /metrics, drawn as the page refreshes.
        self.driver.find_element(
            By.CSS_SELECTOR, '#interval option[value="2"]').click()
        self.wait_page(lambda d: d.find_elements(By.CSS_SELECTOR,
                                                 'svg.spark polyline'),
                       'the sync cycle sparkline')
        overview = self.driver.find_element(By.ID, 'overview').text
        self.assertIn(f'{len(NODES)}\nnodes enrolled', overview)
        self.assertIn('1\npower on', overview)
        self.assertIn('1\nin maintenance', overview)
        self.assertIn(f'{len(NODES)}\nprovision: manageable', overview)
        self.assertFalse(self.driver.find_element(
            By.ID, 'error').is_displayed())
        # A laptop's width; tall enough for the whole page in one image.
        self.driver.set_window_size(1400, 1500)
        self.screenshot('fleet')
        self.driver.set_window_size(1400, 1000)

        # The node page: the node, and the maintenance clicked above in
        # its history, by the user who logged in.
        self.driver.find_element(
            By.CSS_SELECTOR, f'tr[data-node="{resting}"] a').click()
        self.wait_page(lambda d: 'Maintenance set: set from the dashboard'
                       in d.find_element(By.ID, 'node-history').text,
                       'the maintenance event in the node history')
        self.assertIn(USER, self.driver.find_element(
            By.ID, 'node-history').text)
        self.assertEqual('Node rack2-node0', self.driver.find_element(
            By.ID, 'node-title').text)
        self.assertEqual('true', self.driver.find_element(
            By.CSS_SELECTOR, '#node-detail [data-field="maintenance"]').text)
        self.screenshot('node')

        # Maintenance off from the node page.
        started = time.monotonic()
        self.wait_page(lambda d: d.find_element(
            By.CSS_SELECTOR,
            '#node-actions button[data-action="maintenance-off"]'),
            'the maintenance-off button').click()
        podium_fixtures.wait_until(
            lambda: not self.node(resting)['maintenance'],
            WAIT - (time.monotonic() - started), 'maintenance off')
        self.wait_page(lambda d: 'Maintenance unset.' in d.find_element(
            By.ID, 'node-history').text, 'the unset event on the page')
        # Its BMC's health, as the conductor keeps it: read again now that
        # the node is out of maintenance (the API serves it from a cache
        # of a few seconds, so it may take a refresh or two).
        self.wait_page(lambda d: re.match(
            f'{re.escape(bmc_of("rack2-node0"))}: answering, 0 '
            r'failure\(s\) in a row, p95 ', d.find_element(
                By.CSS_SELECTOR,
                '#node-detail [data-field="bmc_health"]').text),
            'the BMC health of the node')

        # A BMC that stops answering goes to the top of the worst BMCs.
        self.driver.get(url + '/dashboard#/')
        self.wait_page(lambda d: len(d.find_elements(
            By.CSS_SELECTOR, '#worst-bmcs tr[data-bmc]')) == len(NODES),
            'every BMC in the worst-BMC table')
        failing = bmc_of('rack1-node2')
        self.api('PATCH', '/v1/nodes/rack1-node2', json=[
            {'op': 'add', 'path': '/driver_info/fake_fail',
             'value': 'no route to host'}])
        first = '#worst-bmcs tr[data-bmc]'
        self.wait_page(lambda d: d.find_element(By.CSS_SELECTOR, first)
                       .get_attribute('data-bmc') == failing and
                       d.find_element(By.CSS_SELECTOR,
                                      f'{first} [data-field="status"]')
                       .text == 'suspect', 'the failing BMC on top')
        self.driver.set_window_size(1400, 1450)
        self.screenshot('bmcs')


class TestDashboardSplit(_BrowserTest):
    """``podium-api`` apart from ``podium-conductor`` (RabbitMQ,
    PostgreSQL): the API's own /metrics has no conductor figures, so
    the page reads them through ``/v1/conductors/{host}/metrics``."""

    def make_deployment(self) -> Any:
        self.require_service(base.tcp_reachable('127.0.0.1', 5672),
                             'RabbitMQ is not running on 127.0.0.1:5672')
        self.require_service(base.tcp_reachable('127.0.0.1', 5432),
                             'PostgreSQL is not running on 127.0.0.1:5432')
        return self.useFixture(podium_fixtures.SplitDeployment(
            {'conductor': {'sync_power_state_interval': 1}}))

    def test_conductor_figures_relayed(self) -> None:
        own = self.session.get(self.deployment.url + '/metrics', timeout=10)
        self.assertNotIn('podium_conductor_pool_size{', own.text)
        self.enroll(('split-0', 'split-1'))
        self.driver.get(self.deployment.url + '/dashboard')
        self.wait_page(lambda d: len(d.find_elements(
            By.CSS_SELECTOR, 'tr[data-node]')) == 2, 'the node rows')
        # Pool load of the conductor, power sync and periodic tasks: all
        # from the conductor's process, relayed by the API.
        self.wait_page(lambda d: re.search(
            r'\balive\b.* \d+ / \d+$', d.find_element(
                By.ID, 'conductors').text, re.MULTILINE),
            'the conductor pool load')
        self.wait_page(lambda d: d.find_elements(By.ID, 'sync-last'),
                       'power sync figures')
        self.assertIn('_sync_power_states', self.driver.find_element(
            By.ID, 'periodics').text)
        # The BMC table refreshes on its own; the sync figures may come
        # first, so wait for it rather than read it once.
        self.wait_page(lambda d: 'get_power_state' in d.find_element(
            By.ID, 'bmcs').text, 'the BMC latency of get_power_state')
        self.assertFalse(self.driver.find_element(
            By.ID, 'error').is_displayed())
        self.screenshot('split')
