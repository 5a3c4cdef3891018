"""Latency family: one p95 (or any quantile) alert per catalog threshold, per stage and layer.

Prometheus evaluates ``histogram_quantile`` over the measurement's histogram; the threshold
and its severity and ``for`` come straight from the catalog's ``thresholds``.

One paging policy per measurement: when a stage's SLO is about the measurement, its burn-rate
alerts page and its quantile thresholds open tickets (``severity``), whatever the catalog
says. A p95 above the SLO threshold for 5 minutes is a 2x burn at a 95% objective, which the
burn-rate alerts rightly treat as sustainable; paging on it too would undercut them.
"""

from __future__ import annotations

from ..catalog.model import Measurement, Stage, Threshold
from .family import FamilyContext, num
from .model import Condition, HistogramQuantile, Rule


def quantile_values(ctx: FamilyContext, s: Stage, m: Measurement, t: Threshold) -> dict:
    """Template values of a quantile alert (``traces`` words the same threshold for Tempo)."""
    return dict(ctx.stage_values(s), measurement_title=m.title, meaning=m.meaning,
                quantile_label=t.quantile_label, threshold=num(t.value), unit=m.unit, for_=t.for_,
                window=ctx.alerting.rate_window, metric=m.metric.name, attribute=m.attribute)


def severity(s: Stage, m: Measurement, t: Threshold) -> str:
    """The threshold's severity, demoted to a ticket where an SLO on the measurement pages."""
    return "ticket" if s.slo is not None and s.slo.measurement == m.id else t.severity


def rules(ctx: FamilyContext) -> list[Rule]:
    out = []
    for s in ctx.catalog.stages:
        for m in s.measurements:
            for t in m.thresholds:
                ql = t.quantile_label
                values = quantile_values(ctx, s, m, t)
                uid = ctx.uid(s.id, m.id, ql)
                window = ctx.alerting.rate_window
                signal = HistogramQuantile(m.metric, s.id, t.quantile, window, ctx.extra,
                                           ctx.guard(m.metric.count, m.metric.label, s.id, window))
                out.append(Rule(
                    uid=uid, title=ctx.title(kind="quantile", **values), group="latency", stage=s.id,
                    labels=ctx.labels(s.id, severity(s, m, t)), annotations=ctx.texts(uid, kind="quantile", **values),
                    when=((Condition(signal, ">", float(t.value), m.unit),),), for_=t.for_,
                    name=ctx.alert_name(s.id, m.id, ql, "high"), receiver=ctx.alerting.receiver,
                ))
    return out
