"""IPMI interfaces built on pyghmi.

- :mod:`.utils` -- ``driver_info`` parsing and validation;
- :mod:`.pyghmi_compat` -- every workaround of pyghmi client defects;
- :mod:`.client` -- one session per BMC, serialised and bounded commands;
- :mod:`.commands` -- the chassis commands, encoded and decoded;
- :mod:`.power`, :mod:`.management` -- the interfaces.
"""
