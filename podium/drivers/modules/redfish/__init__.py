"""Redfish interfaces built on sushy.

- :mod:`.utils` -- ``driver_info`` parsing and validation;
- :mod:`.transport` -- timeouts, retries and per-endpoint concurrency of
  every HTTP request;
- :mod:`.connection` -- the cache of connections (and sessions);
- :mod:`.errors` -- sushy/requests failures as Podium driver errors;
- :mod:`.power_read` -- single and ``$expand``-batched power reads;
- :mod:`.power`, :mod:`.management`, :mod:`.inspect` -- the interfaces.
"""
