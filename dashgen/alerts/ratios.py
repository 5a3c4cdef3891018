"""Ratio family: per stage, the share of runs that failed, and of runs that produced nothing.

Each is a ratio of two counters labelled by stage (``alerting.counters``); the error-rate alert
exists only for stages whose spans mark failures (``voice.errors.is_counted``; what a stage error is,
span status ERROR or the catalog's error attribute, is ``voice.errors``), the
produced-nothing alert only for stages with a measurement that has a ``nothing_value``. An error
counter that does not exist yet counts as 0 (``promql.counter_ratio``), a window with fewer than
``alerting.min_events`` runs has no ratio, and neither ever pages by itself: missing
telemetry has its own rules (``absence``).
"""

from __future__ import annotations

from ..voice.errors import is_counted, stage_error
from ..voice.paging import rate_severity
from .family import FamilyContext, percent
from .model import Condition, CounterRatio, Rule


def rules(ctx: FamilyContext) -> list[Rule]:
    a = ctx.alerting
    out, errors = [], stage_error(ctx.catalog)
    for s in ctx.catalog.stages:
        kinds = [("error", "error rate", errors.counter, a.error_rate)] if is_counted(s) else []
        if any(m.nothing_value is not None for m in s.measurements):
            kinds.append(("nothing", "produced-nothing rate", a.nothing_metric, a.nothing_rate))
        for word, what, metric, limit in kinds:
            uid = ctx.uid(s.id, word, "rate")
            values = dict(ctx.stage_values(s), what=what, percent=percent(limit.above), for_=limit.for_,
                          window=a.rate_window, numerator=metric, denominator=a.runs_metric)
            signal = CounterRatio(metric, a.runs_metric, a.stage_label, s.id, a.rate_window, ctx.extra,
                                  ctx.guard(a.runs_metric, a.stage_label, s.id, a.rate_window))
            out.append(Rule(
                uid=uid, title=ctx.title(kind="ratio", **values), group="errors", stage=s.id,
                labels=ctx.labels(s.id, rate_severity(limit)), annotations=ctx.texts(uid, kind="ratio", **values),
                when=((Condition(signal, ">", limit.above, "ratio"),),), for_=limit.for_,
                name=ctx.alert_name(s.id, word, "rate", "high"), receiver=a.receiver,
            ))
    return out
