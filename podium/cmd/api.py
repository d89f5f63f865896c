"""``podium-api``: the REST API alone, talking to conductors over RPC.

With ``[api] api_workers`` above 1, uvicorn runs that many worker
processes; each parses the same command line again.
"""

import sys

import uvicorn

from podium.api import app as api_app
from podium.api import server
from podium.common import command_line, exceptions, rpc
from podium.common import service as service_common
from podium.conf import CONF


def create_worker_app() -> object:
    """The application of one worker process (uvicorn factory)."""
    service_common.prepare_service(sys.argv[1:], command=command_line.API)
    app = api_app.create_app()
    server.freeze_startup_objects()
    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the API until SIGTERM/SIGINT; 0 after a clean stop."""
    service_common.prepare_service(argv, command=command_line.API)
    service_common.announce_locations(command_line.API.prog)
    try:
        if CONF.rpc_transport == 'oslo':
            rpc.check_transport()
        app = api_app.create_app()
    except exceptions.ConfigInvalid as exc:
        sys.exit(f'podium-api: {exc}')
    try:
        if CONF.api.api_workers > 1:
            uvicorn.run('podium.cmd.api:create_worker_app', factory=True,
                        workers=CONF.api.api_workers,
                        **server.uvicorn_options())
            return 0
        return 0 if server.serve(app) else 1
    finally:
        rpc.cleanup()


if __name__ == '__main__':
    sys.exit(main())
