"""Installer call-backs: the lookup and heartbeat of a deploying node.

A node deployed by an external installer (the ``anaconda`` deploy
interface) waits in ``wait call-back`` holding no lock and no thread.
The installer finds its node by MAC address (``GET /v1/lookup``) and
then reports with Ironic's ramdisk heartbeat (``POST
/v1/heartbeat/{node}``), as the kickstart of Ironic's anaconda deploy
does:

``start``
    the installation began: recorded, and the call-back timeout
    (``[conductor] deploy_callback_timeout``) counts afresh from now;
``end``
    the installation finished: the node becomes ``active``;
``error``
    it failed: the node goes to ``deploy failed`` with the installer's
    message as ``last_error``.

The heartbeat must carry the node's agent token. As in Ironic, the
token is made by the first lookup of the deploy and shown to that
lookup only (later lookups see it masked), and it is forgotten when the
deploy ends; so a heartbeat for another node, from an older deploy, or
from something that did not look the node up is refused and changes
nothing. Each call runs in the RPC call under the node lock, without a
BMC call: an ``end`` needs none, the one-time network boot is spent.
"""

import hmac
import secrets
from typing import Any

from oslo_log import log

from podium.common import exceptions, masking
from podium.common import states as s
from podium.conductor import provisioning, task_manager
from podium.db import api as db_api
from podium.db import models

LOG = log.getLogger(__name__)

#: ``agent_status`` values a heartbeat may carry (Ironic's).
AGENT_STATUSES = ('start', 'end', 'error')

#: States in which a lookup finds a node: those waiting for an
#: installer. A node in any other state is "not found", as in Ironic,
#: so that a lookup tells nothing about nodes not deploying.
LOOKUP_STATES = (s.DEPLOYWAIT,)

#: Node fields a lookup returns (Ironic's ``_LOOKUP_RETURN_FIELDS``).
LOOKUP_FIELDS = ('uuid', 'properties', 'instance_info',
                 'driver_internal_info')

_TOKEN_KEY = 'agent_secret_token'  # noqa: S105 (a key name)


def _refuse_unless_waiting(task: task_manager.TaskManager) -> None:
    node = task.node
    if node.provision_state not in LOOKUP_STATES:
        raise exceptions.InvalidState(
            node=node.ident,
            reason=f'it is not waiting for an installer\'s call-back '
                   f'(provision state "{node.provision_state}").')


def lookup(task: task_manager.TaskManager) -> dict[str, Any]:
    """What a booting installer learns of its node: the lookup fields
    and its agent token (masked after the first lookup of a deploy).

    :raises NodeNotFound: the node is not waiting for a call-back.
    """
    node = task.node
    if node.provision_state not in LOOKUP_STATES:
        raise exceptions.NodeNotFound(node=node.ident)
    internal = dict(node.driver_internal_info or {})
    token = masking.MASK
    if not internal.get(_TOKEN_KEY):
        token = secrets.token_urlsafe(32)
        internal[_TOKEN_KEY] = token
        task.save(driver_internal_info=internal)
        LOG.info('Node %s: agent token handed to the installer\'s lookup',
                 node.ident)
    result = {field: getattr(task.node, field) for field in LOOKUP_FIELDS}
    # The lookup answers without credentials: secrets stay masked, as
    # in every other response.
    for field in ('driver_internal_info', 'instance_info'):
        result[field] = masking.mask(result[field] or {})
    result['agent_token'] = token
    return result


def _check_token(task: task_manager.TaskManager,
                 agent_token: str | None) -> None:
    expected = (task.node.driver_internal_info or {}).get(_TOKEN_KEY)
    if not expected or agent_token is None or not hmac.compare_digest(
            str(expected).encode(), agent_token.encode()):
        raise exceptions.InvalidParameterValue(
            err=f'Node {task.node.ident}: invalid or missing agent token '
                f'received (look the node up with GET /v1/lookup first).')


def heartbeat(task: task_manager.TaskManager, agent_token: str | None,
              agent_status: str | None, message: str | None) -> str:
    """Act on an installer's report; returns the node's new provision
    state.

    :raises InvalidState: (HTTP 409) the node is not waiting.
    :raises InvalidParameterValue: a wrong or missing token, or an
        unknown ``agent_status``; nothing is changed then.
    """
    _refuse_unless_waiting(task)
    _check_token(task, agent_token)
    if agent_status not in AGENT_STATUSES:
        raise exceptions.InvalidParameterValue(
            err=f'Node {task.node.ident}: agent_status must be one of '
                f'{", ".join(AGENT_STATUSES)} for a deploy waiting for '
                f'its installer, got {agent_status!r}.')
    node = task.node
    said = f': {message}' if message else '.'
    if agent_status == 'start':
        internal = dict(node.driver_internal_info or {},
                        agent_status=agent_status,
                        agent_status_message=message,
                        agent_last_heartbeat=models.utcnow().isoformat())
        # Like Ironic's touch_provisioning: the call-back timeout counts
        # from the installer's latest report.
        task.save(driver_internal_info=internal,
                  provision_updated_at=models.utcnow())
        db_api.add_node_history(node.id, f'Installer started{said}',
                                'deploying', s.INFO, task.host)
        LOG.info('Node %s: installer started%s', node.ident, said)
        return str(task.node.provision_state)
    done = provisioning.without_agent_token(node)
    if agent_status == 'error':
        error = f'Deploy failed: the installer reported an error{said}'
        return provisioning.transition(task, 'fail', None, error=error,
                                       deploy_step=None,
                                       driver_internal_info=done)
    db_api.add_node_history(node.id, f'Installer finished{said}',
                            'deploying', s.INFO, task.host)
    provisioning.transition(task, 'resume', None)
    return provisioning.transition(task, 'done', None, deploy_step=None,
                                   driver_internal_info=done)
