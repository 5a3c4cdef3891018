"""Latency family: one p95 (or any quantile) alert per catalog threshold, per stage and layer.

Prometheus evaluates ``histogram_quantile`` over the measurement's histogram; the threshold
and its severity and ``for`` come straight from the catalog's ``thresholds``.
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


def quantile_panel(ctx: FamilyContext, s: Stage, m: Measurement, t: Threshold) -> tuple[str, int] | None:
    ql = t.quantile_label
    return ctx.panel([f"{s.id}.{m.id}:{ql}"], f"{s.id}.first_byte:{ql}")


def rules(ctx: FamilyContext) -> list[Rule]:
    out = []
    for s in ctx.catalog.stages:
        for m in s.measurements:
            for t in m.thresholds:
                ql = t.quantile_label
                values = quantile_values(ctx, s, m, t)
                uid = ctx.uid(s.id, m.id, ql)
                signal = HistogramQuantile(m.metric, s.id, t.quantile, ctx.alerting.rate_window)
                out.append(Rule(
                    uid=uid, title=ctx.title(kind="quantile", **values), group="latency", stage=s.id,
                    labels=ctx.labels(s.id, t.severity), annotations=ctx.texts(uid, kind="quantile", **values),
                    when=((Condition(signal, ">", float(t.value), m.unit),),), for_=t.for_,
                    name=ctx.alert_name(s.id, m.id, ql, "high"), panel=quantile_panel(ctx, s, m, t),
                    receiver=ctx.alerting.receiver,
                ))
    return out
