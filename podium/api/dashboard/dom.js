// DOM helpers and the small SVG charts of the Podium dashboard. Text
// always goes in as text nodes, never as markup.

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export function table(headers, rows, empty) {
  if (!rows.length) return el('p', {class: 'muted'}, empty);
  return el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h) =>
      el('th', {class: h.startsWith('#') ? 'num' : null},
        h.replace(/^#/, ''))))),
    el('tbody', {}, rows));
}

export function seconds(value) {
  if (value === undefined || value === null || Number.isNaN(value)) {
    return '–';
  }
  if (value < 1) return `${(value * 1000).toFixed(0)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  return `${(value / 60).toFixed(1)} min`;
}

export function age(iso) {
  if (!iso) return '–';
  const delta = (Date.now() - Date.parse(iso)) / 1000;
  if (Number.isNaN(delta)) return iso;
  return delta < 1 ? 'now' : `${seconds(delta)} ago`;
}

// A line of (time, seconds) points scaled to the largest.
export function sparkline(points) {
  const width = 300;
  const height = 60;
  const values = points.map((p) => p[1]);
  const top = Math.max(...values, 0.001);
  const step = points.length > 1 ? width / (points.length - 1) : 0;
  const coords = values.map((v, i) =>
    `${(i * step).toFixed(1)},${(height - (v / top) * (height - 4) - 2)
      .toFixed(1)}`).join(' ');
  return svg('svg', {
    class: 'spark', viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: 'none', role: 'img',
    'aria-label': `sync cycle time, last ${points.length} samples, ` +
      `max ${seconds(top)}`,
  }, svg('line', {x1: 0, y1: height - 1, x2: width, y2: height - 1}),
  svg('polyline', {points: coords}));
}

// Bars of a histogram's bucket counts, from its cumulative buckets
// [[le, count], ...]: how many observations took how long.
export function histogramBars(buckets, unit) {
  const counts = buckets.map(([le, c], i) =>
    [le, c - (i ? buckets[i - 1][1] : 0)]);
  const top = Math.max(...counts.map((c) => c[1]), 1);
  const width = 300 / Math.max(counts.length, 1);
  return svg('svg', {
    class: 'bars', viewBox: '0 0 300 48', preserveAspectRatio: 'none',
    role: 'img', 'aria-label': `${unit} per duration bucket`,
  }, ...counts.map(([le, c], i) => {
    const h = (c / top) * 46;
    return svg('rect', {
      x: (i * width + 1).toFixed(1), y: (47 - h).toFixed(1),
      width: (width - 2).toFixed(1), height: h.toFixed(1),
    }, svg('title', {}, `≤ ${le} s: ${c} ${unit}`));
  }));
}

// How busy, as a bar: red when full.
export function meter(fraction) {
  const width = Math.max(0, Math.min(1, fraction)) * 96;
  return svg('svg', {width: 96, height: 10, role: 'img',
    'aria-label': `${Math.round(fraction * 100)} % busy`},
  svg('rect', {width: 96, height: 10, fill: '#d9dee7'}),
  svg('rect', {width: width.toFixed(1), height: 10,
    fill: fraction >= 1 ? '#c62828' : '#2457c5'}));
}
