"""The API's pre-bound listening socket (``podium serve`` binds first)."""

import asyncio
import gc
import socket
from typing import Any

from podium.api import server
from podium.tests import base


class BoundSocketTest(base.TestCase):

    def test_accepted_connections_do_not_delay_small_writes(self) -> None:
        # A response goes out as headers then body; without TCP_NODELAY
        # the body waits for the client's delayed ACK on a kept-alive
        # connection (~40 ms a request). asyncio sets it only when the
        # listening socket says it is TCP.
        self.config_fixture.config(host_ip='127.0.0.1', port=0, group='api')
        listener = server.bind()
        self.addCleanup(listener.close)
        self.assertEqual(socket.IPPROTO_TCP, listener.proto)

        async def accept_one() -> int:
            accepted: asyncio.Future[int] = \
                asyncio.get_running_loop().create_future()

            class Probe(asyncio.Protocol):
                def connection_made(self, transport: Any) -> None:
                    sock = transport.get_extra_info('socket')
                    accepted.set_result(sock.getsockopt(
                        socket.IPPROTO_TCP, socket.TCP_NODELAY))
                    transport.close()

            listener.listen()
            srv = await asyncio.get_running_loop().create_server(
                Probe, sock=listener)
            async with srv:
                port = listener.getsockname()[1]
                _, writer = await asyncio.open_connection('127.0.0.1', port)
                try:
                    return await asyncio.wait_for(accepted, 10)
                finally:
                    writer.close()

        self.assertTrue(asyncio.run(accept_one()))


class FreezeStartupObjectsTest(base.TestCase):

    def test_startup_objects_left_out_of_collections(self) -> None:
        # What start-up built lives as long as the process: full
        # collections must not walk it again and again.
        self.addCleanup(gc.unfreeze)
        kept: list[object] = [[]]
        server.freeze_startup_objects()
        self.assertGreater(gc.get_freeze_count(), 0)
        self.assertFalse(any(item is kept for item in gc.get_objects()))
        # Objects made afterwards are collected as before.
        later: list[object] = [[]]
        self.assertTrue(any(item is later for item in gc.get_objects()))
