"""Alert generation: catalog -> rule set -> files in every output form.

Like Sloth's generator (``internal/app/generate``), an ordered list of small families, each
with one job, builds the rule model; the output forms then write the same model. Rules are
pure data: ``dashgen.build`` builds each rule's panel from the rule itself
(``dashboards.alert_panels``) and links the rule to it, so alerts never reach into the
dashboard code.
"""

from __future__ import annotations

from collections import Counter

from ..catalog.model import Catalog
from . import absence, grafana, latency, prometheus, provisioning, ratios, routing, slo, traces
from .family import FamilyContext
from .model import GROUPS, RuleSet

FAMILIES = (latency.rules, ratios.rules, absence.rules, slo.rules, traces.rules)
FORMS = (grafana.files, provisioning.files, prometheus.files, routing.files)


def rule_set(catalog: Catalog) -> RuleSet:
    """Every rule of ``catalog``, grouped in ``GROUPS`` order (catalog order within a group);
    no panel links yet (``dashboards.alert_panels.link`` adds them)."""
    ctx = FamilyContext(catalog)
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
