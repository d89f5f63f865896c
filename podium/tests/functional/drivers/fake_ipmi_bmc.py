"""pyghmi's fake BMC as a separate process, for the IPMI functional tests.

Run ``python -m podium.tests.functional.drivers.fake_ipmi_bmc PORT...``
with ``FAKE_BMC_USER`` and ``FAKE_BMC_PASSWORD`` in the environment. It
serves one :class:`FakeBmc` per port on 127.0.0.1, prints ``READY`` and
then obeys one command per stdin line, answering one line:

``power PORT on|off``  change the power state out of band -> ``OK``
``get PORT``           -> ``<power> <bootdev> <persistent> <resets>``
``mode PORT MODE``     how the BMC misbehaves from now on -> ``OK``

Modes (what field BMCs do): ``ok``; ``hang``, every command after login
dropped (a wedged BMC controller); ``garbage``, chassis commands
answered with an empty, malformed response; ``reset``, the session
dropped on every chassis command, unanswered; ``reset-once``, the same
for one command, then ``ok``; ``nocipher``, every RMCP+ open session
request refused with "no cipher suite match"; ``wedged``, chassis
commands dropped until an ``mc reset cold``, which the BMC answers and
counts (``resets``).

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
  example a client address reused across BMC ports): it is restarted;
- a new login from a client address (the client shares one socket
  among up to 64 sessions) wipes the server sessions of that address on
  *every* BMC port, so re-logins to a hung BMC kill healthy sessions on
  the others; real BMCs are separate devices and never do that. The
  simulator's server session, which forgets only its own BMC's session,
  is used (with pyghmi's stock cipher suite answer).
"""

import os
import struct
import sys
import threading
import traceback
from typing import Any

from pyghmi.ipmi import bmc as pyghmi_bmc
from pyghmi.ipmi import command as ipmi_command
from pyghmi.ipmi.private import serversession
from pyghmi.ipmi.private import session as ipmi_session

from podium.drivers.modules.ipmi import pyghmi_compat
from podium.simulator import pyghmi_fixes

MODES = ('ok', 'hang', 'garbage', 'reset', 'reset-once', 'nocipher',
         'wedged')
_NETFN_CHASSIS = 0
# RMCP+ open session request/response payload types, and the status
# "no cipher suite match with proposed security algorithms".
_OPEN_SESSION_REQUEST = 0x10
_OPEN_SESSION_RESPONSE = 0x11
_NO_CIPHER_SUITE_MATCH = 0x11


def _forget(session: Any) -> None:
    """Drop a server session as a BMC that reset it would."""
    for handlers in list(ipmi_session.Session.bmc_handlers.values()):
        for port, handler in list(handlers.items()):
            if handler is session:
                del handlers[port]


class ServerSession(pyghmi_fixes.ServerSession):
    """One BMC's session only; stock answer to the cipher proposal."""

    create_open_session_response = (
        serversession.ServerSession.create_open_session_response)


class FakeBmc(pyghmi_bmc.Bmc):
    """Power and boot device kept in memory; remembers persistence and
    the boot type (EFI bit)."""

    def __init__(self, authdata: dict[str, str], port: int) -> None:
        super().__init__(authdata, port=port, address='127.0.0.1')
        self.power = 'off'
        self.bootdev = 'default'
        self.persistent = False
        self.uefi = False
        self.mode = 'ok'
        self.resets = 0

    def handle_raw_request(self, request: dict[str, Any],
                           session: Any) -> None:
        mode = self.mode
        chassis = request['netfn'] == _NETFN_CHASSIS
        if mode == 'hang' or (mode == 'wedged' and chassis):
            return
        if chassis and mode in ('reset', 'reset-once'):
            if mode == 'reset-once':
                self.mode = 'ok'
            _forget(session)
            return
        if chassis and mode == 'garbage':
            session.send_ipmi_response(data=[])
            return
        super().handle_raw_request(request, session)

    def sessionless_data(self, data: Any, sockaddr: Any) -> None:
        data = bytearray(data)
        if (self.mode == 'nocipher' and len(data) >= 24 and data[4] == 6
                and data[5] == _OPEN_SESSION_REQUEST):
            request = data[16:]
            payload = bytearray([request[0], _NO_CIPHER_SUITE_MATCH, 0,
                                 0]) + request[4:8]
            self.serversocket.sendto(
                bytes(b'\x06\x00\xff\x07'
                      + bytes([6, _OPEN_SESSION_RESPONSE]) + bytes(8)
                      + struct.pack('<H', len(payload)) + payload),
                sockaddr)
            return
        if len(data) >= 22 and data[4] == 6 and (
                data[5] == _OPEN_SESSION_REQUEST):
            ServerSession(self.authdata, self.kg, sockaddr,
                          self.serversocket, data[16:], self.uuid, bmc=self)
            return
        super().sessionless_data(data, sockaddr)

    def cold_reset(self) -> int:
        """``mc reset cold``: counted; it cures a wedged BMC."""
        self.resets += 1
        if self.mode == 'wedged':
            self.mode = 'ok'
        return 0

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
        flags = (0x80 | (0x40 if self.persistent else 0)
                 | (0x20 if self.uefi else 0))
        device = ipmi_command.boot_devices.get(self.bootdev, 0)
        session.send_ipmi_response(data=[1, 5, flags, device, 0, 0, 0])

    def set_system_boot_options(self, request: dict[str, Any],
                                session: Any) -> None:
        data = request['data']
        if data[0] == 5:
            self.persistent = bool(data[1] & 0x40)
            self.uefi = bool(data[1] & 0x20)
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
        elif len(words) == 3 and words[0] == 'mode' and words[2] in MODES:
            bmcs[int(words[1])].mode = words[2]
            answer = 'OK'
        elif len(words) == 2 and words[0] == 'get':
            bmc = bmcs[int(words[1])]
            answer = (f'{bmc.power} {bmc.bootdev} {bmc.persistent} '
                      f'{bmc.resets}')
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
