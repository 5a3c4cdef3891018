"""Absence family: missing data gets rules of its own, so no other rule has to page on it.

Every other rule reads "no data" as fine (``noDataState: OK``; counters an SDK has not created
yet count as 0, guarded windows drop their series), because data is absent on healthy quiet
stages too. What absence does mean is said here, with its own severity (``alerting.absence``,
a ticket by default):

- per stage, *telemetry missing*: the stage's run counter had no sample at all for the window
  (``absent_over_time``): the exporter, the Collector or the scrape is gone;
- once, *turns per second dropped to zero*: the first stage, which every turn starts with,
  counted no run in the window after at least ``alerting.min_events`` in the hour before (a
  quiet night does not fire it, a stop after traffic does; it resolves an hour later).
"""

from __future__ import annotations

from .family import FamilyContext
from .model import Absent, Condition, Rule, StageEvents

BEFORE = "1h"  # the traffic a stop is measured against


def rules(ctx: FamilyContext) -> list[Rule]:
    a, c = ctx.alerting, ctx.catalog
    window, severity = a.absence.for_, a.absence.severity
    out = []
    for s in c.stages:
        uid = ctx.uid(s.id, "telemetry", "missing")
        values = dict(ctx.stage_values(s), window=window, counter=a.runs_metric)
        signal = Absent(a.runs_metric, a.stage_label, s.id, window, ctx.extra, ctx.matcher_labels)
        out.append(Rule(
            uid=uid, title=ctx.title(kind="absent", **values), group="absence", stage=s.id,
            labels=ctx.labels(s.id, severity), annotations=ctx.texts(uid, kind="absent", **values),
            when=((Condition(signal, ">", 0, "none"),),), name=ctx.alert_name(s.id, "telemetry", "missing"),
            receiver=a.receiver,
        ))
    first = c.stages[0]
    uid = ctx.uid("turns", "stopped")
    values = dict(ctx.stage_values(first), window=window, counter=a.runs_metric, min_events=max(a.min_events, 1))
    now = StageEvents(a.runs_metric, a.stage_label, first.id, window, None, ctx.extra)
    before = StageEvents(a.runs_metric, a.stage_label, first.id, BEFORE, window, ctx.extra)
    out.append(Rule(
        uid=uid, title=ctx.title(kind="stopped", **values), group="absence", stage=first.id,
        labels=ctx.labels(first.id, severity), annotations=ctx.texts(uid, kind="stopped", **values),
        when=((Condition(now, "==", 0, "none"), Condition(before, ">=", max(a.min_events, 1), "none")),),
        name=ctx.alert_name("turns", "stopped"), receiver=a.receiver,
    ))
    return out
