"""Create the schema and enroll nodes straight into the database.

``python -m bench.enroll --config-file podium.conf nodes.json`` runs in its
own process, so the benchmark driver never loads Podium's configuration
itself and can set up several deployments in one run. Enrolling ten
thousand nodes through the API would only measure enrollment; that rate
is measured on its own by ``bench.api_load``.
"""

from __future__ import annotations

import argparse
import json
import sys

from podium.conf import CONF
from podium.db import api as db_api
from podium.db import migration
from podium.db import ports as db_ports

_BATCH = 2000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config-file', required=True)
    parser.add_argument('nodes', help='JSON file: a list of node dicts; '
                        'a node\'s "macs" become its ports')
    args = parser.parse_args(argv)
    CONF(['--config-file', args.config_file], project='podium',
         default_config_files=[])
    migration.upgrade()
    with open(args.nodes, encoding='utf-8') as handle:
        nodes = json.load(handle)
    macs = [node.pop('macs', ()) for node in nodes]
    for start in range(0, len(nodes), _BATCH):
        created = db_api.create_nodes(nodes[start:start + _BATCH])
        ports = [{'node_id': node.id, 'address': mac}
                 for node, addresses in zip(
                     created, macs[start:start + _BATCH], strict=True)
                 for mac in addresses]
        if ports:
            db_ports.create_ports(ports)
    print(f'enrolled {len(nodes)} nodes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
