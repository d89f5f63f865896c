"""The database unit tests, on PostgreSQL and on MariaDB.

Every class of :data:`SUITES` runs here once per server, with the same
test bodies as on SQLite: migrations against models, queries, marker
pagination (NULL ordering and collations differ between backends), the
lock race, the BMC reset race and conductor heartbeats. The unit modules
are imported as modules, not classes, so that their SQLite tests are not
collected here a second time.
"""

from podium.tests.functional.db import backends
from podium.tests.unit.db import (
    test_batches,
    test_bmc_resets,
    test_conductors,
    test_history,
    test_locks,
    test_migrations,
    test_node_lists,
    test_nodes,
    test_ports,
)

SUITES = (
    test_migrations.MigrationTest,
    test_nodes.NodeCreateGetTest,
    test_nodes.NodeUpdateTest,
    test_nodes.NodeDestroyTest,
    test_node_lists.NodeFilterTest,
    test_node_lists.NodePaginationTest,
    test_locks.ReservationTest,
    test_conductors.ConductorTest,
    test_conductors.NodeHistoryTest,
    test_ports.PortTest,
    test_history.HistoryTest,
    test_batches.BatchDbTest,
    test_bmc_resets.BmcResetTest,
)


def _backend_classes() -> dict[str, type]:
    # Built in a function: a loop variable left at module level holding
    # a unit class would make the loader collect its SQLite tests here.
    classes: dict[str, type] = {}
    for server in (backends.POSTGRESQL, backends.MARIADB):
        for suite in SUITES:
            cls = backends.on_backend(server, suite, __name__)
            classes[cls.__name__] = cls
    return classes


globals().update(_backend_classes())
