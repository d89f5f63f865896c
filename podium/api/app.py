"""The API application: routers, error handling, auth and middleware.

:func:`create_app` reads the configuration once; per-request code reads
what it needs from ``app.state`` instead of looking options up.
"""

from fastapi import Depends, FastAPI
from oslo_log import log

from podium.api import (
    auth,
    bmc_requests,
    errors,
    limits,
    metrics,
    microversions,
    middleware,
    node_view,
    responses,
    versions,
)
from podium.api.routes import (
    batches,
    bios,
    bmcs,
    conductors,
    dashboard,
    drivers,
    firmware,
    history,
    node_actions,
    node_management,
    nodes,
    ports,
    ramdisk,
    root,
    sensors,
)
from podium.common import exceptions, hash_ring
from podium.conductor import rpcapi
from podium.conf import CONF

LOG = log.getLogger(__name__)


def create_app() -> FastAPI:
    """Build the API application from the current configuration.

    :raises ConfigInvalid: for an unusable auth configuration.
    """
    app = FastAPI(
        title='Podium Bare Metal API',
        description='An OpenStack Ironic v1 compatible subset: nodes, ports, '
                    'power, boot devices, maintenance, drivers and '
                    'conductors. Send X-OpenStack-Ironic-API-Version to '
                    'pick a microversion.',
        version=versions.MAX_VERSION_STRING,
        openapi_url='/openapi.json', docs_url=None, redoc_url=None,
        default_response_class=responses.JSONResponse,
        # Trailing slashes are served, not redirected (see middleware).
        redirect_slashes=False,
        # Routes newer than the requested microversion answer 404.
        dependencies=[Depends(microversions.route_guard)])
    app.state.serializer = node_view.NodeSerializer(
        CONF.api.masked_driver_info_keys,
        conductor_of=hash_ring.HashRingManager().find_conductor)
    app.state.rpcapi = rpcapi.ConductorAPI()
    app.state.bmc_requests = bmc_requests.BMCRequestLimiter(
        CONF.api.max_bmc_requests)
    app.state.max_limit = CONF.api.max_limit
    app.state.public_endpoint = (CONF.api.public_endpoint or '').rstrip('/')
    for module in (root, nodes, node_actions, node_management, ports,
                   history, bios, firmware, sensors, drivers, conductors,
                   bmcs, batches, metrics, dashboard, ramdisk):
        app.include_router(module.router)
    metrics.install_node_collector()
    errors.install(app)
    # Inside authentication: a client without credentials gets its 401
    # without having its body read.
    app.add_middleware(limits.LimitsMiddleware,
                       limits=limits.Limits.from_config(CONF))
    if CONF.api.auth_strategy == 'http_basic':
        app.add_middleware(
            auth.BasicAuthMiddleware,
            authenticator=auth.HtpasswdAuthenticator(
                CONF.api.http_basic_auth_user_file))
    elif CONF.api.host_ip not in ('127.0.0.1', '::1', 'localhost'):
        LOG.warning('The API listens on %s without authentication; set '
                    '[api] auth_strategy = http_basic to require '
                    'credentials.', CONF.api.host_ip)
    # Added last, so outermost: its headers go on every response and its
    # metrics count every answer, 401s and 406s too.
    app.add_middleware(middleware.APIMiddleware)
    return app


__all__ = ['create_app', 'exceptions']
