// Name TraceQL-metrics series exactly as Grafana shows them, with @grafana/data as the oracle.
//
// stdin:  JSON array of cases {"fieldConfig": <panel fieldConfig>, "series": [[[key, value], ...], ...]}
//         (each series: its labels in the order Tempo sent them; value a string or a number)
// stdout: JSON array, one entry per case: the display name of each series, in order.
//
// Frames are built the way Grafana's Tempo backend builds them (pkg/tsdb/tempo/traceql/metrics.go,
// TransformMetricsResponse / transformLabelsAndGetName): one frame per series named after its
// labels (one label: its bare value; more: {k=v, ...} with strings quoted, in the order given),
// that name also in the value field's config.displayName and the frame's refId. The panel's
// fieldConfig is then applied by applyFieldOverrides and each name read with getFieldDisplayName.
'use strict';
const gd = require('./load.cjs');

const registry = new gd.FieldConfigOptionsRegistry(() => [
  { id: 'displayName', path: 'displayName', name: 'Display name', process: (v) => v, shouldApply: () => true,
    override: () => null, editor: () => null, settings: {} },
]);

function seriesName(labels) {
  if (labels.length === 1) return String(labels[0][1]);
  return '{' + labels.map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}`).join(', ') + '}';
}

function names(c) {
  const frames = c.series.map((labels) => {
    const name = seriesName(labels);
    const fieldLabels = Object.fromEntries(labels.map(([k, v]) => [k, typeof v === 'string' ? JSON.stringify(v) : String(v)]));
    return { name, refId: name, length: 1, fields: [
      { name: 'time', type: gd.FieldType.time, config: {}, values: [0] },
      { name, type: gd.FieldType.number, config: { displayName: name }, labels: fieldLabels, values: [1] },
    ] };
  });
  const out = gd.applyFieldOverrides({ data: frames, fieldConfig: c.fieldConfig, fieldConfigRegistry: registry,
    replaceVariables: (s) => s, theme: gd.createTheme(), timeZone: 'utc' });
  return out.map((f) => gd.getFieldDisplayName(f.fields[1], f, out));
}

require('./serve.cjs')(names);
