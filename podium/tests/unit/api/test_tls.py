"""HTTPS for the API (uvicorn with [api] ssl_*), verified by the CLI."""

import datetime
import ipaddress
import os
import threading
import time

import fixtures
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from podium.api import server
from podium.cli import settings
from podium.cli.client import ApiClient
from podium.cli.errors import CliError
from podium.common import exceptions
from podium.tests.unit.api import base


def write_self_signed(directory: str) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'podium')])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, 'api.crt')
    key_path = os.path.join(directory, 'api.key')
    with open(cert_path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, 'wb') as handle:
        handle.write(key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    return cert_path, key_path


class TLSTest(base.APITestCase):

    def setUp(self) -> None:
        super().setUp()
        self.cert, self.key = write_self_signed(self.state_dir)
        self.config(ssl_cert_file=self.cert, ssl_key_file=self.key,
                    port=0, group='api')
        self.url = self._serve()

    def _serve(self) -> str:
        from podium.api import app as api_app

        uv = server.Server(uvicorn.Config(api_app.create_app(),
                                          **server.uvicorn_options()))
        # The server announces itself on standard output, for the
        # processes that wait for it; here that is test output noise.
        stdout = self.useFixture(
            fixtures.StringStream('service-stdout')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', stdout))
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()

        def stop() -> None:
            uv.should_exit = True
            thread.join(10)

        self.addCleanup(stop)
        deadline = time.monotonic() + 30
        while not uv.started:
            self.assertTrue(thread.is_alive(), 'the API did not start')
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        port = uv.servers[0].sockets[0].getsockname()[1]
        return f'https://127.0.0.1:{port}'

    def cli_client(self, **kwargs: object) -> ApiClient:
        client = ApiClient(settings.Settings(url=self.url, **kwargs))
        self.addCleanup(client.close)
        return client

    def test_verified_with_cacert(self) -> None:
        body = self.cli_client(cacert=self.cert).request('GET', '/v1/nodes')
        self.assertEqual({'nodes': []}, body)

    def test_insecure_skips_verification(self) -> None:
        body = self.cli_client(insecure=True).request('GET', '/v1/nodes')
        self.assertEqual({'nodes': []}, body)

    def test_unknown_certificate_refused(self) -> None:
        error = self.assertRaises(CliError, self.cli_client().request,
                                  'GET', '/v1/nodes')
        self.assertIn('cannot connect', str(error))

    def test_plain_http_is_not_served(self) -> None:
        plain = self.url.replace('https://', 'http://')
        client = ApiClient(settings.Settings(url=plain))
        self.addCleanup(client.close)
        self.assertRaises(CliError, client.request, 'GET', '/v1/nodes')


class TLSOptionsTest(base.base.TestCase):

    def test_off_by_default(self) -> None:
        self.assertEqual({}, server.tls_options())
        self.assertNotIn('ssl_certfile', server.uvicorn_options())

    def test_both_files_needed_and_readable(self) -> None:
        self.config(ssl_cert_file='/nonexistent/cert.pem', group='api')
        self.assertIn('together', str(self.assertRaises(
            exceptions.ConfigInvalid, server.tls_options)))
        self.config(ssl_key_file='/nonexistent/key.pem', group='api')
        self.assertIn('ssl_cert_file /nonexistent/cert.pem', str(
            self.assertRaises(exceptions.ConfigInvalid,
                              server.tls_options)))


class CliSettingsTest(base.base.TestCase):

    def test_flags_environment_and_file(self) -> None:
        cert = os.path.join(self.state_dir, 'ca.pem')
        with open(cert, 'w'):
            pass
        env = {'PODIUM_CLI_CONFIG': os.path.join(self.state_dir, 'cli.yaml')}
        with open(env['PODIUM_CLI_CONFIG'], 'w') as handle:
            handle.write('insecure: true\n')
        resolved = settings.resolve({'cacert': cert}, env)
        self.assertEqual((cert, True), (resolved.cacert, resolved.insecure))
        resolved = settings.resolve({}, {'PODIUM_INSECURE': '0'})
        self.assertFalse(resolved.insecure)
        self.assertRaises(CliError, settings.resolve,
                          {'cacert': '/nonexistent/ca.pem'}, {})
