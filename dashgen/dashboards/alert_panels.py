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

A large catalog has hundreds of rules (200 stages: about a thousand), and Tempo rules one
TraceQL metrics query each: the dashboard is split into pages (``budget.paginate``), each
within the panel budget and the TraceQL query budget, a stage's rules together where they
fit. Every panel is on a page's top level, never in a collapsed row, so the rule's
``viewPanel`` link opens it directly. (Grafana's own ``DashboardModel.getPanelByUrlId``,
grafana/grafana ``public/app/features/dashboard/state/DashboardModel.ts``, expands a collapsed
row that holds the linked panel, "First try to find it in a collapsed row and expand it"; the
pages need neither that nor its equivalent in the newer dashboard architecture.)
"""

from __future__ import annotations

import dataclasses

from ..alerts.model import (
    Absent, BadEventRatio, CounterRatio, HistogramQuantile, Rule, RuleSet, Signal, StageEvents, TraceQuantile,
    TurnBadRatio,
)
from ..catalog.conventions import UNITS, format_number
from .budget import page_key, page_title, paginate
from .kit import SEVERITY_COLORS, BuiltDashboard, Ctx
from .model import Row, TextPanel, TimeSeriesPanel, threshold_steps
from .panels import short_title
from .series import rename_quantiles

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
    if isinstance(signal, TurnBadRatio):
        return f"share of judged turns not good over {signal.window}"
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
    targets, overrides = [], []
    if rule.prometheus:  # the rule's own query first: exactly what pages, in both forms
        targets.append(ctx.prom(rule.expr, next(refs), legend="firing (the rule's expression)"))
    for signal in rule.signals:
        label = next(iter(getattr(signal, "series_labels", {}) or {}), "")
        if isinstance(signal, TraceQuantile):
            targets.append(ctx.tempo_metrics(signal.expr, next(refs)))
            # Grafana names a Tempo series by its labels, not by a legend (series.py): rename it
            overrides += rename_quantiles((signal.q,), f"{rule.stage or ''} {{q}} from traces".strip())
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
                     f"thresholds; an empty panel is no data, which never pages (see the rule's description)."
                     + (" Its TraceQL quantile is coarse: Tempo buckets values in powers of two and drops values "
                        "below 2 and floats." if overrides else "")),
        targets=targets, unit=_unit(rule), thresholdSteps=threshold_steps([(v, color) for v in values]),
        thresholdsStyle="dashed", overrides=overrides, shows=[f"alert:{rule.uid}"], w=12, h=8)


def _about(c, page: int, pages: int, stages: str) -> TextPanel:
    where = (f"\n\nPage {page} of {pages} ({stages}): the rules of {c.title} are split so that no page draws more "
             f"panels or runs more TraceQL queries than a dashboard's budget; the other pages are in the dashboard "
             f"links at the top (*Voice agent dashboards*).") if pages > 1 else ""
    return TextPanel(
        key="alerts-about", title="About these panels",
        description="Why this dashboard exists and how to read it.",
        content=("Each panel plots exactly the expression one alert rule evaluates, with its threshold as a dashed "
                 "line; every alert links here (`__dashboardUid__`/`__panelId__`). Empty panels are quiet stages: "
                 f"ratios, quantiles and burn rates need {c.alerting.min_events} events per window "
                 "(`alerting.min_events`) before they may alert, and no rule pages on missing data; the "
                 "*telemetry missing* and *turns stopped* rules say when data is absent." + where),
        w=24, h=3 if pages == 1 else 4)


def build(ctx: Ctx, rules: RuleSet) -> list[BuiltDashboard]:
    """One row per stage, one panel per alert rule of the stage (catalog and group order), on as
    many pages as the budgets need (one for the bundled catalogs)."""
    c = ctx.catalog
    by_stage: dict[str, list] = {}
    for r in rules.rules:
        if r.is_alert:
            by_stage.setdefault(r.stage, []).append(r)
    sections, stage_of = [], {}
    for s in c.stages:
        mine = by_stage.pop(s.id, None)
        if mine:
            row = Row(key=f"row-{s.id.replace('_', '-')}", title=f"{s.title}: alert rules")
            sections.append((row, [rule_panel(ctx, r) for r in mine]))
            stage_of[row.key] = short_title(s)
    rest = [r for mine in by_stage.values() for r in mine]  # the good-turn SLO's: the turn as a whole
    if rest:
        row = Row(key="row-good-turn", title="Good turns: alert rules")
        sections.append((row, [rule_panel(ctx, r) for r in rest]))
        stage_of[row.key] = "Good turns"
    pages = paginate(sections, [_about(c, 2, 2, "")])
    out = []
    for n, panels in enumerate(pages, 1):
        names = [stage_of[p.key] for p in panels if isinstance(p, Row)]
        title = page_title("Alert rules", n, len(pages), names)
        out.append(ctx.dashboard(page_key(KEY, n), title,
                                 f"Every alert rule generated from the catalog ({c.title}), one panel each, plotting "
                                 f"the expression the rule evaluates with its threshold. Generated by dashgen.",
                                 [_about(c, n, len(pages), title.partition(": ")[2]), *panels], variables=ctx.variables()[:2]))
    return out


def link(rules: RuleSet, dashboards: list[BuiltDashboard]) -> RuleSet:
    """``rules`` with each alert pointing at its panel on the page of ``dashboards`` holding it
    (recording rules: none)."""
    where = {p.key: (d.uid, p.id) for d in dashboards for p in d.dashboard.panels if not isinstance(p, Row)}
    return dataclasses.replace(rules, rules=tuple(
        dataclasses.replace(r, panel=where[panel_key(r)]) if r.is_alert else r
        for r in rules.rules))
