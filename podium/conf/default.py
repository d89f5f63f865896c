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
]
