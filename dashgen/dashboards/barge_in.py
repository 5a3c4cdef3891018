"""Barge-in: from VAD firing to outbound audio going quiet, broken down by milestone."""

from __future__ import annotations

from ..catalog.conventions import quantile_label
from ..catalog.model import Stage
from .model import Row, TextPanel, TimeSeriesPanel
from .kit import BuiltDashboard, Ctx
from .panels import bad_rate_panel, heatmap_panel, rate_panel, slo_burn_panel, slowest_table, stage_filter
from .stage import left_out_note, measurement_panels

BREAKDOWN_QUANTILES = (0.5, 0.95)


def milestones(stage: Stage):
    """The cumulative milestones: every measurement but first byte and total that shares the unit
    of the last one (a finer-grained step like VAD-to-cancel in us gets its own panel)."""
    candidates = [m for m in stage.measurements if m.id not in ("first_byte", "total")]
    with_limit = [m for m in candidates if m.thresholds]
    if not with_limit:
        return candidates
    unit = with_limit[-1].unit
    ms = [m for m in candidates if m.unit == unit]
    return ms[: ms.index(with_limit[-1]) + 1]


def applies(stage: Stage) -> bool:
    """The breakdown dashboard needs at least two integer milestones and a limit on the last."""
    ms = milestones(stage)
    return len(ms) >= 2 and all(m.quantiles_work for m in ms) and bool(ms[-1].thresholds)


def breakdown_panel(ctx: Ctx, stage: Stage) -> TimeSeriesPanel:
    ms = milestones(stage)
    refs = "ABCDEFGH"
    targets = []
    for i, m in enumerate(ms):
        query = ctx.q.quantile(stage_filter(ctx, stage) + ctx.measured(m), ctx.q.span(m.attribute), BREAKDOWN_QUANTILES)
        targets.append(ctx.tempo_metrics(query, refs[i]))
    last = ms[-1]
    t = last.threshold(0.95) or last.thresholds[0]
    order = " -> ".join(m.title.lower() for m in ms)
    return TimeSeriesPanel(
        key="barge-in-breakdown", title="Barge-in breakdown p50/p95 by milestone",
        description=(f"p50 and p95 of each barge-in milestone, in order ({order}): queries "
                     + ", ".join(f"{refs[i]} = {m.title}" for i, m in enumerate(ms))
                     + ". Tempo names each series by its quantile only (0.5, 0.95), so the legend lists them in "
                       "query order, A's pair first. Each milestone is measured from the moment the "
                     f"barge-in started. The dashed line is the {t.severity} limit: {quantile_label(t.quantile)} "
                     f"{last.title.lower()} under {t.value:g} {last.unit}. The gap between two lines is the time that "
                     f"step took: a big gap before 'silent' is audio already buffered toward the client (see the "
                     f"Client dashboard's buffer depth), not detection."),
        targets=targets, unit=last.grafana_unit, thresholdSteps=ctx.steps(*ms),
        thresholdsStyle="dashed",
        shows=[f"{stage.id}.{m.id}:{quantile_label(q)}" for m in ms for q in BREAKDOWN_QUANTILES], w=24, h=9)


def build(ctx: Ctx, stage: Stage) -> BuiltDashboard:
    ms = milestones(stage)
    last = ms[-1]
    t = last.threshold(0.95) or last.thresholds[0]
    intro = TextPanel(
        key="barge-in-about", title="About barge-in",
        description="How barge-in is measured and why it matters.",
        content=(f"**{stage.title}** — span `{stage.span}`: the user talks over the agent. {stage.description} "
                 f"Milestones, each from the start of the barge-in: " + ", ".join(f"`{m.attribute}`" for m in ms) + "."
                 f"{left_out_note(stage)}"),
        w=24, h=4)
    panels = [
        intro,
        Row(key="row-breakdown", title="Breakdown"),
        breakdown_panel(ctx, stage),
        heatmap_panel(ctx, stage, last),
        rate_panel(ctx, stage, last, w=12),
        bad_rate_panel(ctx, stage, last, above=t.value, name=f"barge-ins above {t.value:g} {last.unit}", w=12),
        *[p for m in stage.measurements if m not in ms and m.id not in ("first_byte", "total")
          for p in measurement_panels(ctx, stage, m)],
        *([Row(key="row-slo", title="SLO"), slo_burn_panel(ctx, stage)] if slo_burn_panel(ctx, stage) else []),
        Row(key="row-slowest", title="Slowest recent barge-ins"),
        slowest_table(ctx, stage, last, t.value, columns=tuple(ms),
                      title=f"Slowest recent barge-ins ({last.title.lower()} above {t.value:g} {last.unit})"),
    ]
    return ctx.dashboard("barge-in", "Barge-in", f"{stage.title}: {stage.description}", panels)
