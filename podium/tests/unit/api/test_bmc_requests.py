"""Requests waiting on BMCs: their own threads, 503 when all are taken."""

import threading

import anyio

from podium.api import bmc_requests
from podium.common import exceptions
from podium.tests import base


class TestBMCRequestLimiter(base.TestCase):

    def test_runs_outside_the_event_loop_thread(self) -> None:
        limiter = bmc_requests.BMCRequestLimiter(2)

        async def main() -> tuple[threading.Thread, threading.Thread]:
            return (threading.current_thread(),
                    await limiter.run(threading.current_thread))

        loop_thread, worker = anyio.run(main)
        self.assertIsNot(loop_thread, worker)

    def test_one_more_than_capacity_is_refused_at_once(self) -> None:
        limiter = bmc_requests.BMCRequestLimiter(2)
        release = threading.Event()
        self.addCleanup(release.set)
        outcomes: list[object] = []

        async def waiter() -> None:
            outcomes.append(await limiter.run(release.wait, 30))

        async def main() -> None:
            async with anyio.create_task_group() as group:
                group.start_soon(waiter)
                group.start_soon(waiter)
                await anyio.sleep(0.2)
                with anyio.fail_after(5):
                    try:
                        await limiter.run(int, '1')
                    except exceptions.NoFreeConductorWorker as exc:
                        outcomes.append(exc)
                release.set()
            # Capacity is back once the waiters are done.
            outcomes.append(await limiter.run(int, '7'))

        anyio.run(main)
        refused = outcomes[0]
        self.assertIsInstance(refused, exceptions.NoFreeConductorWorker)
        self.assertEqual(503, refused.code)  # type: ignore[attr-defined]
        self.assertEqual([True, True, 7], outcomes[1:])
