"""The SLO dashboard: per catalog SLO, where its error budget stands and how fast it burns.

One dashboard per catalog with at least one SLO, at the level of Sloth's and Pyrra's: per SLO
the SLI against its objective over the SLO window, the error budget remaining (red below 0),
the current burn rate and the time until the budget runs out at it, the burn rate per alert
window against the lines its alerts fire at (14.4 / 6 / 3 / 1 with Google's 30-day windows),
good and bad events per second, and the SLO alerts firing now.

Every Prometheus panel reads the series the SLO recording group records under Sloth's names
and labels (``dashgen.alerts.slo``), selected by ``sloth_id``, so the numbers are the ones the
burn-rate alerts evaluate, and Sloth's own dashboards read the same series (already scoped by
the catalog's ``prometheus.matchers``, as the rules are). Only the event rates read the raw
histogram, through the matcher variables: they are what the SLI is made of.
"""

from __future__ import annotations

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)

from ..alerts.model import SloIds
from ..alerts.slo import CURRENT_WINDOW, GOOD_TURN_STAGE, good_turn_ids, slo_ids
from ..catalog import conventions as cv
from ..catalog.conventions import format_percent, seconds
from ..catalog.model import Slo, Stage
from ..voice import good_turn
from ..voice.burn_rates import burn_rates
from ..queries import promql
from .budget import page_key, page_title, paginate
from .kit import SEVERITY_COLORS, BuiltDashboard, Ctx
from .model import DatasourceVariable, Row, StatPanel, TimeSeriesPanel, threshold_steps
from .model_views import AlertListPanel
from .panels import panel_key

SLO_UID_KEY = "slo"
BUDGET_WARN = 0.25  # remaining budget below this share turns a stat orange; below 0, red
EXHAUSTION_STEPS = ((86400, "orange"), (7 * 86400, "green"))  # budget gone within a day: red; a week: orange
GOOD_TURN_TITLE = "Good turns"  # the good-turn SLO's name on the dashboard, as its alerts' stage title


def _short(stage: Stage) -> str:
    return stage.title.split(" (")[0]


@dataclass(frozen=True)
class SloView:
    """What the SLO dashboard needs to know of one SLO, a stage's or the good-turn SLO: its ids (the series
    its recording group records), the SLO itself (objective, window, budget, burn-rate windows), how panels
    name it, and what it measures in words and in good/total event rates."""

    key: str  # panel key stem (``asr``, ``good-turn``)
    shows: str  # the tag stem of what its panels show (``asr.first_partial``, ``good_turn``)
    title: str  # the short name panel titles start with
    ids: SloIds
    slo: Slo
    row_title: str
    good_share: str  # "Share of ..." that the SLI counts as good
    what: str  # the SLO in words, for the SLI panel
    bad: str  # what the budget allows to go wrong ("measurements may be slow")
    good_rate: str  # good events per second (PromQL)
    total_rate: str  # all events per second (PromQL)
    events: str  # the event-rate panel's description


def stage_view(ctx: Ctx, stage: Stage) -> SloView:
    slo = stage.slo
    m = stage.measurement(slo.measurement)
    good, total = promql.event_rates(m.metric.name, m.metric.label, stage.id, slo.threshold,
                                     ctx.catalog.alerting.rate_window, ctx.prom_measured(stage, m))
    at_or_below = f"at or below {slo.threshold:g} {m.unit}"
    return SloView(
        key=panel_key(stage), shows=f"{stage.id}.{m.id}", title=_short(stage), ids=slo_ids(ctx.catalog, stage),
        slo=slo, row_title=f"{_short(stage)}: {format_percent(slo.objective)} of {m.title.lower()} {at_or_below} "
                           f"over {slo.window}",
        good_share=f"Share of {m.title.lower()} measurements {at_or_below}",
        what=f"{format_percent(slo.objective)} of {m.title.lower()} {at_or_below}", bad="of measurements may be slow",
        good_rate=good, total_rate=total,
        events=(f"Measurements per second from {m.metric.name} ({m.metric.source}): good at or below "
                f"{slo.threshold:g} {m.unit}, bad above. The SLI is good / (good + bad); bad rising while good "
                f"stays flat is a regression, both rising together is load."))


def good_turn_view(ctx: Ctx) -> SloView | None:
    """The good-turn SLO (``voice.good_turn``), or None when the catalog declares none."""
    g = good_turn.sli(ctx.catalog)
    if g is None:
        return None
    slo, spec = g.slo, g.spec
    good, total = promql.turn_event_rates(spec.turns_metric, spec.good_metric, ctx.catalog.alerting.rate_window,
                                          ctx.prom_extra())
    return SloView(
        key=GOOD_TURN_STAGE, shows=good_turn.SLO_KEY, title=GOOD_TURN_TITLE, ids=good_turn_ids(ctx.catalog), slo=slo,
        row_title=f"{GOOD_TURN_TITLE}: {format_percent(slo.objective)} of judged turns good over {slo.window}",
        good_share="Share of judged turns that were good", what=f"{format_percent(slo.objective)} of judged turns good",
        bad="of judged turns may be not good", good_rate=good, total_rate=total,
        events=(f"Judged turns per second, from {spec.good_metric} and {spec.turns_metric}: good when it had "
                f"{g.describe()}; bad otherwise. Turns the application did not judge are not counted. The SLI is "
                f"good / (good + bad); bad rising while good stays flat is a regression, both rising together is "
                f"load."))


def views(ctx: Ctx) -> list[SloView]:
    """The catalog's SLOs in dashboard order: the stages' in catalog order, then the good-turn SLO."""
    out = [stage_view(ctx, s) for s in ctx.catalog.stages if s.slo]
    g = good_turn_view(ctx)
    return out + ([g] if g else [])


def _stat(ctx: Ctx, v: SloView, key: str, title: str, description: str, expr: str, unit: str, steps,
          decimals: int | None = None) -> StatPanel:
    return StatPanel(key=f"{v.key}-slo-{key}", title=f"{v.title}: {title}", description=description,
                     dataSource=ctx.prometheus, targets=[ctx.prom(expr, legend=title)], unit=unit, decimals=decimals,
                     thresholdSteps=steps, colorMode="thresholds", graphMode="none", textMode="value",
                     shows=[f"{v.shows}:slo-{key}"], w=6, h=5)


def slo_panels(ctx: Ctx, v: SloView) -> list:
    """The panels of one SLO: four stats, then SLI, burn rates and event rates over time."""
    slo = v.slo
    sel, on = v.ids.select, cv.SLOTH_ID_LABELS
    budget = sel(cv.SLOTH_ERROR_BUDGET)
    period = slo.window
    sli_period = promql.one_minus(promql.without("max", (cv.SLOTH_WINDOW_LABEL,), sel(cv.sli_error_record(period))))
    remaining = sel(cv.SLOTH_BUDGET_REMAINING)
    burn_now = promql.divide_on(sel(cv.sli_error_record(CURRENT_WINDOW)), budget, on)
    # The budget left, in seconds of the SLO window, spent at the current burn rate (1 = the whole
    # budget in the whole window): remaining x window / burn rate; none left reads 0.
    time_left = (f"clamp_min({remaining}, 0) * {seconds(period)} / on ({', '.join(on)}) group_left () "
                 f"({promql.without('max', (cv.SLOTH_WINDOW_LABEL,), sel(cv.SLOTH_CURRENT_BURN))})")
    rates = sorted(burn_rates(slo), key=lambda r: -r[3])
    stats = [
        _stat(ctx, v, "sli-now", f"SLI over {period}",
              f"{v.good_share} over the last {period} "
              f"(slo:sli_error:ratio_rate{period}, the mean of the 5m ratios, as Sloth records it). Green at or "
              f"above the objective, {format_percent(slo.objective)}.", sli_period, "percentunit",
              threshold_steps([(slo.objective, "green")], base="red"), decimals=2),
        _stat(ctx, v, "budget", "error budget remaining",
              f"Share of the {period} error budget ({format_percent(slo.budget)} {v.bad}) not "
              f"yet spent (slo:period_error_budget_remaining:ratio). Red below 0: the SLO is broken for this window; "
              f"orange below {format_percent(BUDGET_WARN)}.", remaining, "percentunit",
              threshold_steps([(0, "orange"), (BUDGET_WARN, "green")], base="red"), decimals=1),
        _stat(ctx, v, "burn-now", f"burn rate now ({CURRENT_WINDOW})",
              f"How fast the budget burns over the last {CURRENT_WINDOW} (slo:current_burn_rate:ratio): 1 spends it "
              f"exactly over {period}; the page fires above {rates[0][3]:g} sustained over {rates[0][1]}.",
              promql.without("max", (cv.SLOTH_WINDOW_LABEL,), burn_now), "none",
              threshold_steps([(1, "orange"), (rates[0][3], "red")]), decimals=1),
        _stat(ctx, v, "exhaustion", "budget runs out in",
              f"Time until the remaining budget is spent if it keeps burning at the current rate: remaining x "
              f"{period} / burn rate now. 0 when none is left; empty while nothing burns.",
              time_left, "s", threshold_steps(list(EXHAUSTION_STEPS), base="red")),
    ]
    sli = TimeSeriesPanel(
        key=f"{v.key}-slo-sli", title=f"{v.title}: SLI against the objective ({period})",
        description=(f"The SLI ({v.what}) over the last {period}, and over the last hour for the trend; the dashed line "
                     f"is the objective. Below it the SLO is broken for this window."),
        targets=[ctx.prom(sli_period, "A", legend=f"SLI over {period}"),
                 ctx.prom(promql.one_minus(promql.without("max", (cv.SLOTH_WINDOW_LABEL,),
                                                          sel(cv.sli_error_record("1h")))), "B", legend="SLI over 1h")],
        unit="percentunit", decimals=2, thresholdSteps=threshold_steps([(slo.objective, "green")], base="red"),
        thresholdsStyle="dashed", shows=[f"{v.shows}:slo-sli"], w=12, h=8)
    lines = {rate: SEVERITY_COLORS[sev] for sev, _, _, rate in sorted(rates, key=lambda r: r[0] == "page")}
    burn = TimeSeriesPanel(
        key=f"{v.key}-slo-burn-windows", title=f"{v.title}: burn rate per alert window",
        description=("Error-budget burn rate over each long window of the alerts' window pairs (the recorded "
                     "slo:sli_error:ratio_rate<window> / slo:error_budget:ratio). Dashed lines: "
                     + "; ".join(f"{sev} above {rate:g} over {lg} (and {sh})" for sev, lg, sh, rate in rates)
                     + ". A pair fires when both its windows are above its line; the short one stops it once the "
                       "burn is over."),
        targets=[ctx.prom(promql.without("max", (cv.SLOTH_WINDOW_LABEL,),
                                         promql.divide_on(sel(cv.sli_error_record(lg)), budget, on)), chr(65 + i),
                          legend=f"{lg} ({sev} above {rate:g})")
                 for i, (sev, lg, _sh, rate) in enumerate(rates)],
        unit="none", decimals=1, thresholdSteps=threshold_steps(sorted(lines.items())), thresholdsStyle="dashed",
        shows=[f"{v.shows}:slo-burn-windows"], w=12, h=8)
    events = TimeSeriesPanel(
        key=f"{v.key}-slo-events", title=f"{v.title}: good and bad events per second", description=v.events,
        targets=[ctx.prom(v.good_rate, "A", legend="good"), ctx.prom(f"{v.total_rate} - {v.good_rate}", "B", legend="bad")],
        unit="ops", drawStyle="bars", fillOpacity=60, stacking="normal",
        shows=[f"{v.shows}:slo-events"], w=24, h=8)
    return stats + [sli, burn, events]


def dashboards(ctx: Ctx) -> list[BuiltDashboard]:
    """The SLO dashboard, or none when the catalog declares no SLO; with many SLOs, its pages
    (``budget.paginate``), each with the alerts of its own SLOs on top."""
    c = ctx.catalog
    slos = views(ctx)
    if not slos:
        return []
    sections, view_of = [], {}
    for v in slos:
        row = Row(key=f"row-{v.key}", title=v.row_title)
        sections.append((row, slo_panels(ctx, v)))
        view_of[row.key] = v
    pages = paginate(sections, _firing(slos))
    variables = [DatasourceVariable(c.prometheus.variable, "prometheus", "Prometheus", c.prometheus.name,
                                    c.prometheus.uid), *ctx.matcher_variables()]
    description = (f"Service level objectives of {c.title}: error budgets, burn rates and the alerts guarding them, "
                   f"from the SLO recording rules (Sloth's series names). Generated by dashgen from the catalog.")
    out = []
    for n, panels in enumerate(pages, 1):
        mine = list(dict.fromkeys(view_of[p.key] for p in panels if isinstance(p, Row)))
        title = page_title("SLOs and error budgets", n, len(pages), [v.title for v in mine])
        out.append(ctx.dashboard(page_key(SLO_UID_KEY, n), title, description, _firing(mine) + panels,
                                 variables=variables))
    return out


def _firing(slos: list[SloView]) -> list:
    """The header of a page: the burn-rate alerts of its SLOs that fire now."""
    firing = AlertListPanel(
        key="slo-alerts", title="SLO alerts firing or pending",
        description=("The burn-rate alerts of these SLOs that are firing or pending now (Grafana-managed rules, "
                     "matched by their slo label). Page: the budget goes within days; ticket: within weeks."),
        labelFilter="{" + promql.matcher("slo", "=~", "|".join(v.ids.id for v in slos)) + "}", w=24, h=6)
    return [Row(key="row-alerts", title="Firing now"), firing]
