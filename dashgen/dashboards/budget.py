"""The TraceQL metrics-query budget of one dashboard, and how the overview keeps to it.

Each TraceQL metrics query is a job for Tempo's queriers over the whole time range, run again
on every refresh by everyone who has the dashboard open; a dashboard that runs a hundred of
them loads slowly for its viewer and costs the Tempo cluster for everyone else. dashgen holds
each dashboard to ``MAX_METRICS_QUERIES``: ``dashgen lint`` checks it on the files, and the
overview (the one dashboard that grows with the number of stages) is built within it, from
the panel models, before anything becomes JSON.
"""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

from .model import TempoTarget

MAX_METRICS_QUERIES = 12

# Stages with their own panels on the overview, at most, however cheap their panels: past a
# screenful of per-stage panels an overview stops being one; the stage dashboards hold the rest.
HEADLINE_STAGES = 8

S = TypeVar("S")


def metrics_queries(panels: Iterable) -> int:
    """How many TraceQL metrics queries ``panels`` run (a panel reusing another's runs none)."""
    return sum(1 for p in panels for t in getattr(p, "targets", None) or ()
               if isinstance(t, TempoTarget) and t.kind == "metrics")


def headline(stages: Iterable[S], panels_of: Callable[[S], list], spent: int,
             budget: int = MAX_METRICS_QUERIES, limit: int = HEADLINE_STAGES) -> tuple[list[tuple[S, list]], list[S]]:
    """``(shown, left_out)``: the first stages, in catalog order, whose panels fit in what is
    left of ``budget`` after ``spent`` (at most ``limit`` of them), and the stages after them.

    Catalog order is pipeline order, so the stages a turn meets first headline the overview;
    the first stage that does not fit ends the headline (no stage jumps the queue).
    """
    shown: list[tuple[S, list]] = []
    left_out: list[S] = []
    for stage in stages:
        if not left_out and len(shown) < limit:
            panels = panels_of(stage)
            cost = metrics_queries(panels)
            if spent + cost <= budget:
                shown.append((stage, panels))
                spent += cost
                continue
        left_out.append(stage)
    return shown, left_out
