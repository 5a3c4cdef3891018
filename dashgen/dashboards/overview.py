"""Voice pipeline overview: first byte by stage, each stage against its limit, stage health."""

from __future__ import annotations

from .model import Row, TextPanel, TimeSeriesPanel
from ..queries.traceql import Cond, Keyword
from .budget import headline, metrics_queries
from .kit import BuiltDashboard, Ctx
from .panels import panel_key, spread_panels, stat_from_panel

OVERVIEW_UID_KEY = "overview"


def _first_bytes(ctx: Ctx):
    return [(s, s.measurement("first_byte")) for s in ctx.catalog.stages if s.measurement("first_byte")]


def first_byte_p95_by_stage(ctx: Ctx) -> list[TimeSeriesPanel]:
    """The seed's saved query, without select: p95 of first byte, one series per stage.

    For float conventions (no quantiles in Tempo): avg and max by stage, one panel each.
    """
    pairs = _first_bytes(ctx)
    m0 = pairs[0][1]
    attr = ctx.q.span(m0.attribute)
    conds = ctx.all_stages_conds() + ctx.measured(m0) + ctx.service_conds()
    limits = ", ".join(f"{s.id} {t.value:g} {m.unit}" for s, m in pairs for t in m.thresholds if t.quantile == 0.95)
    variants = []
    if m0.quantiles_work:
        variants.append(("first-byte-p95-by-stage", "First byte p95 by stage",
                         ctx.q.quantile(conds, attr, (0.95,), (ctx.by_stage(),)),
                         f"p95 of {attr} per stage: time until each stage produced its first useful output (ASR first "
                         f"partial, LLM first token, TTS first audio). Spans that produced nothing (-1) are excluded. "
                         f"Tempo buckets values in powers of two, so the p95 is coarse.", "p95"))
    else:
        for how, word in (("avg", "Average"), ("max", "Maximum")):
            query = (ctx.q.avg if how == "avg" else ctx.q.max)(conds, attr, (ctx.by_stage(),))
            variants.append((f"first-byte-{how}-by-stage", f"First byte {how} by stage", query,
                             f"{word} of {attr} per stage. This convention records it as float seconds, which Tempo's "
                             f"quantile functions drop, so there is no p95 here: the stage dashboards show span "
                             f"duration quantiles.", how))
    w = 24 if len(variants) == 1 else 12
    return [TimeSeriesPanel(
        key=key, title=title,
        description=(f"{how} Limits from the catalog: {limits or 'none'}. "
                     f"Next: open the slow stage's dashboard (links at the top), then its slowest-turns table."),
        targets=[ctx.tempo_metrics(query)], unit=m0.grafana_unit, thresholdSteps=ctx.steps(*(m for _, m in pairs)),
        thresholdsStyle="dashed", shows=[f"{s.id}.first_byte:{tag}" for s, _ in pairs], w=w, h=9)
        for key, title, query, how, tag in variants]


def nothing_rate(ctx: Ctx) -> TimeSeriesPanel | None:
    pairs = [(s, m) for s, m in _first_bytes(ctx) if m.nothing_value is not None]
    if not pairs:
        return None
    m = pairs[0][1]
    conds = ctx.all_stages_conds() + [Cond(ctx.q.span(m.attribute), "=", m.nothing_value)] + ctx.service_conds()
    query = ctx.q.rate(conds, (ctx.by_stage(),))
    return TimeSeriesPanel(
        key="produced-nothing-rate", title="Produced nothing, per second by stage",
        description=(f"Stage spans per second whose {m.attribute} is {m.nothing_value}: the stage ran and produced "
                     f"no output at all (no partial, no token, no audio). Any steady rate here is a turn where the "
                     f"user heard nothing. Next: the stage's slowest table, or a session in the drilldown."),
        targets=[ctx.tempo_metrics(query)], unit="reqps", drawStyle="bars", fillOpacity=60, stacking="normal",
        shows=[f"{s.id}:nothing" for s, _ in pairs], w=8, h=8)


def error_rate(ctx: Ctx) -> TimeSeriesPanel | None:
    c = ctx.catalog
    if c.error_attribute:
        conds = ctx.all_stages_conds() + [Cond(ctx.q.span(c.error_attribute), "=", True)] + ctx.service_conds()
        what = f"{c.error_attribute} = true"
    else:
        conds = ctx.all_stages_conds() + [Cond(ctx.q.intrinsic("status"), "=", Keyword("error"))] + ctx.service_conds()
        what = "span status error"
    query = ctx.q.rate(conds, (ctx.by_stage(),))
    return TimeSeriesPanel(
        key="error-rate", title="Errors per second by stage",
        description=(f"Stage spans per second with {what}: the stage raised (the exception is recorded on the span). "
                     f"Next: find an errored span in the session drilldown and open its trace."),
        targets=[ctx.tempo_metrics(query)], unit="reqps", drawStyle="bars", fillOpacity=60, stacking="normal",
        shows=[f"{s.id}:errors" for s in c.stages], w=8, h=8)


def turns_per_second(ctx: Ctx) -> TimeSeriesPanel:
    c = ctx.catalog
    query = ctx.q.rate([Cond(ctx.q.intrinsic("name"), "=", c.turn_span)] + ctx.service_conds())
    return TimeSeriesPanel(
        key="turns-per-second", title="Turns per second",
        description=(f"{c.turn_span} spans per second: the load. Read the latency panels against it: latency that "
                     f"rises with load is capacity; latency that rises alone is a regression."),
        targets=[ctx.tempo_metrics(query)], unit="reqps", shows=["turns:rate"], w=8, h=8)


def where_next(ctx: Ctx, left_out: list = ()) -> TextPanel:
    """Links to every stage's dashboard; with many stages, the panel scrolls (at most 20 rows)."""
    c = ctx.catalog
    lines = [f"- [{s.title}](/d/{ctx.uid(s.id.replace('_', '-'))}) — first byte: {s.first_byte}" for s in c.stages]
    lines.append(f"- [Session drilldown](/d/{ctx.uid('session')}) — every span of one session, by `{c.session_attribute}`")
    if left_out:
        lines.insert(0, f"The first {len(c.stages) - len(left_out)} stages have panels above; the {len(left_out)} after "
                        f"them are in the by-stage panels and on their own dashboards:\n")
    return TextPanel(key="where-next", title="Where to look next",
                     description="Links to the stage dashboards and the session drilldown.",
                     content="\n".join(lines) + (f"\n\n{c.notes}" if c.notes else ""), w=24, h=min(20, 3 + len(lines)))


def build(ctx: Ctx) -> BuiltDashboard:
    c = ctx.catalog
    uid = ctx.uid(OVERVIEW_UID_KEY)
    pairs = _first_bytes(ctx)
    by_stage = first_byte_p95_by_stage(ctx)
    health = [p for p in (nothing_rate(ctx), error_rate(ctx), turns_per_second(ctx)) if p is not None]
    # Per-stage panels for the stages that fit the TraceQL budget (a 200-stage catalog would
    # otherwise get 400 panels and 200 queries); the by-stage panels above still show them all.
    w = 12 if len(pairs) > 1 else 24
    shown, left_out = headline(pairs, lambda pair: spread_panels(ctx, *pair, w=w), metrics_queries(by_stage + health))
    per_stage = [p for _, panels in shown for p in panels]
    stats = []
    for (s, m), _ in shown:
        if m.quantiles_work and 0.95 in m.quantiles:
            source = panel_key(s, m.id, "quantiles")
            stats.append(stat_from_panel(ctx, s, m, source, uid, 0.95, w=max(4, 24 // max(1, len(shown)))))
    panels = [Row(key="row-latency", title="First byte by stage"), *by_stage]
    if stats:
        panels += [Row(key="row-now", title="Each stage now, against its limit")] + stats
    more = f" (the first {len(shown)} stages)" if left_out else ""
    panels += [Row(key="row-stages", title=f"First byte per stage{more}")] + per_stage
    panels += [Row(key="row-health", title="Stage health")] + health
    panels += [Row(key="row-next", title="Where to look next"), where_next(ctx, [s for s, _ in left_out])]
    description = (f"Where a voice turn spends its time, stage by stage ({c.title}). Generated by dashgen from the "
                   f"stage catalog; edit the catalog, not this dashboard.")
    return ctx.dashboard(OVERVIEW_UID_KEY, "Voice pipeline overview", description, panels)
