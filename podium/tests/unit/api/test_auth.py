"""HTTP basic authentication."""

import base64
import os

import bcrypt
import fixtures

from podium.api import auth
from podium.tests.unit.api import base


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f'{user}:{password}'.encode()).decode()
    return {'Authorization': f'Basic {token}'}


def write_htpasswd(path: str, users: dict[str, str]) -> None:
    with open(path, 'w', encoding='utf-8') as handle:
        for user, password in users.items():
            hashed = bcrypt.hashpw(password.encode(),
                                   bcrypt.gensalt(rounds=4)).decode()
            # htpasswd -B writes the $2y$ prefix.
            handle.write(f'{user}:{hashed.replace("$2b$", "$2y$", 1)}\n')


class TestBasicAuth(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.htpasswd = os.path.join(self.state_dir, 'htpasswd')
        write_htpasswd(self.htpasswd, {'admin': 's3cret'})
        self.config(auth_strategy='http_basic',
                    http_basic_auth_user_file=self.htpasswd, group='api')
        self.client = self.make_client()

    def test_missing_and_wrong_credentials(self) -> None:
        for headers in ({}, _basic('admin', 'wrong'), _basic('nobody', 'x'),
                        {'Authorization': 'Basic !!!'},
                        {'Authorization': 'Bearer abc'}):
            response = self.client.get('/v1/nodes', headers=headers)
            self.assertError(response, 401, 'authentication')
            self.assertEqual('Basic realm="Baremetal API"',
                             response.headers['www-authenticate'])
            self.assertEqual('1.115', response.headers[
                'X-OpenStack-Ironic-API-Maximum-Version'])

    def test_unknown_user_answered_like_wrong_password(self) -> None:
        checkpw = self.useFixture(fixtures.MockPatch(
            'bcrypt.checkpw', side_effect=bcrypt.checkpw)).mock
        answers = []
        for user in ('admin', 'nobody'):
            checkpw.reset_mock()
            response = self.client.get('/v1/nodes',
                                       headers=_basic(user, 'wrong'))
            answers.append((response.status_code, response.text,
                            response.headers['www-authenticate']))
            # One bcrypt check each, at the file's cost: equal time.
            self.assertEqual(1, checkpw.call_count, user)
            self.assertTrue(checkpw.call_args.args[1].startswith(b'$2b$04$'))
        self.assertEqual(answers[0], answers[1])

    def test_valid_credentials(self) -> None:
        response = self.client.get('/v1/nodes',
                                   headers=_basic('admin', 's3cret'))
        self.assertEqual(200, response.status_code)

    def test_discovery_is_public(self) -> None:
        for path in ('/', '/v1', '/v1/'):
            self.assertEqual(200, self.client.get(path).status_code)

    def test_verification_cached(self) -> None:
        checkpw = self.useFixture(fixtures.MockPatch(
            'bcrypt.checkpw', side_effect=bcrypt.checkpw)).mock
        headers = _basic('admin', 's3cret')
        for _ in range(5):
            self.assertEqual(200, self.client.get(
                '/v1/nodes', headers=headers).status_code)
        self.assertEqual(1, checkpw.call_count)
        # Failures are not cached: each costs a check.
        for _ in range(2):
            self.client.get('/v1/nodes', headers=_basic('admin', 'no'))
        self.assertEqual(3, checkpw.call_count)

    def test_changed_file_invalidates_cache(self) -> None:
        headers = _basic('admin', 's3cret')
        self.assertEqual(200, self.client.get('/v1/nodes',
                                              headers=headers).status_code)
        write_htpasswd(self.htpasswd, {'admin': 'changed'})
        stat = os.stat(self.htpasswd)
        os.utime(self.htpasswd, (stat.st_atime, stat.st_mtime + 10))
        self.assertError(self.client.get('/v1/nodes', headers=headers), 401)
        self.assertEqual(200, self.client.get(
            '/v1/nodes', headers=_basic('admin', 'changed')).status_code)


class TestHtpasswd(base.base.TestCase):

    def test_malformed_line(self) -> None:
        from podium.common import exceptions
        error = self.assertRaises(exceptions.ConfigInvalid,
                                  auth.parse_htpasswd, 'admin:plain\n')
        self.assertIn('line 1', str(error))

    def test_comments_and_blank_lines(self) -> None:
        users = auth.parse_htpasswd('# users\n\nadmin:$2y$04$abc\n')
        self.assertEqual({'admin': b'$2y$04$abc'}, users)
