// Podium fleet dashboard. Reads the REST API (newest microversion) and
// /metrics of the API that served this page; no other origin, no build
// step. Everything shown is built with DOM calls, never innerHTML, so
// node names and error texts cannot inject markup.
import {age, el, meter, seconds, table} from './dom.js';
import {CycleRecorder, bmcPanel, periodicPanel, syncPanel, worstBmcsPanel}
  from './health.js';
import {Metrics} from './metrics.js';

(() => {
  const API_HEADERS = {
    'X-OpenStack-Ironic-API-Version': 'latest',
    Accept: 'application/json',
  };
  const NODE_FIELDS = [
    'uuid', 'name', 'power_state', 'target_power_state', 'provision_state',
    'maintenance', 'maintenance_reason', 'fault', 'last_error', 'driver',
    'conductor_group', 'conductor', 'reservation',
  ];
  const DETAIL_FIELDS = [
    'uuid', 'name', 'driver', 'power_state', 'target_power_state',
    'provision_state', 'target_provision_state', 'maintenance',
    'maintenance_reason', 'fault', 'last_error', 'conductor',
    'conductor_group', 'resource_class', 'owner', 'reservation',
    'provision_updated_at', 'created_at', 'updated_at', 'bmc_health',
  ];
  // Filters the node list API applies; the page applies the others.
  const SERVER_FILTERS = [
    'provision_state', 'maintenance', 'fault', 'driver', 'conductor_group',
  ];
  const CLIENT_FILTERS = ['q', 'power_state'];
  const PAGE_SIZE = 1000;
  // A page fetches at most this many nodes per refresh; filters narrow.
  const MAX_NODES = 20000;
  // The fleet view lists this many of the worst BMCs.
  const WORST_BMCS = 10;
  // Rows drawn in the table; the search narrows the rest.
  const SHOWN_ROWS = 200;
  const SPARK_POINTS = 120;
  const SPARK_KEY = 'podium-dashboard-sync-cycles';
  const CONFIRM_MS = 5000;

  const state = {
    nodes: [], truncated: false, metrics: null, conductors: null, bmcs: null,
    unserved: [], node: null, metricErrors: {}, metricSources: 0,
    armed: null, timer: null,
    cycles: new CycleRecorder(SPARK_KEY, SPARK_POINTS),
  };

  // Helpers ---------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function replace(id, ...children) {
    $(id).replaceChildren(...children.flat(Infinity).filter((c) =>
      c !== null && c !== undefined));
  }

  // The last scrape of /metrics; an empty one when there is none.
  const NO_METRICS = new Metrics('');
  function metrics() { return state.metrics || NO_METRICS; }
  const samples = (name, where) => metrics().samples(name, where);
  const total = (name, where) => metrics().total(name, where);
  const metric = (name, where) => metrics().metric(name, where);

  function powerClass(power) {
    if (power === 'power on') return 'state on';
    if (power === 'power off') return 'state off';
    return 'state bad';
  }

  function nodeLabel(node) { return node.name || node.uuid; }

  function showError(message) {
    $('error').hidden = !message;
    $('error').textContent = message || '';
  }

  function notice(message) {
    $('notice').hidden = !message;
    $('notice').textContent = message || '';
  }

  // API -------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // The page may have been opened with credentials in its address;
  // fetch refuses URLs with credentials, so requests go to the origin.
  function apiUrl(path) { return new URL(path, window.location.origin).href; }

  async function errorMessage(response) {
    const text = await response.text();
    try {
      const outer = JSON.parse(text);
      const inner = JSON.parse(outer.error_message);
      return inner.faultstring || text;
    } catch (_) {
      return text || response.statusText;
    }
  }

  async function request(method, path, body, accept) {
    const init = {
      method, credentials: 'same-origin', cache: 'no-store',
      headers: {...API_HEADERS},
    };
    if (accept) init.headers.Accept = accept;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(apiUrl(path), init);
    if (!response.ok) {
      const message = await errorMessage(response);
      throw new ApiError(response.status,
        `${method} ${path}: ${response.status} ${message}`);
    }
    return response;
  }

  async function getJSON(path) {
    return (await request('GET', path)).json();
  }

  // Every page of a collection, following "next" up to ``max`` items.
  async function collect(path, key, max) {
    const items = [];
    let next = path;
    while (next && items.length < max) {
      const body = await getJSON(next);
      items.push(...body[key]);
      next = body.next ? new URL(body.next).pathname +
        new URL(body.next).search : null;
    }
    return {items: items.slice(0, max), truncated: Boolean(next)};
  }

  // Filters -------------------------------------------------------------

  function filterValues() {
    const values = {};
    for (const name of [...SERVER_FILTERS, ...CLIENT_FILTERS]) {
      const value = $(`f-${name}`).value.trim();
      if (value) values[name] = value;
    }
    return values;
  }

  function applyQueryToForm() {
    const query = new URLSearchParams(window.location.search);
    for (const name of [...SERVER_FILTERS, ...CLIENT_FILTERS]) {
      const input = $(`f-${name}`);
      const value = query.get(name) || '';
      if (input.tagName === 'SELECT' && value &&
          ![...input.options].some((o) => o.value === value)) {
        input.append(el('option', {value}, value));
      }
      input.value = value;
    }
  }

  function setFilter(name, value) {
    $(`f-${name}`).value = value;
    filtersChanged();
  }

  function filtersChanged() {
    const query = new URLSearchParams(filterValues());
    const search = query.toString();
    window.history.replaceState(null, '',
      `${window.location.pathname}${search ? `?${search}` : ''}` +
      window.location.hash);
    refresh();
  }

  function nodesPath() {
    const query = new URLSearchParams({
      fields: NODE_FIELDS.join(','), limit: String(PAGE_SIZE),
      sort_key: 'name',
    });
    const values = filterValues();
    for (const name of SERVER_FILTERS) {
      if (values[name]) query.set(name, values[name]);
    }
    return `/v1/nodes?${query}`;
  }

  function matches(node, values) {
    if (values.power_state === 'other') {
      if (['power on', 'power off'].includes(node.power_state)) return false;
    } else if (values.power_state &&
        node.power_state !== values.power_state) {
      return false;
    }
    if (values.q) {
      const q = values.q.toLowerCase();
      return (node.name || '').toLowerCase().includes(q) ||
        node.uuid.includes(q);
    }
    return true;
  }

  // Actions -----------------------------------------------------------------

  const ACTIONS = {
    'power-on': {label: 'Power on', confirm: true,
      run: (n) => request('PUT', `/v1/nodes/${n.uuid}/states/power`,
        {target: 'power on'})},
    'power-off': {label: 'Power off', confirm: true,
      run: (n) => request('PUT', `/v1/nodes/${n.uuid}/states/power`,
        {target: 'power off'})},
    'maintenance-on': {label: 'Maintenance on', confirm: false,
      run: (n) => request('PUT', `/v1/nodes/${n.uuid}/maintenance`,
        {reason: 'set from the dashboard'})},
    'maintenance-off': {label: 'Maintenance off', confirm: false,
      run: (n) => request('DELETE', `/v1/nodes/${n.uuid}/maintenance`)},
  };

  function isArmed(node, action) {
    return state.armed && state.armed.uuid === node.uuid &&
      state.armed.action === action && state.armed.until > Date.now();
  }

  async function act(node, action) {
    const spec = ACTIONS[action];
    if (spec.confirm && !isArmed(node, action)) {
      state.armed = {uuid: node.uuid, action, until: Date.now() + CONFIRM_MS};
      renderAll();
      setTimeout(renderAll, CONFIRM_MS + 50);
      return;
    }
    state.armed = null;
    try {
      await spec.run(node);
      notice(`${spec.label}: requested for ${nodeLabel(node)}.`);
      showError('');
    } catch (error) {
      showError(error.message);
    }
    setTimeout(refresh, 500);
  }

  function actionButtons(node) {
    const wanted = [
      node.power_state === 'power on' ? 'power-off' : 'power-on',
      node.maintenance ? 'maintenance-off' : 'maintenance-on',
    ];
    if (node.power_state !== 'power on' && node.power_state !== 'power off') {
      wanted.unshift('power-off');
    }
    return el('div', {class: 'actions'}, wanted.map((action) => {
      const armed = isArmed(node, action);
      return el('button', {
        type: 'button', class: armed ? 'confirm' : null,
        'data-action': action, 'data-node': node.uuid,
        disabled: Boolean(node.target_power_state) && action.startsWith('power'),
        onclick: () => act(node, action),
      }, armed ? `Confirm ${ACTIONS[action].label.toLowerCase()}`
        : ACTIONS[action].label);
    }));
  }

  // Fleet view --------------------------------------------------------------

  function card(label, value, opts) {
    const options = opts || {};
    return el('button', {
      type: 'button', class: `card ${options.tone || ''}`,
      title: options.title, onclick: options.onclick,
      disabled: !options.onclick,
    }, el('div', {class: 'value'}, value), el('div', {class: 'label'}, label));
  }

  function renderOverview() {
    const haveMetrics = samples('podium_nodes').length > 0;
    const byPower = {};
    const byProvision = {};
    let maintenance = 0;
    let faults = 0;
    let count = 0;
    if (haveMetrics) {
      count = metric('podium_nodes');
      for (const s of samples('podium_nodes_by_power_state')) {
        byPower[s.labels.power_state] = s.value;
      }
      for (const s of samples('podium_nodes_by_provision_state')) {
        byProvision[s.labels.provision_state] = s.value;
      }
      maintenance = metric('podium_nodes_in_maintenance') || 0;
      faults = total('podium_nodes_by_fault');
    } else {
      for (const node of state.nodes) {
        const power = String(node.power_state);
        byPower[power] = (byPower[power] || 0) + 1;
        byProvision[node.provision_state] =
          (byProvision[node.provision_state] || 0) + 1;
        if (node.maintenance) maintenance += 1;
        if (node.fault) faults += 1;
      }
      count = state.nodes.length;
    }
    const unknownPower = count - (byPower['power on'] || 0) -
      (byPower['power off'] || 0);
    const alive = (state.conductors || []).filter((c) => c.alive).length;
    const refused = total('podium_conductor_pool_refused_total');
    const cards = [
      card(haveMetrics ? 'nodes enrolled' : 'nodes listed', count,
        {onclick: () => $('filters').reset()}),
      card('power on', byPower['power on'] || 0,
        {onclick: () => setFilter('power_state', 'power on')}),
      card('power off', byPower['power off'] || 0,
        {onclick: () => setFilter('power_state', 'power off')}),
      card('power unknown or error', unknownPower,
        {tone: unknownPower ? 'warn' : '',
          onclick: () => setFilter('power_state', 'other')}),
      card('in maintenance', maintenance, {tone: maintenance ? 'warn' : '',
        onclick: () => setFilter('maintenance', 'true')}),
      card('with a fault', faults, {tone: faults ? 'bad' : '',
        onclick: faults ? () => setFilter('fault', 'power failure') : null}),
      card('conductors alive', state.conductors ?
        `${alive} / ${state.conductors.length}` : '–',
      {tone: state.conductors && alive < state.conductors.length ? 'bad' : ''}),
      card('pool refusals', state.metrics ? refused : '–',
        {tone: refused ? 'warn' : '',
          title: 'submissions refused for want of a free worker'}),
    ];
    for (const [name, value] of Object.entries(byProvision).sort()) {
      cards.push(card(`provision: ${name}`, value, {
        tone: /fail|error/.test(name) ? 'bad' : '',
        onclick: () => setFilter('provision_state', name)}));
    }
    replace('overview', ...cards);
  }

  function renderConductors() {
    if (!state.conductors) return;
    const rows = state.conductors.map((c) => {
      const size = total('podium_conductor_pool_size', {host: c.hostname});
      const busy = total('podium_conductor_pool_busy', {host: c.hostname});
      return el('tr', {},
        el('td', {}, c.hostname), el('td', {}, c.conductor_group || '–'),
        el('td', {}, el('span', {class: c.alive ? 'state on' : 'state bad'},
          c.alive ? 'alive' : 'dead')),
        el('td', {class: 'num'}, c.node_count),
        el('td', {}, age(c.last_heartbeat)),
        el('td', {}, size ? [meter(busy / size), ` ${busy} / ${size}`]
          : el('span', {class: 'muted'}, state.metricErrors[c.hostname] ||
            'no figures')));
    });
    const unserved = state.unserved || [];
    replace('conductors',
      table(['host', 'group', 'state', '#nodes', 'heartbeat', 'pool busy'],
        rows, 'No conductor registered.'),
      unserved.length ? el('p', {class: 'error'}, 'Conductor groups with ' +
        `nodes but no alive conductor: ${unserved.join(', ')}`) : null);
  }

  function renderFaults() {
    const troubled = state.nodes.filter((n) => n.fault || n.last_error);
    const filtered = Object.keys(filterValues()).length > 0;
    replace('faults', table(['node', 'fault', 'maintenance', 'last error'],
      troubled.slice(0, SHOWN_ROWS).map((n) => el('tr', {},
        el('td', {}, el('a', {href: `#/node/${n.uuid}`}, nodeLabel(n))),
        el('td', {}, n.fault ? el('span', {class: 'tag bad'}, n.fault) : '–'),
        el('td', {class: 'wrap'}, n.maintenance ?
          n.maintenance_reason || 'yes' : 'no'),
        el('td', {class: 'wrap'}, n.last_error || '–'))),
      filtered ? 'No listed node has a fault or an error.'
        : 'No node has a fault or an error.'));
  }

  function renderNodes() {
    const values = filterValues();
    const shown = state.nodes.filter((n) => matches(n, values));
    const rows = shown.slice(0, SHOWN_ROWS).map((n) => el('tr', {
      'data-node': n.uuid},
    el('td', {}, el('a', {href: `#/node/${n.uuid}`}, nodeLabel(n))),
    el('td', {}, el('span', {class: powerClass(n.power_state),
      'data-field': 'power_state'}, String(n.power_state)),
    n.target_power_state ? ` → ${n.target_power_state}` : ''),
    el('td', {}, n.provision_state),
    el('td', {}, n.maintenance ? el('span', {class: 'tag',
      title: n.maintenance_reason || ''}, 'maintenance') : ''),
    el('td', {}, n.fault ? el('span', {class: 'tag bad'}, n.fault) : ''),
    el('td', {}, n.driver), el('td', {}, n.conductor || '–'),
    el('td', {}, actionButtons(n))));
    const more = shown.length - rows.length;
    replace('nodes',
      table(['name', 'power', 'provision', 'maintenance', 'fault', 'driver',
        'conductor', 'actions'], rows, 'No node matches.'),
      el('p', {class: 'muted', id: 'nodes-count'},
        `${shown.length} of ${state.nodes.length} listed nodes match` +
        (more > 0 ? `; the first ${rows.length} are shown, search to ` +
          'narrow' : '') +
        (state.truncated ? `; only the first ${MAX_NODES} nodes were ` +
          'fetched, filter to see others' : '') + '.'));
  }

  // Node view ---------------------------------------------------------------

  function detailValue(field, value) {
    if (value === null) return '–';
    if (field === 'bmc_health') {
      return `${value.endpoint}: ` +
        (value.suspect ? 'suspect' : 'answering') +
        `, ${value.consecutive_failures} failure(s) in a row, p95 ` +
        `${seconds(value.latency_p95)}, last good read ` +
        `${age(value.last_good_read)}`;
    }
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  async function renderNode(uuid) {
    const node = await getJSON(`/v1/nodes/${encodeURIComponent(uuid)}`);
    state.node = node;
    const history = await getJSON(`/v1/nodes/${encodeURIComponent(uuid)}` +
      '/history?detail=True&sort_dir=desc&limit=100');
    replace('node-title', `Node ${nodeLabel(node)}`);
    replace('node-actions', actionButtons(node));
    replace('node-detail', el('dl', {class: 'detail'},
      DETAIL_FIELDS.filter((f) => f in node).map((f) => [
        el('dt', {}, f),
        el('dd', {'data-field': f}, detailValue(f, node[f]))])));
    replace('node-history', table(
      ['when', 'severity', 'type', 'event', 'user', 'conductor'],
      history.history.map((h) => el('tr', {},
        el('td', {title: h.created_at}, age(h.created_at)),
        el('td', {}, h.severity === 'ERROR' ? el('span', {class: 'tag bad'},
          h.severity) : h.severity),
        el('td', {}, h.event_type || '–'),
        el('td', {class: 'wrap'}, h.event),
        el('td', {}, h.user || '–'), el('td', {}, h.conductor || '–'))),
      'No history recorded for this node.'));
  }

  // Refresh -----------------------------------------------------------------

  function currentNode() {
    const match = /^#\/node\/(.+)$/.exec(window.location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function renderAll() {
    const uuid = currentNode();
    $('fleet-view').hidden = Boolean(uuid);
    $('node-view').hidden = !uuid;
    if (uuid) {
      // Only the buttons: the rest is redrawn when the node is read.
      if (state.node && state.node.uuid === uuid) {
        replace('node-actions', actionButtons(state.node));
      }
      return;
    }
    renderOverview();
    replace('sync', syncPanel(state.metrics, state.cycles,
      state.metricSources));
    replace('bmcs', bmcPanel(state.metrics));
    renderConductors();
    replace('periodics', periodicPanel(state.metrics));
    renderFaults();
    replace('worst-bmcs', worstBmcsPanel(state.bmcs));
    renderNodes();
  }

  // What an optional endpoint answered; null when the API lacks it.
  function nullIfAbsent(promise) {
    return promise.catch((error) => {
      if (error.status === 404) return null;
      throw error;
    });
  }

  async function loadFleet() {
    const [nodes, conductors, metricsText, bmcs] = await Promise.all([
      collect(nodesPath(), 'nodes', MAX_NODES),
      getJSON('/v1/conductors?detail=True'),
      nullIfAbsent(request('GET', '/metrics', undefined, 'text/plain')
        .then((r) => r.text())),
      nullIfAbsent(getJSON(`/v1/podium/bmcs?limit=${WORST_BMCS}`)),
    ]);
    state.bmcs = bmcs;
    state.nodes = nodes.items;
    state.truncated = nodes.truncated;
    state.conductors = conductors.conductors;
    state.unserved = conductors.unserved_conductor_groups;
    state.metrics = metricsText === null ? null
      : new Metrics(metricsText + await conductorMetrics(metricsText));
    if (state.metrics) state.cycles.record(state.metrics);
  }

  // The metrics of the alive conductors that are not in the API's own
  // process (a split deployment), relayed by the API; every conductor
  // labels its pool with its host, so those of this process are known.
  async function conductorMetrics(apiText) {
    const own = new Metrics(apiText);
    const remote = state.conductors.filter((c) => c.alive &&
      !own.samples('podium_conductor_pool_size', {host: c.hostname}).length);
    state.metricErrors = {};
    const texts = await Promise.all(remote.map((c) => request(
      'GET', `/v1/conductors/${encodeURIComponent(c.hostname)}/metrics`,
      undefined, 'text/plain')
      .then((r) => r.text())
      .catch((error) => {
        state.metricErrors[c.hostname] = error.message;
        return '';
      })));
    state.metricSources = texts.filter((t) => t).length +
      (own.samples('podium_conductor_pool_size').length ? 1 : 0);
    return texts.map((t) => `\n${t}`).join('');
  }

  let running = null;

  async function refresh() {
    clearTimeout(state.timer);
    if (running) return running;
    running = (async () => {
      try {
        const uuid = currentNode();
        if (uuid) await renderNode(uuid);
        else await loadFleet();
        renderAll();
        showError('');
        replace('updated', `updated ${new Date().toLocaleTimeString()}`);
      } catch (error) {
        showError(error.message);
      } finally {
        running = null;
        if ($('live').checked) {
          state.timer = setTimeout(refresh,
            Number($('interval').value) * 1000);
        }
      }
    })();
    return running;
  }

  function start() {
    applyQueryToForm();
    const form = $('filters');
    let typing = null;
    form.addEventListener('input', (event) => {
      clearTimeout(typing);
      // Text fields wait for a pause in typing; selects apply at once.
      typing = setTimeout(filtersChanged,
        event.target.tagName === 'SELECT' ? 0 : 300);
    });
    form.addEventListener('submit', (event) => event.preventDefault());
    form.addEventListener('reset', () => setTimeout(filtersChanged, 0));
    $('live').addEventListener('change', refresh);
    $('interval').addEventListener('change', refresh);
    $('refresh-now').addEventListener('click', refresh);
    window.addEventListener('hashchange', () => {
      notice('');
      renderAll();
      refresh();
    });
    renderAll();
    refresh();
  }

  document.addEventListener('DOMContentLoaded', start);
})();
