// The dashboard's panels drawn from /metrics: power sync (with its
// cycle time chart), BMC latency by driver and periodic tasks. Each
// panel function takes a Metrics (metrics.js) and returns the panel's
// content; ``null`` metrics means the API has no /metrics.

import {age, el, histogramBars, seconds, sparkline, table} from './dom.js';

const SYNC = 'podium_power_sync_cycle_duration_seconds';
const BMC = 'podium_bmc_request_duration_seconds';
const PERIODIC = 'podium_periodic_task_duration_seconds';
const NO_METRICS = 'No /metrics here.';

function muted(text) { return el('p', {class: 'muted'}, text); }

// Sync cycle times seen while the page is open, kept in the tab's
// session storage so a reload keeps the line.
export class CycleRecorder {
  constructor(key, size) {
    this.key = key;
    this.size = size;
    this.count = null;
    this.sum = null;
    try {
      const points = JSON.parse(sessionStorage.getItem(key) || '[]');
      this.points = Array.isArray(points) ? points.slice(-size) : [];
    } catch (_) {
      this.points = [];
    }
  }

  // One point per scrape that saw new cycles: their mean duration. The
  // first scrape of a page with no line yet gives the last cycle.
  record(m) {
    if (!m.samples(`${SYNC}_count`).length) return;
    const count = m.total(`${SYNC}_count`);
    const sum = m.total(`${SYNC}_sum`);
    if (this.count !== null && count > this.count) {
      this.points.push([Date.now(), (sum - this.sum) / (count - this.count)]);
      this.points = this.points.slice(-this.size);
      try {
        sessionStorage.setItem(this.key, JSON.stringify(this.points));
      } catch (_) { /* private mode: the line lives as long as the page */ }
    } else if (this.count === null && !this.points.length && count) {
      const last = m.max('podium_power_sync_last_cycle_seconds');
      if (last !== undefined) this.points.push([Date.now(), last]);
    }
    this.count = count;
    this.sum = sum;
  }
}

function sparkCaption(points) {
  const values = points.map((p) => p[1]);
  return muted(`${values.length} samples: min ` +
    `${seconds(Math.min(...values))}, max ${seconds(Math.max(...values))}` +
    `, last ${seconds(values[values.length - 1])}`);
}

function bucketCaption(m, name) {
  const bounds = m.samples(`${name}_bucket`).map((s) => s.labels.le);
  if (bounds.length < 2) return null;
  return muted(`one bar per bucket, from ≤ ${bounds[0]} s to ≤ ` +
    `${bounds[bounds.length - 2]} s and longer`);
}

// ``sources``: how many conductors' figures ``m`` holds; counts add
// up over them, the last cycle and the lateness are the worst one's.
export function syncPanel(m, cycles, sources) {
  if (!m) return [muted(NO_METRICS)];
  if (!m.samples(`${SYNC}_count`).length) {
    return [muted('No conductor\'s power sync figures reached this page: ' +
      'none is alive, or none answered (see Conductors).')];
  }
  const count = m.total(`${SYNC}_count`);
  const outcomes = ['read', 'failed', 'timed_out', 'changed'];
  const lateness = m.samples('podium_periodic_task_lateness_seconds')
    .filter((s) => /sync_power/.test(s.labels.task))
    .reduce((max, s) => Math.max(max, s.value), 0);
  return [
    el('dl', {class: 'detail'},
      el('dt', {}, 'last cycle'), el('dd', {id: 'sync-last'},
        seconds(m.max('podium_power_sync_last_cycle_seconds')),
        sources > 1 ? ` (slowest of ${sources} conductors)` : ''),
      el('dt', {}, 'cycles'), el('dd', {}, count,
        count ? ` (mean ${seconds(m.total(`${SYNC}_sum`) / count)}, ` +
          `p95 ${seconds(m.quantile(0.95, SYNC))})` : ''),
      el('dt', {}, 'late by'), el('dd', {}, seconds(lateness)),
      el('dt', {}, 'nodes'), el('dd', {}, outcomes.map((o) =>
        `${o.replace('_', ' ')} ${m.total('podium_power_sync_nodes_total',
          {outcome: o})}`).join(' · '))),
    el('h3', {class: 'muted'}, 'Cycle time while this page is open'),
    cycles.points.length > 1 ?
      [sparkline(cycles.points), sparkCaption(cycles.points)]
      : muted('Waiting for the next cycles…'),
    el('h3', {class: 'muted'}, 'All cycles since start, by duration'),
    histogramBars(m.buckets(SYNC), 'cycles'), bucketCaption(m, SYNC),
  ];
}

export function bmcPanel(m) {
  const rows = m ? m.groupBy(`${BMC}_count`, ['driver', 'operation'])
    .map(([driver, operation]) => {
      const where = {driver, operation};
      const requests = m.total(`${BMC}_count`, where);
      const failures = m.total('podium_bmc_request_failures_total', where);
      return {driver, operation, requests, failures,
        p50: m.quantile(0.5, BMC, where), p95: m.quantile(0.95, BMC, where)};
    })
    .sort((a, b) => (b.p95 || 0) - (a.p95 || 0)) : [];
  return [
    table(['driver', 'operation', '#requests', '#failed', '#p50', '#p95'],
      rows.map((r) => el('tr', {},
        el('td', {}, r.driver), el('td', {}, r.operation),
        el('td', {class: 'num'}, r.requests),
        el('td', {class: 'num'}, r.failures ? el('span', {class: 'tag bad'},
          `${r.failures} (${(100 * r.failures / Math.max(r.requests, 1))
            .toFixed(1)} %)`) : '0'),
        el('td', {class: 'num'}, seconds(r.p50)),
        el('td', {class: 'num'}, seconds(r.p95)))),
      m ? 'No BMC request measured by this process yet.' : NO_METRICS),
    muted('Slowest first. Figures cover all BMCs of a driver: metrics ' +
      'carry no per-node labels; the nodes whose BMC failed are under ' +
      '"Faults and errors".'),
  ];
}

// The worst BMCs of GET /v1/podium/bmcs (``listing``; null when the
// API has no such extension): suspects first, then by p95 latency.
export function worstBmcsPanel(listing) {
  if (!listing) return [muted('This API does not list BMC health.')];
  const rows = listing.bmcs.map((b) => el('tr', {'data-bmc': b.endpoint},
    el('td', {}, b.endpoint), el('td', {}, b.driver || '–'),
    el('td', {}, b.conductor),
    el('td', {'data-field': 'status'}, b.suspect ?
      el('span', {class: 'tag bad'}, 'suspect') : 'answering'),
    el('td', {class: 'num'}, b.consecutive_failures),
    el('td', {class: 'num'}, seconds(b.latency_p50)),
    el('td', {class: 'num'}, seconds(b.latency_p95)),
    el('td', {title: b.last_good_read || ''}, age(b.last_good_read))));
  const unreachable = listing.unreachable_conductors || [];
  return [
    table(['BMC', 'driver', 'conductor', 'status', '#failures in a row',
      '#p50', '#p95', 'last good read'], rows,
    'No BMC has been read yet.'),
    muted(`${rows.length} of ${listing.total} BMCs, as their ` +
      'conductors keep them (latency over their last requests).'),
    unreachable.length ? el('p', {class: 'state bad'},
      `No answer from conductor(s) ${unreachable.join(', ')}.`) : null,
  ];
}

// One row per task, added up over the conductors in ``m``; the
// lateness is the worst conductor's.
export function periodicPanel(m) {
  const runs = 'podium_periodic_task_runs_total';
  const rows = (m ? m.groupBy(runs, ['task']) : []).map(([task]) => {
    const failures = m.total('podium_periodic_task_failures_total', {task});
    const count = m.total(`${PERIODIC}_count`, {task});
    const late = m.max('podium_periodic_task_lateness_seconds', {task});
    return el('tr', {},
      el('td', {}, task.replace(/^.*\./, '')),
      el('td', {class: 'num'}, m.total(runs, {task})),
      el('td', {class: 'num'}, failures ? el('span', {class: 'tag bad'},
        failures) : '0'),
      el('td', {class: 'num'}, count ? seconds(m.total(`${PERIODIC}_sum`,
        {task}) / count) : '–'),
      el('td', {class: 'num'}, seconds(m.quantile(0.95, PERIODIC, {task}))),
      // Under a second late is scheduling jitter, not a backlog.
      el('td', {class: 'num'}, late >= 1 ? el('span', {class: 'tag'},
        seconds(late)) : seconds(late)));
  });
  return [table(['task', '#runs', '#failed', '#mean', '#p95', '#late by'],
    rows, m ? 'No periodic task figures reached this page.' : NO_METRICS)];
}
