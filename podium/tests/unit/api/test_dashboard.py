"""``/dashboard``: the packaged page and its assets, behind the API's
authentication, and the 400 for filters the page does not know.

What the page does in a browser is tested in
``podium/tests/functional/api/test_dashboard.py``.
"""

import os
import re

from podium.api.routes import dashboard
from podium.tests.unit.api import base, test_auth


class TestDashboard(base.APITestCase):

    def test_page_and_assets(self) -> None:
        page = self.client.get('/dashboard')
        self.assertEqual(200, page.status_code)
        self.assertEqual('text/html; charset=utf-8',
                         page.headers['content-type'])
        self.assertIn("script-src 'self'",
                      page.headers['content-security-policy'])
        # Every asset the page loads is served from the package, with
        # its own media type; nothing comes from another origin.
        referenced = re.findall(r'(?:href|src)="([^"#]+)"', page.text)
        self.assertEqual(['/dashboard/dashboard.css',
                          '/dashboard/dashboard.js'], sorted(referenced))
        scripts = ['/dashboard/dashboard.js']
        # The modules the page script imports, and theirs.
        for script in scripts:
            text = self.client.get(script).text
            scripts += ['/dashboard/' + name for name in re.findall(
                r"from '\./([a-z]+\.js)'", text)
                if '/dashboard/' + name not in scripts]
        self.assertEqual(['/dashboard/dashboard.js', '/dashboard/dom.js',
                          '/dashboard/health.js', '/dashboard/metrics.js'],
                         sorted(scripts))
        for path in ['/dashboard/dashboard.css'] + scripts:
            response = self.client.get(path)
            self.assertEqual(200, response.status_code, path)
            self.assertEqual(
                dashboard.ASSETS[path.rsplit('/', 1)[1]],
                response.headers['content-type'])
            self.assertGreater(len(response.content), 1000)
            # No address of another origin: the SVG namespace is a name.
            self.assertEqual(
                ['http://www.w3.org/2000/svg'] if path.endswith('dom.js')
                else [], re.findall(r'https?://[^\s\'"`]*', response.text),
                path)

    def test_unknown_asset(self) -> None:
        for path in ('/dashboard/other.js', '/dashboard/index.html',
                     '/dashboard/..%2Fapp.py'):
            self.assertError(self.client.get(path), 404)

    def test_filters(self) -> None:
        ok = self.client.get('/dashboard?q=rack&power_state=power%20on'
                             '&maintenance=true&fault=power%20failure')
        self.assertEqual(200, ok.status_code)
        self.assertError(
            self.client.get('/dashboard?q=x&colour=red&size=2'), 400,
            'Unknown query parameter(s): colour, size.',
            'Accepted: conductor_group, driver, fault, maintenance, '
            'power_state, provision_state, q.')

    def test_every_page_filter_is_known_to_the_page(self) -> None:
        """Each filter the server accepts has a form field in the page
        and vice versa, so a bookmarked filter is never dropped."""
        page = self.client.get('/dashboard').text
        fields = set(re.findall(r'id="f-([a-z_]+)"', page))
        self.assertEqual(set(dashboard.PAGE_PARAMETERS), fields)


class TestDashboardAuth(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        htpasswd = os.path.join(self.state_dir, 'htpasswd')
        test_auth.write_htpasswd(htpasswd, {'admin': 's3cret'})
        self.config(auth_strategy='http_basic',
                    http_basic_auth_user_file=htpasswd, group='api')
        self.client = self.make_client()

    def test_credentials_required(self) -> None:
        for path in ('/dashboard', '/dashboard/dashboard.js'):
            response = self.client.get(path)
            self.assertEqual(401, response.status_code, path)
            # The challenge makes a browser ask for credentials.
            self.assertEqual('Basic realm="Baremetal API"',
                             response.headers['www-authenticate'])
        response = self.client.get(
            '/dashboard', auth=('admin', 's3cret'))
        self.assertEqual(200, response.status_code)
