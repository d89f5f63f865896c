"""``podium-conductor``: a conductor process without the API.

The database schema must exist already (``podium-dbsync upgrade``); this
command never migrates, so that several conductors starting at once do
not race on the schema.
"""

import sys

from podium.common import command_line, exceptions, rpc
from podium.common import service as service_common
from podium.conductor import service as conductor_service
from podium.conductor import signals
from podium.conf import CONF
from podium.db import migration


def main(argv: list[str] | None = None) -> int:
    """Run a conductor until SIGTERM; exit status 0 after a clean stop."""
    service_common.prepare_service(
        sys.argv[1:] if argv is None else argv,
        command=command_line.CONDUCTOR)
    if migration.version() is None:
        sys.exit('podium-conductor: the database has no schema; run '
                 '"podium-dbsync upgrade" first.')
    service_common.announce_locations(command_line.CONDUCTOR.prog)
    service = conductor_service.ConductorService()
    try:
        if CONF.rpc_transport == 'oslo':
            rpc.check_transport()
        service.start()
    except exceptions.PodiumException as exc:
        sys.exit(f'podium-conductor: {exc}')
    signals.install_signal_handlers(service)
    # Waking up now and then keeps the main thread, where Python runs
    # signal handlers, responsive on every platform.
    while not service.wait(timeout=1.0):
        pass
    signals.exit_if_stuck()
    return 0


if __name__ == '__main__':
    sys.exit(main())
