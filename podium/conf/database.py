"""Options of the ``[database]`` group."""

from oslo_config import cfg

group = cfg.OptGroup('database', title='Database options')

opts = [
    cfg.StrOpt(
        'connection',
        secret=True,
        sample_default='sqlite:///$state_path/podium.sqlite',
        help='SQLAlchemy URL of the database. Empty means the embedded '
             'SQLite database podium.sqlite under [DEFAULT] state_path. '
             'Use PostgreSQL or MySQL (postgresql+psycopg2://..., '
             'mysql+pymysql://...) when several conductors share it.'),
    cfg.ListOpt(
        'secrets_encryption_keys',
        default=[], secret=True,
        help='Fernet keys (from "podium-dbsync generate-secrets-key") that '
             'encrypt the secrets of driver_info in the database. The '
             'first key encrypts, every key decrypts: to rotate, put a '
             'new key first, run "podium-dbsync rotate-secrets", then '
             'remove the old key. Empty: secrets are stored in clear '
             '(the database file is still private to the service).'),
    cfg.IntOpt(
        'max_pool_size',
        default=20, min=1,
        help='Connections kept open in the SQLAlchemy pool (of a '
             'server database or an SQLite file).'),
    cfg.IntOpt(
        'max_overflow',
        default=50, min=0,
        help='Extra connections allowed above max_pool_size under load '
             '(server databases only: SQLite takes one writer at a time, '
             'so an SQLite file\'s connections stop at max_pool_size).'),
    cfg.IntOpt(
        'pool_timeout',
        default=30, min=1,
        help='Seconds to wait for a free pooled connection.'),
    cfg.IntOpt(
        'sqlite_busy_timeout',
        default=30, min=1,
        help='Seconds SQLite waits for a lock held by another writer.'),
    cfg.IntOpt(
        'connect_timeout',
        default=5, min=1,
        help='Seconds one attempt to open a connection to a server '
             'database may take (PostgreSQL, MySQL), so that an '
             'unreachable server fails a request or the start-up in '
             'seconds instead of hanging.'),
    cfg.IntOpt(
        'socket_timeout',
        default=60, min=1,
        help='Seconds an open connection to a server database may stay '
             'silent while Podium waits for an answer before it is given '
             'up as lost (the request then answers 503, a periodic task '
             'fails and backs off) instead of waiting forever. MySQL: '
             'the read and write timeout of the socket, which also '
             'bounds one query, so keep it above innodb_lock_wait_timeout '
             '(50 by default). PostgreSQL: TCP keepalives and the TCP '
             'user timeout, which catch a server or network gone silent '
             '(not a server that still acknowledges packets but never '
             'answers).'),
    cfg.IntOpt(
        'connect_retries',
        default=5, min=0,
        help='Attempts to reach the database at start-up before giving '
             'up with an error.'),
    cfg.FloatOpt(
        'connect_retry_interval',
        default=1.0, min=0.0,
        help='Seconds between two start-up connection attempts.'),
]
