"""SLO family: bad-event-ratio recording rules and multiwindow multi-burn-rate alerts.

Per stage SLO (share of measurements at or below a threshold that is a bucket boundary), one
recording rule per window of the burn-rate window pairs (``windows/``), and two alerts, page
and ticket, each firing while both windows of any of its pairs burn the error budget faster
than the pair allows (Google SRE workbook, "Alerting on SLOs"). The Prometheus form alerts on
the recorded ratios; the Grafana-managed form computes them inline (``BadEventRatio``).
"""

from __future__ import annotations

from ..catalog.conventions import seconds
from .family import FamilyContext, num, percent
from .model import BadEventRatio, Condition, Recording, Rule

RECORD_PREFIX = "slo:bad_event_ratio:rate"
BURN_FOR = {"page": "2m", "ticket": "15m"}


def rules(ctx: FamilyContext) -> list[Rule]:
    a = ctx.alerting
    out = []
    for s in ctx.catalog.stages:
        slo = s.slo
        if not slo:
            continue
        m = s.measurement(slo.measurement)
        slo_id = ctx.uid(s.id, m.id)
        base = dict(ctx.stage_values(s), measurement_title=m.title, unit=m.unit, threshold=num(slo.threshold),
                    metric=m.metric.name, objective=percent(slo.objective), slo_window=slo.window)
        pairs = slo.burn_rates()
        windows = sorted({w for _, long, short, _ in pairs for w in (long, short)}, key=seconds)
        ratio = {w: BadEventRatio(m.metric, s.id, slo.threshold, w, slo_id, f"{RECORD_PREFIX}{w}", ctx.extra,
                                  ctx.guard(m.metric.count, m.metric.label, s.id, w)) for w in windows}
        for w in windows:
            out.append(Rule(
                uid=ctx.uid(s.id, m.id, "ratio", w), title=ctx.title(**base, kind="record", window=w),
                group="slo-recording", stage=s.id, labels={"slo": slo_id, "team": a.team}, annotations={},
                records=Recording(ratio[w].record, ratio[w]),
            ))
        for severity in ("page", "ticket"):
            sev_pairs = [(long, short, rate) for sev, long, short, rate in pairs if sev == severity]
            uid = ctx.uid(s.id, m.id, "slo", severity)
            when = []
            for long, short, rate in sev_pairs:
                limit = round(rate * slo.budget, 10)
                when.append((Condition(ratio[long], ">", limit, "ratio"), Condition(ratio[short], ">", limit, "ratio")))
            values = dict(base, kind="burn", severity=severity,
                          rates=" / ".join(num(r) for _, _, r in sev_pairs),
                          windows=", or ".join(f"more than {num(r)}x the sustainable rate over both {lg} and {sh}"
                                               for lg, sh, r in sev_pairs))
            out.append(Rule(
                uid=uid, title=ctx.title(**values), group="slo-burn", stage=s.id,
                labels=ctx.labels(s.id, severity, slo=slo_id), annotations=ctx.texts(uid, **values),
                when=tuple(when), for_=BURN_FOR[severity], name=ctx.alert_name(s.id, m.id, "slo", "burn", severity),
                receiver=a.receiver, slo=slo,
            ))
    return out
