"""What every rule family shares: the catalog, the panel index, labels, texts and links.

A family is a function ``(FamilyContext) -> list[Rule]`` with one job (latency quantiles,
ratios, SLOs, Tempo rules); ``generate`` runs them in order, like Sloth's ordered SLO
processors (``internal/app/generate``). Texts come from ``templates/alerts/*.j2``.
"""

from __future__ import annotations

from ..catalog.conventions import format_number as num, format_percent as percent
from ..catalog.model import Catalog, Stage
from ..templating import render
from .model import PanelIndex, camel, rule_uid


class FamilyContext:
    """Per-catalog helpers for the rule families. Pure: no I/O."""

    def __init__(self, catalog: Catalog, panels: PanelIndex):
        self.catalog = catalog
        self.alerting = catalog.alerting
        self.panels = panels

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

    def panel(self, wanted: list[str], fallback: str) -> tuple[str, int] | None:
        """The first panel showing one of ``wanted``, else the one showing ``fallback``."""
        for tag in wanted:
            if tag in self.panels:
                return self.panels[tag]
        return self.panels.get(fallback)
