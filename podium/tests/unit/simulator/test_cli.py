"""``python -m podium.simulator`` as a separate process."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

import requests

import podium

# Run from the directory holding the package, installed or not.
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(
    podium.__file__)))


def launch(*args):
    """Start the simulator; return the process and its ready line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.simulator", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=SOURCE_ROOT)
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise AssertionError(f"simulator did not start: "
                             f"{proc.stderr.read()}")
    return proc, json.loads(line)


def finish(proc, signum=signal.SIGTERM):
    """Signal the simulator and return its exit code and last line."""
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=10)
    return proc.returncode, out.strip()


class RedfishCliTest(unittest.TestCase):

    def test_listing_stats_and_cpu_report(self):
        proc, ready = launch("redfish", "--endpoints", "2",
                             "--systems-per-endpoint", "2", "--seed", "1",
                             "--latency", "uniform:0,0.01", "--report-cpu")
        try:
            self.assertTrue(ready["ready"])
            self.assertEqual(4, len(ready["systems"]))
            self.assertEqual(2, len(ready["endpoints"]))
            info = ready["systems"][3]
            self.assertEqual({"address", "system_id", "uuid", "name",
                              "username", "password", "endpoint", "macs"},
                             set(info))
            reply = requests.get(info["address"] + info["system_id"],
                                 auth=(info["username"], info["password"]),
                                 timeout=2)
            self.assertEqual(info["uuid"], reply.json()["Id"])
            stats = requests.get(ready["control"] + "stats",
                                 timeout=2).json()
            self.assertEqual(1, stats["requests"])
            self.assertGreater(stats["process_cpu_seconds"], 0)
        finally:
            code, last = finish(proc)
        self.assertEqual(0, code)
        report = json.loads(last)
        self.assertTrue(report["exit"])
        self.assertEqual(1, report["requests"])
        self.assertGreater(report["cpu_seconds"], 0)

    def test_inventory_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fleet.json")
            proc, ready = launch("redfish", "--endpoints", "3",
                                 "--inventory", path, "--loop", "asyncio")
            try:
                self.assertEqual(path, ready["inventory"])
                with open(path) as f:
                    listing = json.load(f)
                self.assertEqual(3, len(listing["systems"]))
            finally:
                code, _ = finish(proc, signal.SIGINT)
            self.assertEqual(0, code)

    def test_bad_arguments(self):
        proc = subprocess.run(
            [sys.executable, "-m", "podium.simulator", "redfish",
             "--host", "192.0.2.1"],
            capture_output=True, text=True, timeout=20, cwd=SOURCE_ROOT)
        self.assertEqual(1, proc.returncode)
        self.assertIn("loopback", proc.stderr)


class IpmiCliTest(unittest.TestCase):

    def test_listing(self):
        proc, ready = launch("ipmi", "--count", "2", "--report-cpu")
        try:
            self.assertEqual(2, len(ready["systems"]))
            self.assertEqual({"address", "port", "username", "password",
                              "name", "uuid"}, set(ready["systems"][0]))
        finally:
            code, last = finish(proc)
        self.assertEqual(0, code)
        self.assertIn("cpu_seconds", json.loads(last))
