"""Grafana's file-provisioning form (what ``/api/v1/provisioning/alert-rules/export`` writes):
``alerts/provisioning/<group>.yaml``, the Grafana-managed rules with the panel link as
``dashboardUid``/``panelId`` fields instead of ``__`` annotations."""

from __future__ import annotations

from ..canonical import canonical_yaml
from .grafana import ORG_ID, grafana_groups, grafana_rule
from .model import Rule, RuleSet

_KEPT = ("uid", "title", "condition", "data", "noDataState", "execErrState", "for", "labels", "isPaused")


def provisioning_group(key: str, group_rules: list[Rule], rs: RuleSet) -> dict:
    c = rs.catalog
    out_rules = []
    for r in group_rules:
        g = grafana_rule(r, rs)
        p = {k: g[k] for k in _KEPT if k in g}
        if "annotations" in g:
            p["annotations"] = {k: v for k, v in g["annotations"].items() if not k.startswith("__")}
        if r.panel:
            p["dashboardUid"] = r.panel[0]
            p["panelId"] = r.panel[1]
        for k in ("record", "notification_settings"):
            if k in g:
                p[k] = g[k]
        out_rules.append(p)
    return {"apiVersion": 1, "groups": [{"orgId": ORG_ID, "name": rs.group_name(key), "folder": c.folder_title,
                                         "interval": c.alerting.interval, "rules": out_rules}]}


def files(rs: RuleSet) -> dict[str, str]:
    """``alerts/provisioning/<group>.yaml`` per group."""
    return {f"alerts/provisioning/{rs.group_name(key)}.yaml": canonical_yaml(provisioning_group(key, rules, rs))
            for key, rules in grafana_groups(rs)}
