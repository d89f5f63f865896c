"""Podium's benchmarks: reproducible measurements, run as ``python -m
bench.<name>`` from the repository root. See ``bench/README.md``."""
