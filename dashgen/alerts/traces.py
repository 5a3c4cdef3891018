"""Tempo family (opt-in, ``alerting.tempo_rules``): the latency thresholds as TraceQL rules.

Grafana-managed only (Prometheus cannot query Tempo), and only where Tempo's quantiles work
for the measurement (``Measurement.quantiles_work``). They complement the Prometheus rules
when no histogram is recorded; the description says why they are coarser.
"""

from __future__ import annotations

from ..queries.traceql import Cond, TraceQL
from .family import FamilyContext
from ..voice.paging import quantile_policy
from .latency import quantile_values
from .model import Condition, Rule, TraceQuantile


def rules(ctx: FamilyContext) -> list[Rule]:
    c = ctx.catalog
    if not ctx.alerting.tempo_rules:
        return []
    q = TraceQL(c)
    out = []
    for s in c.stages:
        stage = Cond(q.span(c.stage_attribute), "=", s.id) if c.stage_attribute else Cond(q.intrinsic("name"), "=", s.span)
        for m in s.measurements:
            if not m.quantiles_work:
                continue
            # drop the "produced nothing" marker value, as the dashboards do
            conds = [stage] + ([Cond(q.span(m.attribute), ">=", 0)] if m.nothing_value is not None else []) \
                + q.not_interrupted([(s, m)])
            for t in m.thresholds:
                values = quantile_values(ctx, s, m, t)
                policy = quantile_policy(ctx.alerting, t)
                uid = ctx.uid(s.id, m.id, t.quantile_label, "traces")
                signal = TraceQuantile(q.quantile(conds, q.span(m.attribute), (t.quantile,)), t.quantile)
                out.append(Rule(
                    uid=uid, title=ctx.title(kind="traceql", **values), group="traces", stage=s.id,
                    labels=ctx.labels(s.id, policy.severity, source="traces"),
                    annotations=ctx.texts(uid, kind="traceql", **values),
                    when=((Condition(signal, ">", float(t.value), m.unit),),), for_=policy.for_,
                    receiver=ctx.alerting.receiver,
                ))
    return out
