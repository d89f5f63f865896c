"""Options of the ``[redfish]`` group."""

from oslo_config import cfg

from podium.conf import power_wait

group = cfg.OptGroup('redfish', title='Redfish driver options')

opts = [
    cfg.FloatOpt(
        'request_timeout',
        default=10.0, min=0.1,
        help='Seconds one HTTP request to a Redfish BMC may take '
             '(connect and read each). Hung BMCs cost at most this.'),
    cfg.IntOpt(
        'max_concurrent_requests_per_endpoint',
        default=4, min=1,
        help='Requests in flight at once to one BMC endpoint '
             '(scheme://host:port). Many BMCs fail under concurrency, '
             'and one endpoint may front many systems.'),
    cfg.IntOpt(
        'server_side_retries',
        default=1, min=0,
        help='Retries of a request the BMC answered with a 5xx.'),
    cfg.FloatOpt(
        'server_side_retries_delay',
        default=0.5, min=0.0,
        help='Seconds between two retries of a 5xx answer.'),
    cfg.IntOpt(
        'connection_cache_size',
        default=10000, min=1,
        help='Redfish connections (and sessions) kept for reuse; the '
             'least recently used are closed beyond this. Keep it above '
             'the number of Redfish BMCs one conductor reads (and the '
             'open files limit above twice that): power sync visits '
             'them all every cycle, so a smaller cache closes each '
             'connection before its next use and every read logs in '
             'again.'),
    cfg.IntOpt(
        'connection_cache_ttl',
        default=3600, min=0,
        help='Seconds an unused cached connection is kept. 0 keeps it '
             'until evicted by size.'),
    cfg.StrOpt(
        'auth_type',
        default='auto',
        choices=[('basic', 'HTTP basic auth on every request.'),
                 ('session', 'A Redfish session token.'),
                 ('auto', 'A session when the BMC offers one, else basic.')],
        help='Default authentication of Redfish nodes; a node may '
             'override it with driver_info redfish_auth_type.'),
    cfg.BoolOpt(
        'keep_alive',
        default=True,
        help='Keep the TCP (and TLS) connection to a BMC open between '
             'requests instead of asking it to close after each one '
             '(sushy\'s default). Saves a handshake per power read; '
             'disable for BMCs that misbehave on persistent connections.'),
    cfg.BoolOpt(
        'trust_env',
        default=False,
        help='Let the HTTP client read proxies, CA bundles and netrc '
             'credentials from the environment (HTTPS_PROXY, '
             'REQUESTS_CA_BUNDLE, ...). Off by default: BMC traffic '
             'rarely belongs on a general-purpose proxy, and the lookup '
             'costs CPU on every request.'),
    cfg.BoolOpt(
        'use_expand',
        default=True,
        help='During power sync, read the power state of all nodes '
             'behind one endpoint with a single $expand request when the '
             'BMC supports it.'),
] + power_wait.power_wait_opts(poll_interval=2.0)
