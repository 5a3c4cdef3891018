"""Prometheus / Mimir ruler form: ``alerts/prometheus/<group>.yaml`` rule files.

Only rules Prometheus can evaluate (no Tempo query). An alert's expression is ``Rule.expr``, the
same PromQL the Grafana-managed twin runs as its one data query: comparisons joined with ``and``
within a row and the rows with ``or``, every ratio computed inline (an SLO's burn-rate alert does
not read the recorded ratios, so it never waits on, or depends on, where recordings are written).
"""

from __future__ import annotations

from ..canonical import canonical_yaml
from ..catalog.conventions import seconds
from .model import Rule, RuleSet


def expression(rule: Rule) -> str:
    """The PromQL a Prometheus rule evaluates: what it records, or when it fires (``Rule.expr``)."""
    return rule.expr


def prometheus_rule(rule: Rule) -> dict:
    if rule.records is not None:
        return {"record": rule.records.metric, "expr": expression(rule), "labels": dict(rule.labels)}
    out = {"alert": rule.name, "expr": expression(rule), "labels": dict(rule.labels),
           "annotations": dict(rule.annotations)}
    if seconds(rule.for_) > 0:
        out["for"] = rule.for_
    return out


def prometheus_group(key: str, group_rules: list[Rule], rs: RuleSet) -> dict | None:
    prom = [r for r in group_rules if r.prometheus]
    if not prom:
        return None
    return {"groups": [{"name": rs.group_name(key), "interval": rs.catalog.alerting.interval,
                        "rules": [prometheus_rule(r) for r in prom]}]}


def files(rs: RuleSet) -> dict[str, str]:
    """``alerts/prometheus/<group>.yaml`` per group that has a rule Prometheus can evaluate."""
    out = {}
    for key, rules in rs.groups():
        group = prometheus_group(key, rules, rs)
        if group is not None:
            out[f"alerts/prometheus/{rs.group_name(key)}.yaml"] = canonical_yaml(group)
    return out
