"""Latency family: one p95 (or any quantile) alert per catalog threshold, per stage and layer.

Prometheus evaluates ``histogram_quantile`` over the measurement's histogram; the threshold
comes from the catalog's ``thresholds``, its severity, ``for`` and event guard from the paging
policy (``voice.paging.quantile_policy``): the catalog's severity, a ``for`` of at least twice
the rate window (one slow minute pages nobody) and at least ``1 / (1 - q)`` events. A stage's
SLO burn-rate alerts page beside it; the routing makes the two one notification.
"""

from __future__ import annotations

from ..catalog.model import Measurement, Stage, Threshold
from ..voice.paging import QUANTILE_LABEL, quantile_policy
from .family import FamilyContext, num
from .model import Condition, Guard, HistogramQuantile, Rule


def quantile_values(ctx: FamilyContext, s: Stage, m: Measurement, t: Threshold) -> dict:
    """Template values of a quantile alert (``traces`` words the same threshold for Tempo)."""
    policy = quantile_policy(ctx.alerting, t)
    return dict(ctx.stage_values(s), measurement_title=m.title, meaning=m.meaning,
                quantile_label=t.quantile_label, threshold=num(t.value), unit=m.unit, for_=policy.for_,
                window=policy.window, metric=m.metric.name, attribute=m.attribute, min_events=policy.min_events,
                severity=policy.severity, tail=num(round((1 - t.quantile) * 100, 6)), has_slo=s.slo is not None,
                interrupted=ctx.interrupted_note(s, m))


def rules(ctx: FamilyContext) -> list[Rule]:
    out = []
    for s in ctx.catalog.stages:
        for m in s.measurements:
            for t in m.thresholds:
                ql = t.quantile_label
                policy = quantile_policy(ctx.alerting, t)
                values = quantile_values(ctx, s, m, t)
                uid = ctx.uid(s.id, m.id, ql)
                guard = (Guard(m.metric.count, m.metric.label, s.id, policy.window, policy.min_events)
                         if policy.min_events > 0 else None)
                signal = HistogramQuantile(m.metric, s.id, t.quantile, policy.window, ctx.measured(s, m), guard)
                out.append(Rule(
                    uid=uid, title=ctx.title(kind="quantile", **values), group="latency", stage=s.id,
                    labels=ctx.labels(s.id, policy.severity, **{QUANTILE_LABEL: ql}),
                    annotations=ctx.texts(uid, kind="quantile", **values),
                    when=((Condition(signal, ">", float(t.value), m.unit),),), for_=policy.for_,
                    name=ctx.alert_name(s.id, m.id, ql, "high"), receiver=ctx.alerting.receiver,
                ))
    return out
