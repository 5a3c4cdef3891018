// Colour decisions exactly as Grafana makes them, with @grafana/data as the oracle.
//
// stdin:  JSON array of cases {"defaults": <panel fieldConfig.defaults>, "value": <number>}
// stdout: JSON array of {"mode": <colour mode id>, "byValue": <bool>, "step": <active step colour or null>}
//
// The field is prepared the way Grafana prepares a panel's defaults: validateFieldConfig
// (packages/grafana-data/src/field/fieldOverrides.ts) makes the base step -Infinity (it is null in
// the JSON); getFieldColorModeForField (field/fieldColor.ts) reads the mode, thresholds when unset;
// getActiveThreshold (field/thresholds.ts) picks the step of the value.
'use strict';
const gd = require('./load.cjs');

function decide(c) {
  const config = JSON.parse(JSON.stringify(c.defaults || {}));
  gd.validateFieldConfig(config);
  const field = { name: 'x', type: gd.FieldType.number, config, values: [c.value] };
  const mode = gd.getFieldColorModeForField(field);
  const steps = (config.thresholds && config.thresholds.steps) || [];
  return { mode: mode.id, byValue: Boolean(mode.isByValue),
           step: steps.length ? gd.getActiveThreshold(c.value, steps).color : null };
}

require('./serve.cjs')(decide);
