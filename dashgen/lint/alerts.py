"""Alert checks of ``dashgen lint``: the three rule forms, offline.

Grafana-managed groups: valid JSON, an interval Grafana's scheduler can keep (multiples of
10 s), unique 1-40 character uids, the condition among the rule's refs, query time ranges,
TraceQL that parses, and panel links that name a generated dashboard's panel plotting exactly
the rule's queries with its thresholds (``rule_thresholds``), so the link never shows other
numbers than the ones that paged. Prometheus
files: one of ``alert``/``record`` and an ``expr`` per rule. Provisioning files: their shape.
"""

from __future__ import annotations

import json
import re

import yaml

from .. import drawn
from ..alerts.grafana import EXPR_UID
from ..artifacts import parse
from ..queries.traceql import check_query
from .dashboards import UID_RE
from ..drawn import DrawnDashboard, read_dashboard
from .report import LintInput, LintReport, Location, Problem, problem


def check(inp: LintInput, report: LintReport) -> None:
    report.problems += lint_alert_artifacts(inp.artifacts, inp.drawn)


def lint_alert_artifacts(artifacts: dict[str, str], dashboards: dict[str, DrawnDashboard | dict]) -> list[Problem]:
    """Offline checks of built alert files; ``dashboards`` maps relpath -> dashboard as Grafana reads it."""
    problems: list[Problem] = []
    drawn_ = [d if isinstance(d, DrawnDashboard) else read_dashboard(d) for d in dashboards.values()]
    panels = {d.raw.get("uid", ""): {p.id: p.raw for p in d} for d in drawn_}
    uids: dict[str, str] = {}
    for rel, content in sorted(artifacts.items()):
        if rel.startswith("alerts/grafana/") and rel.endswith(".json"):
            problems += _lint_grafana(rel, content, panels, uids)
        elif rel.startswith("alerts/prometheus/"):
            problems += _lint_prometheus(rel, content)
        elif rel.startswith("alerts/provisioning/"):
            try:
                doc = parse(rel, content)
            except yaml.YAMLError as exc:
                problems.append(problem("alert-provisioning", Location(rel), f"not valid YAML: {exc}"))
                continue
            if not isinstance(doc, dict) or doc.get("apiVersion") != 1 or not doc.get("groups"):
                problems.append(problem("alert-provisioning", Location(rel),
                                        "not a Grafana alerting provisioning file (apiVersion: 1, groups: [...])"))
    return problems


def _lint_grafana(rel: str, content: str, panels: dict, uids: dict) -> list[Problem]:
    problems = []
    try:
        group = parse(rel, content)
    except json.JSONDecodeError as exc:
        return [problem("json", Location(rel, line=exc.lineno, col=exc.colno), f"not valid JSON: {exc.msg}")]
    interval = group.get("interval")
    if not isinstance(interval, int) or interval <= 0 or interval % 10:
        problems.append(problem("alert-group", Location(rel),
                                f"interval {interval!r} is not a positive multiple of 10 seconds"))
    for r in group.get("rules", []):
        uid, title = r.get("uid", ""), r.get("title", "")
        where = Location(rel, item=f"rule {uid or title!r}")
        if not UID_RE.fullmatch(uid):
            problems.append(problem("alert-uid", where, "uid is not 1-40 characters of [a-zA-Z0-9_-]"))
        elif uid in uids:
            problems.append(problem("alert-uid", where, f"uid also used in {uids[uid]}"))
        uids[uid] = rel
        if r.get("ruleGroup") != group.get("title") or r.get("folderUID") != group.get("folderUid"):
            problems.append(problem("alert-group", where, "ruleGroup/folderUID differ from the group's title/folderUid"))
        refs = [q.get("refId") for q in r.get("data", [])]
        if r.get("condition") not in refs:
            problems.append(problem("alert-condition", where,
                                    f"condition {r.get('condition')!r} is not one of its queries {refs}"))
        for q in r.get("data", []):
            if q.get("datasourceUid") != EXPR_UID:
                rtr = q.get("relativeTimeRange", {})
                if not rtr.get("from", 0) > rtr.get("to", 0):
                    problems.append(problem("alert-time-range", where,
                                            f"query {q.get('refId')}: relativeTimeRange.from must exceed to"))
                if (q.get("model", {}).get("datasource") or {}).get("type") == "tempo":
                    for p in check_query(q["model"].get("query", "")):
                        problems.append(problem("traceql", where, f"query {q.get('refId')}: {p}"))
        ann = r.get("annotations", {})
        duid, pid = ann.get("__dashboardUid__"), ann.get("__panelId__")
        if (duid is None) != (pid is None):
            problems.append(problem("alert-panel-link", where, "__dashboardUid__ and __panelId__ must come together"))
        elif duid is not None:
            if duid not in panels:
                problems.append(problem("alert-panel-link", where,
                                        f"__dashboardUid__ {duid!r} is not a generated dashboard"))
            elif not str(pid).isdigit() or int(pid) not in panels[duid]:
                problems.append(problem("alert-panel-link", where,
                                        f"__panelId__ {pid!r} is not a panel of dashboard {duid!r}"))
            else:
                problems += [problem("alert-panel-match", where, m) for m in _panel_mismatch(r, panels[duid][int(pid)])]
        if r.get("record") is None and not str(ann.get("runbook_url", "")).startswith("http"):
            problems.append(problem("alert-runbook", where, "no runbook_url annotation"))
    return problems


def _lint_prometheus(rel: str, content: str) -> list[Problem]:
    problems = []
    try:
        doc = parse(rel, content)
    except yaml.YAMLError as exc:
        return [problem("prometheus-rules", Location(rel), f"not valid YAML: {exc}")]
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return [problem("prometheus-rules", Location(rel), "not a Prometheus rule file (groups: [...])")]
    for g in doc["groups"]:
        where = Location(rel, item=f"group {g.get('name')!r}")
        for r in g.get("rules", []):
            if bool(r.get("alert")) == bool(r.get("record")):
                problems.append(problem("prometheus-rules", where, "a rule must have exactly one of alert and record"))
            if not str(r.get("expr", "")).strip():
                problems.append(problem("prometheus-rules", where,
                                        f"rule {r.get('alert') or r.get('record')!r} has no expr"))
    return problems


_MATH_THRESHOLD_RE = re.compile(r"\$[A-Z]+\s*(?:>=|<=|==|!=|>|<)\s*(-?[0-9.eE+-]+)")
# a comparison with a number inside PromQL (a rule of Grafana's Prometheus-import shape keeps its
# comparisons there: one query, ``is_number`` math, threshold > 0)
_PROMQL_COMPARE_RE = re.compile(r"(?:>=|<=|==|!=|>|<)\s*(-?[0-9][0-9.eE+-]*)")


def rule_queries(rule: dict) -> list[str]:
    """The PromQL/TraceQL queries a Grafana-managed rule runs, in order."""
    return [q["model"].get("expr", q["model"].get("query", "")) for q in rule.get("data", [])
            if q.get("datasourceUid") != EXPR_UID]


def rule_thresholds(rule: dict) -> set[float]:
    """The values a Grafana-managed rule compares with: threshold params, or a math condition's numbers."""
    out: set[float] = set()
    for q in rule.get("data", []):
        model = q.get("model", {})
        if q.get("datasourceUid") != EXPR_UID or model.get("refId") != rule.get("condition"):
            continue
        if model.get("type") == "threshold" and _imported_shape(rule):
            out.update(float(v) for expr in rule_queries(rule) for v in _PROMQL_COMPARE_RE.findall(expr))
        elif model.get("type") == "threshold":
            out.update(float(v) for c in model.get("conditions", []) for v in c["evaluator"]["params"])
        elif model.get("type") == "math":
            out.update(float(v) for v in _MATH_THRESHOLD_RE.findall(model.get("expression", "")))
    return out


def _imported_shape(rule: dict) -> bool:
    """One Prometheus query, then ``is_number`` math, then a threshold on it (grafana/grafana
    ``pkg/services/ngalert/prom/query.go``): the comparisons are in the PromQL."""
    return any((q.get("model") or {}).get("type") == "math" and "is_number(" in q["model"].get("expression", "")
               for q in rule.get("data", []))


def panel_queries(panel: dict) -> list[str]:
    return [t.get("expr", t.get("query", "")) for t in panel.get("targets", [])]


def panel_thresholds(panel: dict) -> set[float]:
    return {float(v) for v, _ in drawn.steps(panel) if v is not None}


def _panel_mismatch(rule: dict, panel: dict) -> list[str]:
    """The linked panel must plot the rule's queries verbatim, with its thresholds drawn."""
    if rule.get("record") is not None:
        return []
    problems = []
    title = panel.get("title")
    queries = rule_queries(rule)
    if panel_queries(panel)[:len(queries)] != queries:
        problems.append(f"linked panel {title!r} plots other queries than the rule evaluates "
                        f"(link the rule to a panel built from it: dashboards/alert_panels.py)")
    shown, compared = panel_thresholds(panel), rule_thresholds(rule)
    # an imported-shape rule also compares event counts (its guards) in PromQL: the panel draws
    # the limits among them; any other rule's thresholds are drawn exactly
    if not (shown and shown <= compared) if _imported_shape(rule) else shown != compared:
        problems.append(f"linked panel {title!r} draws thresholds {sorted(panel_thresholds(panel))}, the "
                        f"rule compares with {sorted(rule_thresholds(rule))}")
    if drawn.thresholds_style(panel) == "off":
        problems.append(f"linked panel {title!r} does not draw its thresholds (thresholdsStyle off)")
    return problems
