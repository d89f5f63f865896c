"""The Redfish simulator, driven by the real sushy client."""

import json
import time
import unittest

import requests
import sushy
from sushy import auth as sushy_auth
from sushy import exceptions as sushy_exc

from podium.simulator import Simulator
from podium.tests import threads

SYSTEMS_PER_ENDPOINT = 4
EXPAND = "/redfish/v1/Systems?$expand=.($levels=1)"


def client(info, password=None, timeout=2.0, retries=0):
    """A sushy client with short timeouts and no slow retry loops."""
    return sushy.Sushy(
        info.address,
        auth=sushy_auth.BasicAuth(info.username,
                                  password or info.password),
        read_timeout=timeout, connect_timeout=timeout,
        server_side_retries=retries, server_side_retries_delay=0.01)


class SharedSimulatorTestCase(unittest.TestCase):
    """One simulator (``Simulator(**simulator_args)``) for all tests of
    the class, and ``http``, a session with its default credentials."""

    simulator_args: dict = {}

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator(**cls.simulator_args).start()
        cls.http = requests.Session()
        cls.http.auth = ("admin", "password")

    @classmethod
    def tearDownClass(cls):
        cls.http.close()
        cls.sim.stop()


class RedfishSimulatorTest(SharedSimulatorTestCase):

    simulator_args = {"endpoints": 2,
                      "systems_per_endpoint": SYSTEMS_PER_ENDPOINT,
                      "seed": 42}

    def setUp(self):
        self.info = self.sim.systems[0]
        for system in self.sim.systems:
            self.sim.set_power(system, "Off")
        self.addCleanup(self._restore)

    def _restore(self):
        for system in self.sim.systems:
            self.sim.clear_system_behaviour(system)
        self.sim.set_endpoint_behaviour(
            None, latency=0, hang=False, error_fraction=0.0,
            error_status=500, power_delay=0.0)
        self.sim.set_max_concurrency(None, None)

    def url(self, path, info=None):
        return (info or self.info).address + path

    # discovery and reads

    def test_listing(self):
        systems = self.sim.systems
        self.assertEqual(2 * SYSTEMS_PER_ENDPOINT, len(systems))
        self.assertEqual(2 * SYSTEMS_PER_ENDPOINT,
                         len({s.uuid for s in systems}))
        self.assertEqual(2, len({s.address for s in systems}))
        self.assertTrue(all(s.address.startswith("http://127.0.0.1:")
                            for s in systems))
        self.assertEqual("/redfish/v1/Systems/" + systems[0].uuid,
                         systems[0].system_id)
        self.assertEqual(set(self.sim.inventory()[0]),
                         {"address", "system_id", "uuid", "name",
                          "username", "password", "endpoint", "macs"})

    def test_service_root(self):
        root = client(self.info)
        features = root.protocol_features_supported.expand_query
        self.assertTrue(features["ExpandAll"])
        self.assertTrue(features["Levels"])
        self.assertEqual("/redfish/v1/SessionService/Sessions",
                         root.get_sessions_path())
        members = root.get_system_collection().get_members()
        self.assertEqual(SYSTEMS_PER_ENDPOINT, len(members))
        self.assertEqual(1, len(root.get_manager_collection()
                                .get_members()))

    def test_inventory(self):
        system = client(self.info).get_system(self.info.system_id)
        self.assertEqual(self.info.uuid, system.identity)
        self.assertEqual(self.info.name, system.name)
        self.assertEqual(64, system.memory_summary.size_gib)
        self.assertEqual(2, system.json["ProcessorSummary"]["Count"])
        self.assertTrue(system.json["ProcessorSummary"]["Model"])
        self.assertEqual(2, len(system.processors.get_members()))
        self.assertEqual([480 * 10**9],
                         system.simple_storage.disks_sizes_bytes)
        macs = [nic.mac_address
                for nic in system.ethernet_interfaces.get_members()]
        self.assertEqual(list(self.info.macs), macs)

    def test_expand(self):
        other = self.sim.systems[1]
        self.sim.set_power(other, "On")
        for path in (EXPAND, "/redfish/v1/Systems?$expand=*",
                     "/redfish/v1/Systems?%24expand=.%28%24levels%3D1%29"):
            with self.subTest(path=path):
                doc = self.http.get(self.url(path), timeout=2).json()
                self.assertEqual(SYSTEMS_PER_ENDPOINT,
                                 doc["Members@odata.count"])
                power = {m["Id"]: m["PowerState"] for m in doc["Members"]}
                self.assertEqual("Off", power[self.info.uuid])
                self.assertEqual("On", power[other.uuid])
        # sushy's own connector copes with the query string.
        reply = client(self.info)._conn.get(EXPAND).json()
        self.assertEqual(SYSTEMS_PER_ENDPOINT, len(reply["Members"]))
        bad = self.http.get(self.url("/redfish/v1/Systems?$expand=x"))
        self.assertEqual(400, bad.status_code)

    # power and boot

    def test_power_round_trip(self):
        system = client(self.info).get_system(self.info.system_id)
        self.assertEqual(sushy.PowerState.OFF, system.power_state)
        system.reset_system(sushy.ResetType.ON)
        system.refresh()
        self.assertEqual(sushy.PowerState.ON, system.power_state)
        self.assertEqual("On", self.sim.get_power(self.info))
        system.reset_system(sushy.ResetType.FORCE_OFF)
        system.refresh()
        self.assertEqual(sushy.PowerState.OFF, system.power_state)

    def test_reset_types(self):
        system = client(self.info).get_system(self.info.system_id)
        expected = [("PushPowerButton", "On"), ("Nmi", "On"),
                    ("GracefulRestart", "On"), ("GracefulShutdown", "Off"),
                    ("ForceRestart", "On"), ("PushPowerButton", "Off")]
        for reset_type, power in expected:
            system.reset_system(sushy.ResetType(reset_type))
            self.assertEqual(power, self.sim.get_power(self.info),
                             reset_type)

    def test_unknown_reset_type(self):
        reply = self.http.post(
            self.url(self.info.system_id + "/Actions/ComputerSystem.Reset"),
            json={"ResetType": "Explode"}, timeout=2)
        self.assertEqual(400, reply.status_code)
        error = reply.json()["error"]
        self.assertEqual("Base.1.8.ActionParameterValueNotInList",
                         error["code"])
        self.assertIn("@Message.ExtendedInfo", error)

    def test_power_delay(self):
        self.sim.set_system_behaviour(self.info, power_delay=0.3)
        system = client(self.info).get_system(self.info.system_id)
        system.reset_system(sushy.ResetType.ON)
        self.assertEqual("Off", self.sim.get_power(self.info))
        time.sleep(0.5)
        self.assertEqual("On", self.sim.get_power(self.info))
        system.reset_system(sushy.ResetType.FORCE_RESTART)
        self.assertEqual("Off", self.sim.get_power(self.info))
        time.sleep(0.5)
        self.assertEqual("On", self.sim.get_power(self.info))

    def test_boot_override(self):
        system = client(self.info).get_system(self.info.system_id)
        self.assertIn(sushy.BootSource.PXE,
                      system.get_allowed_system_boot_source_values())
        system.set_system_boot_options(
            sushy.BootSource.PXE,
            enabled=sushy.BootSourceOverrideEnabled.ONCE,
            mode=sushy.BootSourceOverrideMode.UEFI)
        system.refresh()
        self.assertEqual(sushy.BootSource.PXE, system.boot.target)
        self.assertEqual(sushy.BootSourceOverrideEnabled.ONCE,
                         system.boot.enabled)
        self.assertEqual({"target": "Pxe", "enabled": "Once",
                          "mode": "UEFI"}, self.sim.get_boot(self.info))
        system.set_system_boot_options(
            sushy.BootSource.HDD,
            enabled=sushy.BootSourceOverrideEnabled.CONTINUOUS)
        self.assertEqual("Hdd", self.sim.get_boot(self.info)["target"])

    def test_boot_override_rejects_bad_values(self):
        url = self.url(self.info.system_id)
        for body in ({"Boot": {"BootSourceOverrideTarget": "Floppy"}},
                     {"Boot": {"BootSourceOverrideEnabled": "Always"}},
                     {"Boot": {"Unknown": 1}}, {"AssetTag": "x"}, []):
            with self.subTest(body=body):
                reply = self.http.patch(url, json=body, timeout=2)
                self.assertEqual(400, reply.status_code)
                self.assertIn("error", reply.json())

    def test_boot_mode_not_kept_and_changed_out_of_band(self):
        system = client(self.info).get_system(self.info.system_id)
        self.sim.set_boot(self.info, mode="Legacy")
        system.refresh()
        self.assertEqual(sushy.BootSourceOverrideMode.LEGACY,
                         system.boot.mode)
        self.sim.set_boot_mode_not_kept(self.info)
        system.set_system_boot_options(
            mode=sushy.BootSourceOverrideMode.UEFI)  # accepted...
        self.assertEqual("Legacy", self.sim.get_boot(self.info)["mode"])
        self.sim.set_boot_mode_not_kept(self.info, False)
        system.set_system_boot_options(
            mode=sushy.BootSourceOverrideMode.UEFI)  # ...and kept
        self.assertEqual("UEFI", self.sim.get_boot(self.info)["mode"])

    def test_bios_changed_out_of_band(self):
        self.sim.set_bios_attributes(self.info, {"ProcTurboMode": "Disabled"})
        bios = client(self.info).get_system(self.info.system_id).bios
        self.assertEqual("Disabled", bios.attributes["ProcTurboMode"])
        self.assertRaises(ValueError, self.sim.set_bios_attributes,
                          self.info, {"NoSuchThing": 1})
        self.sim.set_bios_attributes(self.info, {"ProcTurboMode": "Enabled"})

    def test_out_of_band_flip(self):
        system = client(self.info).get_system(self.info.system_id)
        self.sim.set_power(self.info, "On")
        system.refresh()
        self.assertEqual(sushy.PowerState.ON, system.power_state)

    # authentication

    def test_wrong_password(self):
        root = client(self.info, password="wrong")
        self.assertRaises(sushy_exc.AccessError, root.get_system,
                          self.info.system_id)
        reply = requests.get(self.url("/redfish/v1/Systems"), timeout=2)
        self.assertEqual(401, reply.status_code)
        self.assertIn("WWW-Authenticate", reply.headers)

    def test_sessions(self):
        root = sushy.Sushy(
            self.info.address,
            auth=sushy_auth.SessionAuth("admin", "password"),
            read_timeout=2, server_side_retries=0,
            server_side_retries_delay=0.01)
        system = root.get_system(self.info.system_id)
        self.assertEqual(sushy.PowerState.OFF, system.power_state)
        token = root._conn._session.headers["X-Auth-Token"]
        headers = {"X-Auth-Token": token}
        url = self.url("/redfish/v1/Systems")
        self.assertEqual(200, requests.get(url, headers=headers,
                                           timeout=2).status_code)
        root._auth.close()      # DELETEs the session
        self.assertEqual(401, requests.get(url, headers=headers,
                                           timeout=2).status_code)
        self.assertRaises(
            sushy_exc.AccessError, sushy.Sushy, self.info.address,
            auth=sushy_auth.SessionAuth("admin", "nope"), read_timeout=2,
            server_side_retries=0, server_side_retries_delay=0.01)

    def test_not_found(self):
        for path in ("/redfish/v1/Systems/nope", "/redfish/v1/Nope",
                     self.info.system_id + "/EthernetInterfaces/NIC9"):
            with self.subTest(path=path):
                reply = self.http.get(self.url(path), timeout=2)
                self.assertEqual(404, reply.status_code)
                self.assertEqual("Base.1.8.ResourceMissingAtURI",
                                 reply.json()["error"]["code"])

    # behaviour

    def test_hang(self):
        self.sim.set_system_behaviour(self.info, hang=True)
        before = self.sim.stats()["hung"]
        start = time.monotonic()
        root = client(self.info, timeout=0.3, retries=1)
        self.assertRaises(sushy_exc.ConnectionError, root.get_system,
                          self.info.system_id)
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertEqual(before + 1, self.sim.stats()["hung"])
        # Other systems of the endpoint still answer.
        other = self.sim.systems[1]
        self.assertEqual(sushy.PowerState.OFF,
                         root.get_system(other.system_id).power_state)
        # The hung request leaves once the client hangs up.
        deadline = time.monotonic() + 2
        while self.sim.stats()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(0, self.sim.stats()["in_flight"])

    def test_errors(self):
        self.sim.set_system_behaviour(self.info, error_fraction=1.0,
                                      error_status=503)
        before = self.sim.stats()["errors"]
        root = client(self.info)
        self.assertRaises(sushy_exc.ServerSideError, root.get_system,
                          self.info.system_id)
        reply = self.http.get(self.url(self.info.system_id), timeout=2)
        self.assertEqual(503, reply.status_code)
        self.assertEqual("Base.1.8.ServiceTemporarilyUnavailable",
                         reply.json()["error"]["code"])
        self.assertEqual(before + 2, self.sim.stats()["errors"])

    def test_error_fraction(self):
        self.sim.set_endpoint_behaviour(0, error_fraction=0.3)
        codes = [self.http.get(self.url("/redfish/v1/Systems"),
                               timeout=2).status_code for _ in range(300)]
        failures = codes.count(500)
        self.assertEqual(300, failures + codes.count(200))
        self.assertAlmostEqual(90, failures, delta=35)

    def test_latency_is_concurrent(self):
        self.sim.set_endpoint_behaviour(0, latency=0.3)
        url = self.url("/redfish/v1/Systems")
        start = time.monotonic()
        with threads.executor(40) as pool:
            codes = list(pool.map(
                lambda _: requests.get(url, auth=("admin", "password"),
                                       timeout=5).status_code,
                range(40)))
        elapsed = time.monotonic() - start
        self.assertEqual([200] * 40, codes)
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 2.0)

    def test_concurrency_cap(self):
        self.sim.reset_stats()
        self.sim.set_max_concurrency(0, 2)
        self.sim.set_endpoint_behaviour(0, latency=1.0)
        url = self.url("/redfish/v1/Systems")
        with threads.executor(6) as pool:
            codes = sorted(pool.map(
                lambda _: requests.get(url, auth=("admin", "password"),
                                       timeout=5).status_code,
                range(6)))
        self.assertEqual([200, 200, 503, 503, 503, 503], codes)
        endpoint = self.sim.stats()["endpoints"][0]
        self.assertEqual(4, endpoint["refused"])
        self.assertEqual(2, endpoint["max_in_flight"])
        self.assertEqual(4, endpoint["status_counts"]["503"])

    def test_counters(self):
        self.sim.reset_stats()
        root = client(self.info)
        system = root.get_system(self.info.system_id)
        for _ in range(4):
            system.refresh()
        stats = self.sim.stats(systems=True)
        # one root GET by Sushy(), then five of the system
        self.assertEqual(5, stats["systems"][self.info.uuid])
        self.assertEqual(6, stats["endpoints"][0]["requests"])
        self.assertEqual(0, stats["endpoints"][1]["requests"])
        self.assertEqual(6, stats["requests"])
        self.assertGreater(stats["loop_cpu_seconds"], 0)
        self.assertGreater(stats["process_cpu_seconds"], 0)

    # control API

    def test_control_api(self):
        base = self.url("/simulator/")
        reply = requests.patch(base + "systems/" + self.info.uuid,
                               json={"power_state": "On",
                                     "behaviour": {"latency": "0.01"}},
                               timeout=2)
        self.assertEqual(200, reply.status_code, reply.text)
        self.assertEqual("On", reply.json()["power_state"])
        self.assertEqual("fixed:0.01",
                         reply.json()["behaviour"]["latency"])
        self.assertEqual("On", self.sim.get_power(self.info))
        reply = requests.patch(base + "endpoint",
                               json={"max_concurrency": 3}, timeout=2)
        self.assertEqual(3, reply.json()["max_concurrency"])
        stats = requests.get(base + "stats?systems=1", timeout=2).json()
        self.assertIn(self.info.uuid, stats["systems"])
        bad = requests.patch(base + "systems/" + self.info.uuid,
                             json={"behaviour": {"hang": "maybe"}},
                             timeout=2)
        self.assertEqual(400, bad.status_code)
        missing = requests.get(base + "systems/nope", timeout=2)
        self.assertEqual(404, missing.status_code)
        self.assertEqual(200, requests.post(base + "stats/reset",
                                            timeout=2).status_code)
        reply = requests.patch(base + "systems/" + self.info.uuid, json={
            "boot": {"mode": "Legacy", "mode_not_kept": True},
            "bios": {"attributes": {"MemFrequency": 2400},
                     "not_kept": ["ProcTurboMode"]}}, timeout=2)
        self.assertEqual(200, reply.status_code, reply.text)
        self.assertEqual(("Legacy", True),
                         (reply.json()["boot"]["mode"],
                          reply.json()["boot"]["mode_not_kept"]))
        self.assertEqual(2400,
                         reply.json()["bios"]["attributes"]["MemFrequency"])
        self.assertEqual(["ProcTurboMode"],
                         reply.json()["bios"]["not_kept"])
        # The simulator is shared by this class's tests: as it was.
        reply = requests.patch(base + "systems/" + self.info.uuid, json={
            "boot": {"mode": "UEFI", "mode_not_kept": False},
            "bios": {"attributes": {"MemFrequency": 3200},
                     "not_kept": []}}, timeout=2)
        self.assertEqual(200, reply.status_code, reply.text)


class RawHttpTest(unittest.TestCase):
    """Keep-alive, pipelining and malformed input, on a raw socket."""

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator(seed=1).start()
        endpoint = cls.sim.endpoints[0]
        cls.host, cls.port = endpoint.host, endpoint.port

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def _exchange(self, payload, expect_close=True):
        import socket

        with socket.create_connection((self.host, self.port), 2) as sock:
            sock.sendall(payload)
            if not expect_close:
                sock.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        return b"".join(chunks)

    def test_pipelined_keep_alive(self):
        request = (b"GET /redfish/v1/ HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /redfish HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
        reply = self._exchange(request)
        self.assertEqual(2, reply.count(b"HTTP/1.1 200 OK"))
        first, second = reply.split(b"HTTP/1.1 200 OK")[1:]
        self.assertIn(b"Connection: keep-alive", first)
        self.assertIn(b"Connection: close", second)
        body = second.split(b"\r\n\r\n", 1)[1]
        self.assertEqual({"v1": "/redfish/v1/"}, json.loads(body))

    def test_malformed_request(self):
        reply = self._exchange(b"NONSENSE\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 400 "))
        reply = self._exchange(b"POST /redfish/v1/ HTTP/1.1\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 501 "))

    def test_body_split_across_packets(self):
        import socket

        body = json.dumps({"UserName": "admin", "Password": "password"})
        head = (f"POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\n"
                f"Content-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n").encode()
        with socket.create_connection((self.host, self.port), 2) as sock:
            sock.sendall(head + body[:5].encode())
            time.sleep(0.05)
            sock.sendall(body[5:].encode())
            reply = sock.recv(65536)
        self.assertTrue(reply.startswith(b"HTTP/1.1 201 "), reply)
        self.assertIn(b"X-Auth-Token: ", reply)
        self.assertIn(b"Location: /redfish/v1/SessionService/Sessions/",
                      reply)


class FleetTest(unittest.TestCase):
    """Many endpoints, and many systems behind one endpoint."""

    # How fast a fleet starts is a benchmark's business (bench/), not a
    # timed assertion's: on a loaded machine 300 endpoints took 3-15 s.
    def test_many_endpoints(self):
        with Simulator(endpoints=300, seed=5) as sim:
            first, last = sim.systems[0], sim.systems[-1]
            self.assertNotEqual(first.address, last.address)
            for info in (first, last):
                system = client(info).get_system(info.system_id)
                self.assertEqual(sushy.PowerState.OFF, system.power_state)
            self.assertEqual(300, sim.stats()["endpoint_count"])

    def test_many_systems_per_endpoint(self):
        with Simulator(endpoints=1, systems_per_endpoint=2000,
                       power_state="On", hung_fraction=0.01,
                       seed=5) as sim:
            info = sim.systems[-1]
            reply = requests.get(info.address + EXPAND,
                                 auth=("admin", "password"), timeout=5)
            members = reply.json()["Members"]
            self.assertEqual(2000, len(members))
            self.assertEqual({"On"}, {m["PowerState"] for m in members})
            hung = [s for s in sim.systems
                    if sim.get_system_behaviour(s).hang]
            self.assertEqual(20, len(hung))

    def test_explicit_addresses(self):
        with Simulator(addresses=[("127.0.0.2", 0), ("127.0.0.3", 0)],
                       systems_per_endpoint=2, seed=5) as sim:
            hosts = [e.host for e in sim.endpoints]
            self.assertEqual(["127.0.0.2", "127.0.0.3"], hosts)
            info = sim.systems[3]
            self.assertTrue(info.address.startswith("http://127.0.0.3:"))
            system = client(info).get_system(info.system_id)
            self.assertEqual(info.uuid, system.identity)

    def test_loopback_only(self):
        self.assertRaises(ValueError, Simulator, host="192.0.2.1")

    def test_port_in_use(self):
        with Simulator(seed=1) as sim:
            port = sim.endpoints[0].port
            clash = Simulator(base_port=port)
            self.assertRaises(OSError, clash.start)


class ManagerResetTest(unittest.TestCase):
    """``Manager.Reset``: the BMC restarts, answers nothing for a set
    time, loses its sessions and its systems' injected faults."""

    def setUp(self):
        self.sim = Simulator(endpoints=1, systems_per_endpoint=2,
                             seed=11).start()
        self.addCleanup(self.sim.stop)
        self.info = self.sim.systems[0]
        self.sim.set_bmc_reset_seconds(0, 3.0)

    def url(self, path):
        return self.info.address + path

    def test_restart(self):
        http = requests.Session()
        self.addCleanup(http.close)
        reply = http.post(self.url("/redfish/v1/SessionService/Sessions"),
                          json={"UserName": "admin",
                                "Password": "password"}, timeout=5)
        token = reply.headers["X-Auth-Token"]
        http.headers["X-Auth-Token"] = token
        manager = http.get(self.url("/redfish/v1/Managers/BMC"),
                           timeout=5).json()
        action = manager["Actions"]["#Manager.Reset"]
        self.assertIn("GracefulRestart",
                      action["ResetType@Redfish.AllowableValues"])
        self.sim.set_system_behaviour(0, hang=True)
        self.assertRaises(requests.exceptions.Timeout, http.get,
                          self.url(self.info.system_id), timeout=0.3)
        self.assertEqual(400, http.post(
            self.url(action["target"]), json={"ResetType": "On"},
            timeout=5).status_code)
        self.assertEqual(204, http.post(
            self.url(action["target"]),
            json={"ResetType": "GracefulRestart"}, timeout=5).status_code)
        # Restarting: the connection drops unanswered.
        self.assertRaises(requests.exceptions.ConnectionError,
                          requests.get, self.url("/redfish/v1"), timeout=5)
        self.assertEqual(1, self.sim.stats()["endpoints"][0]["bmc_resets"])
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url("/redfish/v1"), timeout=5)
                break
            except requests.exceptions.ConnectionError:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.2)
        # The session died with the restart; the hang is cured.
        self.assertEqual(401, requests.get(
            self.url(self.info.system_id), timeout=5,
            headers={"X-Auth-Token": token}).status_code)
        self.assertEqual(200, requests.get(
            self.url(self.info.system_id), timeout=5,
            auth=("admin", "password")).status_code)
