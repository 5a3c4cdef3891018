// Run a panel's transformations the way Grafana does, with @grafana/data as the oracle.
//
// stdin:  JSON array of cases {"transformations": [...], "series": [[[[key, value], ...], [v0, v1, ...]], ...]}
//         (each series: its labels in the order Tempo sent them, and its values at times 0, 1, 2...),
//         or {"transformations": [...], "frames": [{"fields": [{"name", "type", "values"}]}]} (tables as given)
// stdout: JSON array, one entry per case: the fields of the resulting frames, each
//         {"name": <display name>, "values": [...]}, time fields left out.
//
// Frames are built as names.cjs builds them (Grafana's Tempo backend, pkg/tsdb/tempo/traceql/
// metrics.go): one frame per series, its name in the frame name, refId and the value field's
// config.displayName, a time field named "time". The transformations run through
// @grafana/data's own transformDataFrame with its standard transformers registered.
'use strict';
const gd = require('./load.cjs');

// Some transformers share an id (seriesToColumns is joinByField's old name): the first one stays.
const byId = new Map();
for (const t of Object.values(gd.standardTransformers)) if (!byId.has(t.id)) byId.set(t.id, t);
gd.standardTransformersRegistry.setInit(() => [...byId.values()].map((t) => ({
  id: t.id, name: t.name, description: t.description, transformation: t, editor: () => null })));

function seriesName(labels) {
  if (labels.length === 1) return String(labels[0][1]);
  return '{' + labels.map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}`).join(', ') + '}';
}

function table(f) {  // {"fields": [{"name", "type": "string"|"number", "values"}]}: a table as given
  const n = f.fields[0].values.length;
  return { name: f.name, refId: 'A', length: n, fields: f.fields.map((fl) => ({
    name: fl.name, type: fl.type === 'number' ? gd.FieldType.number : gd.FieldType.string, config: {}, values: fl.values })) };
}

function run(c) {
  const frames = c.frames ? c.frames.map(table) : c.series.map(([labels, values]) => {
    const name = seriesName(labels);
    return { name, refId: name, length: values.length, fields: [
      { name: 'time', type: gd.FieldType.time, config: {}, values: values.map((_, i) => i * 1000) },
      { name, type: gd.FieldType.number, config: { displayName: name }, values },
    ] };
  });
  let out = null;
  gd.transformDataFrame(c.transformations, frames).subscribe((r) => { out = r; });
  if (out === null) throw new Error('transformations did not complete synchronously');
  return out.flatMap((f) => f.fields.filter((fl) => fl.type !== gd.FieldType.time)
    .map((fl) => ({ name: gd.getFieldDisplayName(fl, f, out), values: Array.from(fl.values) })));
}

require('./serve.cjs')(run);
