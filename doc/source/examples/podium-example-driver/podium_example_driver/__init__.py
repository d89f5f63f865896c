"""An example out-of-tree Podium driver.

The "BMC" of a node is a file: ``driver_info['example_power_file']``
holds ``on`` or ``off``. Replace the file I/O with calls to a real
device (a PDU, a vendor API) and the rest stays as it is.
"""
