"""``.. podium-api-reference::``: the REST API reference, generated.

The routes come from the OpenAPI document the API application itself
serves (``GET /openapi.json``), so a route added to the code is in the
reference at the next build, with no page to edit. Each route is
marked either Ironic-compatible, with the microversion Ironic
introduced it in (from :data:`IRONIC_ROUTES` below), or a Podium
extension. A route in neither table is documented as "Podium extension
(unclassified)": when it is in fact one of Ironic's, add its path to
:data:`IRONIC_ROUTES` in this file.

Each route also says from which microversion Podium serves it, when
that is above 1.1 (``podium.api.microversions.ROUTES``: below it the
route answers 404, as Ironic's does).

``.. podium-api-reference:: absent`` lists instead the Ironic routes of
:data:`IRONIC_ROUTES` that Podium does not serve, for the page on
limits; ``.. podium-api-reference:: microversions`` renders Podium's
microversion table (``podium.api.microversions`` and the provision
targets' minimum versions) and ``.. podium-api-reference:: transitions``
every transition of the provision state machine
(``podium.common.provision.MACHINE``), so the pages cannot drift from
the code.
"""

import re
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

#: Ironic's v1 routes (path parameters as ``{}``) and the API version
#: that introduced each. "1.1" is the base version every client speaks.
IRONIC_ROUTES: dict[str, str] = {
    '/': '1.1',
    '/v1': '1.1',
    '/v1/nodes': '1.1',
    '/v1/nodes/detail': '1.1',
    '/v1/nodes/{}': '1.1',
    '/v1/nodes/{}/states': '1.1',
    '/v1/nodes/{}/states/power': '1.1',
    '/v1/nodes/{}/states/provision': '1.1',
    '/v1/nodes/{}/states/console': '1.1',
    '/v1/nodes/{}/states/raid': '1.12',
    '/v1/nodes/{}/states/boot_mode': '1.76',
    '/v1/nodes/{}/states/secure_boot': '1.76',
    '/v1/nodes/{}/maintenance': '1.1',
    '/v1/nodes/{}/management/boot_device': '1.1',
    '/v1/nodes/{}/management/boot_device/supported': '1.1',
    '/v1/nodes/{}/management/inject_nmi': '1.29',
    '/v1/nodes/{}/management/indicators': '1.63',
    '/v1/nodes/{}/validate': '1.1',
    '/v1/nodes/{}/vendor_passthru': '1.1',
    '/v1/nodes/{}/vendor_passthru/methods': '1.1',
    '/v1/nodes/{}/vendor_passthru/{}': '1.1',
    '/v1/nodes/{}/ports': '1.1',
    '/v1/nodes/{}/ports/detail': '1.1',
    '/v1/nodes/{}/portgroups': '1.24',
    '/v1/nodes/{}/vifs': '1.28',
    '/v1/nodes/{}/vifs/{}': '1.28',
    '/v1/nodes/{}/traits': '1.37',
    '/v1/nodes/{}/traits/{}': '1.37',
    '/v1/nodes/{}/volume': '1.32',
    '/v1/nodes/{}/bios': '1.40',
    '/v1/nodes/{}/bios/{}': '1.40',
    '/v1/nodes/{}/allocation': '1.52',
    '/v1/nodes/{}/history': '1.78',
    '/v1/nodes/{}/history/{}': '1.78',
    '/v1/nodes/{}/inventory': '1.81',
    '/v1/nodes/{}/children': '1.83',
    '/v1/nodes/{}/firmware': '1.86',
    '/v1/nodes/{}/vmedia': '1.89',
    '/v1/ports': '1.1',
    '/v1/ports/detail': '1.1',
    '/v1/ports/{}': '1.1',
    '/v1/portgroups': '1.23',
    '/v1/portgroups/detail': '1.23',
    '/v1/portgroups/{}': '1.23',
    '/v1/chassis': '1.1',
    '/v1/chassis/{}': '1.1',
    '/v1/drivers': '1.1',
    '/v1/drivers/{}': '1.1',
    '/v1/drivers/{}/properties': '1.1',
    '/v1/drivers/{}/raid/logical_disk_properties': '1.12',
    '/v1/drivers/{}/vendor_passthru': '1.1',
    '/v1/volume': '1.32',
    '/v1/volume/connectors': '1.32',
    '/v1/volume/targets': '1.32',
    '/v1/lookup': '1.22',
    '/v1/heartbeat/{}': '1.22',
    '/v1/continue_inspection': '1.84',
    '/v1/conductors': '1.49',
    '/v1/conductors/{}': '1.49',
    '/v1/allocations': '1.52',
    '/v1/allocations/{}': '1.52',
    '/v1/events': '1.54',
    '/v1/deploy_templates': '1.55',
    '/v1/deploy_templates/{}': '1.55',
    '/v1/shards': '1.82',
    '/v1/runbooks': '1.92',
    '/v1/runbooks/{}': '1.92',
}

#: Paths Podium serves that Ironic does not have (templates as above).
PODIUM_ROUTES: dict[str, str] = {
    '/openapi.json': 'the OpenAPI document this reference is built from',
    '/v1/conductors/{}/metrics': 'a conductor\'s Prometheus metrics '
                                 'relayed over RPC, for the fleet dashboard',
    '/v1/nodes/{}/sensors': 'a node\'s power, temperature, fan and '
                            'voltage readings, read through its conductor '
                            'and cached there for a few seconds; '
                            '``format=prometheus`` for a per-node scrape',
    '/v1/podium/bmcs': 'the health records of the BMCs, gathered from '
                       'every alive conductor over RPC',
    '/v1/podium/batches': 'fleet actions in one request: start a batch, '
                          'list batches',
    '/v1/podium/batches/{}': 'a batch\'s counts and per-node results; '
                             'DELETE cancels it',
    '/v1/podium/batches/{}/resume': 'run a stopped or cancelled batch\'s '
                                    'remaining nodes',
    '/v1/podium/batches/{}/retry': 'run a batch\'s failed nodes again',
    '/v1/nodes/{}/bmc_reset': 'restart a node\'s BMC on an '
                                     'operator\'s request',
}

_METHODS = ('get', 'post', 'put', 'patch', 'delete')


def template(path: str) -> str:
    """``/v1/nodes/{node_ident}`` -> ``/v1/nodes/{}``."""
    return re.sub(r'\{[^}]*\}', '{}', path)


def classify(path: str) -> str:
    """The sentence saying where a route comes from."""
    key = template(path)
    if key in IRONIC_ROUTES:
        return (f'Ironic-compatible (Ironic API microversion '
                f'{IRONIC_ROUTES[key]} and later).')
    if key in PODIUM_ROUTES:
        return f'Podium extension: {PODIUM_ROUTES[key]}.'
    return ('Podium extension (unclassified: not in the reference '
            'generator\'s table of Ironic routes).')


def served_from(path: str) -> str | None:
    """The sentence saying from which microversion Podium serves a
    route, or None when it is served at every version."""
    from podium.api import microversions, versions

    added = microversions.ROUTES.get(path)
    if added is None:
        return None
    return (f'Served from microversion {versions.to_string(added)}; a '
            f'request for an older version gets 404.')


def _version(version: tuple[int, int]) -> str:
    from podium.api import versions

    return versions.to_string(version)


def _table(header: tuple[str, str], rows: list[tuple[str, str]]
           ) -> list[str]:
    """A reStructuredText list table of two columns."""
    lines = ['.. list-table::', '   :header-rows: 1', '',
             f'   * - {header[0]}', f'     - {header[1]}']
    for left, right in rows:
        lines += [f'   * - {left}', f'     - {right}']
    return lines + ['']


def microversion_lines() -> list[str]:
    """reStructuredText of Podium's microversion behaviour."""
    from podium.api import microversions, versions
    from podium.common import provision

    lines = [f'Podium announces microversions {versions.MIN_VERSION_STRING}'
             f' to {versions.MAX_VERSION_STRING}. A request without a '
             f'version header gets {versions.MIN_VERSION_STRING}; '
             f'``latest`` gets {versions.MAX_VERSION_STRING}. A field or '
             f'route newer than the requested version is hidden (routes '
             f'answer 404); naming such a field in ``fields``, a body or '
             f'a patch gets 406.', '']
    title = 'Routes'
    lines += [title, '~' * len(title), '']
    lines += _table(('Route', 'From'), [
        (f'``{path}``', _version(added))
        for path, added in sorted(microversions.ROUTES.items())])
    for resource, fields in microversions.FIELDS.items():
        title = f'Fields of {resource.replace("_", " ")}'
        lines += [title, '~' * len(title), '',
                  'Fields not listed exist from 1.1.', '']
        lines += _table(('Field', 'From'), [
            (f'``{name}``', _version(added))
            for name, added in sorted(fields.items(),
                                      key=lambda item: (item[1], item[0]))])
    title = 'Request features and provision targets'
    lines += [title, '~' * len(title), '']
    rows = [(f'``{name}`` query parameter', _version(added))
            for name, added in sorted(microversions.FEATURES.items())]
    rows += [(f'provision target ``{target}``', _version(added))
             for target, added in sorted(
                 provision.TARGET_MIN_VERSIONS.items(),
                 key=lambda item: (item[1], item[0]))]
    lines += _table(('Feature', 'From'), rows)
    title = 'State names'
    lines += [title, '~' * len(title), '']
    lines += _table(('State', 'Shown below the version as'), [
        (f'``{new}`` (from {_version(added)})',
         f'``{old}``' if old else '``null``')
        for added, new, old in microversions.STATE_NAMES])
    return lines


def transition_lines() -> list[str]:
    """reStructuredText table of every provision state transition, with
    the API targets that start it. In a state where the conductor is
    working (it holds the node's lock) every event is the conductor's:
    ``manage`` ending a manual cleaning, say, is not an operator's."""
    from podium.common import provision
    from podium.common import states as s

    working = {s.VERIFYING, s.INSPECTING, s.CLEANING, s.DEPLOYING,
               s.DELETING, s.ADOPTING}
    targets: dict[str, list[str]] = {}
    for target, event in provision.VERBS.items():
        targets.setdefault(event, []).append(f'``{target}``')
    lines = ['.. list-table::', '   :header-rows: 1', '',
             '   * - From', '     - Event', '     - Started by',
             '     - To']
    for start, event, end in sorted(provision.MACHINE):
        started_by = ('(the conductor)' if start in working
                      or event not in targets
                      else 'API target ' + ', '.join(targets[event]))
        lines += [f'   * - ``{start}``', f'     - ``{event}``',
                  f'     - {started_by}', f'     - ``{end}``']
    return lines + ['']


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the application as configured by default
    (its routes do not depend on options)."""
    from podium.api import app as api_app
    from podium.conf import CONF

    CONF([], project='podium', default_config_files=[])
    return api_app.create_app().openapi()


def _one_line(text: str | None) -> str:
    return ' '.join((text or '').split())


def _route_lines(path: str, method: str, op: dict[str, Any]) -> list[str]:
    title = f'{method.upper()} {path}'
    lines = [title, '~' * len(title), '', op.get('summary', ''), '',
             classify(path), '']
    since = served_from(path)
    if since:
        lines += [since, '']
    if op.get('description'):
        lines += [_one_line(op['description']), '']
    params = [p for p in op.get('parameters', [])]
    if params:
        lines.append('Parameters:')
        lines.append('')
        for param in params:
            required = ', required' if param.get('required') else ''
            lines.append(f'* ``{param["name"]}`` ({param["in"]}'
                         f'{required})')
        lines.append('')
    body = op.get('requestBody', {}).get('content', {})
    for media in body.values():
        ref = media.get('schema', {}).get('$ref', '')
        if ref:
            lines += [f'Request body: ``{ref.rsplit("/", 1)[-1]}`` '
                      f'(JSON).', '']
    codes = ', '.join(sorted(op.get('responses', {})))
    if codes:
        lines += [f'Responses: {codes}.', '']
    return lines


def reference_lines(doc: dict[str, Any]) -> list[str]:
    """reStructuredText of every route, grouped by the API's tags."""
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in doc['paths'].items():
        for method in _METHODS:
            if method in ops:
                tag = (ops[method].get('tags') or ['other'])[0]
                groups.setdefault(tag, []).append((path, method,
                                                   ops[method]))
    lines: list[str] = []
    for tag, routes in groups.items():
        heading = tag.capitalize()
        lines += [heading, '-' * len(heading), '']
        for path, method, op in routes:
            lines += _route_lines(path, method, op)
    return lines


def absent_lines(doc: dict[str, Any]) -> list[str]:
    """A list of the Ironic routes Podium does not serve."""
    served = {template(path) for path in doc['paths']}
    missing = sorted(key for key in IRONIC_ROUTES if key not in served)
    return [f'* ``{key}`` (Ironic {IRONIC_ROUTES[key]})'
            for key in missing] + ['']


class ApiReference(SphinxDirective):
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        which = self.arguments[0] if self.arguments else 'routes'
        if which == 'microversions':
            lines = microversion_lines()
        elif which == 'transitions':
            lines = transition_lines()
        elif which in ('routes', 'absent'):
            doc = openapi_document()
            lines = reference_lines(doc) if which == 'routes' \
                else absent_lines(doc)
        else:
            raise self.error(f'unknown argument {which!r}: routes, '
                             f'absent, microversions or transitions')
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(
            lines, source='openapi.json'), node)
        return node.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive('podium-api-reference', ApiReference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
