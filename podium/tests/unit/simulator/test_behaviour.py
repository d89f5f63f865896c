"""Latency models and behaviour validation."""

import random
import unittest

from podium.simulator import behaviour as bh


class LatencyParsingTest(unittest.TestCase):

    def test_numbers_are_fixed(self):
        self.assertEqual(bh.Fixed(0.1), bh.parse_latency("0.1"))
        self.assertEqual(bh.Fixed(2), bh.parse_latency(2))
        self.assertIs(bh.NO_LATENCY, bh.parse_latency(None))

    def test_specs_round_trip(self):
        for spec in ("fixed:0.25", "uniform:0.1,0.3",
                     "lognormal:0.05,0.8,10", "tail:0.01,0.05,5",
                     "tail:0.1,2/uniform:0.01,0.02"):
            model = bh.parse_latency(spec)
            self.assertEqual(spec, model.spec())
            self.assertEqual(model, bh.parse_latency(model.spec()))

    def test_invalid_specs(self):
        for spec in ("fast", "uniform:1", "uniform:3,1", "fixed:-1",
                     "tail:0.1,2,3,4", "gauss:1,2", "lognormal:0,1"):
            with self.subTest(spec=spec):
                self.assertRaises(ValueError, bh.parse_latency, spec)

    def test_samples_stay_in_range(self):
        rng = random.Random(7)
        uniform = bh.Uniform(0.1, 0.2)
        self.assertTrue(all(0.1 <= uniform.sample(rng) <= 0.2
                            for _ in range(200)))
        lognormal = bh.LogNormal(0.05, 1.0, cap=0.5)
        samples = [lognormal.sample(rng) for _ in range(2000)]
        self.assertLessEqual(max(samples), 0.5)
        self.assertAlmostEqual(0.05, sorted(samples)[1000], delta=0.01)

    def test_tail_fraction(self):
        rng = random.Random(3)
        tail = bh.Tail(0.0, 0.1, 5.0)
        slow = sum(tail.sample(rng) == 5.0 for _ in range(5000))
        self.assertAlmostEqual(500, slow, delta=100)


class BehaviourTest(unittest.TestCase):

    def test_defaults_are_plain(self):
        self.assertTrue(bh.Behaviour().is_plain)
        self.assertFalse(bh.Behaviour(hang=True).is_plain)

    def test_latency_text_is_parsed(self):
        self.assertEqual(bh.Uniform(0.1, 0.2),
                         bh.Behaviour(latency="uniform:0.1,0.2").latency)

    def test_validation(self):
        self.assertRaises(ValueError, bh.Behaviour, error_fraction=1.5)
        self.assertRaises(ValueError, bh.Behaviour, error_status=404)
        self.assertRaises(ValueError, bh.Behaviour, power_delay=-1)

    def test_overrides(self):
        cleaned = bh.clean_overrides({"latency": "0.5", "hang": None})
        self.assertEqual({"latency": bh.Fixed(0.5), "hang": None}, cleaned)
        merged = bh.apply_overrides(bh.Behaviour(hang=True), cleaned)
        self.assertEqual(bh.Fixed(0.5), merged.latency)
        self.assertTrue(merged.hang)
        self.assertRaises(ValueError, bh.clean_overrides, {"speed": 1})
        self.assertRaises(ValueError, bh.clean_overrides, {"hang": "yes"})
        self.assertRaises(ValueError, bh.clean_overrides,
                          {"error_fraction": 2})

    def test_to_dict(self):
        doc = bh.Behaviour(latency=0.1, error_fraction=0.5,
                           error_status=503).to_dict()
        self.assertEqual({"latency": "fixed:0.1", "hang": False,
                          "error_fraction": 0.5, "error_status": 503,
                          "power_delay": 0.0}, doc)
