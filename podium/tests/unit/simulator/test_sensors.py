"""The simulator's chassis sensors: Power and Thermal (read with sushy,
as a client would), the Sensors collection, readings that follow the
power state, and the controls that set them."""

import sushy
from sushy import auth as sushy_auth

from podium.tests.unit.simulator import test_redfish


class SimulatedSensorsTest(test_redfish.SharedSimulatorTestCase):

    simulator_args = {"endpoints": 1, "systems_per_endpoint": 2, "seed": 7}

    def setUp(self):
        self.info = self.sim.systems[1]
        self.sim.set_power(self.info, "On")
        self.addCleanup(self.sim.set_sensors, self.info,
                        {"CPU1 Temp": None}, style="legacy")
        self.chassis = f"/redfish/v1/Chassis/{self.info.uuid}"

    def get(self, path, status=200):
        response = self.http.get(self.info.address + path, timeout=5)
        self.assertEqual(status, response.status_code, response.text)
        return response.json()

    def client(self):
        return sushy.Sushy(self.info.address,
                           auth=sushy_auth.BasicAuth("admin", "password"),
                           read_timeout=5, server_side_retries=0)

    def test_sushy_reads_power_and_thermal(self):
        chassis = self.client().get_chassis(self.chassis)
        temps = {t.name: t for t in chassis.thermal.temperatures}
        self.assertEqual(48.0 + 1, temps["CPU1 Temp"].reading_celsius)
        self.assertEqual(95.0, temps["CPU1 Temp"].upper_threshold_critical)
        self.assertEqual([6000], [f.reading for f in chassis.thermal.fans])
        supplies = chassis.power.power_supplies
        self.assertEqual([171.0], [p.last_power_output_watts
                                   for p in supplies])

    def test_readings_follow_power_state(self):
        power = self.get(self.chassis + "/Power")
        self.assertEqual(181.0, power["PowerControl"][0]["PowerConsumedWatts"])
        self.assertEqual(12.1, power["Voltages"][0]["ReadingVolts"])
        self.sim.set_power(self.info, "Off")
        power = self.get(self.chassis + "/Power")
        self.assertEqual(8.0, power["PowerControl"][0]["PowerConsumedWatts"])
        self.assertIsNone(power["Voltages"][0]["ReadingVolts"])
        thermal = self.get(self.chassis + "/Thermal")
        cpu = thermal["Temperatures"][0]
        self.assertIsNone(cpu["ReadingCelsius"])
        self.assertEqual("StandbyOffline", cpu["Status"]["State"])
        self.assertEqual(22.0, thermal["Temperatures"][1]["ReadingCelsius"])

    def test_set_reading_past_threshold(self):
        self.sim.set_sensors(self.info, {"CPU1 Temp": 96})
        cpu = self.get(self.chassis + "/Thermal")["Temperatures"][0]
        self.assertEqual((96.0, "Critical"),
                         (cpu["ReadingCelsius"], cpu["Status"]["Health"]))
        # Through the control API too, and back to following power.
        response = self.http.patch(
            f"{self.info.address}/simulator/systems/{self.info.uuid}",
            json={"sensors": {"readings": {"CPU1 Temp": 86}}}, timeout=5)
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual({"style": "legacy", "readings": {"CPU1 Temp": 86.0}},
                         response.json()["sensors"])
        cpu = self.get(self.chassis + "/Thermal")["Temperatures"][0]
        self.assertEqual("Warning", cpu["Status"]["Health"])
        self.sim.set_sensors(self.info, {"CPU1 Temp": None})
        cpu = self.get(self.chassis + "/Thermal")["Temperatures"][0]
        self.assertEqual((49.0, "OK"),
                         (cpu["ReadingCelsius"], cpu["Status"]["Health"]))

    def test_bad_controls(self):
        self.assertRaises(ValueError, self.sim.set_sensors, self.info,
                          {"Humidity": 3})
        self.assertRaises(ValueError, self.sim.set_sensors, self.info,
                          {"Fan1": "fast"})
        self.assertRaises(ValueError, self.sim.set_sensors, self.info,
                          style="modern")

    def test_sensors_collection_style(self):
        self.sim.set_sensors(self.info, style="sensors")
        chassis = self.get(self.chassis)
        self.assertNotIn("Power", chassis)
        self.assertNotIn("Thermal", chassis)
        self.get(self.chassis + "/Power", status=404)
        collection = self.get(chassis["Sensors"]["@odata.id"])
        self.assertEqual(7, collection["Members@odata.count"])
        fan = self.get(self.chassis + "/Sensors/Fan1")
        self.assertEqual(("Rotational", 6000.0, "RPM"),
                         (fan["ReadingType"], fan["Reading"],
                          fan["ReadingUnits"]))
        self.assertEqual({"LowerCritical": {"Reading": 500.0}},
                         fan["Thresholds"])
        expanded = self.get(chassis["Sensors"]["@odata.id"]
                            + "?$expand=.($levels=1)")
        self.assertIn(fan, expanded["Members"])
        self.get(self.chassis + "/Sensors/Nope", status=404)
