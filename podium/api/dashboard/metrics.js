// Prometheus' text format as the dashboard reads it: samples by name
// and labels, sums, and quantiles of histograms.

export class Metrics {
  // An empty text gives a Metrics with no sample (no /metrics here).
  constructor(text) {
    this.byName = {};
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const raw of text.split('\n')) {
      if (!raw || raw.startsWith('#')) continue;
      const match = line.exec(raw);
      if (!match) continue;
      const labels = {};
      for (const found of (match[2] || '').matchAll(label)) {
        labels[found[1]] = found[2].replace(/\\(.)/g, '$1');
      }
      (this.byName[match[1]] = this.byName[match[1]] || []).push(
        {labels, value: Number(match[3])});
    }
  }

  // The samples of ``name`` whose labels include ``where``.
  samples(name, where) {
    const all = this.byName[name] || [];
    if (!where) return all;
    return all.filter((s) => Object.entries(where).every(
      ([key, value]) => s.labels[key] === value));
  }

  total(name, where) {
    return this.samples(name, where).reduce((sum, s) => sum + s.value, 0);
  }

  // The first matching sample's value; undefined when none.
  metric(name, where) {
    const found = this.samples(name, where);
    return found.length ? found[0].value : undefined;
  }

  // The largest matching sample's value; undefined when none.
  max(name, where) {
    const found = this.samples(name, where);
    return found.length ? Math.max(...found.map((s) => s.value)) : undefined;
  }

  // The distinct values of ``keys`` among the samples of ``name``.
  groupBy(name, keys) {
    const groups = new Map();
    for (const s of this.samples(name)) {
      const key = keys.map((k) => s.labels[k]).join('\u0000');
      if (!groups.has(key)) groups.set(key, keys.map((k) => s.labels[k]));
    }
    return [...groups.values()];
  }

  // A histogram's cumulative buckets [[le, count], ...], summed over
  // the series matching ``where``, in order of le.
  buckets(name, where) {
    const byLe = new Map();
    for (const s of this.samples(`${name}_bucket`, where)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) || 0) + s.value);
    }
    return [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  }

  // A quantile of a histogram, interpolated inside its bucket as
  // Prometheus' histogram_quantile does; undefined without data.
  quantile(q, name, where) {
    const buckets = this.buckets(name, where);
    if (!buckets.length) return undefined;
    const count = buckets[buckets.length - 1][1];
    if (!count) return undefined;
    const rank = q * count;
    let lower = 0;
    let below = 0;
    for (const [le, cumulative] of buckets) {
      if (cumulative >= rank) {
        if (le === Infinity) return lower;
        const inBucket = cumulative - below;
        return lower + (le - lower) * (inBucket ? (rank - below) / inBucket
          : 0);
      }
      lower = le;
      below = cumulative;
    }
    return lower;
  }
}
