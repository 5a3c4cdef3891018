"""Barge-in dashboard: from the moment VAD fires to outbound audio going quiet, milestone by milestone.

Which measurements are the milestones, and when a stage has them, is ``dashgen.voice.barge_in``'s
to say: every milestone is measured from the same zero, the moment voice-activity detection
fires, so p95s of successive milestones can be read against each other and against the limit.
"""

from __future__ import annotations

from ..catalog.conventions import quantile_label
from ..catalog.model import Stage
from ..voice.barge_in import milestones
from .kit import BuiltDashboard, Ctx
from ..queries import promql
from .model import Row, TextPanel, TimeSeriesPanel
from .panels import (
    bad_rate_panel, heatmap_panel, panel_key, quantiles_panel, rate_panel, slo_burn_panel, slowest_table,
)
from .budget import MAX_METRICS_QUERIES, fold_past_budget, folded_note, metrics_queries
from .stage import left_out_note, measurement_panels

BREAKDOWN_QUANTILES = (0.5, 0.95)


def breakdown_panels(ctx: Ctx, stage: Stage) -> list:
    """One p50/p95 panel per milestone, side by side on one scale.

    Not one panel with a query per milestone: Tempo names an ungrouped quantile series by its
    quantile alone (``0.5``, ``0.95``), so six series would share two names and no override can
    tell them apart (a frame's refId is its series name, not the query's).
    """
    ms = milestones(stage)
    last = ms[-1]
    w = max(6, 24 // len(ms))
    out = []
    for i, m in enumerate(ms):
        step = "" if i == 0 else f" The gap above {ms[i - 1].title.lower()} is the time this step took."
        p = quantiles_panel(ctx, stage, m, BREAKDOWN_QUANTILES, w=w, h=8,
                            extra=(f"Milestone {i + 1} of {len(ms)}, measured from the moment VAD fired, like every "
                                   f"milestone here.{step} A big step before '{last.title.lower()}' is audio already "
                                   f"buffered toward the client (the Client dashboard's buffer depth), not detection."))
        p.thresholdSteps = ctx.steps(last)  # one scale and one limit line across the row
        p.thresholdsStyle = "dashed"
        p.maxValue = None
        out.append(p)
    return out


ONE_VIEW_QUANTILE = 0.95


def ref_id(i: int) -> str:
    """The ``i``-th query refId as Grafana names them: A to Z, then AA, AB... (every milestone gets one)."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def one_view_panel(ctx: Ctx, stage: Stage) -> TimeSeriesPanel | None:
    """The p95 of every milestone on one panel, each series named by its milestone.

    From the Prometheus histograms (the ones the barge-in page fires on), one query per
    milestone with its own ``legendFormat``: Tempo cannot name them apart (three ungrouped
    ``quantile_over_time(..., 0.95)`` queries are all named ``0.95``, and a Tempo frame's refId
    is its series name: dashboards/series.py), and these queries cost Tempo nothing (its
    per-dashboard budget stays for the per-milestone panels). None when a milestone has no
    histogram in the catalog (the per-milestone panels stay either way).
    """
    ms = milestones(stage)
    if not ms or any(m.metric is None for m in ms):
        return None
    last = ms[-1]
    q = ONE_VIEW_QUANTILE
    window = ctx.catalog.alerting.rate_window
    targets = [ctx.prom(promql.quantile(m.metric.name, m.metric.label, stage.id, q, window, ctx.prom_measured(stage, m)),
                        ref, legend=f"{i + 1}. {m.title}")
               for i, (ref, m) in enumerate(zip(map(ref_id, range(len(ms))), ms))]
    steps = " -> ".join(m.title.lower() for m in ms)
    return TimeSeriesPanel(
        key=panel_key(stage, "milestones", "p95"), title=f"Barge-in {quantile_label(q)}, milestone by milestone",
        description=(f"{quantile_label(q)} of every milestone on one scale, each measured from the moment VAD fired: "
                     f"{steps}. The gap between two lines is the time that step took, so 'most of the time was not "
                     f"detection' shows at once: a wide gap before '{last.title.lower()}' is audio already buffered "
                     f"toward the client, not detection. From the Prometheus histograms the alerts use "
                     f"(histogram_quantile over {window}, bucket resolution); the panels below give each milestone's "
                     f"p50/p95 from Tempo."),
        targets=targets, unit=last.grafana_unit, thresholdSteps=ctx.steps(last), thresholdsStyle="dashed",
        shows=[], w=24, h=8)


def build(ctx: Ctx, stage: Stage) -> BuiltDashboard:
    ms = milestones(stage)
    last = ms[-1]
    t = last.threshold(0.95) or last.thresholds[0]
    intro = TextPanel(
        key="barge-in-about", title="About barge-in",
        description="How barge-in is measured and why it matters.",
        content=(f"**{stage.title}** — span `{stage.span}`: the user talks over the agent. {stage.description} "
                 f"Milestones, each measured from the moment VAD fires: "
                 + ", ".join(f"`{m.attribute}` ({m.title.lower()})" for m in ms) + ". The page line is "
                 f"{quantile_label(t.quantile)} {last.title.lower()} under {t.value:g} {last.unit}."
                 f"{left_out_note(stage)}"),
        w=24, h=4)
    slo = slo_burn_panel(ctx, stage)
    tail = [
        *([Row(key="row-slo", title="SLO"), slo] if slo else []),
        Row(key="row-slowest", title="Recent barge-ins above the limit"),
        slowest_table(ctx, stage, last, t.value, columns=tuple(ms)),
    ]
    # in order, as far as the TraceQL query budget goes (the rest in collapsed rows at the bottom):
    # each milestone's p50/p95, the last one's distribution, the barge-in rates, the other measurements
    milestone_panels = breakdown_panels(ctx, stage)
    parts = [(f"row-more-{m.id}", f"Milestone {i + 1}: {m.title}", [p])
             for i, (m, p) in enumerate(zip(ms, milestone_panels))]
    parts += [("row-more-distribution", f"{last.title} distribution", [heatmap_panel(ctx, stage, last)]),
              ("row-more-rates", "Barge-ins per second",
               [rate_panel(ctx, stage, w=12),
                bad_rate_panel(ctx, stage, last, above=t.value, name=f"barge-ins above {t.value:g} {last.unit}", w=12)])]
    parts += [(f"row-more-{m.id}", m.title, measurement_panels(ctx, stage, m)) for m in stage.measurements
              if m not in ms and m.id not in ("first_byte", "total")]
    shown, folded = fold_past_budget([part for part in parts if part[2]], MAX_METRICS_QUERIES - metrics_queries(tail))
    intro.content += folded_note(folded)
    head = [Row(key="row-breakdown", title="Milestones from VAD firing"),
            *[p for p in (one_view_panel(ctx, stage),) if p is not None]]
    panels = [intro, *head, *shown, *tail, *folded]
    # one dashboard per barge-in stage, keyed by its id as every stage dashboard is (lint/gate.py finds
    # the stage by it): "barge-in" for the bundled catalogs
    return ctx.dashboard(stage.id.replace("_", "-"), stage.title, f"{stage.title}: {stage.description}", panels)
