// Format values exactly as Grafana displays them, with @grafana/data as the oracle.
//
// stdin:  JSON array of cases {"type": "string"|"number", "unit": <unit or null>, "value": <value>}
// stdout: JSON array of the text getDisplayProcessor gives each value (formattedValueToString).
'use strict';
const gd = require('./load.cjs');
const theme = gd.createTheme();

require('./serve.cjs')((c) => {
  const field = { name: 'x', type: c.type, config: c.unit ? { unit: c.unit } : {}, values: [c.value] };
  return gd.formattedValueToString(gd.getDisplayProcessor({ field, theme })(c.value));
});
