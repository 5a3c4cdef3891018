"""The good-turn SLI on the dashboards (what a good turn is: ``voice.good_turn``).

- the overview's tile: the share of good turns over the SLO's fastest page window, from the two
  counters the SLO's recording rules divide (the same PromQL builder, ``promql.turn_good_ratio``),
  red below the objective;
- the session drilldown's score: the share of the session's judged turns that were good, from the
  verdict on its turn spans. It reads the spans table's result (Dashboard datasource), which types
  the verdict column as a number; rows without a verdict (stage spans, turns not judged) are left
  out before the mean, so the score is good turns / judged turns of this session.
"""

from __future__ import annotations

from ..catalog.conventions import format_percent
from ..queries import promql
from ..voice.burn_rates import page_long_windows
from ..voice.good_turn import sli
from .kit import Ctx
from .model import StatPanel, threshold_steps

DASHBOARD_DS = {"type": "datasource", "uid": "-- Dashboard --"}


def _steps(objective: float):
    """Red below the objective, green at or above it (an SLI: better as it rises)."""
    return threshold_steps([(objective, "green")], base="red")


def overview_tile(ctx: Ctx, w: int = 6, h: int = 5) -> StatPanel | None:
    g = sli(ctx.catalog)
    if g is None:
        return None
    window = page_long_windows(g.slo)[0]
    expr = promql.turn_good_ratio(g.spec.turns_metric, g.spec.good_metric, window, ctx.prom_extra())
    return StatPanel(
        key="good-turns-now", title=f"Good turns (last {window})",
        description=(f"Share of judged turns that felt natural over the last {window}: {g.describe()}. The "
                     f"verdict is written on each turn span when the turn ends and counted in "
                     f"{g.spec.good_metric} / {g.spec.turns_metric}, the counters the good-turn SLO's burn-rate "
                     f"alerts divide. Green at or above the objective ({format_percent(g.spec.objective)} over "
                     f"{g.spec.window}), red below it. Turns the application did not judge (no caller-felt "
                     f"latency reported) are not counted. Next: the session drilldown scores single calls."),
        targets=[ctx.prom(expr, legend="good turns")], unit="percentunit", decimals=1,
        thresholdSteps=_steps(g.spec.objective), textMode="value", shows=["good_turn:now"], w=w, h=h)


def session_score(ctx: Ctx, targets: list[dict], w: int = 6, h: int = 5) -> StatPanel | None:
    """``targets``: the spans table's result, through the Dashboard datasource."""
    g = sli(ctx.catalog)
    if g is None:
        return None
    attr = g.spec.attribute
    keep = {"id": "filterByValue", "options": {"type": "include", "match": "all", "filters": [
        {"fieldName": attr, "config": {"id": "greaterOrEqual", "options": {"value": 0}}}]}}
    return StatPanel(
        key="session-good-turns", title="Good turns in session $session",
        description=(f"Share of this session's judged turns that were good: the mean of {attr} (1 good, 0 not) over "
                     f"its {g.turn_span} spans. A good turn has {g.describe()}. Red below the SLO's objective "
                     f"({format_percent(g.spec.objective)}). The spans table's search returns up to 100 traces, so a "
                     f"longer session is scored on those; turns the application did not judge are left out. Built "
                     f"from the spans table's result (Dashboard datasource): no search of its own."),
        dataSource=DASHBOARD_DS, targets=targets, transformations=[keep], unit="percentunit", decimals=0,
        reduceCalc="mean", reduceFields=f"/^{attr.replace('.', '[.]')}$/", graphMode="none", textMode="value",
        thresholdSteps=_steps(g.spec.objective), shows=["session:good_turns"], w=w, h=h)
