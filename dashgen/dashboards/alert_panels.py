"""The "alert rules" dashboard: one panel per alert rule, built from the rule itself.

An alert's ``__dashboardUid__``/``__panelId__`` is what the on-call engineer opens from the
notification, so it must show the number that paged, not a look-alike: a TraceQL panel (Tempo's
power-of-two buckets) beside a Prometheus-histogram alert, or an absolute error rate beside a
ratio alert, shows other numbers. Here each panel is made from the rule itself: first the
rule's one query verbatim (``Rule.expr``, what both forms evaluate: a series there is the alert
pending or firing), then one query per signal (the number each comparison reads), and one
dashed threshold line per condition value, coloured by the rule's severity. ``link`` then points every rule at
its panel. Single source: change a rule and its panel follows.

The flow stays one way (``dashgen.build``): catalog -> rules (pure data) -> this dashboard ->
rules linked to its panels. Panels carry the catalog's ``prometheus.matchers`` literally, as
the rules do: this dashboard shows what pages, not a filterable view.
"""

from __future__ import annotations

import dataclasses

from ..alerts.model import (
    Absent, BadEventRatio, CounterRatio, HistogramQuantile, Rule, RuleSet, Signal, StageEvents, TraceQuantile,
)
from ..catalog.conventions import UNITS, format_number
from .kit import SEVERITY_COLORS, BuiltDashboard, Ctx
from .model import Row, TextPanel, TimeSeriesPanel, threshold_steps

KEY = "alerts"


def _legend(signal: Signal, label: str) -> str:
    """What one plotted series is, in the words of the rule's description."""
    stage = "{{" + label + "}}" if label else ""
    if isinstance(signal, HistogramQuantile):
        return f"{stage} p{format_number(signal.q * 100)} over {signal.window}"
    if isinstance(signal, CounterRatio):
        return f"{stage} {signal.numerator} / {signal.denominator} over {signal.window}"
    if isinstance(signal, BadEventRatio):
        return f"{stage} share above {format_number(signal.threshold)} over {signal.window}"
    if isinstance(signal, StageEvents):
        when = f" ending {signal.offset} ago" if signal.offset else ""
        return f"{stage} runs in {signal.window}{when}"
    if isinstance(signal, Absent):
        return f"{stage} telemetry missing for {signal.window}"
    return f"{stage} value"


def _unit(rule: Rule) -> str:
    unit = rule.when[0][0].unit
    if unit == "ratio":
        return "percentunit"
    return UNITS[unit].grafana if unit in UNITS else "none"


def panel_key(rule: Rule) -> str:
    return f"alert-{rule.uid.lower()}"


def rule_panel(ctx: Ctx, rule: Rule) -> TimeSeriesPanel:
    """The panel of one alert: its signals as queries, its condition values as threshold lines."""
    refs = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    targets = []
    if rule.prometheus:  # the rule's own query first: exactly what pages, in both forms
        targets.append(ctx.prom(rule.expr, next(refs), legend="firing (the rule's expression)"))
    for signal in rule.signals:
        label = next(iter(getattr(signal, "series_labels", {}) or {}), "")
        if isinstance(signal, TraceQuantile):
            targets.append(ctx.tempo_metrics(signal.expr, next(refs)))
        else:
            targets.append(ctx.prom(signal.expr, next(refs), legend=_legend(signal, label).strip()))
    color = SEVERITY_COLORS.get(rule.labels.get("severity", ""), "red")
    values = sorted({c.value for row in rule.when for c in row})
    first = 66 if rule.prometheus else 65  # B: the first signal after the rule's own query
    rows = [" and ".join(f"{chr(first + list(rule.signals).index(c.signal))} {c.op} {format_number(c.value)}" for c in row)
            for row in rule.when]
    fires = " or ".join(f"({r})" if len(rows) > 1 and " and " in r else r for r in rows)
    own = " (A, the rule's own query, returns a series exactly then)" if rule.prometheus else ""
    return TimeSeriesPanel(
        key=panel_key(rule), title=rule.title,
        # the expression and thresholds only: a changed ``for`` or wording changes the rule, not its panel
        description=(f"Exactly what alert rule {rule.name or rule.uid} ({rule.labels.get('severity', 'no severity')}) "
                     f"evaluates: it fires when {fires} holds for its 'for' duration{own}. The dashed lines are its "
                     f"thresholds; an empty panel is no data, which never pages (see the rule's description)."),
        targets=targets, unit=_unit(rule), thresholdSteps=threshold_steps([(v, color) for v in values]),
        thresholdsStyle="dashed", shows=[f"alert:{rule.uid}"], w=12, h=8)


def build(ctx: Ctx, rules: RuleSet) -> BuiltDashboard:
    """One row per stage, one panel per alert rule of the stage (catalog and group order)."""
    c = ctx.catalog
    alerts = [r for r in rules.rules if r.is_alert]
    panels: list = [TextPanel(
        key="alerts-about", title="About these panels",
        description="Why this dashboard exists and how to read it.",
        content=("Each panel plots exactly the expression one alert rule evaluates, with its threshold as a dashed "
                 "line; every alert links here (`__dashboardUid__`/`__panelId__`). Empty panels are quiet stages: "
                 f"ratios, quantiles and burn rates need {c.alerting.min_events} events per window "
                 "(`alerting.min_events`) before they may alert, and no rule pages on missing data; the "
                 "*telemetry missing* and *turns stopped* rules say when data is absent."),
        w=24, h=3)]
    for s in c.stages:
        mine = [r for r in alerts if r.stage == s.id]
        if mine:
            panels.append(Row(key=f"row-{s.id.replace('_', '-')}", title=f"{s.title}: alert rules"))
            panels.extend(rule_panel(ctx, r) for r in mine)
    return ctx.dashboard(KEY, "Alert rules",
                         f"Every alert rule generated from the catalog ({c.title}), one panel each, plotting the "
                         f"expression the rule evaluates with its threshold. Generated by dashgen.",
                         panels, variables=ctx.variables()[:2])


def link(rules: RuleSet, dashboard: BuiltDashboard) -> RuleSet:
    """``rules`` with each alert pointing at its panel on ``dashboard`` (recording rules: none)."""
    ids = {p.key: p.id for p in dashboard.dashboard.panels}
    return dataclasses.replace(rules, rules=tuple(
        dataclasses.replace(r, panel=(dashboard.uid, ids[panel_key(r)])) if r.is_alert else r
        for r in rules.rules))
