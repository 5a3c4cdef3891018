"""Voice pipeline overview: first byte by stage, each stage against its limit, what the caller
feels, stage health (ratios from the alerts' counters, rates from the spans), firing alerts."""

from __future__ import annotations

from ..catalog.model import Measurement, Stage
from ..queries import promql
from ..queries.traceql import Cond
from ..voice.errors import counted, stage_error
from ..voice.interrupted import interruption
from ..voice.roles import caller_felt
from .breakdown import overview_panel as turn_breakdown
from .good_turn import overview_tile as good_turn_tile
from .budget import headline, metrics_queries
from ..voice.paging import rate_severity
from .kit import SEVERITY_COLORS, BuiltDashboard, Ctx
from .model import Row, TextPanel, TimeSeriesPanel, threshold_steps
from .model_views import AlertListPanel, DashListPanel
from .panels import SPAN_RATE_UNIT, panel_key, quantiles_panel, short_title, spread_panels, stat_from_panel
from .series import rename, rename_function

OVERVIEW_UID_KEY = "overview"


def _first_bytes(ctx: Ctx):
    return [(s, s.measurement("first_byte")) for s in ctx.catalog.stages if s.measurement("first_byte")]


def judged_by(stage: Stage) -> Measurement | None:
    """The number a stage is judged by: its SLO's measurement, else the first with a p95 limit, else
    its first byte (barge-in is judged by silence, not by time to cancel)."""
    if stage.slo is not None and stage.measurement(stage.slo.measurement) is not None:
        return stage.measurement(stage.slo.measurement)
    return next((m for m in stage.measurements if m.threshold(0.95)), None) or stage.measurement("first_byte")


def stage_value(ctx: Ctx, stage: Stage) -> str:
    """The value Tempo returns for the by-stage label: the stage id, or the span name without one."""
    return stage.id if ctx.catalog.stage_attribute else stage.span


def by_stage_names(ctx: Ctx, suffix: str = "", **labels) -> list[dict]:
    """Overrides naming each by-stage series after its stage (``ASR p95``)."""
    key = str(ctx.by_stage())
    return [rename({**labels, key: stage_value(ctx, s)}, f"{short_title(s)}{suffix}") for s in ctx.catalog.stages]


def first_byte_p95_by_stage(ctx: Ctx) -> list[TimeSeriesPanel]:
    """The voice team's standing query, without select: p95 of first byte, one series per stage.

    For float conventions (no quantiles in Tempo): avg and max by stage, one panel each.
    """
    pairs = _first_bytes(ctx)
    if not pairs:  # no stage measures a first byte
        return []
    m0 = pairs[0][1]
    attr = ctx.q.span(m0.attribute)
    conds = ctx.all_stages_conds() + ctx.measured(m0, *ctx.catalog.stages) + ctx.service_conds()
    limits = ", ".join(f"{s.id} {t.value:g} {m.unit}" for s, m in pairs for t in m.thresholds if t.quantile == 0.95)
    variants = []
    # One query over every stage's first byte: quantiles only when every stage records it as an
    # integer (Tempo's quantiles drop floats, so one float stage would vanish from the p95)
    if all(m.quantiles_work for _, m in pairs):
        variants.append(("first-byte-p95-by-stage", "First byte p95 by stage",
                         ctx.q.quantile(conds, attr, (0.95,), (ctx.by_stage(),)),
                         f"p95 of {attr} per stage: time until each stage produced its first useful output (ASR first "
                         f"partial, LLM first token, TTS first audio). Spans that produced nothing (-1) are excluded"
                         + _interrupted_words(ctx, pairs) + ". "
                         f"Tempo buckets values in powers of two, so the p95 is coarse"
                         + ("" if all(m.unit == "ms" for _, m in pairs) else  # whole ms: 0 and 1 are no concern
                            ", and drops values below 2 (a stage recorded in seconds shows only its slow turns)")
                         + ".", "p95",
                         by_stage_names(ctx, " p95", p=0.95)))
    else:
        float_stages = [s.id for s, m in pairs if not m.quantiles_work]
        floats = ("This convention" if len(float_stages) == len(pairs)
                  else "Stage " + ", ".join(float_stages) if len(float_stages) == 1 else "Stages " + ", ".join(float_stages))
        for how, word in (("avg", "Average"), ("max", "Maximum")):
            query = (ctx.q.avg if how == "avg" else ctx.q.max)(conds, attr, (ctx.by_stage(),))
            variants.append((f"first-byte-{how}-by-stage", f"First byte {how} by stage", query,
                             f"{word} of {attr} per stage. {floats} records it as a float, which Tempo's "
                             f"quantile functions drop, so there is no p95 here: the stage dashboards show span "
                             f"duration quantiles.", how, by_stage_names(ctx, f" {how}")))
    w = 24 if len(variants) == 1 else 12
    return [TimeSeriesPanel(
        key=key, title=title,
        description=(f"{how} Limits from the catalog: {limits or 'none'}; the lines drawn are one coherent set "
                     f"(a limit below a more severe one is not drawn again). Next: open the slow stage's dashboard "
                     f"(links at the top), then its table of recent slow spans."),
        targets=[ctx.tempo_metrics(query)], unit=m0.grafana_unit, thresholdSteps=ctx.steps(*(m for _, m in pairs)),
        thresholdsStyle="dashed", overrides=names, shows=[f"{s.id}.first_byte:{tag}" for s, _ in pairs], w=w, h=9)
        for key, title, query, how, tag, names in variants]


def _interrupted_words(ctx: Ctx, pairs) -> str:
    """Which stages' interrupted turns the by-stage panel leaves out (``voice.interrupted``)."""
    intr = interruption(ctx.catalog)
    out = [s.id for s, m in pairs if intr.excludes(s, m)]
    return (f", and so are interrupted turns ({intr.describe()}) of {', '.join(out)}: their first byte stops at the "
            f"interruption" if out else "")


def caller_felt_panel(ctx: Ctx) -> TimeSeriesPanel | None:
    """End of the user's speech to the first agent audio, as the catalog's spans carry it."""
    found = caller_felt(ctx.catalog)
    if found is None or not found[1].quantiles_work:
        return None
    stage, m = found
    panel = quantiles_panel(ctx, stage, m, (0.5, 0.95), w=24, h=8,
                            extra=f"Measured on the {stage.span} span as {m.attribute}: {m.meaning}. The drilldown "
                                  f"shows it turn by turn.")
    panel.title = f"What the caller feels: {m.title.lower()} p50/p95 (end of speech to first agent audio)"
    panel.key = "caller-felt-latency"
    return panel


def _by_stage_rate(ctx: Ctx, key: str, title: str, what: str, extra: list[Cond], shows: list[str], why: str,
                   stages: list | None = None):
    query = ctx.q.rate(ctx.stages_conds(stages or list(ctx.catalog.stages)) + extra + ctx.service_conds(),
                       (ctx.by_stage(),))
    return TimeSeriesPanel(
        key=key, title=title, description=f"Stage spans per second with {what}: {why}",
        targets=[ctx.tempo_metrics(query)], unit=SPAN_RATE_UNIT, drawStyle="bars", fillOpacity=60, stacking="normal",
        overrides=by_stage_names(ctx), shows=shows, w=8, h=8)


def nothing_rate(ctx: Ctx) -> TimeSeriesPanel | None:
    pairs = [(s, m) for s, m in _first_bytes(ctx) if m.nothing_value is not None]
    if not pairs:
        return None
    m = pairs[0][1]
    return _by_stage_rate(
        ctx, "produced-nothing-rate", "Produced nothing, per second by stage", f"{m.attribute} = {m.nothing_value}",
        [Cond(ctx.q.span(m.attribute), "=", m.nothing_value)], [f"{s.id}:nothing" for s, _ in pairs],
        "the stage ran and produced no output at all (no partial, no token, no audio). Any steady rate here is a "
        "turn where the user heard nothing. Next: the stage's table of recent slow spans, or the drilldown.")


def error_rate(ctx: Ctx) -> TimeSeriesPanel | None:
    """Failed spans per second of the stages whose spans mark a failure (``voice.errors.counted``); none
    when no stage does (LiveKit's): a panel that can only say "No data" is left out."""
    c = ctx.catalog
    stages = counted(c)
    if not stages:
        return None
    return _by_stage_rate(ctx, "error-rate", "Errors per second by stage", stage_error(c).describe(),
                          [ctx.q.error_condition()], [f"{s.id}:errors" for s in stages],
                          "the stage failed (the exception is recorded on the span). Next: find an errored span in "
                          "the session drilldown and open its trace.", stages)


def ratio_panels(ctx: Ctx) -> list[TimeSeriesPanel]:
    """Errors and produced-nothing as a share of the stage's runs, from the counters the alert rules
    divide (a ratio needs arithmetic between two queries, which TraceQL metrics do not have)."""
    a = ctx.catalog.alerting
    if a is None:
        return []
    out, extra = [], ctx.prom_extra()
    # the stages each ratio alert exists for (alerts/ratios.py): a counter no stage feeds is not plotted
    stages = {"error": counted(ctx.catalog),
              "nothing": [s for s in ctx.catalog.stages if any(m.nothing_value is not None for m in s.measurements)]}
    for kind, metric, rule, word in (("error", stage_error(ctx.catalog).counter, a.error_rate, "failed"),
                                     ("nothing", a.nothing_metric, a.nothing_rate, "produced nothing")):
        if rule is None or not stages[kind]:
            continue
        some = () if len(stages[kind]) == len(ctx.catalog.stages) else (
            promql.matcher(a.stage_label, "=~", "|".join(s.id for s in stages[kind])),)
        num, den = (promql.rate(promql.selector(name, *some, *extra), a.rate_window)
                    for name in (metric, a.runs_metric))
        share = f"{promql.sum_by((a.stage_label,), num)} / {promql.sum_by((a.stage_label,), den)}"
        title = "Error ratio by stage" if kind == "error" else "Produced-nothing ratio by stage"
        out.append(TimeSeriesPanel(
            key=f"{kind}-ratio", title=title,
            description=(f"Share of each stage's runs that {word} over {a.rate_window}: {metric} / {a.runs_metric}, "
                         f"the counters the alert rules divide. The line is the alert: above "
                         f"{rule.above * 100:g} % for {rule.for_} ({rate_severity(rule)})."),
            targets=[ctx.prom(share, legend="{{" + a.stage_label + "}}")], unit="percentunit", minValue=0,
            thresholdSteps=threshold_steps([(rule.above, SEVERITY_COLORS[rate_severity(rule)])]), thresholdsStyle="dashed",
            shows=[f"{s.id}:{kind}_ratio" for s in stages[kind]], w=12, h=8))
    return out


def turns_per_second(ctx: Ctx) -> TimeSeriesPanel:
    c = ctx.catalog
    query = ctx.q.rate([Cond(ctx.q.intrinsic("name"), "=", c.turn_span)] + ctx.service_conds())
    return TimeSeriesPanel(
        key="turns-per-second", title="Turns per second",
        description=(f"{c.turn_span} spans per second: the load. Read the latency panels against it: latency that "
                     f"rises with load is capacity; latency that rises alone is a regression."),
        targets=[ctx.tempo_metrics(query)], unit=SPAN_RATE_UNIT, overrides=[rename_function("rate", "turns/s")],
        shows=["turns:rate"], w=8, h=8)


def alert_list(ctx: Ctx) -> AlertListPanel:
    team = ctx.catalog.alerting.team if ctx.catalog.alerting else None
    flt = f'team="{team}"' if team else ""
    return AlertListPanel(key="alerts-firing", title="Alerts firing or pending",
                          description=(f"Grafana-managed alerts of this catalog ({flt or 'every alert'}) that are "
                                       f"firing, pending, without data or in error, most important first. Each "
                                       f"links to the panel it evaluates."),
                          labelFilter=flt, w=24, h=6)


# A text panel shows what fits its height and clips the rest (the preview too): its height is
# worked out from the text, at about this many characters per line at half width, and grid rows
# (30 px plus an 8 px gap) per line of text (22 px).
TEXT_CHARS_PER_LINE = 95
TEXT_LINES_PER_GRID_ROW = 38 / 22


def _text_height(content: str) -> int:
    lines = sum(max(1, -(-len(line) // TEXT_CHARS_PER_LINE)) for line in content.splitlines())
    return 3 + int(lines / TEXT_LINES_PER_GRID_ROW + 0.999)


def where_next(ctx: Ctx, left_out: list = ()) -> list:
    """What each dashboard is for, and Grafana's list of them. Stages whose first byte means the
    same (copies of one kind of stage) share a line, so every stage is named however many there
    are, and the panel is as tall as its text; the text says which stages have no panels above."""
    c = ctx.catalog
    meanings: dict[str, list] = {}
    for s in c.stages:
        meanings.setdefault(s.first_byte, []).append(s)
    lines = [f"- **{stages[0].title}**: first byte is {fb}" if len(stages) == 1 else
             f"- **{', '.join(short_title(s) for s in stages)}**: first byte is {fb}"
             for fb, stages in meanings.items()]
    lines.append(f"- **Session drilldown**: every span of one session, by `{c.session_attribute}`")
    if left_out:
        lines.insert(0, f"{len(left_out)} stages, from {left_out[0].title} on, have no panels of their own above "
                        f"(one dashboard's TraceQL query budget): they are in the by-stage panels and on their "
                        f"own dashboards.\n")
    content = "\n".join(lines) + (f"\n\n{c.notes}" if c.notes else "")
    h = min(20, 3 + len(lines)) if len(c.stages) <= 12 else _text_height(content)
    text = TextPanel(key="where-next", title="What each dashboard shows",
                     description="What the stage dashboards and the session drilldown are for.",
                     content=content, w=12, h=h)
    dashes = DashListPanel(key="dashboard-list", title="Voice agent dashboards",
                           description=("The other dashboards generated from this catalog. Grafana builds these "
                                        "links itself, so they keep the time range, the datasource and service "
                                        "variables and any sub-path Grafana is served under."),
                           tags=[ctx.group_tag], w=12, h=h)
    return [text, dashes]


def _with_stage(stage: Stage, panel):
    """A stage's panel among other stages' says which stage (``ASR: Time to first partial p50/p95/p99``)."""
    if not panel.title.lower().startswith(short_title(stage).lower() + " "):
        panel.title = f"{short_title(stage)}: {panel.title}"
    return panel


def build(ctx: Ctx) -> BuiltDashboard:
    c = ctx.catalog
    uid = ctx.uid(OVERVIEW_UID_KEY)
    felt = caller_felt_panel(ctx)
    felt_pair = caller_felt(c) if felt is not None else None
    # the caller-felt panel already shows its measurement's quantiles: no second panel for it
    heads = [(s, judged_by(s)) for s in c.stages if judged_by(s) is not None and (s, judged_by(s)) != felt_pair]
    breakdown = turn_breakdown(ctx)  # the caller-felt latency split by stage (dashboards/breakdown.py)
    by_stage = (first_byte_p95_by_stage(ctx) + ([breakdown] if breakdown is not None else [])
                + ([felt] if felt is not None else []))
    health = ratio_panels(ctx) + [p for p in (nothing_rate(ctx), error_rate(ctx), turns_per_second(ctx)) if p]
    # Per-stage panels for the first stages that fit the TraceQL budget (a 200-stage catalog
    # would otherwise get 400 panels and 200 queries); the by-stage panels still show them all.
    w = 12 if len(heads) > 1 else 24
    shown, left_out = headline(heads, lambda head: spread_panels(ctx, *head, w=w), metrics_queries(by_stage + health))
    per_stage = [_with_stage(s, p) for (s, _m), panels in shown for p in panels]
    stats = []
    for (s, m), _ in shown:
        # a tile only for a limit it can be red against
        if m.quantiles_work and 0.95 in m.quantiles and m.threshold(0.95):
            source = panel_key(s, m.id, "quantiles")
            stats.append(stat_from_panel(ctx, s, m, source, uid, 0.95, w=max(4, 24 // max(1, len(shown)))))
    panels = [Row(key="row-alerts", title="Alerts"), alert_list(ctx),
              Row(key="row-latency", title="First byte by stage"), *by_stage]
    good = good_turn_tile(ctx)  # the turn as a whole against the good-turn SLO's objective
    stats = ([good] if good is not None else []) + stats
    if stats:
        now = ("The turn and each stage now, against their limits" if good is not None
               else "Each stage now, against its limit")
        panels += [Row(key="row-now", title=now)] + stats
    more = f" (the first {len(shown)} stages)" if left_out else ""
    panels += [Row(key="row-stages", title=f"Headline measurement per stage{more}")] + per_stage
    panels += [Row(key="row-health", title="Stage health")] + health
    panels += [Row(key="row-next", title="Where to look next"), *where_next(ctx, [s for s, _ in left_out])]
    description = (f"Where a voice turn spends its time, stage by stage ({c.title}). Generated by dashgen from the "
                   f"stage catalog; edit the catalog, not this dashboard.")
    return ctx.dashboard(OVERVIEW_UID_KEY, "Voice pipeline overview", description, panels)
