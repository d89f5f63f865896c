"""Fleet actions in one request (a Podium extension, not in Ironic).

``POST /v1/podium/batches`` runs one action (power, boot device,
maintenance, or the provision targets manage, provide, inspect and
clean) on a list of nodes or on the nodes a filter matches, under a
rollout policy (concurrency per conductor group, a canary, a failure
threshold); see ``podium.conductor.batches`` for how a conductor runs
it. The whole request is checked before a batch is created, so a bad
one is a 400 that touched no node. The batch is then watched with one
request (``GET /v1/podium/batches/{uuid}``: counts and every node's
result), cancelled (``DELETE``), resumed, or retried for its failed
nodes only.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from oslo_log import log
from starlette.responses import Response

from podium.api import links, params, responses, schemas
from podium.api.routes import nodes as node_routes
from podium.common import context as podium_context
from podium.common import exceptions
from podium.conductor import batch_actions
from podium.conductor import batches as conductor_batches
from podium.conf import CONF
from podium.db import api as db_api
from podium.db import batches as db_batches
from podium.db import models

LOG = log.getLogger(__name__)

router = APIRouter(tags=['batches (Podium extension)'])

PATH = '/v1/podium/batches'
_NODE_COLUMNS = ('id', 'uuid', 'name', 'conductor_group')
#: Unknown node names quoted in a 400, at most.
_QUOTED = 10


def _invalid(message: str) -> exceptions.InvalidParameterValue:
    return exceptions.InvalidParameterValue(err=message)


def _quote(names: list[str]) -> str:
    shown = ', '.join(names[:_QUOTED])
    more = len(names) - _QUOTED
    return shown + (f' (and {more} more)' if more > 0 else '')


def _listed_nodes(idents: list[str], limit: int) -> list[Any]:
    """Rows of the listed nodes, in the order given.

    :raises InvalidParameterValue: empty, too long, a node listed twice
        or unknown.
    """
    if not idents:
        raise _invalid('"nodes" is empty: list at least one node.')
    if len(idents) > limit:
        raise _invalid(f'"nodes" lists {len(idents)} nodes; a batch takes '
                       f'at most {limit} ([api] max_batch_nodes).')
    rows = {}
    for key in ('uuid', 'name'):
        for row in db_api.list_node_rows(
                _NODE_COLUMNS, filters={f'{key}_in': set(idents)}):
            rows[getattr(row, key)] = row
    unknown = [ident for ident in idents if ident not in rows]
    if unknown:
        raise _invalid(f'Unknown node(s) in "nodes": {_quote(unknown)}.')
    seen: set[int] = set()
    twice = []
    for ident in idents:
        if rows[ident].id in seen:
            twice.append(ident)
        seen.add(rows[ident].id)
    if twice:
        raise _invalid(f'Node(s) listed twice in "nodes": {_quote(twice)}.')
    return [rows[ident] for ident in idents]


def _filtered_nodes(filters: dict[str, Any], limit: int) -> list[Any]:
    """Rows of the nodes the filters match, by id.

    :raises InvalidParameterValue: an unknown filter or a value of the
        wrong type, no node matched, or too many did.
    """
    accepted = node_routes.BOOL_FILTERS + node_routes.STRING_FILTERS
    unknown = sorted(set(filters) - set(accepted))
    if unknown:
        raise _invalid(f'Unknown filter(s): {", ".join(unknown)}. '
                       f'Accepted: {", ".join(sorted(accepted))}.')
    for name, value in filters.items():
        kind = bool if name in node_routes.BOOL_FILTERS else str
        if not isinstance(value, kind):
            raise _invalid(f'Invalid value for filter {name}: expected '
                           f'a {"boolean" if kind is bool else "string"}.')
    if not filters:
        raise _invalid('"filters" is empty: it would select every node; '
                       'name at least one filter.')
    count = db_api.count_nodes(filters)
    if not count:
        raise _invalid(f'The filters {filters} match no node.')
    if count > limit:
        raise _invalid(f'The filters match {count} nodes; a batch takes '
                       f'at most {limit} ([api] max_batch_nodes).')
    return db_api.list_node_rows(_NODE_COLUMNS, filters=filters)


def _selected_nodes(body: schemas.BatchRequest) -> list[Any]:
    if (body.nodes is None) == (body.filters is None):
        raise _invalid('Give either "nodes" (a list of node names or '
                       'UUIDs) or "filters", not both or neither.')
    limit = CONF.api.max_batch_nodes
    if body.nodes is not None:
        return _listed_nodes(body.nodes, limit)
    assert body.filters is not None
    return _filtered_nodes(body.filters, limit)


def _policy(body: schemas.BatchRequest) -> dict[str, Any]:
    policy = body.policy.model_dump()
    if policy['concurrency'] is None:
        policy['concurrency'] = conductor_batches.policy_defaults()[
            'concurrency']
    return policy


def _render(request: Request, batch: models.Batch,
            counts: dict[str, int],
            results: list[Any] | None) -> dict[str, Any]:
    base = links.base_url(request)
    document: dict[str, Any] = {
        'uuid': batch.uuid, 'action': batch.action, 'args': batch.args,
        'policy': batch.policy, 'state': batch.state, 'run': batch.run,
        'conductor': batch.conductor, 'last_error': batch.last_error,
        'created_at': batch.created_at, 'updated_at': batch.updated_at,
        'counts': dict(counts, total=sum(counts.values())),
        'links': [{'href': f'{base}{PATH}/{batch.uuid}', 'rel': 'self'}],
    }
    if results is not None:
        document['nodes'] = [
            {'uuid': row.node_uuid, 'name': row.node_name,
             'state': row.state, 'error': row.error, 'run': row.run,
             'started_at': row.started_at, 'finished_at': row.finished_at}
            for row in results]
    return document


def _show(request: Request, batch: models.Batch, status: int = 200,
          node_state: str | None = None) -> Response:
    counts = db_batches.count_nodes([batch.id])[batch.id]
    results = db_batches.list_batch_node_rows(
        batch.id, None if node_state is None else [node_state])
    headers = ({'Location': f'{links.base_url(request)}{PATH}/{batch.uuid}'}
               if status == 202 else None)
    return responses.JSONResponse(_render(request, batch, counts, results),
                                  status_code=status, headers=headers)


def _start(request: Request, batch: models.Batch) -> None:
    """Ask the batch's conductor to run it. When the call fails the
    batch stays assigned: that conductor's periodic check starts it, or
    another conductor adopts it if that one is dead."""
    context = podium_context.RequestContext(
        user_id=getattr(request.state, 'user', None))
    assert batch.conductor is not None
    try:
        request.app.state.rpcapi.start_batch(context, batch.conductor,
                                             batch.uuid)
    except exceptions.TemporaryFailure as exc:
        LOG.warning('Batch %s: conductor %s did not start it now (%s); '
                    'its periodic batch check will', batch.uuid,
                    batch.conductor, exc)


@router.post(PATH, status_code=202, summary='Start a batch',
             description='One action on many nodes: the body names the '
                         'action, its args, "nodes" or "filters", and '
                         'the rollout policy. Answers 202 with the '
                         'batch; watch it with GET.')
def create_batch(request: Request, body: schemas.BatchRequest) -> Response:
    args = batch_actions.validate(body.action, body.args)
    policy = _policy(body)
    rows = _selected_nodes(body)
    conductor = request.app.state.rpcapi.get_topic_for(rows[0])
    batch = db_batches.create_batch(
        {'action': body.action, 'args': args, 'policy': policy,
         'state': db_batches.RUNNING, 'run': 1, 'conductor': conductor,
         'user': getattr(request.state, 'user', None)}, rows)
    LOG.info('Batch %s: %s %s on %d node(s), run by %s', batch.uuid,
             body.action, args, len(rows), conductor)
    _start(request, batch)
    return _show(request, db_batches.get_batch(batch.id), status=202)


@router.get(PATH, summary='List batches',
            description='Oldest first, with the counts of node results; '
                        'query parameters: limit, marker (a batch UUID), '
                        'state.')
def list_batches(request: Request, limit: str | None = Query(None),
                 marker: str | None = Query(None),
                 state: str | None = Query(None)) -> Response:
    page = params.parse_limit(limit, request.app.state.max_limit)
    batches = db_batches.list_batches(page, marker, state)
    counts = db_batches.count_nodes([batch.id for batch in batches])
    body: dict[str, Any] = {'batches': [
        _render(request, batch, counts[batch.id], None)
        for batch in batches]}
    if len(batches) == page:
        body['next'] = links.next_link(
            links.base_url(request), PATH,
            request.query_params.multi_items(), page, batches[-1].uuid)
    return responses.JSONResponse(body)


@router.get(PATH + '/{batch_uuid}', summary='Show a batch',
            description='Counts and every node\'s result; node_state '
                        '(pending, running, succeeded, failed, '
                        'cancelled) keeps the nodes in that state only.')
def show_batch(request: Request, batch_uuid: str,
               node_state: str | None = Query(None)) -> Response:
    if node_state is not None and node_state not in db_batches.NODE_STATES:
        raise _invalid(f'Invalid node_state {node_state!r}; one of '
                       f'{", ".join(db_batches.NODE_STATES)}.')
    return _show(request, db_batches.get_batch(batch_uuid),
                 node_state=node_state)


@router.delete(PATH + '/{batch_uuid}', status_code=202,
               summary='Cancel a batch',
               description='A running batch starts no more nodes; those in '
                           'flight end, the others are cancelled. A '
                           'stopped batch is cancelled at once.')
def cancel_batch(request: Request, batch_uuid: str) -> Response:
    batch = db_batches.get_batch(batch_uuid)
    if batch.state == db_batches.STOPPED:
        batch = db_batches.transition(
            batch_uuid, (db_batches.STOPPED,),
            {'state': db_batches.CANCELLED},
            {db_batches.NODE_PENDING: db_batches.NODE_CANCELLED})
    else:
        batch = db_batches.transition(
            batch_uuid, (db_batches.RUNNING,),
            {'state': db_batches.CANCELLING})
    return _show(request, batch, status=202)


def _restart(request: Request, batch_uuid: str, from_states: tuple[str, ...],
             node_states: dict[str, str]) -> Response:
    batch = db_batches.get_batch(batch_uuid)
    rows = db_batches.list_batch_nodes(batch.id, list(node_states))
    if not any(node_states.get(row.state) == db_batches.NODE_PENDING
               for row in rows):
        raise exceptions.BatchStateConflict(
            batch=batch.uuid, state=batch.state,
            reason='it has no node to run.')
    conductor = request.app.state.rpcapi.get_topic_for(
        conductor_batches.NodeRef(rows[0].node_uuid,
                                  rows[0].conductor_group))
    batch = db_batches.transition(
        batch_uuid, from_states,
        {'state': db_batches.RUNNING, 'conductor': conductor,
         'last_error': None}, node_states, next_run=True)
    _start(request, batch)
    return _show(request, batch, status=202)


@router.post(PATH + '/{batch_uuid}/resume', status_code=202,
             summary='Resume a stopped or cancelled batch',
             description='Runs the nodes that did not run (pending or '
                         'cancelled) as a new run; the canary is not run '
                         'again.')
def resume_batch(request: Request, batch_uuid: str) -> Response:
    return _restart(request, batch_uuid,
                    (db_batches.STOPPED, db_batches.CANCELLED),
                    {db_batches.NODE_PENDING: db_batches.NODE_PENDING,
                     db_batches.NODE_CANCELLED: db_batches.NODE_PENDING})


@router.post(PATH + '/{batch_uuid}/retry', status_code=202,
             summary='Retry the failed nodes of a batch',
             description='Runs the failed nodes only, as a new run; nodes '
                         'that did not run yet are cancelled (resume runs '
                         'them later).')
def retry_batch(request: Request, batch_uuid: str) -> Response:
    return _restart(request, batch_uuid,
                    (db_batches.STOPPED, db_batches.CANCELLED,
                     db_batches.FAILED),
                    # In this order: pending ones are cancelled before
                    # the failed ones become pending.
                    {db_batches.NODE_PENDING: db_batches.NODE_CANCELLED,
                     db_batches.NODE_FAILED: db_batches.NODE_PENDING})
