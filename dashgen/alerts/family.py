"""What every rule family shares: the catalog, labels, texts, matchers and guards.

A family is a function ``(FamilyContext) -> list[Rule]`` with one job (latency quantiles,
ratios, SLOs, absence, Tempo rules); ``generate`` runs them in order, like Sloth's ordered SLO
processors (``internal/app/generate``). Texts come from ``templates/alerts/*.j2``. Rules are
pure data here: the panel each one links to is built from the rule afterwards
(``dashboards.alert_panels``), so a family never needs the dashboards.
"""

from __future__ import annotations

from ..catalog.conventions import format_number as num, format_percent as percent
from ..catalog.model import Catalog, Measurement, Stage
from ..templating import render
from ..queries import promql
from ..voice.interrupted import interruption
from .model import Guard, camel, rule_uid


class FamilyContext:
    """Per-catalog helpers for the rule families. Pure: no I/O."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.alerting = catalog.alerting
        # the catalog's prometheus.matchers, literal: a rule evaluates one environment
        self.extra = tuple(promql.matcher(m.label, "=", m.value) for m in catalog.prom_matchers)
        self.matcher_labels = tuple((m.label, m.value) for m in catalog.prom_matchers)

    def measured(self, s: Stage, m: Measurement) -> tuple[str, ...]:
        """The matchers of a rule over a measurement's histogram: the catalog's, and the one leaving
        interrupted turns out (``voice.interrupted``)."""
        return self.extra + promql.not_interrupted(self.catalog, s, m)

    def interrupted_note(self, s: Stage, m: Measurement) -> str:
        """What a rule over the measurement says about interrupted turns (its description's last words)."""
        return interruption(self.catalog).rule_note(s, m)

    def guard(self, counter: str, label: str, stage: str, window: str) -> Guard | None:
        """The minimum-event guard of a window (``alerting.min_events``; None when it is 0)."""
        n = self.alerting.min_events
        return Guard(counter, label, stage, window, n) if n > 0 else None

    def uid(self, *parts: str) -> str:
        return rule_uid(self.catalog, *parts)

    def alert_name(self, *parts: str) -> str:
        return camel(self.catalog.uid_prefix, *parts)

    def labels(self, stage: str, severity: str | None, **extra) -> dict:
        out = {"stage": stage, "team": self.alerting.team}
        if severity:
            out["severity"] = severity
        out.update(extra)
        return out

    @staticmethod
    def title(**values) -> str:
        return render("alerts/summary.j2", **values)

    def texts(self, uid: str, **values) -> dict:
        return {
            "summary": render("alerts/summary.j2", **values),
            "description": render("alerts/description.j2", **values),
            "runbook_url": render("alerts/runbook_url.j2", base_url=self.alerting.runbook_url, uid=uid),
        }

    @staticmethod
    def stage_values(s: Stage) -> dict:
        """Template values every text about stage ``s`` uses."""
        return {"stage": s.id, "stage_title": s.title.split(" (")[0]}
