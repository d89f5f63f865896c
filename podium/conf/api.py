"""Options of the ``[api]`` group."""

from oslo_config import cfg

group = cfg.OptGroup('api', title='REST API options')

opts = [
    cfg.HostAddressOpt(
        'host_ip',
        default='127.0.0.1',
        help='Address the API listens on. The default keeps an '
             'unauthenticated API on loopback.'),
    cfg.PortOpt(
        'port',
        default=6385,
        help='TCP port the API listens on (6385 is Ironic\'s).'),
    cfg.StrOpt(
        'auth_strategy',
        default='noauth',
        choices=[('noauth', 'No authentication.'),
                 ('http_basic', 'HTTP basic authentication against '
                                '[api] http_basic_auth_user_file.')],
        help='How API requests are authenticated.'),
    cfg.StrOpt(
        'http_basic_auth_user_file',
        default='/etc/podium/htpasswd',
        help='htpasswd file with bcrypt hashed passwords, used when '
             'auth_strategy is http_basic.'),
    cfg.StrOpt(
        'ssl_cert_file',
        help='PEM certificate (with its chain) the API serves HTTPS with. '
             'Set together with ssl_key_file; without both the API '
             'speaks plain HTTP, which http_basic credentials then cross '
             'in clear.'),
    cfg.StrOpt(
        'ssl_key_file',
        help='PEM private key of ssl_cert_file.'),
    cfg.IntOpt(
        'max_limit',
        default=1000, min=1,
        help='Largest page a list request returns; also the page size '
             'when a request gives no limit.'),
    cfg.StrOpt(
        'public_endpoint',
        help='Base URL put into links and "next" URLs, for an API behind '
             'a proxy. Default: taken from the request.'),
    cfg.ListOpt(
        'masked_driver_info_keys',
        default=['password'],
        help='driver_info keys shown as "******" in API responses, at '
             'any depth, in addition to every key that names a secret '
             'by pattern (containing password, token, secret, ...; or '
             'with a part kg, key, community, pass, ...: ipmi_kg, '
             'snmp_auth_key, redfish_auth_token).'),
    cfg.IntOpt(
        'max_request_body_size',
        default=114688, min=1024,
        help='Largest request body accepted, in bytes (Ironic\'s default, '
             '112 KiB); larger bodies are refused with HTTP 413 before '
             'they are read.'),
    cfg.IntOpt(
        'max_json_depth',
        default=20, min=2,
        help='Deepest nesting of objects and arrays accepted in a JSON '
             'request body; deeper bodies are refused with HTTP 400.'),
    cfg.IntOpt(
        'max_field_size',
        default=65536, min=256,
        help='Largest size of one field of a JSON request body: a string '
             'in characters, an object (driver_info, properties, extra, '
             'instance_info or one nested inside them) in bytes of JSON. '
             'Larger fields are refused with HTTP 400 naming the field.'),
    cfg.IntOpt(
        'max_bmc_requests',
        default=100, min=1,
        help='Requests that wait for a BMC\'s answer (boot device get and '
             'set, supported boot devices, validate) served at once by one '
             'API process, each in a thread of its own outside the '
             'request threads, so hung BMCs never stall the rest of the '
             'API. One more is refused at once with 503.'),
    cfg.IntOpt(
        'max_batch_nodes',
        default=5000, min=1,
        help='Most nodes one batch (POST /v1/podium/batches) may act on, '
             'whether listed or matched by a filter; a larger request is '
             'refused with 400 before any node is touched.'),
    cfg.IntOpt(
        'api_workers',
        default=1, min=1,
        help='Worker processes of the standalone podium-api service.'),
]
