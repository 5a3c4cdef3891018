"""Alert generation: catalog + panel index -> rule set -> files in every output form.

Like Sloth's generator (``internal/app/generate``), an ordered list of small families, each
with one job, builds the rule model; the output forms then write the same model. The panel
index comes in from ``dashgen.build`` (built once from the dashboards), so alerts never
reach back into the dashboard code.
"""

from __future__ import annotations

from collections import Counter

from ..catalog.model import Catalog
from . import grafana, latency, prometheus, provisioning, ratios, slo, traces
from .family import FamilyContext
from .model import GROUPS, PanelIndex, RuleSet

FAMILIES = (latency.rules, ratios.rules, slo.rules, traces.rules)
FORMS = (grafana.files, provisioning.files, prometheus.files)


def rule_set(catalog: Catalog, panels: PanelIndex | None = None) -> RuleSet:
    """Every rule of ``catalog``, grouped in ``GROUPS`` order (catalog order within a group)."""
    ctx = FamilyContext(catalog, panels or {})
    out = [rule for family in FAMILIES for rule in family(ctx)]
    for what, values in (("uids", [r.uid for r in out]), ("titles in one folder", [r.title for r in out])):
        dup = sorted(v for v, n in Counter(values).items() if n > 1)
        if dup:
            raise ValueError(f"duplicate alert rule {what}: {', '.join(dup)}")
    order = {k: i for i, k in enumerate(GROUPS)}
    out.sort(key=lambda r: order[r.group])  # stable
    return RuleSet(catalog, tuple(out))


def alert_artifacts(rs: RuleSet) -> dict[str, str]:
    """``{relative path: content}`` of every alert rule file, in every output form."""
    return {path: text for form in FORMS for path, text in form(rs).items()}
