"""SLO family: Sloth-compatible recording rules and multiwindow multi-burn-rate alerts.

Per stage SLO (share of measurements at or below a threshold that is a bucket boundary):

- SLI recordings: the bad-event ratio over each window of the burn-rate window pairs
  (``dashgen.voice.burn_rates``: the window set of the SLO's period), as Sloth's ``slo:sli_error:ratio_rate<window>`` labelled ``sloth_id``,
  ``sloth_service``, ``sloth_slo`` and ``sloth_window``;
- meta recordings, in Sloth's shapes (slok/sloth ``internal/plugin/slo/core/metadata_rules_v1``):
  the SLI over the whole SLO window, objective, error budget, period in days, current and
  period burn rates, the error budget remaining, and the ``sloth_slo_info`` series Sloth's
  backend lists SLOs by. The SLO dashboard reads these, and so do Sloth's own Grafana
  dashboards and its UI (which also reads the alerts' ``sloth_severity``), unchanged;
- two alerts, page and ticket, each firing while both windows of any of its pairs burn the
  error budget faster than the pair allows (Google SRE workbook, "Alerting on SLOs"). The
  Prometheus form alerts on the recorded ratios; the Grafana-managed form computes them inline
  (``BadEventRatio``).

The meta recordings read the SLI recordings of the same group: Prometheus evaluates a group's
rules in order, so each sees the series recorded before it in the same evaluation.
"""

from __future__ import annotations

from ..catalog import conventions as cv
from ..catalog.conventions import seconds
from ..catalog.model import Catalog, Slo, Stage
from ..queries import promql
from ..voice.burn_rates import alert_windows, burn_rates, limit as burn_limit
from ..voice import good_turn
from ..voice.good_turn import SLO_KEY
from ..voice.paging import BURN_FOR
from .family import FamilyContext, num, percent
from .model import BadEventRatio, Condition, Guard, Recording, Rule, SloIds, SloSeries, TurnBadRatio, rule_uid

CURRENT_WINDOW = "5m"  # Sloth's current burn rate: the page-quick short window
# The good-turn SLO's stage label and Sloth name: no stage id has a hyphen (catalog spec ID_RE).
GOOD_TURN_STAGE = SLO_KEY.replace("_", "-")


def slo_ids(catalog: Catalog, s: Stage) -> SloIds:
    """``sloth_service`` is the catalog's uid prefix, ``sloth_slo`` the stage and measurement, so
    ``sloth_id`` is the rule uid stem every other SLO label and uid already used. The SLO
    dashboard selects its series by the same ids."""
    slo_id = rule_uid(catalog, s.id, s.slo.measurement)
    return SloIds(catalog.uid_prefix, slo_id[len(catalog.uid_prefix) + 1:])


def meta_series(ids: SloIds, slo: Slo) -> list[tuple[str, str, str]]:
    """``(uid key, record, PromQL)`` of Sloth's meta recordings for one SLO, in evaluation order."""
    sel = ids.select
    on = cv.SLOTH_ID_LABELS
    days = seconds(slo.window) / 86400
    period = [] if slo.window in alert_windows(slo) else [  # a 3d SLO's period SLI is the 3d window's
        ("sli-period", cv.sli_error_record(slo.window),
         promql.period_average(sel(cv.sli_error_record(CURRENT_WINDOW)), slo.window, (cv.SLOTH_WINDOW_LABEL,)))]
    return period + [
        ("objective", cv.SLOTH_OBJECTIVE, promql.vector(slo.objective)),
        ("budget", cv.SLOTH_ERROR_BUDGET, promql.vector(slo.budget)),
        ("period-days", cv.SLOTH_TIME_PERIOD, promql.vector(days)),
        ("burn-now", cv.SLOTH_CURRENT_BURN, promql.divide_on(sel(cv.sli_error_record(CURRENT_WINDOW)),
                                                 sel(cv.SLOTH_ERROR_BUDGET), on)),
        ("burn-period", cv.SLOTH_PERIOD_BURN, promql.divide_on(sel(cv.sli_error_record(slo.window)), sel(cv.SLOTH_ERROR_BUDGET), on)),
        ("budget-left", cv.SLOTH_BUDGET_REMAINING, promql.one_minus(sel(cv.SLOTH_PERIOD_BURN))),
    ]


def info_labels(slo: Slo, stage_label: str | None, stage_id: str) -> dict[str, str]:
    """The labels of Sloth's ``sloth_slo_info`` series besides the SLO's ids (slok/sloth
    ``internal/plugin/slo/core/metadata_rules_v1``): the objective in percent, as Sloth writes it
    and its backend parses it, and who generated the rules. Sloth's backend takes every label of
    the current burn rate that the info series lacks for a grouping label (one SLO per value), so
    the info series carries the stage label the SLI ratios keep too."""
    return {cv.SLOTH_OBJECTIVE_LABEL: cv.format_number(round(slo.objective * 100, 10)),
            "sloth_mode": "dashgen", "sloth_spec": "dashgen/catalog/v1",
            **({stage_label: stage_id} if stage_label else {})}


def rules(ctx: FamilyContext) -> list[Rule]:
    out = []
    for s in ctx.catalog.stages:
        slo = s.slo
        if not slo:
            continue
        m = s.measurement(slo.measurement)
        ids = slo_ids(ctx.catalog, s)
        base = dict(ctx.stage_values(s), measurement_title=m.title, unit=m.unit, threshold=num(slo.threshold),
                    metric=m.metric.name, objective=percent(slo.objective), slo_window=slo.window,
                    interrupted=ctx.interrupted_note(s, m))
        ratio = {w: BadEventRatio(m.metric, s.id, slo.threshold, w, ids, cv.sli_error_record(w), ctx.measured(s, m),
                                  ctx.guard(m.metric.count, m.metric.label, s.id, w)) for w in alert_windows(slo)}
        out += _slo_rules(ctx, slo, ids, ratio, base, s.id, (s.id, m.id), info_labels(slo, m.metric.label, s.id),
                          "burn", "record")
    out += good_turn_rules(ctx)
    return out


def good_turn_ids(catalog: Catalog) -> SloIds:
    """The good-turn SLO's ids: ``sloth_slo`` is ``good-turn``, no stage's (a stage id has no hyphen)."""
    return SloIds(catalog.uid_prefix, GOOD_TURN_STAGE)


def good_turn_ratios(ctx: FamilyContext, g, ids: SloIds) -> dict[str, TurnBadRatio]:
    """The good-turn SLI over each burn-rate window, guarded by judged turns."""
    n = ctx.alerting.min_events
    return {w: TurnBadRatio(g.spec.turns_metric, g.spec.good_metric, w, ids, cv.sli_error_record(w), ctx.extra,
                            Guard(g.spec.turns_metric, None, "", w, n) if n > 0 else None)
            for w in alert_windows(g.slo)}


def good_turn_rules(ctx: FamilyContext) -> list[Rule]:
    """The good-turn SLO (``voice.good_turn``): the same recordings and burn-rate alerts as a stage's
    SLO, on the share of judged turns that were not good. Its alerts carry ``stage="good-turn"``, no
    stage's id, so Alertmanager groups them apart and they inhibit no stage's quantile page."""
    g = good_turn.sli(ctx.catalog)
    if g is None:
        return []
    ids = good_turn_ids(ctx.catalog)
    slo = g.slo
    base = dict(stage=GOOD_TURN_STAGE, stage_title="Good turns", definition=g.describe(),
                turns=g.spec.turns_metric, good=g.spec.good_metric, objective=percent(slo.objective),
                slo_window=slo.window)
    info = {cv.SLOTH_OBJECTIVE_LABEL: cv.format_number(round(slo.objective * 100, 10)),
            "sloth_mode": "dashgen", "sloth_spec": "dashgen/catalog/v1"}
    return _slo_rules(ctx, slo, ids, good_turn_ratios(ctx, g, ids), base, GOOD_TURN_STAGE, (GOOD_TURN_STAGE,), info,
                      "good_turn_burn", "good_turn_record")


def _slo_rules(ctx: FamilyContext, slo: Slo, ids: SloIds, ratio: dict, base: dict, stage: str, parts: tuple,
               info: dict, burn_kind: str, record_kind: str) -> list[Rule]:
    """One SLO's rules: the SLI recordings per window, Sloth's meta recordings and info series, and the
    page and ticket burn-rate alerts (each window pair: both windows above rate x budget)."""
    a = ctx.alerting
    out = []
    record_labels = {**ids.labels, "team": a.team}
    for w in alert_windows(slo):
        out.append(Rule(
            uid=ctx.uid(*parts, "ratio", w), title=ctx.title(**base, kind=record_kind, window=w),
            group="slo-recording", stage=stage, labels={**record_labels, cv.SLOTH_WINDOW_LABEL: w},
            annotations={}, records=Recording(ratio[w].record, ratio[w]),
        ))
    for key, record, expr in meta_series(ids, slo):
        period = record == cv.sli_error_record(slo.window)
        out.append(Rule(
            uid=ctx.uid(*parts, key), group="slo-recording", stage=stage,
            title=f"{ids.id} {record.split(':')[1].replace('_', ' ')}" + (f" over {slo.window}" if period else ""),
            labels={**record_labels, **({cv.SLOTH_WINDOW_LABEL: slo.window} if period else {})},
            annotations={}, records=Recording(record, SloSeries(expr)),
        ))
    out.append(Rule(
        uid=ctx.uid(*parts, "info"), group="slo-recording", stage=stage, title=f"{ids.id} info",
        labels={**record_labels, **info},
        annotations={}, records=Recording(cv.SLOTH_INFO, SloSeries(promql.vector(1))),
    ))
    pairs = burn_rates(slo)
    for severity in ("page", "ticket"):
        sev_pairs = [(long, short, rate) for sev, long, short, rate in pairs if sev == severity]
        uid = ctx.uid(*parts, "slo", severity)
        when = []
        for long, short, rate in sev_pairs:
            limit = burn_limit(slo, rate)
            when.append((Condition(ratio[long], ">", limit, "ratio"), Condition(ratio[short], ">", limit, "ratio")))
        values = dict(base, kind=burn_kind, severity=severity,
                      rates=" / ".join(num(r) for _, _, r in sev_pairs),
                      windows=", or ".join(f"more than {num(r)}x the sustainable rate over both {lg} and {sh}"
                                           for lg, sh, r in sev_pairs))
        out.append(Rule(
            uid=uid, title=ctx.title(**values), group="slo-burn", stage=stage,
            # Sloth's identity on the alert itself: its backend reads ALERTS{sloth_id!=""}, and the
            # expression (inline ratios, the same in both forms) carries none
            labels=ctx.labels(stage, severity, slo=ids.id, **ids.labels, **{cv.SLOTH_SEVERITY_LABEL: severity}),
            annotations=ctx.texts(uid, **values),
            when=tuple(when), for_=BURN_FOR[severity], name=ctx.alert_name(*parts, "slo", "burn", severity),
            receiver=a.receiver, slo=slo,
        ))
    return out
