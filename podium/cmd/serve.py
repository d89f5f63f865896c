"""``podium serve``: API and conductor in one process, no broker.

The embedded way to run Podium: the SQLite database under the state
directory (unless ``[database] connection`` says otherwise), schema
migrations at start-up, and ``rpc_transport = local`` so the API calls
the conductor's manager directly. SIGTERM or SIGINT stops accepting
HTTP requests, stops the conductor gracefully and exits with 0; SIGHUP
reloads the mutable options.
"""

import sys

from podium.api import app as api_app
from podium.api import server
from podium.common import command_line, exceptions
from podium.common import service as service_common
from podium.conductor import service as conductor_service
from podium.conductor import signals
from podium.conf import CONF
from podium.db import migration


def run(argv: list[str]) -> int:
    """Run the all-in-one service with ``argv`` (options, no program
    name); returns the exit status."""
    service_common.prepare_service(argv, command=command_line.SERVE)
    # One process: the API must reach this conductor, never a broker.
    CONF.set_override('rpc_transport', 'local')
    migration.ensure_schema()
    service_common.announce_locations(command_line.SERVE.prog)
    try:
        # Before registering: a busy port must not cost the conductor
        # that already serves there its registration or its nodes.
        sock = server.bind()
    except exceptions.ConfigInvalid as exc:
        print(f'podium: {exc}', file=sys.stderr)
        return 1
    conductor = conductor_service.ConductorService()
    try:
        conductor.start()
        app = api_app.create_app()
    except (exceptions.ConfigInvalid,
            exceptions.ConductorAlreadyRegistered) as exc:
        sock.close()
        conductor.stop(graceful=False)
        print(f'podium: {exc}', file=sys.stderr)
        return 1
    # uvicorn takes SIGTERM/SIGINT while it serves and hands them back
    # to these handlers once HTTP has stopped; SIGHUP is ours alone.
    begin_stop = signals.install_signal_handlers(conductor)
    try:
        listened = server.serve(app, sock)
    finally:
        # uvicorn took the stop signal itself, so ours never armed the
        # watchdog: arm it here (a further signal now exits at once).
        begin_stop()
        conductor.stop(graceful=True)
        while not conductor.wait(timeout=1.0):
            pass
        signals.exit_if_stuck()
    return 0 if listened else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point; ``argv`` defaults to the command line."""
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())
