"""Every lint rule: its stable id, its severity and what it checks (docs/dashboards.md lists them).

Two severities:

- ``error``: certainly wrong in Grafana, Tempo or Prometheus (refused, drawn other than meant, a
  query that fails or costs more than the budget allows). ``dashgen build`` and ``plan``/``push``
  refuse output with an error; ``dashgen lint`` exits 1.
- ``warning``: house style (a panel without a description, a rule without a runbook). Printed by
  build, plan and lint, never a refusal.

An id never changes meaning: exclusions (``.dashgen-lint.yaml``, lint/exclusions.py) and CI
scripts name rules by it. tests/test_lint_rules.py makes every rule here fire and not fire.
"""

from __future__ import annotations
from ..records import dataclass  # dataclasses' decorator without generated code (start-up)


ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str


_TABLE = (
    # files and dashboards (lint/dashboards.py)
    ("json", ERROR, "a dashboard or Grafana rule file is not valid JSON"),
    ("dashboard-uid", ERROR, "uid of 1-40 [a-zA-Z0-9_-], unique, and the file named after it"),
    ("dashboard-id", ERROR, "no dashboard 'id' (Grafana matches by uid; an id overwrites another dashboard)"),
    ("dashboard-title", ERROR, "a dashboard has a title"),
    ("panel-id", ERROR, "every panel, collapsed rows' included, has its own positive integer id"),
    ("panel-legacy-keys", ERROR, "no keys of Grafana's old graph panel (Grafana would migrate them its own way)"),
    ("panel-grid", ERROR, "every panel has a gridPos inside the 24-column grid"),
    ("panel-overlap", ERROR, "no two panels overlap (Grafana would push one down)"),
    ("panel-reuse", ERROR, "a panel reusing another's result (Dashboard datasource) names a panel of the dashboard"),
    ("panel-description", WARNING, "every panel has a description (house style)"),
    ("traceql", ERROR, "TraceQL that Tempo parses, with attributes the catalog records"),
    ("tempo-query-budget", ERROR, "at most the budget of TraceQL metrics queries run when a dashboard opens (collapsed rows' wait)"),
    ("panel-budget", ERROR, "at most the budget of panels drawn when a dashboard opens (collapsed rows' panels wait)"),
    # Tempo (lint/tempo.py)
    ("tempo-range", ERROR, "default range and timeFrom of metrics panels within Tempo's metrics_max_range"),
    ("tempo-version", ERROR, "no TraceQL feature newer than the catalog's oldest Tempo"),
    # what Grafana and Tempo draw (lint/semantics.py)
    ("threshold-colour", ERROR, "threshold steps are shown: colour mode 'thresholds' or a visible thresholdsStyle"),
    ("threshold-order", WARNING, "steps rise, and severity moves one way as the value rises"),
    ("series-names", ERROR, "TraceQL metrics series renamed by overrides; one quantile query per panel"),
    ("table-types", ERROR, "span tables convert attribute columns they sort or show as numbers"),
    ("span-rate-unit", ERROR, "a TraceQL rate() is spans per second, not 'reqps'"),
    ("duration-unit", ERROR, "TraceQL metrics of the span duration are in seconds: no other time unit ('s')"),
    ("links", ERROR, "links start with '/' and keep the time range and datasource variables"),
    ("exemplars", WARNING, "TraceQL metrics queries ask for exemplars"),
    ("service-regex", ERROR, "no match-everything regex (=~ \".*\") in a query"),
    ("variable-regex", ERROR, "no TraceQL query puts a dashboard variable in a regex (=~ \"$service\")"),
    ("below-two", ERROR, "quantiles/histograms of values that can be 0 or 1 say so (Tempo drops them)"),
    ("empty-variable-search", WARNING, "at most one panel searches Tempo for an empty variable, over at most 1h"),
    ("variable-match-all", WARNING, "no textbox variable defaults to '.*'"),
    # alert rules (lint/alerts.py)
    ("alert-group", ERROR, "a Grafana rule group: interval a multiple of 10 s, group and folder matching"),
    ("alert-uid", ERROR, "rule uids of 1-40 [a-zA-Z0-9_-], unique"),
    ("alert-condition", ERROR, "the condition is one of the rule's queries"),
    ("alert-time-range", ERROR, "query time ranges end after they start"),
    ("alert-panel-link", ERROR, "__dashboardUid__/__panelId__ name a generated dashboard's panel"),
    ("alert-panel-match", ERROR, "the linked panel plots the rule's queries and draws its thresholds"),
    ("alert-runbook", WARNING, "every alerting rule has a runbook_url (house style)"),
    ("prometheus-rules", ERROR, "a Prometheus rule file: groups of rules with one of alert/record and an expr"),
    ("alert-provisioning", ERROR, "a Grafana provisioning file: apiVersion 1 and groups"),
    # Grafana's schemas (lint/schemas.py, with --schemas)
    ("schema", ERROR, "valid against Grafana's own JSON schemas"),
    # user definition files (definitions/)
    ("definition", ERROR, "what a grafanalib definition file asks for has a place in current Grafana"),
)

RULES: dict[str, Rule] = {rid: Rule(rid, sev, summary) for rid, sev, summary in _TABLE}
