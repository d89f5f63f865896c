"""Nodes, tasks, the Redfish simulator and log checks shared by the
driver tests (and the conductor tests that drive Redfish)."""

import dataclasses
import itertools
import logging
import uuid
from typing import Any

import fixtures
import testtools

from podium.drivers.modules.redfish import connection
from podium.simulator import Simulator

_ids = itertools.count(1)


@dataclasses.dataclass
class Node:
    """A node as drivers see it (``drivers.base.NodeView``)."""

    driver_info: dict[str, Any]
    driver: str = 'redfish'
    name: str | None = None
    id: int = dataclasses.field(default_factory=lambda: next(_ids))
    uuid: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    driver_internal_info: dict[str, Any] = dataclasses.field(
        default_factory=dict)
    power_state: str | None = None

    def __post_init__(self) -> None:
        if self.name is None:
            self.name = f'node-{self.id}'


@dataclasses.dataclass
class Task:
    """A driver call's context (``drivers.base.Task``)."""

    node: Node
    timeout: float = 10.0
    shared: bool = False
    #: Where a power read puts the settings it sees (power sync gives
    #: one to nodes with intended settings).
    observed: dict[str, Any] | None = None


def task_for(driver_info: dict[str, Any], timeout: float = 10.0,
             driver: str = 'redfish') -> Task:
    return Task(Node(dict(driver_info), driver=driver), timeout)


def start_simulator(test: testtools.TestCase, **kwargs: Any) -> Simulator:
    """A running ``Simulator(**kwargs)``, stopped after ``test``; the
    process's Redfish connection cache is emptied now and after the
    test, so no connection outlives its simulator."""
    sim = Simulator(**kwargs)
    sim.start()
    test.addCleanup(sim.stop)
    test.addCleanup(connection.CACHE.clear)
    connection.CACHE.clear()
    return sim


class SecretsNotLogged(fixtures.Fixture):
    """Capture every log line at DEBUG and fail if a secret shows up.

    Use ``check(*texts)`` on the exception messages too.
    """

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _setUp(self) -> None:
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG,
            format='%(name)s %(levelname)s %(message)s'))
        self.addCleanup(self._check_logs)

    def _check_logs(self) -> None:
        self.check(self.logger.output, what='the logs')

    def check(self, *texts: str, what: str = 'a message') -> None:
        for text in texts:
            for secret in self.secrets:
                if secret in text:
                    raise AssertionError(
                        f'a password appears in {what}: {text[:2000]}')
