// Just enough of the Prometheus text format and of PromQL to check dashboards against what a
// root exports: metric names (with a histogram's _bucket/_sum/_count series) and label names.

/** Series names a scrape offers and the label names seen on each. */
export interface Exported {
  /** every series name a query can select, e.g. ztroot_bytes_total, x_bucket, x_sum, x_count */
  names: Set<string>;
  /** label names per series name (from the samples present) */
  labels: Map<string, Set<string>>;
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g;

export function parseExposition(text: string): Exported {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      types.set(name, kind);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      else if (kind === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
      else names.add(name);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    names.add(m[1]);
    const set = labels.get(m[1]) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(LABEL)) set.add(l[1]);
    labels.set(m[1], set);
  }
  return { names, labels, types };
}

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan',
]);

export interface QueryUse {
  metrics: string[];
  /** label names used in selectors, per metric */
  selectorLabels: { metric: string; label: string }[];
  /** label names used in by (...) / without (...) / on (...) */
  groupingLabels: string[];
}

/**
 * Metric names and label names a PromQL expression uses. Grafana variables ($instance,
 * $__rate_interval) are replaced first; function names are the identifiers followed by "(".
 */
export function analyseQuery(expr: string): QueryUse {
  let q = expr
    .replace(/\[\$__[a-z_]+\]/g, '[5m]')
    .replace(/\$__[a-z_]+/g, '300')
    .replace(/\$\{?([a-zA-Z_]+)\}?/g, 'VAR');
  const selectorLabels: { metric: string; label: string }[] = [];
  const groupingLabels: string[] = [];
  // selectors: name{matchers}
  q = q.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_all, name: string | undefined, body: string) => {
    for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g)) {
      if (m[1] !== '__name__' && name) selectorLabels.push({ metric: name, label: m[1] });
    }
    return ` ${name ?? ''} `;
  });
  // grouping clauses
  q = q.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, _kw: string, list: string) => {
    for (const l of list.split(',').map((s) => s.trim()).filter(Boolean)) groupingLabels.push(l);
    return ' ';
  });
  q = q.replace(/"(?:[^"\\]|\\.)*"/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  const metrics: string[] = [];
  for (const m of q.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, ident, call] = m;
    if (call || KEYWORDS.has(ident.toLowerCase()) || ident === 'VAR') continue;
    if (/^\d/.test(ident)) continue;
    metrics.push(ident);
  }
  return { metrics: [...new Set(metrics)], selectorLabels, groupingLabels: [...new Set(groupingLabels)] };
}
