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
        default=100000, min=1,
        help='Redfish BMCs whose logged-in state (session token, '
             'service root, system paths, $expand support) is kept for '
             'reuse; the least recently used are logged out beyond '
             'this. Keep it above the number of Redfish BMCs one '
             'conductor reads: power sync visits them all every cycle, '
             'so a smaller cache logs out of each before its next use '
             'and every read logs in again. It costs memory (about 12 '
             'KB per BMC measured against the simulator), not file '
             'descriptors: the sockets are bounded by socket_budget.'),
    cfg.IntOpt(
        'socket_budget',
        default=0, min=0,
        help='Kept-alive sockets to Redfish BMCs the conductor keeps '
             'open (idle, or serving a read), across all BMCs. 0 '
             'derives it from the open files limit (the soft '
             'RLIMIT_NOFILE, which the conductor raises to the hard one) '
             'minus reserved_file_descriptors. When it is full, a socket '
             'opened for a read is closed after it, except one in 8, '
             'which takes the place of the idle sockets of the BMC read '
             'least recently: the BMCs beyond the budget open a new TCP '
             '(or TLS) connection for each read, with the session they '
             'have (no new login), and the others keep theirs from one '
             'power sync cycle to the next.'),
    cfg.IntOpt(
        'reserved_file_descriptors',
        default=1024, min=0,
        help='File descriptors of the open files limit left to '
             'everything but the kept-alive Redfish sockets when '
             'socket_budget is 0 (at most half the limit): the database '
             'and RPC connections, log files, IPMI sockets, the shared '
             'requests pools (64 BMCs) and one socket per read in flight '
             'on a BMC with none kept: up to sync_power_state_workers '
             'plus bmc_probe_workers, or with power_read_mode = async '
             'every such read of a cycle at once.'),
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
