"""Routing form: what turns the alerts into notifications, one per incident.

``voice.paging`` decides that a stage's p95 page and its SLO burn-rate page are one incident;
this form writes what makes them one notification, for both rule forms:

- ``alerts/routing/alertmanager.yaml``: an Alertmanager configuration (the Prometheus form):
  pages and tickets of the team routed to their receivers, grouped by team and stage (never by
  alert name, so the two pages of one stage are one group, one notification), and the
  ``inhibit_rules`` that silence a stage's quantile pages while its burn-rate page fires.
  Receivers with no integration (fill them in, or merge the routes and inhibit rules into your
  own configuration). Alertmanager's PagerDuty integration keys an incident by the group
  (prometheus/alertmanager ``notify/pagerduty``: the dedup key is the group key), so a later
  update of the group updates the same incident.
- ``alerts/routing/grafana-notification-policy.yaml``: the same routes as a Grafana notification
  policy tree in Grafana's file-provisioning form (``apiVersion: 1``, ``policies``): Grafana's
  Alertmanager groups a stage's alerts the same way. Provisioning ``policies`` replaces the
  whole tree of the organisation: merge the team's routes into yours where the tree is shared.
"""

from __future__ import annotations

from ..canonical import canonical_yaml
from ..catalog.model import Catalog
from ..voice.paging import GROUP_BY, GROUP_INTERVAL, GROUP_WAIT, REPEAT_INTERVAL, inhibit_rules
from .grafana import ORG_ID
from .model import RuleSet

ALERTMANAGER = "alerts/routing/alertmanager.yaml"
GRAFANA_POLICY = "alerts/routing/grafana-notification-policy.yaml"
TIMERS = {"group_wait": GROUP_WAIT, "group_interval": GROUP_INTERVAL, "repeat_interval": REPEAT_INTERVAL}


def receivers(c: Catalog) -> dict[str, str]:
    """``{severity: receiver name}``: pages go to ``alerting.receiver`` when the catalog names one."""
    team = c.alerting.team
    return {"page": c.alerting.receiver or f"{team}-page", "ticket": f"{team}-ticket"}


def alertmanager_config(c: Catalog) -> dict:
    team, names = c.alerting.team, receivers(c)
    return {
        "route": {"receiver": names["ticket"], "group_by": list(GROUP_BY), **TIMERS,
                  "routes": [{"receiver": names[sev], "matchers": [f'team="{team}"', f'severity="{sev}"'],
                              "group_by": list(GROUP_BY)} for sev in ("page", "ticket")]},
        "receivers": [{"name": n} for n in dict.fromkeys(names.values())],
        "inhibit_rules": inhibit_rules(team),
    }


def grafana_policy(c: Catalog) -> dict:
    team, names = c.alerting.team, receivers(c)
    return {"apiVersion": 1, "policies": [{
        "orgId": ORG_ID, "receiver": names["ticket"], "group_by": list(GROUP_BY), **TIMERS,
        "routes": [{"receiver": names[sev], "object_matchers": [["team", "=", team], ["severity", "=", sev]],
                    "group_by": list(GROUP_BY)} for sev in ("page", "ticket")],
    }]}


def files(rs: RuleSet) -> dict[str, str]:
    return {ALERTMANAGER: canonical_yaml(alertmanager_config(rs.catalog)),
            GRAFANA_POLICY: canonical_yaml(grafana_policy(rs.catalog))}
