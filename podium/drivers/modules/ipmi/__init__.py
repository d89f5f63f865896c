"""IPMI interfaces built on pyghmi.

- :mod:`.utils` -- ``driver_info`` parsing and validation;
- :mod:`.pyghmi_compat` -- every workaround of pyghmi client defects;
- :mod:`.reactor` -- the one thread that runs every pyghmi call;
- :mod:`.client` -- commands handed to the reactor, bounded by deadline;
- :mod:`.commands` -- the chassis commands, encoded and decoded;
- :mod:`.power`, :mod:`.management` -- the interfaces.
"""
