"""One dashboard per pipeline stage (ASR, LLM, TTS, client...), generated from its measurements.

Each measurement gets the panels the catalog asks for (``panels``; by default quantiles,
plus a heatmap and a bad-event rate when ``bad_above`` is set); the stage gets one
"slowest recent" table keyed on its headline measurement (the first with a threshold,
else the first with a bad limit), whose session ids open the session drilldown.

A stage whose panels would run more TraceQL metrics queries than a dashboard's budget
(``budget.MAX_METRICS_QUERIES``: many measurements, several panels each) keeps its first
measurements open, in catalog order, as far as the budget goes; each part after them gets a
collapsed row at the bottom, whose queries run only when someone opens it. Any valid stage
builds, and a dashboard opens within the budget.
"""

from __future__ import annotations

from ..catalog.model import Measurement, Stage
from .budget import MAX_METRICS_QUERIES, metrics_queries
from .model import Row, TextPanel
from .kit import BuiltDashboard, Ctx
from .panels import (
    bad_rate_panel, duration_quantiles_panel, flag_panel, heatmap_panel, over_time_panel, rate_panel, slo_burn_panel,
    slowest_table, spread_panels,
)


def headline(stage: Stage) -> tuple[Measurement, float] | None:
    """The measurement and limit the 'slowest' table filters on."""
    for m in stage.measurements:
        t = m.threshold(0.95) or (m.thresholds[0] if m.thresholds else None)
        if t is not None:
            return m, t.value
    for m in stage.measurements:
        if m.bad_above is not None:
            return m, m.bad_above
    return None


def measurement_panels(ctx: Ctx, stage: Stage, m: Measurement) -> list:
    panels = []
    for kind in m.panels:
        if kind == "quantiles":
            panels.extend(spread_panels(ctx, stage, m))
        elif kind == "average" and m.quantiles_work:
            panels.append(over_time_panel(ctx, stage, m, "avg"))
        elif kind == "heatmap" and m.quantiles_work:
            panels.append(heatmap_panel(ctx, stage, m))
        elif kind == "bad_rate":
            panels.append(bad_rate_panel(ctx, stage, m))
    return panels


def rate_needed(stage: Stage) -> bool:
    return any("bad_rate" in m.panels for m in stage.measurements)


def left_out_note(stage: Stage) -> str:
    floats = [m.title for m in stage.measurements if not m.quantiles_work]
    if not floats:
        return ""
    return (f"\n\n**Note:** {', '.join(floats)} {'is' if len(floats) == 1 else 'are'} recorded as float seconds by this "
            f"convention. Tempo's quantile and histogram functions drop floats, so those measurements get avg/max "
            f"panels and the stage gets span duration quantiles instead of percentiles and heatmaps.")


def _parts(ctx: Ctx, stage: Stage) -> list[tuple[str, str, list]]:
    """The stage's charts in display order, as ``(key, title, panels)`` parts: one per measurement,
    then its flags, its span durations (when a measurement is a float) and its span rate."""
    parts = [(f"row-more-{m.id}", m.title, measurement_panels(ctx, stage, m)) for m in stage.measurements]
    if stage.flags:
        parts.append(("row-more-flags", "Flags", [flag_panel(ctx, stage, f) for f in stage.flags]))
    if any(not m.quantiles_work for m in stage.measurements):
        parts.append(("row-more-durations", "Span durations", [duration_quantiles_panel(ctx, stage)]))
    if rate_needed(stage):
        parts.append(("row-more-rate", "Span rate", [rate_panel(ctx, stage)]))
    return [part for part in parts if part[2]]


def _within_budget(parts: list[tuple[str, str, list]], budget: int) -> tuple[list, list[Row]]:
    """``(open panels, collapsed rows)``: the parts in order while their TraceQL metrics queries fit
    ``budget``; from the first that does not, each part in a collapsed row of its own."""
    shown: list = []
    folded: list[Row] = []
    for key, title, panels in parts:
        cost = metrics_queries(panels)
        if not folded and cost <= budget:
            shown += panels
            budget -= cost
            continue
        folded.append(Row(key=key, title=f"{title} (collapsed: {cost} TraceQL metrics "
                                         f"quer{'y' if cost == 1 else 'ies'} when opened)",
                          collapsed=True, panels=panels))
    return shown, folded


def build(ctx: Ctx, stage: Stage) -> BuiltDashboard:
    c = ctx.catalog
    tail: list = []
    slo = slo_burn_panel(ctx, stage)
    if slo is not None:
        tail += [Row(key="row-slo", title="SLO"), slo]
    head = headline(stage)
    if head is not None:
        m, limit = head
        tail.append(Row(key="row-slowest", title="Recent spans above the limit"))
        tail.append(slowest_table(ctx, stage, m, limit))
    shown, folded = _within_budget(_parts(ctx, stage), MAX_METRICS_QUERIES - metrics_queries(tail))
    more = (f"\n\nPast the dashboard's budget of {MAX_METRICS_QUERIES} TraceQL metrics queries, "
            f"{', '.join(r.title.partition(' (collapsed')[0] for r in folded)} "
            f"{'is' if len(folded) == 1 else 'are'} in collapsed rows at the bottom: open one to run its "
            f"queries." if folded else "")
    intro = TextPanel(
        key=f"{stage.id}-about".replace("_", "-"), title=f"About {stage.title}",
        description="What this stage's numbers mean and where to look next.",
        content=(f"**{stage.title}** — span `{stage.span}`. First byte here means: {stage.first_byte}.\n\n"
                 f"{stage.description}{left_out_note(stage)}\n\n"
                 f"Measurements: " + "; ".join(f"`{m.attribute}` ({m.unit}): {m.meaning}" for m in stage.measurements)
                 + more),
        w=24, h=5)
    panels: list = [intro, Row(key="row-measurements", title=f"{stage.title}: measurements"), *shown, *tail, *folded]
    description = (f"{stage.title}: {stage.description or stage.first_byte} Generated by dashgen from the catalog "
                   f"({c.title}).")
    return ctx.dashboard(stage.id.replace("_", "-"), stage.title, description, panels)
