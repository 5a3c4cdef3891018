"""Validate generated dashboards against Grafana's own JSON schemas (foundation-sdk form).

Given a schema folder (``dashgen lint --grafana 12`` generates one from Grafana's npm packages:
``grafana_schemas``; ``--schemas DIR`` names one), check:
the dashboard (``dashboard.jsonschema.json#/definitions/Dashboard``); each panel against
``Panel`` or ``RowPanel``; each panel's ``options`` and ``fieldConfig.defaults.custom``
against its panel type's ``Options`` / ``FieldConfig``; each target against its
datasource's query definition; every ``unit`` against Grafana's units.
The schema files are data read at run time; dashgen ships none of them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..drawn import read_dashboard
from .report import LintInput, LintReport, Location, problem

# Grafana's built-in "-- Dashboard --" datasource (reusing another panel's result) has no
# query schema in the set; lint checks that its panelId names a panel of the dashboard.
BUILTIN_DATASOURCE_TYPES = frozenset({"datasource"})

# Panel types whose schema file has another name, and built-in panels with no published schema
# (their options are checked only as the dashboard schema's free-form ``options``).
PANEL_SCHEMA_DOCS = {"dashlist": "dashboardlist"}
UNPUBLISHED_PANEL_TYPES = frozenset({"traces", "alertlist"})

QUERY_DEFINITIONS = {
    "tempo": ("Dataquery", "TempoQuery"),
    "prometheus": ("Dataquery", "dataquery"),
}


@dataclass(frozen=True)
class SchemaProblem:
    where: str  # e.g. "voice-overview panel 123 (First byte p95 by stage) options"
    message: str
    path: str  # JSON path inside the validated object

    def __str__(self) -> str:
        return f"{self.where}: {self.path or '/'}: {self.message}"


class SchemaSet:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if not (self.folder / "dashboard.jsonschema.json").is_file():
            raise FileNotFoundError(f"{self.folder}: no dashboard.jsonschema.json there (point --schemas at a "
                                    f"folder like grafana-foundation-sdk/jsonschema, or use --grafana VERSION)")

    @lru_cache(maxsize=None)
    def _doc(self, name: str) -> dict | None:
        path = self.folder / f"{name}.jsonschema.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    @lru_cache(maxsize=None)
    def v2_validator(self):
        """The v2 dashboard ``spec`` (``dashboardv2.jsonschema.json#/definitions/Dashboard``), looked
        for in the folder and in an ``app-platform/`` folder beside it; None when neither has it."""
        for folder in (self.folder, self.folder.parent / "app-platform"):
            path = folder / "dashboardv2.jsonschema.json"
            if path.is_file():
                import jsonschema

                doc = json.loads(path.read_text(encoding="utf-8"))
                return jsonschema.Draft7Validator({"$ref": "#/definitions/Dashboard",
                                                   "definitions": doc.get("definitions", {})})
        return None

    @lru_cache(maxsize=None)
    def validator(self, doc: str, definition: str):
        import jsonschema

        schema = self._doc(doc)
        if schema is None or definition not in schema.get("definitions", {}):
            return None
        root = {"$schema": schema.get("$schema", "http://json-schema.org/draft-07/schema#"),
                "$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
        return jsonschema.Draft7Validator(root)

    def query_validator(self, ds_type: str):
        for name in QUERY_DEFINITIONS.get(ds_type, ()):
            v = self.validator(ds_type, name)
            if v is not None:
                return v
        return None

    @lru_cache(maxsize=None)
    def root_validator(self, doc: str):
        """A validator for a schema file whose root is the schema (``expr.jsonschema.json``)."""
        import jsonschema

        schema = self._doc(doc)
        return None if schema is None else jsonschema.Draft7Validator(schema)

    @lru_cache(maxsize=None)
    def units(self) -> frozenset[str]:
        doc = self._doc("units") or {}
        return frozenset(d["const"] for d in doc.get("definitions", {}).values() if "const" in d)


def _errors(validator, instance, where: str, defaults_filled: bool = False) -> list[SchemaProblem]:
    """``defaults_filled``: a panel's ``options`` and ``fieldConfig.defaults.custom``, where Grafana
    deep-merges the panel plugin's defaults under what the dashboard says before anything reads it
    (``getPanelOptionsWithDefaults`` in grafana/grafana
    public/app/features/dashboard/state/getPanelOptionsWithDefaults.ts), so a member the kind
    declares required but the dashboard leaves out (a table column's ``cellOptions``) is never
    missing in Grafana. Wrong types and unknown members are still errors."""
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        if defaults_filled and err.validator == "required":
            continue
        path = "/" + "/".join(str(p) for p in err.absolute_path)
        out.append(SchemaProblem(where, err.message, path if path != "/" else ""))
    return out


def with_base_steps_as_numbers(dashboard: dict) -> dict:
    """A copy where each base threshold step's ``value: null`` reads as a number.

    Grafana writes the base step (-Infinity) as null and the 12 schema allows it; the 11.6
    schema types it as a number only. Validating this copy against 11.6 tolerates exactly
    that deviation and nothing else.
    """
    import copy

    d = copy.deepcopy(dashboard)

    def fix(panel: dict) -> None:
        steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
        if steps and steps[0].get("value", 0) is None:
            steps[0]["value"] = -1e308
        for child in panel.get("panels", []):
            fix(child)

    for panel in d.get("panels", []):
        fix(panel)
    return d


def with_override_scalars_as_objects(dashboard: dict) -> dict:
    """A copy where a field override's non-object matcher ``options`` and property ``value`` read as
    objects. Both published schemas type them as objects; Grafana's own CUE kind declares both any
    value (``MatcherConfig.options?: _``, ``DynamicConfigValue.value?: _``) and writes strings there
    (``byName``/``byRegexp`` options, a ``displayName``): the one way to rename a Tempo series.
    Likewise a variable's object ``query`` (CUE ``string | {...}``, an open struct; the schemas
    want each of its values to be an object, which a Tempo variable query's ``type: 1`` is not)."""
    import copy

    d = copy.deepcopy(dashboard)
    for var in (d.get("templating") or {}).get("list", []):
        if isinstance(var.get("query"), dict):
            var["query"] = {k: (v if isinstance(v, dict) else {}) for k, v in var["query"].items()}
    for panel in (p.raw for p in read_dashboard(d)):  # collapsed rows' panels too
        for rule in panel.get("fieldConfig", {}).get("overrides", []):
            matcher = rule.get("matcher", {})
            if "options" in matcher and not isinstance(matcher["options"], dict):
                matcher["options"] = {}
            for prop in rule.get("properties", []):
                if "value" in prop and not isinstance(prop["value"], dict):
                    prop["value"] = {}
    return d


def with_v2_scalars_as_objects(obj: dict) -> dict:
    """The v2 twin of :func:`with_override_scalars_as_objects`: the v2 schema types the same
    open values as objects (an override's matcher ``options`` and property ``value``, a query
    variable's query members) and an annotation's ``legacyOptions`` values too (CUE ``[string]: _``,
    where Grafana's own converter writes strings)."""
    import copy

    spec = copy.deepcopy(obj.get("spec") or {})
    for el in (spec.get("elements") or {}).values():
        fc = ((el.get("spec") or {}).get("vizConfig") or {}).get("spec", {}).get("fieldConfig") or {}
        for rule in fc.get("overrides") or []:
            matcher = rule.get("matcher") or {}
            if "options" in matcher and not isinstance(matcher["options"], dict):
                matcher["options"] = {}
            for prop in rule.get("properties") or []:
                if "value" in prop and not isinstance(prop["value"], dict):
                    prop["value"] = {}
    for ann in spec.get("annotations") or []:
        legacy = (ann.get("spec") or {}).get("legacyOptions")
        if isinstance(legacy, dict):
            ann["spec"]["legacyOptions"] = {k: (v if isinstance(v, dict) else {}) for k, v in legacy.items()}
    return spec


def validate_v2_dashboard(obj: dict, schemas: SchemaSet, where: str) -> list[SchemaProblem]:
    """A dashboard.grafana.app/v2 object: its ``spec`` against Grafana's v2 schema (the panels'
    options, field config and queries are checked on the classic view by :func:`validate_dashboard`)."""
    problems = []
    if obj.get("kind") != "Dashboard" or not (obj.get("metadata") or {}).get("name"):
        problems.append(SchemaProblem(where, "a v2 dashboard object needs kind: Dashboard and metadata.name", ""))
    validator = schemas.v2_validator()
    if validator is None:
        return problems + [SchemaProblem(where, "no dashboardv2.jsonschema.json beside the schema folder", "")]
    return problems + _errors(validator, with_v2_scalars_as_objects(obj), where + " spec")


def validate_dashboard(dashboard: dict, schemas: SchemaSet, tolerate_null_threshold: bool = False) -> list[SchemaProblem]:
    dashboard = with_override_scalars_as_objects(dashboard)
    if tolerate_null_threshold:
        dashboard = with_base_steps_as_numbers(dashboard)
    uid = dashboard.get("uid", "?")
    problems = _errors(schemas.validator("dashboard", "Dashboard"), dashboard, uid)
    units = schemas.units()
    for panel in (p.raw for p in read_dashboard(dashboard)):  # collapsed rows' panels too (dashgen.drawn)
        where = f"{uid} panel {panel.get('id')} ({panel.get('title', '')})"
        ptype = panel.get("type")
        problems += _errors(schemas.validator("dashboard", "RowPanel" if ptype == "row" else "Panel"), panel, where)
        if ptype == "row":
            continue
        opts_v = schemas.validator(PANEL_SCHEMA_DOCS.get(ptype, ptype), "Options")
        if ptype in UNPUBLISHED_PANEL_TYPES:
            pass
        elif opts_v is None:
            problems.append(SchemaProblem(where, f"no schema for panel type {ptype!r}", "type"))
        else:
            problems += _errors(opts_v, panel.get("options", {}), where + " options", defaults_filled=True)
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
        fc_v = schemas.validator(PANEL_SCHEMA_DOCS.get(ptype, ptype), "FieldConfig")
        if custom is not None:
            if fc_v is None:
                problems.append(SchemaProblem(where, f"panel type {ptype!r} has no custom field config", "fieldConfig/defaults/custom"))
            else:
                problems += _errors(fc_v, custom, where + " fieldConfig.defaults.custom", defaults_filled=True)
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        yunit = panel.get("options", {}).get("yAxis", {}).get("unit")
        for u in (unit, yunit):
            if u is not None and units and u not in units:
                problems.append(SchemaProblem(where, f"unit {u!r} is not a Grafana unit", "fieldConfig/defaults/unit"))
        for i, target in enumerate(panel.get("targets", [])):
            ds_type = (target.get("datasource") or panel.get("datasource") or {}).get("type")
            if ds_type in BUILTIN_DATASOURCE_TYPES:
                continue
            qv = schemas.query_validator(ds_type)
            if qv is None:
                problems.append(SchemaProblem(where, f"no query schema for datasource type {ds_type!r}", f"targets/{i}"))
                continue
            problems += _errors(qv, target, f"{where} target {target.get('refId', i)}")
    return problems


def validate_rule_group(group: dict, schemas: SchemaSet, where: str) -> list[SchemaProblem]:
    """A Grafana-managed rule group (the provisioning API body): ``RuleGroup`` (rules included),
    every ``__expr__`` model against ``expr``, every query model against its datasource's schema."""
    group_v = schemas.validator("alerting", "RuleGroup")
    if group_v is None:
        return [SchemaProblem(where, "no alerting.jsonschema.json RuleGroup in the schema folder", "")]
    problems = _errors(group_v, group, where)
    expr_v = schemas.root_validator("expr")
    for rule in group.get("rules", []):
        for q in rule.get("data", []):
            at = f"{where} rule {rule.get('uid')} query {q.get('refId')}"
            if q.get("datasourceUid") == "__expr__":
                if expr_v is not None:
                    problems += _errors(expr_v, q.get("model", {}), at)
                continue
            ds_type = ((q.get("model") or {}).get("datasource") or {}).get("type")
            qv = schemas.query_validator(ds_type)
            if qv is None:
                problems.append(SchemaProblem(at, f"no query schema for datasource type {ds_type!r}", "model"))
            else:
                problems += _errors(qv, q.get("model", {}), at)
    return problems


def check(inp: LintInput, report: LintReport) -> None:
    """With a schema folder: every dashboard and every Grafana-managed rule group."""
    if inp.schemas_dir is None:
        return
    schemas = SchemaSet(inp.schemas_dir)
    for rel, d in inp.dashboards.items():
        for found in validate_dashboard(d, schemas, inp.tolerate_null_threshold):
            report.problems.append(problem("schema", Location(rel, item="schema"), str(found)))
    for rel, obj in inp.v2_objects.items():
        for found in validate_v2_dashboard(obj, schemas, (obj.get("metadata") or {}).get("name", rel)):
            report.problems.append(problem("schema", Location(rel, item="schema"), str(found)))
    for rel, content in sorted(inp.artifacts.items()):
        if rel.startswith("alerts/grafana/") and rel.endswith(".json"):
            try:
                group = json.loads(content)
            except json.JSONDecodeError:
                continue  # the alerts checker reports it
            for found in validate_rule_group(group, schemas, rel):
                report.problems.append(problem("schema", Location(rel, item="schema"), str(found)))
