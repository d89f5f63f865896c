"""pyghmi's fake BMC as a separate process, for the IPMI functional tests.

Run ``python -m podium.tests.functional.drivers.fake_ipmi_bmc PORT...``
with ``FAKE_BMC_USER`` and ``FAKE_BMC_PASSWORD`` in the environment. It
serves one :class:`FakeBmc` per port on 127.0.0.1, prints ``READY`` and
then obeys one command per stdin line, answering one line:

``power PORT on|off``  change the power state out of band -> ``OK``
``get PORT``           -> ``<power> <bootdev> <persistent>``

A separate process keeps pyghmi's server, which shares pyghmi's global IO
machinery, away from the client under test. The server stays stock where
the client must cope with it (it answers a cipher suite 17 proposal with
suite 3, which Podium's client workaround handles); these server-side
defects are worked around here:

- the IO thread wakes itself with a datagram to ``myself``, which pyghmi
  guesses as an IPv6 address while our first socket is IPv4: set it;
- the blocking-mode toggling that freezes the IO thread: Podium's client
  workaround applies to the server too, so it is installed;
- the listen loop dies on the first exception a stray packet raises (for
  example a client address reused across BMC ports): it is restarted.
"""

import os
import sys
import threading
import traceback
from typing import Any

from pyghmi.ipmi import bmc as pyghmi_bmc
from pyghmi.ipmi import command as ipmi_command
from pyghmi.ipmi.private import session as ipmi_session

from podium.drivers.modules.ipmi import pyghmi_compat


class FakeBmc(pyghmi_bmc.Bmc):
    """Power and boot device kept in memory; remembers persistence."""

    def __init__(self, authdata: dict[str, str], port: int) -> None:
        super().__init__(authdata, port=port, address='127.0.0.1')
        self.power = 'off'
        self.bootdev = 'default'
        self.persistent = False

    def get_power_state(self) -> str:
        return self.power

    def power_on(self) -> None:
        self.power = 'on'

    def power_off(self) -> None:
        self.power = 'off'

    def power_shutdown(self) -> None:
        self.power = 'off'

    def power_reset(self) -> None:
        self.power = 'on'

    def get_boot_device(self) -> str:
        return self.bootdev

    def get_system_boot_options(self, request: dict[str, Any],
                                session: Any) -> None:
        if request['data'][0] != 5:
            session.send_ipmi_response(code=0x80)
            return
        flags = 0x80 | (0x40 if self.persistent else 0)
        device = ipmi_command.boot_devices.get(self.bootdev, 0)
        session.send_ipmi_response(data=[1, 5, flags, device, 0, 0, 0])

    def set_system_boot_options(self, request: dict[str, Any],
                                session: Any) -> None:
        data = request['data']
        if data[0] == 5:
            self.persistent = bool(data[1] & 0x40)
        super().set_system_boot_options(request, session)

    def set_boot_device(self, bootdevice: str) -> None:
        self.bootdev = bootdevice


def _listen() -> None:
    while True:
        try:
            ipmi_session.Session.wait_for_rsp(30)
        except Exception:
            traceback.print_exc()


def _serve_stdin(bmcs: dict[int, FakeBmc]) -> None:
    for line in sys.stdin:
        words = line.split()
        if len(words) == 3 and words[0] == 'power':
            bmcs[int(words[1])].power = words[2]
            answer = 'OK'
        elif len(words) == 2 and words[0] == 'get':
            bmc = bmcs[int(words[1])]
            answer = f'{bmc.power} {bmc.bootdev} {bmc.persistent}'
        else:
            answer = f'ERROR unknown command {line.strip()!r}'
        print(answer, flush=True)
    os._exit(0)  # stdin closed: the test is over


def main() -> None:
    ports = [int(arg) for arg in sys.argv[1:]]
    authdata = {os.environ['FAKE_BMC_USER']: os.environ['FAKE_BMC_PASSWORD']}
    ipmi_session.myself = '127.0.0.1'
    pyghmi_compat.apply()
    bmcs = {port: FakeBmc(authdata, port) for port in ports}
    threading.Thread(target=_listen, daemon=True).start()
    print('READY', flush=True)
    _serve_stdin(bmcs)


if __name__ == '__main__':
    main()
