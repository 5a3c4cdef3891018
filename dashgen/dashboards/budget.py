"""The TraceQL metrics-query and panel budgets of one dashboard, and how dashboards keep to them.

Each TraceQL metrics query is a job for Tempo's queriers over the whole time range, run again
on every refresh by everyone who has the dashboard open; a dashboard that runs a hundred of
them loads slowly for its viewer and costs the Tempo cluster for everyone else. dashgen holds
each dashboard to ``MAX_METRICS_QUERIES``: ``dashgen lint`` checks it on the files, and the
overview (the one dashboard that grows with the number of stages) is built within it, from
the panel models, before anything becomes JSON.
"""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

import attr

from .model import Row, TempoTarget

MAX_METRICS_QUERIES = 12
MAX_PANELS_ON_LOAD = 150  # row headers included; the children of a collapsed row are not drawn on load

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


def paginate(sections: Iterable[tuple[Row, list]], fixed: list, panel_budget: int = MAX_PANELS_ON_LOAD,
             query_budget: int = MAX_METRICS_QUERIES) -> list[list]:
    """Lay ``sections`` (a row and its panels, in order) out on as few pages as keep both budgets.

    Every page also holds ``fixed`` (its header panels), which counts against both budgets. A
    section starts a new page when it does not fit on the current one; a section too large for
    any page continues on the next under its row title with "(continued)". Returns the panel
    lists of the pages (without ``fixed``), in order; always at least one.
    """
    start_n, start_q = len(fixed), metrics_queries(fixed)
    pages: list[list] = []
    page, n, q = [], start_n, start_q
    for row, panels in sections:
        if page and (n + 1 + len(panels) > panel_budget or q + metrics_queries(panels) > query_budget):
            pages.append(page)
            page, n, q = [], start_n, start_q
        page.append(row)
        n += 1
        for p in panels:
            cost = metrics_queries([p])
            if n + 1 > panel_budget or q + cost > query_budget:
                pages.append(page)
                page, n, q = [attr.evolve(row, title=f"{row.title} (continued)")], start_n + 1, start_q
            page.append(p)
            n, q = n + 1, q + cost
    pages.append(page)
    return pages


def fold_past_budget(parts: Iterable[tuple[str, str, list]], budget: int) -> tuple[list, list[Row]]:
    """``(open panels, collapsed rows)`` of a dashboard's optional ``(key, title, panels)`` parts,
    in order: the parts while their TraceQL metrics queries fit ``budget``, then, from the first
    that does not, each part in a collapsed row of its own, titled with what opening it runs.

    A collapsed row's panels are not on the grid until it is opened, so they run no query and are
    not drawn on load (lint counts both budgets so): any number of measurements builds, and the
    dashboard opens within the budget (``dashboards.stage``, ``dashboards.barge_in``).
    """
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


def folded_note(folded: list[Row]) -> str:
    """A sentence for a dashboard's "About" text naming what went into collapsed rows ("" when nothing did)."""
    if not folded:
        return ""
    names = ", ".join(r.title.partition(" (collapsed")[0] for r in folded)
    return (f"\n\nPast the dashboard's budget of {MAX_METRICS_QUERIES} TraceQL metrics queries, {names} "
            f"{'is' if len(folded) == 1 else 'are'} in collapsed rows at the bottom: open one to run its queries.")


def page_key(key: str, n: int) -> str:
    """The dashboard key of page ``n`` (1-based) of a paginated dashboard; page 1 keeps ``key``
    (catalog/load.py refuses stage ids whose dashboards would take these keys)."""
    return key if n == 1 else f"{key}-page-{n}"


def page_title(title: str, n: int, total: int, names: list[str]) -> str:
    """``title`` alone on a one-page dashboard, else ``title n/total: first to last`` (the stages on it)."""
    if total == 1:
        return title
    span = names[0] if len(set(names)) == 1 else f"{names[0]} to {names[-1]}"
    return f"{title} {n}/{total}: {span}" if names else f"{title} {n}/{total}"
