"""The IPMI simulator, driven by the real pyghmi client."""

import socket
import threading
import time
import unittest
import uuid

from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi import command as ipmi_command
from pyghmi.ipmi.private import session as ipmi_session

from podium.drivers.modules.ipmi import pyghmi_compat, reactor
from podium.simulator.ipmi import IpmiSimulator
from podium.simulator.ipmi_process import IpmiSimulatorProcess


def _checksum(*data):
    return -sum(data) & 0xFF


def channel_auth_probe():
    """An IPMI 1.5 Get Channel Authentication Capabilities request."""
    body = [0x81, 0x00, 0x38, 0x8E, 0x04]
    message = [0x20, 0x18, _checksum(0x20, 0x18), *body, _checksum(*body)]
    return bytes([0x06, 0x00, 0xFF, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
                  len(message), *message])


def unique_password():
    """Credentials no earlier pyghmi session of this process used.

    pyghmi hands a new ``Command`` the process's existing session to the
    same address, port, user and password if that session still looks
    logged in, without logging in again. A session left by an earlier
    test whose BMC port the kernel now gives to this simulator would be
    reused, and the new BMC, which never saw it, drops its commands:
    "Session no longer connected".
    """
    return f"pw-{uuid.uuid4().hex[:12]}"


def stop_ipmi_reactor():
    """Stop the process's IPMI reactor and wait for its thread to end.

    These tests drive pyghmi from their own thread. A reactor left
    running by an earlier test in this process would serve their
    sessions too (pyghmi's loop handles every session), and two threads
    would drive pyghmi at once: one takes the other's answers, which
    ends in "Session no longer connected".
    """
    reactor.REACTOR.clear()
    deadline = time.monotonic() + 15
    while reactor.REACTOR.thread is not None:
        if time.monotonic() > deadline:
            raise AssertionError('the IPMI reactor did not stop')
        time.sleep(0.05)
    abandon_client_sessions()


def abandon_client_sessions():
    """Break every pyghmi client session earlier tests left behind.

    pyghmi's event loop serves every session of the process: once these
    tests drive it, the leftovers of earlier tests would retransmit and
    send keepalives again, to BMC ports the kernel may by now have given
    to this test's simulator, which then answers them instead of (or
    mixed with) this test's own sessions.
    """
    leftovers = set(ipmi_session.Session.keepalive_sessions)
    leftovers.update(ipmi_session.Session.waiting_sessions)
    leftovers.update(ipmi_session.Session.initting_sessions.values())
    for handlers in list(ipmi_session.Session.bmc_handlers.values()):
        leftovers.update(list(handlers.values()))
    # Only client sessions: a BMC's own sessions and servers stay.
    for session in leftovers:
        if type(session) is not ipmi_session.Session:
            continue
        pyghmi_compat.abandon(session, 'left by an earlier test')


class IpmiSimulatorTest(unittest.TestCase):
    """The BMCs run in a child process: in this one, the simulator's
    listen thread and the clients would drive pyghmi's one loop at once
    (:mod:`podium.simulator.ipmi_process`)."""

    @classmethod
    def setUpClass(cls):
        stop_ipmi_reactor()
        cls.sim = IpmiSimulatorProcess(count=6, seed=3,
                                       password=unique_password()).start()
        cls.clients = {}

    @classmethod
    def tearDownClass(cls):
        for client in cls.clients.values():
            client.ipmi_session.logout()
        cls.sim.stop()

    def client(self, index):
        """One pyghmi Command per BMC (bytes credentials, see
        BMC_EMULATORS.md)."""
        if index not in self.clients:
            info = self.sim.bmcs[index]
            self.clients[index] = ipmi_command.Command(
                bmc=info.address, port=info.port,
                userid=info.username.encode(),
                password=info.password.encode())
        return self.clients[index]

    def setUp(self):
        self.addCleanup(self.sim.set_behaviour, None, latency=None,
                        hang=None, error_fraction=None)

    def test_listing(self):
        bmcs = self.sim.bmcs
        self.assertEqual(6, len(bmcs))
        self.assertEqual(6, len({b.port for b in bmcs}))
        self.assertTrue(all(b.address == "127.0.0.1" and b.port > 1024
                            for b in bmcs))

    def test_power_round_trip(self):
        client = self.client(0)
        self.sim.set_power(0, "Off")
        self.assertEqual("off", client.get_power()["powerstate"])
        client.set_power("on")
        self.assertEqual("On", self.sim.get_power(0))
        self.assertEqual("on", client.get_power()["powerstate"])
        client.set_power("off")
        self.assertEqual("Off", self.sim.get_power(0))

    def test_sensors_through_pyghmi_sdr(self):
        # pyghmi's own sensor API: SDR repository, readings, states.
        client = self.client(3)
        self.sim.set_power(3, "On")
        self.addCleanup(self.sim.set_sensors, 3, {"CPU1 Temp": None})
        readings = {r.name: r for r in client.get_sensor_data()}
        self.assertEqual(
            {"System Power": ("Power", 183.0, "W"),
             "CPU1 Temp": ("Temperature", 51.0, "\u00b0C"),
             "Inlet Temp": ("Temperature", 22.0, "\u00b0C"),
             "Fan1": ("Fan", 6000.0, "RPM"),
             "VRM1 12V": ("Voltage", 12.1, "V")},
            {name: (r.type, round(r.value, 4), r.units)
             for name, r in readings.items()})
        self.sim.set_sensors(3, {"CPU1 Temp": 97})
        self.sim.set_power(3, "Off")
        readings = {r.name: r for r in client.get_sensor_data()}
        cpu = readings["CPU1 Temp"]
        self.assertEqual(97.0, cpu.value)
        self.assertIn("upper critical threshold", cpu.states)
        self.assertTrue(readings["Fan1"].unavailable)
        self.assertEqual(8.0, readings["System Power"].value)
        self.assertRaises(ValueError, self.sim.set_sensors, 3,
                          {"Humidity": 1})

    def test_out_of_band_flip(self):
        client = self.client(1)
        self.sim.set_power(1, "On")
        self.assertEqual("on", client.get_power()["powerstate"])
        self.sim.set_power(1, "Off")
        self.assertEqual("off", client.get_power()["powerstate"])

    def test_boot_device(self):
        client = self.client(2)
        client.set_bootdev("pxe", persist=True)
        self.assertEqual("network", self.sim.get_boot(2))
        reply = client.get_bootdev()
        self.assertEqual("network", reply["bootdev"])
        self.assertTrue(reply["persistent"])
        client.set_bootdev("hd")
        reply = client.get_bootdev()
        self.assertEqual("hd", reply["bootdev"])
        self.assertFalse(reply["persistent"])
        client.set_bootdev("default")
        self.assertEqual("default", client.get_bootdev()["bootdev"])
        self.sim.set_boot(2, "cd")
        self.assertEqual("optical", client.get_bootdev()["bootdev"])

    def test_concurrent_bmcs(self):
        failures = []

        def cycle(index):
            try:
                client = self.client(index)
                for _ in range(3):
                    client.set_power("on")
                    assert client.get_power()["powerstate"] == "on"
                    client.set_power("off")
                    assert client.get_power()["powerstate"] == "off"
            except Exception as exc:
                failures.append((index, exc))

        for index in range(6):      # log in first, serially
            self.client(index)
        threads = [threading.Thread(target=cycle, args=(i,))
                   for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        self.assertEqual([], failures)

    def test_injected_failure(self):
        client = self.client(3)
        before = self.sim.stats()["errors"]
        self.sim.set_behaviour(3, error_fraction=1.0)
        self.assertRaises(pyghmi_exc.IpmiException, client.get_power)
        self.assertGreater(self.sim.stats()["errors"], before)
        self.sim.set_behaviour(3, error_fraction=None)
        self.assertIn(client.get_power()["powerstate"], ("on", "off"))

    def test_latency(self):
        client = self.client(4)
        self.sim.set_behaviour(4, latency=0.2)
        start = time.monotonic()
        client.get_power()
        self.assertGreaterEqual(time.monotonic() - start, 0.2)

    def test_hang(self):
        # A hung BMC ignores even sessionless requests, so pyghmi's login
        # would time out after seconds; probing with one datagram is
        # enough to tell.
        info = self.sim.bmcs[5]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(1.0)
            sock.sendto(channel_auth_probe(), (info.address, info.port))
            self.assertGreater(len(sock.recv(512)), 20)
            self.sim.set_behaviour(5, hang=True)
            before = self.sim.stats()["hung"]
            sock.settimeout(0.3)
            sock.sendto(channel_auth_probe(), (info.address, info.port))
            self.assertRaises(TimeoutError, sock.recv, 512)
            self.assertEqual(before + 1, self.sim.stats()["hung"])


class IpmiLifecycleTest(unittest.TestCase):

    def test_stop_and_restart_on_same_ports(self):
        stop_ipmi_reactor()
        first = IpmiSimulator(count=2, seed=9).start()
        ports = [b.port for b in first.bmcs]
        first.stop()
        # The sockets are really closed: the ports can be bound again.
        second = IpmiSimulatorProcess(count=1, base_port=ports[0], seed=9,
                                      password=unique_password()).start()
        try:
            info = second.bmcs[0]
            client = ipmi_command.Command(
                bmc=info.address, port=info.port,
                userid=info.username.encode(),
                password=info.password.encode())
            self.assertEqual("off", client.get_power()["powerstate"])
            client.ipmi_session.logout()
        finally:
            second.stop()

    def test_process_reports_errors_and_stops(self):
        sim = IpmiSimulatorProcess(count=1, seed=9).start()
        try:
            self.assertEqual("Off", sim.get_power(0))
            sim.set_power(0, "On")
            self.assertEqual("On", sim.get_power(0))
            # The child's exception reaches the caller as itself.
            self.assertRaises(ValueError, sim.set_power, 0, "Up")
            self.assertRaises(KeyError, sim.get_power, "no-such-bmc")
            self.assertRaises(AttributeError, getattr, sim, "scheduler")
            process = sim._process
        finally:
            sim.stop()
        self.assertFalse(process.is_alive())
        self.assertRaises(RuntimeError, sim.get_power, 0)

    def test_process_start_failure_is_raised(self):
        self.assertRaises(ValueError,
                          IpmiSimulatorProcess(count=1,
                                               host="192.0.2.1").start)

    def test_validation(self):
        self.assertRaises(ValueError, IpmiSimulator, count=0)
        self.assertRaises(ValueError, IpmiSimulator, base_port=623)
        self.assertRaises(ValueError, IpmiSimulator, host="192.0.2.1")
