"""The start-up check of ``[DEFAULT] transport_url``."""

import socket
import time

from podium.common import exceptions, rpc
from podium.conf import CONF
from podium.tests import base
from podium.tests.unit import process


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


class CheckTransportTest(base.TestCase):

    def test_in_process_transport_needs_nothing(self) -> None:
        self.config(transport_url='fake:/')
        rpc.check_transport()

    def test_unreachable_broker_fails_in_time_naming_the_option(
            self) -> None:
        port = _closed_port()
        self.config(transport_url=f'rabbit://guest:secret@127.0.0.1:{port}/',
                    rpc_connect_timeout=1.5)
        started = time.monotonic()
        error = self.assertRaises(exceptions.ConfigInvalid,
                                  rpc.check_transport)
        self.assertLess(time.monotonic() - started, 10)
        message = str(error)
        self.assertIn('[DEFAULT] transport_url rabbit://guest:***@'
                      f'127.0.0.1:{port}/', message)
        self.assertIn('within 1.5s ([DEFAULT] rpc_connect_timeout)',
                      message)
        self.assertNotIn('secret', message)

    def test_other_transports_get_a_tcp_check(self) -> None:
        self.config(transport_url=f'kafka://127.0.0.1:{_closed_port()}/',
                    rpc_connect_timeout=1)
        self.assertRaises(exceptions.ConfigInvalid, rpc.check_transport)
        with socket.create_server(('127.0.0.1', 0)) as listener:
            port = listener.getsockname()[1]
            self.config(transport_url=f'kafka://127.0.0.1:{port}/')
            rpc.check_transport()

    def test_refused_login_is_not_retried(self) -> None:
        self.require_service(base.tcp_reachable('127.0.0.1', 5672),
                             'RabbitMQ is not reachable on 127.0.0.1:5672')
        self.config(transport_url='rabbit://guest:wrong@127.0.0.1:5672/',
                    rpc_connect_timeout=30)
        started = time.monotonic()
        error = self.assertRaises(exceptions.ConfigInvalid,
                                  rpc.check_transport)
        self.assertLess(time.monotonic() - started, 15)
        self.assertIn('refused the login', str(error))


class ConductorStartTest(base.DbTestCase):

    def test_unreachable_broker_is_one_line(self) -> None:
        path = process.write_config(self.state_dir, f"""
[DEFAULT]
state_path = {self.state_dir}
rpc_transport = oslo
transport_url = rabbit://guest:guest@127.0.0.1:{_closed_port()}/
rpc_connect_timeout = 1
enabled_hardware_types = fake-hardware
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_inspect_interfaces = fake

[database]
connection = {CONF.database.connection}
""")
        result = process.run_python('-m', 'podium.cmd.conductor',
                                    '--config-file', path)
        self.assertNotEqual(0, result.returncode)
        self.assertNotIn('Traceback', result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith('podium-conductor: Invalid '
                                        'configuration: [DEFAULT] '
                                        'transport_url rabbit://'), last)
