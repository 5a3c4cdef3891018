#!/usr/bin/env node
// Turns Grafana's published schema types (npm, pinned in package.json beside this file) into the
// JSON Schema (draft-07) folders `dashgen lint --grafana VERSION` validates against:
//
//   node generate.js OUT_DIR VERSION...     (VERSION: 11.6, 12, 13)
//
// writes OUT_DIR/grafana-VERSION/<doc>.jsonschema.json, one self-contained file per doc ($refs stay
// inside it), with the definition names lint reads:
//   dashboard      Dashboard, Panel, RowPanel ...   @grafana/schema raw/dashboard/x (the classic model)
//   <panel type>   Options, FieldConfig              @grafana/schema raw/composable/<panel>/panelcfg/x
//   dashboardv2    Dashboard (= the v2 spec) ...     @grafana/schema schema/dashboard/v2* (12, 13)
//   tempo, prometheus   one target of that datasource (Dataquery; 11.6: TempoQuery, dataquery)
//   alerting, expr      rule groups and server-side expressions (root: expr)
//   units               every unit id as {const}
// The last three groups are not in @grafana/schema (datasource and alerting kinds are published by
// @grafana/grafana-foundation-sdk, generated from the same Grafana kinds): 11.6 reads its 11.6
// build, 12 and 13 its current one.
//
// ts-json-schema-generator keeps TypeScript's meaning: an interface is closed
// (additionalProperties: false), `any` / `unknown` accept anything, `number | null` allows null.
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require("typescript");
const tsj = require("ts-json-schema-generator");

const NM = path.join(__dirname, "node_modules");
// Grafana version -> npm aliases (package.json) and where the v2 dashboard spec lives.
const VERSIONS = {
  "11.6": { schema: "grafana-schema-11.6", sdk: "foundation-sdk-11.6", v2: null },
  "12": { schema: "grafana-schema-12", sdk: "foundation-sdk-main", v2: ["schema/dashboard/v2beta1/types.spec.gen.d.ts", "Spec"] },
  "13": { schema: "grafana-schema-13", sdk: "foundation-sdk-main", v2: ["schema/dashboard/v2/types.spec.gen.d.ts", "Spec"] },
};
// The panel types whose options lint validates (dashboardlist is the dashlist panel).
const PANELS = ["barchart", "bargauge", "dashboardlist", "gauge", "heatmap", "histogram", "nodegraph",
  "piechart", "stat", "statetimeline", "statushistory", "table", "text", "timeseries", "xychart"];
const SDK_DOCS = ["tempo", "prometheus", "alerting", "expr"];

// @grafana/schema ships its .d.ts under dist/types (12+) or dist/esm (11.6).
function typesRoot(pkg) {
  for (const sub of ["dist/types", "dist/esm"]) {
    const dir = path.join(NM, pkg, sub);
    if (fs.existsSync(path.join(dir, "index.d.ts"))) return dir;
  }
  throw new Error(`${pkg}: no dist/types or dist/esm index.d.ts`);
}

// The one *types.gen.d.ts of a kind's folder (11.6 names it <Kind>_types.gen.d.ts).
function genFile(dir) {
  if (!fs.existsSync(dir)) return null;
  const hits = fs.readdirSync(dir).filter((f) => f.endsWith("types.gen.d.ts")).sort();
  return hits.length ? path.join(dir, hits[hits.length === 1 ? 0 : hits.length - 1]) : null;
}

function exportedDeclarations(sourceFile) {
  const out = [];
  for (const st of sourceFile.statements) {
    const kinds = [ts.SyntaxKind.InterfaceDeclaration, ts.SyntaxKind.TypeAliasDeclaration, ts.SyntaxKind.EnumDeclaration];
    if (!kinds.includes(st.kind) || st.typeParameters) continue;
    if (!(ts.getCombinedModifierFlags(st) & ts.ModifierFlags.Export)) continue;
    out.push(st);
  }
  return out;
}

// One TypeScript program per package (parsing lib.d.ts once), one schema per file.
function generator(files, schemaIndex) {
  const options = { noEmit: true, skipLibCheck: true, strictNullChecks: true, target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
  // the panel kinds import '@grafana/schema' (their own package, installed here under an alias)
  if (schemaIndex) options.paths = { "@grafana/schema": [schemaIndex] };
  const program = ts.createProgram(files, options);
  const config = { skipTypeCheck: true, expose: "export", topRef: true, jsDoc: "none",
    additionalProperties: false, sortProps: true, encodeRefs: true };
  const gen = new tsj.SchemaGenerator(program, tsj.createParser(program, config), tsj.createFormatter(config), config);
  // cog's variant markers (cog/variants_gen.d.ts: `interface Dataquery { _implementsDataqueryVariant(): void }`)
  // stand for "any kind of that variant": a rule's query model is any datasource's query, which lint
  // validates against that datasource's own schema. The generator drops the method and would close the
  // object; it is open instead.
  const markers = new Set();
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.endsWith("/cog/variants_gen.d.ts")) continue;
    for (const decl of exportedDeclarations(sf)) markers.add(decl.name.text);
  }
  return (file) => {
    const nodes = exportedDeclarations(program.getSourceFile(file));
    const schema = gen.createSchemaFromNodes(nodes);
    const definitions = schema.definitions || {};
    const own = new Set(nodes.map((n) => n.name.text));
    for (const name of markers) if (definitions[name] && !own.has(name)) definitions[name] = { type: "object" };
    return { $schema: "http://json-schema.org/draft-07/schema#", definitions };
  };
}

function write(dir, name, doc) {
  fs.writeFileSync(path.join(dir, `${name}.jsonschema.json`), JSON.stringify(doc, null, 1) + "\n");
}

function generate(outDir, version) {
  const v = VERSIONS[version];
  if (!v) throw new Error(`unknown Grafana version ${version} (known: ${Object.keys(VERSIONS).join(", ")})`);
  const dir = path.join(outDir, `grafana-${version}`);
  fs.mkdirSync(dir, { recursive: true });
  const root = typesRoot(v.schema);
  const dashboard = genFile(path.join(root, "raw/dashboard/x"));
  const panels = PANELS.map((p) => [p, genFile(path.join(root, `raw/composable/${p}/panelcfg/x`))]).filter(([, f]) => f);
  const v2 = v.v2 && fs.existsSync(path.join(root, v.v2[0])) ? path.join(root, v.v2[0]) : null;
  const schemaGen = generator([dashboard, ...panels.map(([, f]) => f), ...(v2 ? [v2] : [])], path.join(root, "index.d.ts"));
  write(dir, "dashboard", schemaGen(dashboard));
  for (const [p, f] of panels) write(dir, p, schemaGen(f));
  if (v2) {
    const doc = schemaGen(v2);
    doc.definitions.Dashboard = doc.definitions.Dashboard || { $ref: `#/definitions/${v.v2[1]}` };
    write(dir, "dashboardv2", doc);
  }
  const sdkFiles = SDK_DOCS.map((k) => path.join(NM, v.sdk, "dist", k, "types.gen.d.ts"));
  const sdkGen = generator(sdkFiles, null);
  SDK_DOCS.forEach((k, i) => {
    const doc = sdkGen(sdkFiles[i]);
    if (k === "expr") doc.$ref = "#/definitions/expr";  // the file's root is one expression
    write(dir, k, doc);
  });
  const units = require(path.join(NM, v.sdk, "dist", "units", "index.js"));
  const defs = {};
  for (const [name, value] of Object.entries(units)) if (typeof value === "string") defs[name] = { const: value };
  write(dir, "units", { $schema: "http://json-schema.org/draft-07/schema#", definitions: defs });
  const sources = {};
  for (const pkg of [v.schema, v.sdk, "ts-json-schema-generator"]) {
    const meta = JSON.parse(fs.readFileSync(path.join(NM, pkg, "package.json"), "utf8"));
    sources[pkg] = `${meta.name}@${meta.version}`;
  }
  // the schemaVersion this release writes: defaultDashboard in its compiled kind (raw/dashboard/x)
  const js = path.join(NM, v.schema, "dist/esm/raw/dashboard/x");
  const text = fs.readdirSync(js).filter((f) => /\.m?js$/.test(f)).map((f) => fs.readFileSync(path.join(js, f), "utf8")).join("\n");
  const m = text.match(/schemaVersion:\s*(\d+)/);
  const info = { grafana: version, packages: sources, schemaVersion: m ? Number(m[1]) : null };
  fs.writeFileSync(path.join(dir, "SOURCES.json"), JSON.stringify(info, null, 1) + "\n");
}

const [outDir, ...versions] = process.argv.slice(2);
if (!outDir || !versions.length) {
  console.error("usage: node generate.js OUT_DIR VERSION... (VERSION: " + Object.keys(VERSIONS).join(", ") + ")");
  process.exit(2);
}
for (const version of versions) {
  const t0 = Date.now();
  generate(outDir, version);
  console.error(`grafana-${version}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
