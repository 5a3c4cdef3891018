"""Dashboard checks of ``dashgen lint``: uids, panel ids, layout, legacy keys, the TraceQL
rules, the per-dashboard TraceQL metrics query budget and panel budget, on every panel as Grafana
reads it (``dashgen.drawn``: collapsed rows' panels included)."""

from __future__ import annotations

import re
from pathlib import Path

from ..records import dataclass  # dataclasses' decorator without generated code (start-up)
from ..artifacts import legacy_panel_keys
from ..catalog.conventions import UID_RE
from ..catalog.model import Catalog
from ..dashboards.budget import MAX_METRICS_QUERIES, MAX_PANELS_ON_LOAD
from ..dashboards.layout import GRID_COLUMNS, overlaps
from ..drawn import DrawnDashboard, DrawnPanel, read_dashboard
from ..queries.traceql import METRICS_FUNCTIONS, check_query
from .report import LintInput, LintReport, Location, Problem, problem

_METRICS_RE = re.compile(r"\|\s*(" + "|".join(sorted(METRICS_FUNCTIONS)) + r")\s*\(")


@dataclass
class DashboardStats:
    uid: str
    title: str
    panels: int
    traceql_metrics: int
    traceql_search: int
    promql: int


def tempo_queries(dashboard: DrawnDashboard) -> list[tuple[DrawnPanel, dict]]:
    """(panel, target) for every Tempo target of a dashboard, collapsed rows included."""
    return [(p, t) for p in dashboard.charts for t in p.targets_of("tempo")]


def is_metrics_query(query: str) -> bool:
    return bool(_METRICS_RE.search(query))


def at(where: str, d: DrawnDashboard, panel: DrawnPanel | None = None, item: str | None = None) -> Location:
    return Location(where, d.uid or None, panel.title if panel is not None else None, item)


def lint_dashboard(raw: dict | DrawnDashboard, catalog: Catalog | None, where: str
                   ) -> tuple[list[Problem], DashboardStats]:
    d = raw if isinstance(raw, DrawnDashboard) else read_dashboard(raw)
    out: list[Problem] = []
    here = at(where, d)
    uid = d.raw.get("uid", "")
    if not UID_RE.fullmatch(uid or ""):
        out.append(problem("dashboard-uid", here, f"uid {uid!r} is not 1-40 characters of [a-zA-Z0-9_-]"))
    if "id" in d.raw:
        out.append(problem("dashboard-id", here, "has a dashboard 'id' (leave it out: Grafana matches by uid)"))
    if not d.title.strip():
        out.append(problem("dashboard-title", here, "empty title"))
    ids: dict[int, str] = {}
    for p in d.panels:
        pid = p.id
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            out.append(problem("panel-id", at(where, d, p), "has no positive integer id"))
        elif pid in ids:
            out.append(problem("panel-id", here, f"panels {ids[pid]!r} and {p.title!r} share id {pid}"))
        else:
            ids[pid] = p.title
        legacy = legacy_panel_keys(p.raw)
        if legacy:
            out.append(problem("panel-legacy-keys", at(where, d, p), f"has legacy keys {legacy}"))
        gp = p.raw.get("gridPos")
        if not gp:
            out.append(problem("panel-grid", at(where, d, p), "has no gridPos"))
        elif gp["x"] < 0 or gp["w"] <= 0 or gp["h"] <= 0 or gp["x"] + gp["w"] > GRID_COLUMNS:
            out.append(problem("panel-grid", at(where, d, p), f"lies outside the {GRID_COLUMNS}-column grid: {gp}"))
        if not p.is_row and not str(p.raw.get("description", "")).strip():
            out.append(problem("panel-description", at(where, d, p), "has no description"))
    for p in d.panels:
        for t in p.targets:
            if (t.get("datasource") or {}).get("uid") == "-- Dashboard --" and t.get("panelId") not in ids:
                out.append(problem("panel-reuse", at(where, d, p),
                                   f"reuses panel {t.get('panelId')}, which is not on this dashboard"))
    # the grid as it opens; a collapsed row's panels are placed below their row when it opens
    for a, b in overlaps([p.raw for p in d.on_grid]):
        out.append(problem("panel-overlap", here, f"panels {ids.get(a, a)!r} and {ids.get(b, b)!r} overlap"))

    n_metrics = n_search = n_prom = 0
    known = catalog.span_attributes() if catalog else None
    svc = catalog.service_attribute if catalog else None
    for panel, target in tempo_queries(d):
        query = target.get("query", "")
        # the budget is what runs when the dashboard opens: a panel in a collapsed row has no place
        # on the grid until the row is opened, so it is not rendered and runs no query (grafana/scenes
        # SceneGridLayout.buildGridLayout gives a collapsed SceneGridRow's children no grid cell;
        # the classic DashboardModel keeps them in the row's own list, as for the panel budget below)
        if not panel.folded:
            n_metrics += is_metrics_query(query)
            n_search += not is_metrics_query(query)
        for found in check_query(query, known, svc):
            out.append(problem("traceql", at(where, d, panel), f"{found}: {query}"))
    n_prom = sum(len(p.targets_of("prometheus")) for p in d.charts)
    if n_metrics > MAX_METRICS_QUERIES:
        out.append(problem("tempo-query-budget", here,
                           f"{n_metrics} TraceQL metrics queries run when it opens (at most {MAX_METRICS_QUERIES}: "
                           f"each one costs the Tempo cluster on every refresh; a collapsed row's wait until it "
                           f"is opened)"))
    # Grafana builds every top-level panel when the dashboard opens; a collapsed row keeps its
    # children in its own "panels" list until it is opened (DashboardModel.toggleRow moves them
    # to the top level, grafana/grafana public/app/features/dashboard/state/DashboardModel.ts),
    # so they are not counted.
    on_load = d.on_grid
    if len(on_load) > MAX_PANELS_ON_LOAD:
        out.append(problem("panel-budget", here,
                           f"{len(on_load)} panels drawn on load (at most {MAX_PANELS_ON_LOAD}: each one is built "
                           f"when the dashboard opens; put sections in collapsed rows or split the dashboard)"))
    stats = DashboardStats(uid, d.title, len(d.charts), n_metrics, n_search, n_prom)
    return out, stats


def check(inp: LintInput, report: LintReport) -> None:
    """Every dashboard: unique uid matching its file name, then ``lint_dashboard``."""
    uids: dict[str, str] = {}
    for rel, d in inp.drawn.items():
        uid = d.raw.get("uid", "")
        if uid in uids:
            report.problems.append(problem("dashboard-uid", at(rel, d), f"uid {uid!r} also used by {uids[uid]}"))
        uids[uid] = rel
        if Path(rel).stem != uid:
            report.problems.append(problem("dashboard-uid", at(rel, d), f"file name does not match the uid {uid!r}"))
        problems, stats = lint_dashboard(d, inp.catalog, rel)
        report.problems += problems
        report.stats.append(stats)
