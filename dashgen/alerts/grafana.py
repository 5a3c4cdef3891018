"""Grafana-managed form: each rule group as the body of
``PUT /api/v1/provisioning/folder/:folderUid/rule-groups/:group``.

A Grafana rule is a pipeline of queries and server-side expressions ending in the condition
ref. Every rule reads ONE data query: a Prometheus alert its ``Rule.expr`` (the Prometheus
form's expression), then the math and threshold steps Grafana's own Prometheus-rule import adds
(``grafana_data``); a Tempo alert its TraceQL quantile, reduced and compared; a recording rule
records its query (``record.from``).
"""

from __future__ import annotations

from string import ascii_uppercase

from ..canonical import canonical_json
from ..catalog.model import Catalog
from .model import PromQuery, Rule, RuleSet, Signal

ORG_ID = 1
EXPR_UID = "__expr__"
# No rule pages because data is absent: an empty result is fine (a quiet stage, a guarded window,
# a counter not created yet), and missing telemetry has rules of its own (``absence``). With
# "NoData", Grafana would send a firing DatasourceNoData alert carrying the rule's labels
# (pkg/services/ngalert/state/compat.go), a page for a healthy stage. "KeepLast" (Grafana 10.4+)
# is not in the published 11.6 schema, so OK it is. A failing query still alerts (DatasourceError).
NO_DATA_STATE = "OK"
EXEC_ERR_STATE = "Error"
# Grafana's threshold expression evaluators (classic comparisons; "gt"/"lt" take one param)
EVALUATORS = {">": "gt", "<": "lt"}


def _query(ref: str, signal: Signal, catalog: Catalog) -> dict:
    if signal.datasource == "prometheus":
        uid = catalog.prometheus.uid
        model = {"refId": ref, "datasource": {"type": "prometheus", "uid": uid}, "editorMode": "code",
                 "expr": signal.expr, "instant": True, "range": False}
    else:
        uid = catalog.tempo.uid
        model = {"refId": ref, "datasource": {"type": "tempo", "uid": uid}, "queryType": "traceql",
                 "query": signal.expr, "metricsQueryType": "range", "step": "1m", "filters": []}
    return {"refId": ref, "datasourceUid": uid, "queryType": "",
            "relativeTimeRange": {"from": max(600, 2 * catalog.alerting.interval_seconds), "to": 0}, "model": model}


def _expression(ref: str, **model) -> dict:
    return {"refId": ref, "datasourceUid": EXPR_UID, "queryType": "", "relativeTimeRange": {"from": 0, "to": 0},
            "model": {"refId": ref, "datasource": {"type": EXPR_UID, "uid": EXPR_UID}, **model}}


def grafana_data(rule: Rule, catalog: Catalog) -> tuple[list[dict], str]:
    """``(data, condition ref)`` of a Grafana-managed rule.

    A Prometheus-datasource rule is the shape Grafana itself gives a Prometheus rule it imports
    (grafana/grafana ``pkg/services/ngalert/prom/query.go``: ``createQueryNode``,
    ``createMathNode``, ``createThresholdNode``): ONE instant query, ``Rule.expr``, the very
    PromQL of the Prometheus form; a math expression ``is_number($A) || is_nan($A) || is_inf($A)``
    that turns every series the query returns into 1; and a threshold ``> 0`` on it. The
    comparisons stay in PromQL, so no window of a burn-rate pair is a query of its own: a quiet
    window makes its row false, never the whole rule NoData (Grafana's expression engine makes a
    binary operation with a NoData side NoData, ``pkg/expr/mathexp/exp.go``). A Tempo rule (one
    TraceQL range query) is reduced to its mean, then compared by a threshold expression.
    """
    refs = iter(ascii_uppercase)
    if rule.records is not None:
        ref = next(refs)
        return [_query(ref, rule.records.signal, catalog)], ref
    if rule.prometheus:
        query, math, cond = next(refs), next(refs), next(refs)
        return [_query(query, PromQuery(rule.expr), catalog),
                _expression(math, type="math", expression=f"is_number(${query}) || is_nan(${query}) || is_inf(${query})"),
                _expression(cond, type="threshold", expression=math,
                            conditions=[{"evaluator": {"type": "gt", "params": [0]}}])], cond
    (c,), = rule.when  # a Tempo rule: one TraceQL quantile against one threshold
    query, reduced, cond = next(refs), next(refs), next(refs)
    return [_query(query, c.signal, catalog),
            # Tempo returns one point per step: average the range
            _expression(reduced, type="reduce", expression=query, reducer="mean", settings={"mode": "dropNN"}),
            _expression(cond, type="threshold", expression=reduced,
                        conditions=[{"evaluator": {"type": EVALUATORS[c.op], "params": [c.value]}}])], cond


def grafana_rule(rule: Rule, rs: RuleSet) -> dict:
    c = rs.catalog
    data, condition = grafana_data(rule, c)
    annotations = dict(rule.annotations)
    if rule.panel:
        annotations["__dashboardUid__"] = rule.panel[0]
        annotations["__panelId__"] = str(rule.panel[1])
    out = {
        "uid": rule.uid, "orgID": ORG_ID, "folderUID": c.folder_uid, "ruleGroup": rs.group_name(rule.group),
        "title": rule.title, "condition": condition, "data": data, "for": rule.for_,
        "noDataState": NO_DATA_STATE, "execErrState": EXEC_ERR_STATE, "isPaused": False,
        "labels": dict(rule.labels), "annotations": annotations,
    }
    if rule.records is not None:
        out["record"] = {"from": condition, "metric": rule.records.metric}
        del out["annotations"]
    # No ``notification_settings`` (simplified routing), even with ``alerting.receiver``: its
    # ``group_by`` always starts with ``grafana_folder`` and ``alertname`` (grafana/grafana
    # pkg/services/ngalert/models/notifications.go, ``ContactPointRouting.NormalizedGroupBy``), so a stage's p95 page and burn page could never be one
    # notification. The notification policy ``routing`` writes sends them to the receiver instead.
    return out


def grafana_group(key: str, group_rules: list[Rule], rs: RuleSet) -> dict:
    c = rs.catalog
    return {"title": rs.group_name(key), "folderUid": c.folder_uid, "interval": c.alerting.interval_seconds,
            "rules": [grafana_rule(r, rs) for r in group_rules]}


def grafana_groups(rs: RuleSet) -> list[tuple[str, list[Rule]]]:
    """The groups of the Grafana-managed forms: the SLO recording rules unless the catalog says false.

    Grafana-managed recording rules need the experimental ``grafanaManagedRecordingRules``
    feature toggle (off by default in 11.6, 12.x and 13.x, pkg/services/featuremgmt/registry.go):
    ``push`` decides per instance whether they go (grafana/rule_groups.py); the Grafana burn-rate
    rules compute their ratios inline, so they never depend on them.
    """
    keep = rs.catalog.alerting.grafana_recording_rules is not False
    return [(key, rules) for key, rules in rs.groups() if keep or key != "slo-recording"]


def files(rs: RuleSet) -> dict[str, str]:
    """``alerts/grafana/<folder uid>/<group>.json`` per group."""
    return {f"alerts/grafana/{rs.catalog.folder_uid}/{rs.group_name(key)}.json": canonical_json(grafana_group(key, rules, rs))
            for key, rules in grafana_groups(rs)}
