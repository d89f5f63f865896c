"""Options of the ``[DEFAULT]`` group: identity, state and transport."""

import os
import socket

from oslo_config import cfg

opts = [
    cfg.HostAddressOpt(
        'host',
        sample_default='localhost',
        default=socket.gethostname(),
        help='Name of this conductor. It must be unique among the '
             'conductors sharing one database, and it is the RPC topic '
             'suffix this conductor listens on.'),
    cfg.StrOpt(
        'state_path',
        default=os.path.join(os.path.expanduser('~'), '.local', 'state',
                             'podium'),
        sample_default='~/.local/state/podium',
        help='Directory where Podium keeps its state (the embedded '
             'SQLite database, for example). Created when missing.'),
    cfg.StrOpt(
        'rpc_transport',
        default='local',
        choices=[('local', 'API and conductor run in one process and call '
                           'each other directly; no broker is needed.'),
                 ('oslo', 'API and conductors talk over oslo.messaging at '
                          '[DEFAULT] transport_url.')],
        help='How the API reaches the conductors.'),
    cfg.FloatOpt(
        'rpc_connect_timeout',
        default=10.0, min=1.0,
        help='With rpc_transport = oslo: seconds podium-api and '
             'podium-conductor keep trying to reach the message broker at '
             'start-up (logging each failure) before they exit with an '
             'error naming transport_url. After start-up oslo.messaging '
             'reconnects on its own.'),
    cfg.IntOpt(
        'rpc_send_retries',
        default=3, min=0,
        help='With rpc_transport = oslo: how many times the API retries '
             'sending a request to a conductor while the message broker '
             'is unreachable before it answers 503. The wait for the '
             'answer is bounded by rpc_response_timeout.'),
]
